"""Report types: energy per site, meter and period, and monthly report schedules."""

from datetime import date, datetime
from enum import Enum

import strawberry

from api.services import reports as service
from api.services.report_formats import to_csv, to_html, to_markdown
from db.central import report_schedules as store


@strawberry.enum
class ReportResolution(Enum):
    """Periods of a report: the site's local days or local hours (the `energy` query's DAY and HOUR buckets)."""

    DAY = "DAY"
    HOUR = "HOUR"


@strawberry.experimental.pydantic.type(model=service.Period, all_fields=True)
class ReportPeriod:
    """Energy of one period; null when no energy register reported in it (api/services/reports.py Period)."""


@strawberry.experimental.pydantic.type(model=service.MeterReport, all_fields=True, include_computed=True)
class MeterReport:
    """One meter over the report window (api/services/reports.py MeterReport)."""

    meter_id: strawberry.ID


@strawberry.experimental.pydantic.type(model=service.SiteReport, all_fields=True, include_computed=True)
class SiteReport:
    """One site: totals, the highest peak of any of its meters, completeness, periods and meters
    (api/services/reports.py SiteReport)."""

    site_id: strawberry.ID


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


def to_graphql(report: service.Report) -> Report:
    """The GraphQL object of a service report."""
    sites = [SiteReport.from_pydantic(s) for s in report.sites]
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
