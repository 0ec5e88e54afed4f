"""Pure helpers of the alerting pages: alert rows with live durations, 'alerts at' hints, window and rule rows."""

from datetime import UTC, datetime, timedelta
from typing import Any

from ui_common.format import clock_time, duration, parse_ts, zone

STATUS_LABELS = {
    "Open": "OPEN",
    "Unacknowledged": "UNACKNOWLEDGED",
    "Acknowledged": "ACKNOWLEDGED",
    "Resolved": "RESOLVED",
    "All": "ALL",
}
SEVERITIES = ["info", "warning", "critical"]
ALL_SITES, ALL_KINDS, ALL_SEVERITIES = "All sites", "All kinds", "All severities"
REPEAT_LABELS = {"NONE": "Once", "DAILY": "Daily", "WEEKLY": "Weekly"}
STATE_LABELS = {"OPEN": "alert open", "PENDING": "pending", "BUILDING": "building up"}


def alert_row(alert: dict[str, Any], now: datetime, zones: dict[str, str] | None = None) -> dict[str, str]:
    """Display strings of one alert, its time in its site's zone (zones: site id -> IANA name; system alerts
    and unknown sites in UTC); its duration runs on while it is open."""
    opened, resolved = parse_ts(alert.get("openedAt")), parse_ts(alert.get("resolvedAt"))
    if resolved is not None:
        state, lasted = (
            "resolved",
            f"lasted {duration((resolved - opened).total_seconds())}" if opened else "",
        )
    else:
        state = "acknowledged" if alert.get("acknowledgedAt") else "open"
        lasted = f"open for {duration((now - opened).total_seconds())}" if opened else ""
    by = alert.get("acknowledgedBy") or ""
    note = alert.get("acknowledgedNote") or ""
    ack = f"{by}: {note}" if by and note else (by or "")
    if alert.get("resolvedBy"):
        ack = f"{ack} · resolved by {alert['resolvedBy']}" if ack else f"resolved by {alert['resolvedBy']}"
    return {
        "id": str(alert["id"]),
        "site": alert.get("siteName") or ("system" if not alert.get("siteId") else str(alert["siteId"])),
        "site_id": str(alert.get("siteId") or ""),
        "kind": alert.get("kind") or "",
        "severity": alert.get("severity") or "",
        "message": alert.get("message") or "",
        "opened": clock_time(alert.get("openedAt"), (zones or {}).get(str(alert.get("siteId")), "UTC"), now),
        "duration": lasted,
        "state": state,
        "ack": ack,
    }


def alerts_in(seconds: float) -> str:
    """'in 3 min' ahead, 'now' when due."""
    return "now" if seconds <= 0 else f"in {duration(seconds, coarse=True)}"


def outlook_hint(entry: dict[str, Any], now: datetime) -> str:
    """'meter-002: will alert at 14:05 CET (in 3 min)' for a coming alert, in the site's zone (with the date
    past the site's midnight); 'alert open' once it is."""
    what = entry.get("meterExternalId") or entry.get("kind", "").replace("_", " ")
    if entry.get("state") == "OPEN":
        return f"{what}: alert open"
    due = parse_ts(entry.get("alertsAt"))
    if due is None:
        return ""
    if due <= now:
        return f"{what}: alert due now"
    at = clock_time(entry.get("alertsAt"), entry.get("siteTimezone") or "UTC", now)
    return f"{what}: will alert at {at} ({alerts_in((due - now).total_seconds())})"


def site_hints(outlook: list[dict[str, Any]], now: datetime) -> dict[str, str]:
    """Per site id, the soonest coming alert as one short hint (open ones say so)."""
    hints: dict[str, str] = {}
    for entry in sorted(outlook, key=lambda e: (e.get("state") != "OPEN", e.get("alertsAt") or "")):
        site = str(entry.get("siteId") or "")
        if site and site not in hints:
            hints[site] = outlook_hint(entry, now)
    return hints


def outlook_row(entry: dict[str, Any], now: datetime) -> dict[str, str]:
    """Display strings of one outlook entry."""
    return {
        "rule_id": str(entry.get("ruleId") or ""),
        "site": entry.get("siteName") or "system",
        "what": entry.get("meterExternalId") or "site",
        "kind": entry.get("kind") or "",
        "state": STATE_LABELS.get(entry.get("state") or "", ""),
        "hint": outlook_hint(entry, now),
        "message": entry.get("message") or "",
    }


