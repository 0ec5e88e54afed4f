"""The site inventory as both dashboards show and edit it: point lines, intervals, history rows, unit symbols."""

from datetime import datetime
from typing import Any

from causes import Cause, text
from ui_common.format import UNIT_SYMBOLS, ago, clock, parse_ts, unit_symbol  # noqa: F401  (imported from here too)

POINTS_HELP = (
    "One point per line: name, object type, instance, unit, cumulative (yes/no). "
    "E.g. energy, analog-input, 0, kilowatt-hours, yes."
)


def parse_points(text: str) -> list[dict[str, Any]]:
    """Data points from the form's lines; raises ValueError naming the bad line."""
    points = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3 or not parts[2].isdigit():
            raise ValueError(f"line {number}: expected name, object type, instance[, unit, cumulative]")
        points.append({
            "name": parts[0], "objectType": parts[1], "instance": int(parts[2]),
            "unit": parts[3] if len(parts) > 3 and parts[3] else None,
            "cumulative": len(parts) > 4 and parts[4].lower() in ("yes", "true", "1"),
        })  # fmt: skip
    return points


def format_points(points: list[dict[str, Any]]) -> str:
    """The form's lines for existing data points."""
    return "\n".join(
        f"{p['name']}, {p['objectType']}, {p['instance']}, {p.get('unit') or ''}, {'yes' if p.get('cumulative') else 'no'}"
        for p in points
    )


def parse_interval(text: str) -> float | None:
    """A per-meter polling interval in seconds from the form; None when left empty (the site's interval)."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"the interval must be a number of seconds (got {text!r})") from None


def interval_text(seconds: float | None) -> str:
    """An interval for the form and tables: '30' for 30.0, '' when the site's interval applies."""
    if seconds is None:
        return ""
    return f"{seconds:g}"


def conflict_text(conflict: dict[str, Any]) -> str:
    """One conflict in words: which meter and field, the value kept and the one recorded instead."""
    return f"{conflict['meter']}.{conflict['field']}: kept {conflict['kept']}, not {conflict['dropped']}"


def history_rows(
    history: list[dict[str, Any]], now: datetime, tz_name: str | None = None
) -> list[dict[str, str]]:
    """Table rows of inventory history entries (newest first, as the API sends them), times in the site's zone."""
    rows = []
    for entry in history:
        created = parse_ts(entry.get("createdAt"))
        version = entry.get("version")
        rows.append({
            "version": "–" if version is None else str(version),
            "when": f"{clock(created, tz_name)} ({ago(entry.get('createdAt'), now, coarse=True)})" if created else "–",
            "origin": entry.get("origin") or "",
            "author": entry.get("author") or "–",
            "changes": "; ".join(entry.get("changes") or []) or "no change",
            "conflicts": "; ".join(conflict_text(c) for c in entry.get("conflicts") or []),
        })  # fmt: skip
    return rows


def form_fields(meter: dict[str, Any], with_points: bool = True) -> dict[str, Any]:
    """An inventory meter as the meter form's fields (both dashboards' forms share these names)."""
    return {
        "f_name": meter.get("name") or "",
        "f_address": meter.get("bacnetAddress") or "",
        "f_device_id": str(meter.get("bacnetDeviceId") or ""),
        "f_interval": interval_text(meter.get("intervalSeconds")),
        "f_enabled": bool(meter.get("enabled", True)),
        "f_points": format_points(meter.get("points") or []) if with_points else "",
    }


def device_id(field: str) -> int | None:
    """The form's BACnet device id (empty: none); ValueError when it is not a whole number."""
    device = field.strip()
    if device and not device.isdigit():
        raise ValueError(text(Cause.DEVICE_ID_NOT_INTEGER, device=device))
    return int(device) if device else None
