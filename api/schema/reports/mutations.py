"""Report mutations: monthly report e-mails added and removed by admins."""

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from api.errors import InvalidInput, NotFoundError
from api.schema.ids import to_int
from api.schema.permissions import IsAdmin
from api.schema.reports.types import ReportSchedule, schedule_of
from causes import Cause, text
from db.central import report_schedules as store
from db.central.models import Site
from db.errors import NotFound

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


MAX_RECIPIENTS = 20


def _recipients(recipients: list[str]) -> list[str]:
    cleaned = [r.strip() for r in recipients if r.strip()]
    if not cleaned:
        raise InvalidInput("give at least one recipient")
    if len(cleaned) > MAX_RECIPIENTS:
        raise InvalidInput(f"at most {MAX_RECIPIENTS} recipients")
    if bad := [r for r in cleaned if not EMAIL.match(r)]:
        raise InvalidInput(f"not an e-mail address: {', '.join(bad)}")
    return cleaned


@strawberry.type
class ReportSchedulesMutation:
    """Report schedule changes (admins)."""

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def add_report_schedule(
        self,
        info: Info,
        recipients: list[str],
        site_ids: list[strawberry.ID] | None = None,
        timezone: str | None = None,
    ) -> ReportSchedule:
        """Mail the report of these sites (all when null) every month; zone: the one site's, else UTC."""
        emails = _recipients(recipients)
        ids = None if site_ids is None else sorted({to_int(i, "site id") for i in site_ids})
        async with info.context.session() as session:
            zones = dict(
                (await session.execute(select(Site.id, Site.timezone).where(Site.id.in_(ids or [])))).all()
            )
            if ids is not None and (missing := sorted(set(ids) - set(zones))):
                raise NotFoundError(text(Cause.UNKNOWN_SITE, site_id=", ".join(map(str, missing))))
            zone = timezone or (zones[ids[0]] if ids and len(ids) == 1 else "UTC") or "UTC"
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as err:
                raise InvalidInput(f"unknown time zone {zone!r}") from err
            row = await store.add_schedule(session, emails, ids, zone, info.context.user.email)
            return schedule_of(row, None)

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def remove_report_schedule(self, info: Info, id: strawberry.ID) -> bool:  # noqa: A002
        """Stop a monthly report."""
        async with info.context.session() as session:
            try:
                await store.remove_schedule(session, to_int(id, "schedule id"))
            except NotFound as err:
                raise NotFoundError(str(err)) from err
        return True
