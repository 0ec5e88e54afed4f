"""Who may see and change which site: admins every site, others the sites granted (manager or viewer).

Every service function a dashboard, MCP tool or export calls takes the caller's Scope. A site outside the
scope answers exactly like a site that does not exist, so ids of other owners' sites leak nothing.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Forbidden, NotFoundError
from causes import Cause, text
from db.central.grants import grants_of
from db.central.models import Alert, Meter, User


@dataclass(frozen=True)
class Scope:
    """The sites a caller reads and manages; an admin's scope is every site (`sites` is None)."""

    name: str
    role: str
    sites: dict[int, str] | None = None  # site id -> "manager" | "viewer"

    @property
    def is_admin(self) -> bool:
        """True for an admin (every site, users, keys)."""
        return self.sites is None

    def reads(self, site_id: int | None) -> bool:
        """True when the site is in scope (None: fleet-wide objects, admins only)."""
        return self.is_admin or (site_id is not None and site_id in self.sites)

    def manages(self, site_id: int | None) -> bool:
        """True when the caller may change the site's meters, rules, tariff and alerts."""
        return self.is_admin or (site_id is not None and self.sites.get(site_id) == "manager")

    def site_ids(self) -> frozenset[int] | None:
        """The readable site ids (None: all)."""
        return None if self.sites is None else frozenset(self.sites)

    def check_read(self, site_id: int) -> None:
        """NotFoundError for a site out of scope (the text a nonexistent site gets)."""
        if not self.reads(site_id):
            raise NotFoundError(text(Cause.UNKNOWN_SITE, site_id=site_id))

    def check_manage(self, site_id: int | None) -> None:
        """NotFoundError out of scope; Forbidden when only readable; fleet-wide (None): admins only."""
        if site_id is None:
            self.check_admin()
            return
        self.check_read(site_id)
        if not self.manages(site_id):
            raise Forbidden(f"forbidden: site manager role required for site {site_id}")

    def check_admin(self) -> None:
        """Forbidden unless admin."""
        if not self.is_admin:
            raise Forbidden(text(Cause.ADMIN_REQUIRED))

    def check_reads_all(self, site_ids: Iterable[int]) -> None:
        """NotFoundError naming the ids out of scope (as for nonexistent ones)."""
        missing = sorted({i for i in site_ids if not self.reads(i)})
        if missing:
            raise NotFoundError(text(Cause.UNKNOWN_SITE, site_id=", ".join(map(str, missing))))


ADMIN = Scope("admin key", "admin")


def site_key_scope(site_id: int) -> Scope:
    """What a site's own key reads: its site only."""
    return Scope(f"site {site_id}", "site", {site_id: "viewer"})


async def scope_of(session: AsyncSession, user: User) -> Scope:
    """The scope of a user: every site for an admin, else its grants."""
    if user.role == "admin":
        return Scope(user.email, "admin")
    return Scope(user.email, user.role, await grants_of(session, user.id))


async def _in_scope(session: AsyncSession, scope: Scope, model, object_id: int, what: str, manage: bool):
    """The row when its site is in scope (managed, when asked), else "no <what> with id" as for a missing one."""
    row = await session.get(model, object_id)
    if row is None or not scope.reads(row.site_id):
        raise NotFoundError(f"no {what} with id {object_id}")
    if manage:
        scope.check_manage(row.site_id)
    return row


async def meter_in_scope(session: AsyncSession, scope: Scope, meter_id: int, manage: bool = False) -> Meter:
    """The meter when its site is in scope (managed, when asked), else "no meter" as for a nonexistent one."""
    return await _in_scope(session, scope, Meter, meter_id, "meter", manage)


async def alert_in_scope(session: AsyncSession, scope: Scope, alert_id: int, manage: bool = False) -> Alert:
    """The alert when its site is in scope (fleet-wide alerts: admins), else "no alert"."""
    return await _in_scope(session, scope, Alert, alert_id, "alert", manage)
