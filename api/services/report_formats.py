"""A report rendered for people and spreadsheets: CSV (one row per meter and period), Markdown and HTML."""

import csv
import html
import io
from datetime import datetime

from api.services.reports import Report

CSV_COLUMNS = (
    "site_id",
    "site",
    "meter_id",
    "meter",
    "meter_name",
    "period_start",
    "period_end",
    "energy_kwh",
    "meter_peak_power_kw",
    "meter_peak_power_at",
    "meter_completeness",
    "cost",
    "currency",
    "simulated",
)


def _num(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _ts(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def to_csv(report: Report) -> str:
    """CSV text: a header, then one row per meter and period."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for site in report.sites:
        for meter in site.meters:
            for period in meter.periods:
                writer.writerow(
                    (
                        site.site_id,
                        site.site_name,
                        meter.meter_id,
                        meter.external_id,
                        meter.name,
                        _ts(period.start),
                        _ts(period.end),
                        _num(period.energy_kwh),
                        _num(meter.peak_power_kw),
                        _ts(meter.peak_power_at),
                        _num(meter.completeness, 4),
                        _num(period.cost, 2),
                        site.currency or "",
                        "yes" if site.simulated(period.start, period.end) else "",
                    )
                )
    return out.getvalue()


def _tables(report: Report) -> list[tuple[str, str, list[str], list[list[str]]]]:
    """Per site: (heading, summary, header, rows) twice — periods, then meters."""
    blocks = []
    for site in report.sites:
        summary = (
            f"Energy {_num(site.energy_kwh)} kWh; highest meter peak {_num(site.peak_power_kw)} kW"
            f" at {_ts(site.peak_power_at) or 'n/a'}; completeness {_pct(site.completeness)}"
            f" ({site.received_readings} of {site.expected_readings} readings)"
        )
        if site.currency:
            summary += f"; cost {_num(site.cost, 2)} {site.currency}"
        if site.simulated(report.start, report.end):
            zone = _zone(site.timezone)
            summary += (
                f"; includes simulated (demo) readings, not measured, from"
                f" {site.simulated_from.astimezone(zone):%Y-%m-%d %H:%M} to"
                f" {site.simulated_until.astimezone(zone):%Y-%m-%d %H:%M} ({site.timezone}): periods marked *"
            )
        priced = site.currency is not None
        label = "Day" if report.resolution == "DAY" else "Hour (UTC)"
        periods = [
            [
                p.start.astimezone(_zone(site.timezone)).strftime("%Y-%m-%d %H:%M")
                + (" *" if site.simulated(p.start, p.end) else ""),
                _num(p.energy_kwh),
            ]
            + ([_num(p.cost, 2)] if priced else [])
            for p in site.periods
        ]
        header = [label, "Energy kWh"] + ([f"Cost {site.currency}"] if priced else [])
        blocks.append((f"{site.site_name} ({site.timezone})", summary, header, periods))
        meters = [
            [
                f"{m.external_id} {m.name}",
                _num(m.energy_kwh),
                _num(m.peak_power_kw),
                _ts(m.peak_power_at),
                _pct(m.completeness),
                str(m.counter_resets),
            ]
            for m in site.meters
        ]
        header = ["Meter", "Energy kWh", "Peak kW", "Peak at", "Completeness", "Counter resets"]
        blocks.append(("", "", header, meters))
    return blocks


def _zone(name: str):
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _title(report: Report) -> str:
    return f"Energy report {report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC ({report.resolution})"


def to_markdown(report: Report) -> str:
    """A readable Markdown summary with one section per site."""
    lines = [f"# {_title(report)}", ""]
    if not report.sites:
        lines.append("No sites.")
    for heading, summary, header, rows in _tables(report):
        if heading:
            lines += [f"## {heading}", "", summary, ""]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)


def to_html(report: Report) -> str:
    """The same summary as a standalone HTML page."""
    parts = [f"<html><head><meta charset='utf-8'><title>{html.escape(_title(report))}</title></head><body>"]
    parts.append(f"<h1>{html.escape(_title(report))}</h1>")
    for heading, summary, header, rows in _tables(report):
        if heading:
            parts.append(f"<h2>{html.escape(heading)}</h2><p>{html.escape(summary)}</p>")
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        parts.append(f"<table border='1' cellspacing='0' cellpadding='4'><tr>{head}</tr>{body}</table>")
    parts.append("</body></html>")
    return "".join(parts)
