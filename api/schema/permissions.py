"""Permission classes: a site key for edge operations, a user token for dashboards, admin for changes."""

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from api.errors import Forbidden, SiteKeyRequired
from api.services.access import Scope
from causes import Cause, text


def scope(info: Info) -> Scope:
    """The caller's site scope (resolvers behind IsAuthenticated always have one)."""
    found = info.context.scope
    if found is None:
        raise Forbidden(text(Cause.NOT_AUTHENTICATED))
    return found


class IsSite(BasePermission):
    """The request carries a valid X-API-Key (answered with HTTP 401 otherwise)."""

    message = text(Cause.SITE_KEY_REQUIRED)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """True for a site key."""
        return info.context.site is not None

    def on_unauthorized(self) -> None:
        """Raise the error the view turns into HTTP 401."""
        raise SiteKeyRequired(self.message)


class IsAuthenticated(BasePermission):
    """A logged-in dashboard user (any role)."""

    message = text(Cause.NOT_AUTHENTICATED)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """True for a user token."""
        return info.context.user is not None

    def on_unauthorized(self) -> None:
        """Raise an expected rejection (no traceback in the log)."""
        raise Forbidden(self.message)


class IsAdmin(IsAuthenticated):
    """A logged-in admin."""

    message = text(Cause.ADMIN_REQUIRED)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """True for an admin's token."""
        return info.context.user is not None and info.context.user.role == "admin"
