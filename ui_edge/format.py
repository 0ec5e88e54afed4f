"""Pure helpers of the on-site dashboard: clock times in the site's zone, quality and state words."""

from datetime import datetime
from typing import Any

from ui_common import format as shared
from ui_common.format import ago, duration, parse_ts, zone_label

QUALITY = {0: "good", 1: "uncertain", 2: "bad"}
REACHABILITY = {"ok": "reachable", "dead": "unreachable", "unknown": "not polled yet", "disabled": "disabled"}


def clock(value: str | None, tz_name: str | None = None) -> str:
    """A timestamp in the site's zone with its short name ('2026-12-06 08:15:00 CET'; UTC until the edge has
    heard the zone from central), or an en dash."""
    return shared.clock(value, tz_name)


def zone_text(tz_name: str | None) -> str:
    """What the dashboard says of its times: 'Europe/Berlin (CET)', or 'UTC (site time zone not yet known)'."""
    return zone_label(tz_name) if tz_name else "UTC (site time zone not yet known)"


def quality(code: Any) -> str:
    """good / uncertain / bad for a quality code."""
    try:
        return QUALITY.get(int(code), "bad")
    except (TypeError, ValueError):
        return "unknown"


def central_text(status: dict[str, Any], now: datetime | None = None) -> str:
    """'reachable since …' / 'unreachable since … (for 5 min)' / 'not contacted yet'."""
    reachable = status.get("centralReachable")
    since = clock(status.get("centralSince"), status.get("siteTimezone"))
    if reachable is None:
        return "not contacted yet"
    if reachable:
        refused = status.get("centralState") == "unauthorized"
        return ("answers but refuses the site key" if refused else "reachable") + f" since {since}"
    return f"unreachable since {since} ({ago(status.get('centralSince'), now)})"


def outage_alert_text(status: dict[str, Any]) -> str:
    """The alert banner of a long central outage ('' when there is none or it is below the threshold)."""
    outage = status.get("centralOutage") or {}
    since = parse_ts(outage.get("since"))
    if not outage.get("alerting") or since is None:
        return ""
    return (
        f"Central unreachable for {duration(outage.get('seconds'))} since "
        f"{shared.local_time(since, status.get('siteTimezone'), '%H:%M %Z')} — "
        "readings are queued and will be uploaded when it is back."
    )


def edge_alert_texts(status: dict[str, Any]) -> list[str]:
    """One banner line per open edge alert (its message says since when) other than the central outage."""
    lines = []
    for alert in status.get("alerts") or []:
        if alert.get("kind") == "central_unreachable":
            continue
        lines.append(f"Alert: {alert.get('message') or alert.get('kind')}")
    return lines


def sync_result_text(status: dict[str, Any]) -> str:
    """The last sync's outcome in words."""
    outcome = status.get("lastSyncOutcome")
    if not outcome:
        return "no sync yet"
    when = ago(status.get("lastSyncAt"))
    if status.get("lastSyncSuccess"):
        return f"{outcome} ({when})"
    message = status.get("lastSyncMessage")
    return f"{outcome} ({when})" + (f": {message}" if message else "")


def summary_text(summary: dict[str, Any]) -> str:
    """What Sync now achieved, in one sentence."""
    outcome = summary.get("outcome", "?")
    queue = summary.get("queueDepth", 0)
    if outcome == "ok":
        return (
            f"Sync finished: {summary.get('acknowledged', 0)} readings acknowledged "
            f"({summary.get('new', 0)} new, {summary.get('duplicates', 0)} duplicates, "
            f"{summary.get('rejected', 0)} rejected); {queue} still queued."
        )
    errors = "; ".join(summary.get("errors") or [])
    return f"Sync failed ({outcome}); {queue} readings stay queued." + (f" {errors}" if errors else "")