def window_row(window: dict[str, Any], now: datetime) -> dict[str, str]:
    """Display strings of one maintenance window, in its site's time zone."""
    tz = window.get("timezone") or "UTC"
    starts, ends = parse_ts(window.get("startsAt")), parse_ts(window.get("endsAt"))
    repeat = window.get("repeat") or "NONE"
    if repeat == "WEEKLY" and starts is not None:
        when = starts.astimezone(zone(tz)).strftime("every %A %H:%M")
    elif repeat == "DAILY" and starts is not None:
        when = starts.astimezone(zone(tz)).strftime("every day %H:%M")
    else:
        when = clock_time(window.get("startsAt"), tz)
    length = duration((ends - starts).total_seconds()) if starts and ends else ""
    until = clock_time(window.get("nextEnd"), tz, now) if window.get("activeNow") else ""
    if until:
        status = f"active until {until}"
    elif window.get("nextStart"):
        status = f"next {clock_time(window.get('nextStart'), tz, now)}"
    else:
        status = "over"
    return {
        "id": str(window["id"]),
        "when": f"{when} for {length}",
        "repeat": REPEAT_LABELS.get(repeat, repeat),
        "status": status,
        "active": "yes" if window.get("activeNow") else "",
        "until": until,
        "note": window.get("note") or "",
        "starts": local_input(window.get("startsAt"), tz),
        "ends": local_input(window.get("endsAt"), tz),
    }


def local_input(value: str | None, timezone: str) -> str:
    """A timestamp as a datetime-local input value ('2026-12-06T14:05') in the zone."""
    ts = parse_ts(value)
    return ts.astimezone(zone(timezone)).strftime("%Y-%m-%dT%H:%M") if ts else ""


def from_local_input(value: str, timezone: str) -> str | None:
    """A datetime-local input value read in the zone, as ISO-8601 UTC; None when it is not a time."""
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return naive.astimezone(UTC).isoformat()
    return naive.replace(tzinfo=zone(timezone)).astimezone(UTC).isoformat()


def default_window(now: datetime, timezone: str) -> tuple[str, str]:
    """Input values for a new window: from the site's next full hour, for two real hours (a daylight-saving day
    too: a wall time the spring change skips lands just after it, and the end is two hours later, not 02:00 + 2)."""
    wall = now.astimezone(zone(timezone)).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = wall.astimezone(UTC)
    return local_input(start.isoformat(), timezone), local_input(
        (start + timedelta(hours=2)).isoformat(), timezone
    )


def rule_row(
    rule: dict[str, Any], site_names: dict[str, str], firing: dict[str, list[str]]
) -> dict[str, str]:
    """Display strings of one rule, with the sites it fires for now (from the outlook)."""
    unit = rule.get("thresholdUnit") or ""
    pending = float(rule.get("pendingSeconds") or 0)
    fires = firing.get(str(rule["id"]), [])
    return {
        "id": str(rule["id"]),
        "kind": rule.get("kind") or "",
        "site": site_names.get(str(rule.get("siteId")), str(rule.get("siteId")))
        if rule.get("siteId")
        else "all sites",
        "description": rule.get("description") or "",
        "enabled": "yes" if rule.get("enabled") else "no",
        "threshold": f"{float(rule.get('threshold') or 0):g}",
        "unit": unit,
        "severity": rule.get("severity") or "",
        "pending": f"{pending:g}",
        "recipients": ", ".join(rule.get("recipients") or []) or "server default",
        "fires": ", ".join(fires) if fires else "none now",
        "scope": "site" if rule.get("siteId") else "global",
    }


def firing_sites(outlook: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per rule id, the sites (and meters) its condition holds for now: open or pending alerts."""
    found: dict[str, list[str]] = {}
    for entry in outlook:
        if entry.get("state") in ("OPEN", "PENDING") and entry.get("ruleId"):
            name = entry.get("siteName") or "system"
            if entry.get("meterExternalId"):
                name = f"{name} ({entry['meterExternalId']})"
            found.setdefault(str(entry["ruleId"]), []).append(name)
    return found
