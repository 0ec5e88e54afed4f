"""The fleet overview for dashboards: one page of sites with the whole fleet's counts and totals."""

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidInput
from api.services.access import Scope
from db.central import fleet as db_fleet
from db.clock import utcnow


async def fleet_page(
    session: AsyncSession,
    state: str | None,
    search: str | None,
    sort: str,
    first: int,
    offset: int,
    *,
    scope: Scope,
) -> db_fleet.FleetPage:
    """Check the arguments, then load one page of the caller's sites (a fixed number of queries)."""
    if state is not None and state not in db_fleet.FLEET_STATES:
        raise InvalidInput(f"unknown status {state!r}; one of {', '.join(db_fleet.FLEET_STATES)}")
    if sort not in db_fleet.SORTS:
        raise InvalidInput(f"unknown sort {sort!r}; one of {', '.join(db_fleet.SORTS)}")
    if not 1 <= first <= db_fleet.MAX_PAGE:
        raise InvalidInput(f"first must be 1 to {db_fleet.MAX_PAGE} (got {first})")
    if offset < 0:
        raise InvalidInput(f"offset must not be negative (got {offset})")
    if search is not None and len(search) > 200:
        raise InvalidInput("search is limited to 200 characters")
    return await db_fleet.fleet_page(
        session,
        utcnow(),
        state=state,
        search=search,
        sort=sort,
        limit=first,
        offset=offset,
        site_ids=scope.site_ids(),
    )
