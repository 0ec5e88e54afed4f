"""Pure helpers of the fleet overview: sort labels, filter chips, site cards, sparklines, page ranges."""

from typing import Any

from ui_common.format import duration, number

PAGE_SIZE = 24
# The API's sort keys (FleetSort) and what a person reads in the drop-down.
SORT_LABELS = {
    "NAME": "Name (A–Z)",
    "STATUS": "Status (worst first)",
    "LAST_HEARD": "Last heard (longest silent first)",
    "QUEUE_DEPTH": "Upload queue (deepest first)",
}
STATES = ("online", "degraded", "offline", "maintenance", "unknown")
SPARK_W, SPARK_H = 120, 28


def sparkline_points(values: list[float | None], width: int = SPARK_W, height: int = SPARK_H) -> str:
    """SVG polyline points of today's hourly power (nulls skipped), scaled into width × height; '' when empty."""
    known = [(i, v) for i, v in enumerate(values or []) if v is not None]
    if not known:
        return ""
    top = max(v for _, v in known)
    low = min(0.0, min(v for _, v in known))
    span = (top - low) or 1.0
    slots = max(len(values) - 1, 1)
    if len(known) == 1:  # one hour so far: a short flat line, not an invisible dot
        y = height - (known[0][1] - low) / span * (height - 2) - 1
        return f"0,{y:.1f} {width},{y:.1f}"
    return " ".join(
        f"{i / slots * width:.1f},{height - (v - low) / span * (height - 2) - 1:.1f}" for i, v in known
    )


def sparkline_area(points: str, height: int = SPARK_H) -> str:
    """SVG polygon points closing a sparkline down to the baseline (the shaded area under the line)."""
    if not points:
        return ""
    xs = [p.split(",")[0] for p in points.split()]
    return f"{xs[0]},{height} {points} {xs[-1]},{height}"


def peak_text(values: list[float | None]) -> str:
    """'peak 45.2 kW' of today's hourly means, or 'no power data today'."""
    known = [v for v in values or [] if v is not None]
    return f"peak {number(max(known), 1)} kW" if known else "no power data today"


def age_text(seconds: float | None) -> str:
    """'12 s ago', '3 min ago', or 'never'."""
    return "never" if seconds is None else f"{duration(seconds, coarse=True)} ago"


def fleet_card(item: dict[str, Any]) -> dict[str, str]:
    """The display strings of one site card from a FleetSite."""
    site = item["site"]
    total = site.get("metersTotal") or 0
    queue = site.get("queueDepth")
    alerts = item.get("openAlerts") or 0
    return {
        "id": str(site["id"]),
        "name": site.get("name") or "",
        "status": site.get("status") or "unknown",
        "ago": age_text(site.get("ageSeconds")),
        "stale": "stale" if site.get("stale") and site.get("status") in ("online", "degraded") else "",
        "queue": "–" if queue is None else f"{queue:,}",
        "meters": f"{site.get('metersReachable') or 0}/{total}",
        "energy": f"{number(site.get('todayEnergyKwh'), 1)} kWh",
        "alerts": f"{alerts} open alert{'s' if alerts != 1 else ''}" if alerts else "",
        "inactive": "" if site.get("isActive", True) else "deactivated",
        "maintenance": "maintenance" if site.get("maintenance") else "",
        "spark": (spark := sparkline_points(item.get("powerToday") or [])),
        "spark_area": sparkline_area(spark),
        "peak": peak_text(item.get("powerToday") or []),
    }


def chip_label(state: str, count: int) -> str:
    """'Offline 3'."""
    return f"{state.capitalize()} {count:,}"


def range_text(offset: int, shown: int, total: int) -> str:
    """'Sites 25–48 of 1,000', or 'No sites match'."""
    if not total or not shown:
        return "No sites match"
    return f"Sites {offset + 1:,}–{offset + shown:,} of {total:,}"
