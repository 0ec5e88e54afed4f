"""Report queries: generateReport (plus CSV/Markdown/HTML) and reportSchedules."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAdmin, IsAuthenticated, scope
from api.schema.reports.types import Report, ReportResolution, ReportSchedule, schedule_of, to_graphql
from api.services import reports as service
from db.central import report_schedules as store


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


@strawberry.type
class ReportSchedulesQuery:
    """Report schedule queries."""

    @strawberry.field(permission_classes=[IsAdmin])
    async def report_schedules(self, info: Info) -> list[ReportSchedule]:
        """Every monthly report schedule with the last month it sent."""
        async with info.context.session() as session:
            rows = await store.list_schedules(session)
            last = await store.last_months(session)
        return [schedule_of(row, last.get(row.id)) for row in rows]
