"""generateReport in GraphQL: energy per site, meter and period, peaks, completeness, plus CSV/Markdown/HTML."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.services import reports as service
from api.services.report_formats import to_csv, to_html, to_markdown


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
class ReportsQuery:
    """Reports."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def generate_report(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        site_ids: list[strawberry.ID] | None = None,
        resolution: ReportResolution = ReportResolution.DAY,
    ) -> Report:
        """Energy per site and meter per period, peak power and data completeness over [from, to)."""
        ids = None if site_ids is None else [to_int(i, "site id") for i in site_ids]
        async with info.context.session() as session:
            report = await service.generate_report(
                session, ids, from_, to, resolution.value, scope=scope(info)
            )
        return to_graphql(report)
