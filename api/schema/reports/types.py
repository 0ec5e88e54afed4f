"""Report types: energy per site, meter and period, and monthly report schedules."""

from datetime import date, datetime
from enum import Enum

import strawberry

from api.services import reports as service
from api.services.report_formats import to_csv, to_html, to_markdown
from db.central import report_schedules as store


@strawberry.enum
class ReportResolution(Enum):
    """Periods of a report: the site's local days or UTC hours."""

    DAY = "DAY"
    HOUR = "HOUR"


@strawberry.type
class ReportPeriod:
    """Energy of one period; null when no energy register reported in it."""

    start: datetime
    end: datetime
    energy_kwh: float | None
    cost: float | None


@strawberry.type
class MeterReport:
    """One meter over the report window."""

    meter_id: strawberry.ID
    external_id: str
    name: str
    energy_kwh: float | None
    peak_power_kw: float | None
    peak_power_at: datetime | None
    expected_readings: int
    received_readings: int
    completeness: float | None
    counter_resets: int
    cost: float | None
    periods: list[ReportPeriod]


@strawberry.type
class SiteReport:
    """One site: totals, the highest peak of any of its meters, completeness, periods and meters."""

    site_id: strawberry.ID
    site_name: str
    timezone: str
    energy_kwh: float | None
    peak_power_kw: float | None
    peak_power_at: datetime | None
    expected_readings: int
    received_readings: int
    completeness: float | None
    currency: str | None
    cost: float | None
    periods: list[ReportPeriod]
    meters: list[MeterReport]


@strawberry.type
class Report:
    """A report as structured data and rendered as CSV, Markdown and HTML."""

    start: datetime
    end: datetime
    resolution: ReportResolution
    generated_at: datetime
    sites: list[SiteReport]
    csv: str
    markdown: str
    html: str


def _periods(items) -> list[ReportPeriod]:
    return [ReportPeriod(start=p.start, end=p.end, energy_kwh=p.energy_kwh, cost=p.cost) for p in items]


def _meter(m) -> MeterReport:
    return MeterReport(
        meter_id=strawberry.ID(str(m.meter_id)),
        external_id=m.external_id,
        name=m.name,
        energy_kwh=m.energy_kwh,
        peak_power_kw=m.peak_power_kw,
        peak_power_at=m.peak_power_at,
        expected_readings=m.expected_readings,
        received_readings=m.received_readings,
        completeness=m.completeness,
        counter_resets=m.counter_resets,
        cost=m.cost,
        periods=_periods(m.periods),
    )


def to_graphql(report: service.Report) -> Report:
    """The GraphQL object of a service report."""
    sites = [
        SiteReport(
            site_id=strawberry.ID(str(s.site_id)),
            site_name=s.site_name,
            timezone=s.timezone,
            energy_kwh=s.energy_kwh,
            peak_power_kw=s.peak_power_kw,
            peak_power_at=s.peak_power_at,
            expected_readings=s.expected_readings,
            received_readings=s.received_readings,
            completeness=s.completeness,
            currency=s.currency,
            cost=s.cost,
            periods=_periods(s.periods),
            meters=[_meter(m) for m in s.meters],
        )
        for s in report.sites
    ]
    return Report(
        start=report.start,
        end=report.end,
        resolution=ReportResolution(report.resolution),
        generated_at=report.generated_at,
        sites=sites,
        csv=to_csv(report),
        markdown=to_markdown(report),
        html=to_html(report),
    )


@strawberry.type
class ReportSchedule:
    """A monthly report mailed on the 1st (in `timezone`) for the month before; siteIds null: every site."""

    id: strawberry.ID
    recipients: list[str]
    site_ids: list[strawberry.ID] | None
    timezone: str
    created_at: datetime
    last_sent_month: date | None


def schedule_of(row: store.ReportSchedule, last: date | None) -> ReportSchedule:
    return ReportSchedule(
        id=strawberry.ID(str(row.id)),
        recipients=list(row.recipients),
        site_ids=None if row.site_ids is None else [strawberry.ID(str(i)) for i in row.site_ids],
        timezone=row.timezone,
        created_at=row.created_at,
        last_sent_month=last,
    )
