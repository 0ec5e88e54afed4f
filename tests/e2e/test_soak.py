"""The short soak: `meterit soak` with a fixed seed, every fault kind injected, nothing lost.

One real run of the command (its own PostgreSQL, central with two workers, two edges, 100 simulated meters,
namespaces when root). It asserts the verdict and, from the soak's own event log, that each planned fault
really happened. The long run and its figures are in docs/reliability.md.
"""

import json
import subprocess
import sys

import pytest

from meterit.soak.events import read_events
from meterit.soak.network import netns_unavailable
from meterit.soak.schedule import KINDS, NETWORK_KINDS
from tests.support.central_server import REPO_ROOT
from tests.support.figures import report

MINUTES, SEED = "0.75", "7"


@pytest.fixture(scope="module")
def soak(tmp_path_factory):
    """Run the short soak once; its exit status, output, verdict and events."""
    root = tmp_path_factory.mktemp("soak")
    done = subprocess.run(
        [sys.executable, "-m", "meterit.cli", "soak", "--minutes", MINUTES, "--seed", SEED, "--workdir", str(root)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    verdict = json.loads((root / "verdict.json").read_text()) if (root / "verdict.json").exists() else {}
    return done, verdict, read_events(root / "events.jsonl"), root


def test_nothing_lost_duplicated_or_invented(soak):
    done, verdict, _, root = soak
    assert verdict, f"no verdict; output:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    report(
        f"soak {MINUTES} min seed {SEED}: committed {verdict['committed_at_edges']}, central {verdict['in_central']}, "
        f"lost {verdict['lost']}, duplicated {verdict['duplicated']}, invented {verdict['invented']}, "
        f"dead letters {sum(verdict['dead_letters'].values())}, drain {verdict['drain_seconds']} s"
    )
    assert (verdict["lost"], verdict["duplicated"], verdict["invented"]) == (0, 0, 0), verdict["examples"]
    assert done.returncode == 0 and "VERDICT: PASS" in done.stdout
    assert verdict["committed_at_edges"] > 1000 and verdict["in_central"] > 500
    assert verdict["integrity"] == {"edge-a": "ok", "edge-b": "ok"}
    assert "unexplained" not in verdict["served_not_committed"], verdict["served_not_committed"]


def test_every_planned_fault_happened(soak):
    _, _, events, _ = soak
    happened = {e["fault"] for e in events if e["kind"] == "fault"}
    skipped = {e["fault"] for e in events if e["kind"] == "skipped" and e.get("fault") in KINDS}
    if netns_unavailable():
        assert skipped == set(NETWORK_KINDS)  # said loudly in the event log and the report
    assert happened | skipped == set(KINDS)
    kills = [e for e in events if e.get("fault") == "edge_kill_write" and e["kind"] == "fault"]
    assert kills and all(e["exit"] == -9 and e["integrity"] == "ok" for e in kills)
    assert any(e["write_seen"] for e in kills), "at least one SIGKILL lands in a SQLite write"
    worker = next(e for e in events if e.get("fault") == "central_worker_kill")
    assert worker["killed"] and worker["replaced"], "uvicorn replaced the killed worker"
    assert all(
        e["running"]
        for e in events
        if str(e.get("fault", "")).startswith("pg_restart") and e["kind"] == "fault"
    )


def test_the_faults_left_their_marks(soak):
    _, verdict, events, root = soak
    edge_a = (root / "edge-a.log").read_text()
    # the day-ahead clock and the year-ahead clock: refused by central with a reason, kept as dead letters
    assert any("future" in reason for reason in verdict["dead_letters"])
    # bad values: every NaN/±Inf served was refused with a reason; the 3.4e38 kept with bad quality
    assert verdict["served_non_finite"] > 0
    assert verdict["refused_at_collection"]["not a finite number (edge log)"] == verdict["served_non_finite"]
    assert verdict["implausible_kept_bad"] > 0
    assert verdict["dst"]["crossed"], verdict["dst"]
    if not netns_unavailable():
        assert "central unreachable" in edge_a
        # the blackout filled the outbox to its cap: each refusal logged loudly with its count
        assert (
            "OUTBOX FULL" in edge_a and verdict["refused_at_collection"]["outbox full (edge log lines)"] > 0
        )
        # and was alerted: the edge's own alerts and central's rules (which of them depends on the timing of
        # heartbeats in so short a blackout; the 30-minute run shows each, docs/reliability.md)
        kinds = {(a["where"], a["kind"]) for a in verdict["alerts"]}
        assert kinds & {("edge-a", "central_unreachable"), ("edge-a", "edge_queue"), ("central", "edge_queue"),
                        ("central", "heartbeat_missing")}, kinds  # fmt: skip
