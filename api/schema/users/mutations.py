"""User mutations: login (JWT, throttled), password change and reset, logout, grants, users."""

import logging
import math

import strawberry
from strawberry.types import Info

from api import metrics
from api.errors import Forbidden
from api.http.client_address import request_address
from api.realtime.sessions import publish_sessions_ended, publish_sites_changed
from api.schema.ids import to_int
from api.schema.permissions import IsAdmin, IsAuthenticated
from api.schema.users.types import LoginFailed, LoginResult, LoginSuccess, SiteGrant, User
from api.services import users as service

logger = logging.getLogger(__name__)


@strawberry.type
class UsersMutation:
    """Login and user administration."""

    @strawberry.mutation
    async def login(self, info: Info, email: str, password: str) -> LoginResult:
        """Exchange email and password for a token (failed attempts are throttled, then locked)."""
        context = info.context
        account = email.strip().lower()
        address = request_address(context.request, context.settings.trusted_proxy_networks)
        guard = context.login_guard
        if guard is not None:
            wait = await guard.begin(account, address)
            if wait > 0:
                metrics.LOGIN_ATTEMPTS.labels("throttled").inc()
                seconds = math.ceil(wait)
                return LoginFailed(
                    reason=f"too many failed logins: retry in {seconds} s", retry_after_seconds=seconds
                )
        found = await service.login(context.sessions, context.settings, email, password)
        if found is None:
            metrics.LOGIN_ATTEMPTS.labels("failure").inc()
            logger.info("failed login for %s from %s", account, address)
            return LoginFailed(reason="wrong email or password")
        if guard is not None:
            await guard.ok(account, address)
        metrics.LOGIN_ATTEMPTS.labels("success").inc()
        user, token, expires = found
        return LoginSuccess(token=token, expires_at=expires, user=User.from_model(user))

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def change_password(self, info: Info, old_password: str, new_password: str) -> LoginSuccess:
        """Change one's own password; every other session ends, and a new token is returned.

        A wrong old password counts as a failed login of the account (a stolen token cannot guess it).
        """
        context = info.context
        account = context.user.email
        address = request_address(context.request, context.settings.trusted_proxy_networks)
        guard = context.login_guard
        if guard is not None:
            wait = await guard.begin(account, address)
            if wait > 0:
                metrics.LOGIN_ATTEMPTS.labels("throttled").inc()
                raise Forbidden(f"too many failed logins: retry in {math.ceil(wait)} s")
        try:
            async with context.session() as session:
                user, token, expires = await service.change_password(
                    session, context.settings, context.user, old_password, new_password
                )
        except Forbidden:
            metrics.LOGIN_ATTEMPTS.labels("failure").inc()
            raise
        except Exception:
            if guard is not None:  # the old password was right (the new one was refused)
                await guard.ok(account, address)
            raise
        if guard is not None:
            await guard.ok(account, address)
        await publish_sessions_ended(context.pubsub, user.id)
        return LoginSuccess(token=token, expires_at=expires, user=User.from_model(user))

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def reset_password(self, info: Info, id: strawberry.ID, new_password: str) -> User:
        """Set a user's password (admin); every session of that user ends and its login lock is lifted."""
        async with info.context.session() as session:
            user = await service.reset_password(session, to_int(id, "user id"), new_password)
        if info.context.login_guard is not None:
            await info.context.login_guard.forget(user.email)
        await publish_sessions_ended(info.context.pubsub, user.id)
        return User.from_model(user)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def logout(self, info: Info) -> bool:
        """End every session of the caller (all its tokens, on every device)."""
        async with info.context.session() as session:
            await service.logout(session, info.context.user)
        await publish_sessions_ended(info.context.pubsub, info.context.user.id)
        return True

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def grant_site(
        self, info: Info, user_id: strawberry.ID, site_id: strawberry.ID, role: str = "viewer"
    ) -> list[SiteGrant]:
        """Give a user a role at a site ("manager" or "viewer"); its open sockets close (4403) to pick it up."""
        user = to_int(user_id, "user id")
        async with info.context.session() as session:
            rows = await service.grant_site(session, user, to_int(site_id, "site id"), role)
        await publish_sites_changed(info.context.pubsub, user)
        return [SiteGrant.from_row(r) for r in rows]

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def revoke_site(
        self, info: Info, user_id: strawberry.ID, site_id: strawberry.ID
    ) -> list[SiteGrant]:
        """Take a user's role at a site away; its open sockets close (4403)."""
        user = to_int(user_id, "user id")
        async with info.context.session() as session:
            rows = await service.revoke_site(session, user, to_int(site_id, "site id"))
        await publish_sites_changed(info.context.pubsub, user)
        return [SiteGrant.from_row(r) for r in rows]

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def create_user(self, info: Info, email: str, password: str, role: str) -> User:
        """Create a user (role admin, manager or viewer; non-admins see only the sites granted them)."""
        async with info.context.session() as session:
            return User.from_model(await service.create_user(session, email, password, role))

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def update_user(
        self, info: Info, id: strawberry.ID, role: str | None = None, is_active: bool | None = None
    ) -> User:
        """Change a user's role or disable them (a disabled user's open sockets close)."""
        async with info.context.session() as session:
            user = await service.update_user(session, to_int(id, "user id"), role, is_active)
        if is_active is False:
            await publish_sessions_ended(info.context.pubsub, user.id)
        if role is not None:  # admin or not: which sites it sees
            await publish_sites_changed(info.context.pubsub, user.id)
        return User.from_model(user)
