"""Pure helpers of the local API and the on-site dashboard: tokens, chart thinning, ranges, words on screen."""

from datetime import timedelta
from types import SimpleNamespace

from db.clock import clock, utcnow
from edge_agent.local_api.auth import LocalAuth
from edge_agent.local_api.live import central_reachable
from edge_agent.local_api.schema import _thin, default_discovery_range
from ui_edge.format import central_text, quality, summary_text, sync_result_text


def test_tokens_are_signed_expire_and_die_with_the_password():
    auth = LocalAuth("secret", ttl_seconds=60)
    token, expires = auth.login("secret")
    assert auth.valid(token) and auth.valid(f"Bearer {token}")
    assert expires > utcnow()
    assert auth.login("wrong") is None
    assert not auth.valid(None) and not auth.valid("") and not auth.valid("123.abc")
    assert not LocalAuth("another").valid(token)
    stale = LocalAuth("secret", ttl_seconds=-1).login("secret")[0]
    assert int(stale.split(".")[0]) < clock().timestamp() and not auth.valid(stale)
    assert LocalAuth(None).valid(None) and not LocalAuth(None).required


def test_thin_keeps_at_most_about_n_rows_and_always_the_newest():
    rows = list(range(1000))
    thinned = _thin(rows, 100)
    assert len(thinned) <= 101 and thinned[0] == 0 and thinned[-1] == 999
    assert _thin(rows[:50], 100) == rows[:50] and _thin(rows, 0) == rows


def test_default_discovery_range_spans_configured_meters_or_the_interface_net():
    meters = [SimpleNamespace(bacnet_address=a) for a in ("127.0.0.12", "127.0.0.10:47808", "bad", None)]
    assert default_discovery_range(meters, "127.0.0.1/8") == "127.0.0.10-127.0.0.12"
    assert default_discovery_range(meters[:1], "127.0.0.1/8") == "127.0.0.12"
    assert default_discovery_range([], "127.0.0.1/8") == "127.0.0.1-127.0.0.254"


def test_central_reachability_from_the_uploader_state():
    assert [central_reachable(s) for s in ("ok", "rate_limited", "unauthorized", "unreachable", "idle")] == [
        True, True, True, False, None,
    ]  # fmt: skip


def test_words_on_screen():
    assert [quality(q) for q in (0, 1, 2, None)] == ["good", "uncertain", "bad", "unknown"]
    since = (utcnow() - timedelta(minutes=3)).isoformat()
    assert central_text({"centralReachable": False, "centralSince": since}).endswith("(3 min ago)")
    assert central_text({"centralReachable": None}) == "not contacted yet"
    assert central_text(
        {"centralReachable": True, "centralState": "unauthorized", "centralSince": since}
    ).startswith("answers but refuses the site key")
    failed = {"lastSyncOutcome": "unreachable", "lastSyncSuccess": False, "lastSyncMessage": "refused"}
    assert sync_result_text(failed).endswith(": refused") and sync_result_text({}) == "no sync yet"
    ok = {"outcome": "ok", "acknowledged": 5, "new": 4, "duplicates": 1, "rejected": 0, "queueDepth": 0}
    assert summary_text(ok).startswith("Sync finished: 5 readings acknowledged (4 new, 1 duplicates")
    assert summary_text({"outcome": "unreachable", "queueDepth": 7, "errors": ["down"]}) == (
        "Sync failed (unreachable); 7 readings stay queued. down"
    )
