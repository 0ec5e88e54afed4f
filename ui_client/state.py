"""Shared session state: the JWT, the signed-in user, GraphQL calls and error handling for every page."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from causes import Cause, text
from ui_client import api, queries
from ui_client.errors import ApiUnreachable, NotAuthenticated, UiClientError
from ui_common.clock import utcnow
from ui_common.follow import client_connected, follow, taking_over
from ui_common.format import parse_ts

logger = logging.getLogger(__name__)

RETRY_SECONDS = 3.0
UNREACHABLE_TEXT = f"{text(Cause.CENTRAL_UNREACHABLE)} Data shown may be out of date; retrying…"


class SessionState(rx.State):
    """Who is signed in (kept in the browser tab's session storage) and the page's error banner."""

    token: str = rx.SessionStorage("", name="meterit_token")
    expires_at: str = rx.SessionStorage("", name="meterit_expires_at")
    email: str = rx.SessionStorage("", name="meterit_email")
    role: str = rx.SessionStorage("", name="meterit_role")
    error: str = ""
    notice: str = ""

    @rx.var
    def is_admin(self) -> bool:
        """Whether the signed-in user may use the admin pages."""
        return self.role == "admin"

    @rx.var
    def logged_in(self) -> bool:
        """Whether a token is held."""
        return bool(self.token)

    def _expired(self) -> bool:
        expires = parse_ts(self.expires_at)
        return not self.token or (expires is not None and expires <= utcnow())

    def _clear_session(self) -> None:
        self.token = ""
        self.expires_at = ""
        self.email = ""
        self.role = ""

    async def _gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a GraphQL operation with the session's token."""
        if self._expired():
            raise NotAuthenticated("session expired")
        return await api.CENTRAL.execute(query, variables, token=self.token)

    def _fail(self, err: UiClientError):
        """Show an error; for a lost session, clear it and return the redirect to the login page."""
        if isinstance(err, NotAuthenticated):
            if self.token:
                self.notice = "Your session has ended. Please sign in again."
            self._clear_session()
            return rx.redirect("/login")
        self.error = UNREACHABLE_TEXT if isinstance(err, ApiUnreachable) else str(err)
        return None

    @rx.event
    def require_login(self):
        """Send a visitor without a valid session to the login page."""
        self.error = ""
        if self._expired():
            self._clear_session()
            return rx.redirect("/login")
        return None

    @rx.event
    async def logout(self):
        """End the user's sessions at central (its tokens stop working everywhere), forget the token here."""
        if not self._expired():
            try:
                await api.CENTRAL.execute(queries.LOGOUT, None, token=self.token)
            except UiClientError:
                pass  # central unreachable or the session already ended: signing out here is what matters
        self._clear_session()
        self.notice = "You are signed out."
        return rx.redirect("/login")

    @rx.event
    def dismiss_error(self):
        """Hide the error banner."""
        self.error = ""

    async def _refetch(self) -> None:
        """Reload the page's data after the central API came back (pages with data override this)."""

    async def _recovered(self) -> None:
        """Clear the unreachable banner and reload what the page shows."""
        if self.error == UNREACHABLE_TEXT:
            self.error = ""
        try:
            await self._refetch()
        except UiClientError as err:
            self._fail(err)

    def _path(self) -> str:
        """The path this tab shows, e.g. /site/3."""
        return self.router.url.path.rstrip("/") or "/"

    def _wanted(self) -> bool:
        """Whether this tab still shows the page of the running background task (pages override)."""
        return bool(self.token) and client_connected(self)

    async def _follow(
        self,
        query: str,
        variables: dict[str, Any] | None,
        flag: str,
        handle: Callable[[dict[str, Any] | None], Awaitable[None]],
    ) -> None:
        """Body of a background task: keep a subscription open while `_wanted()`, reconnecting on loss.

        `flag` names a backend str holding the id of the task in charge: a newer task takes over and the
        older one stops at its next wake-up, so each tab runs at most one per page. `handle` runs inside
        `async with self` for every event, and with None on each quiet tick (to refresh relative times).
        """
        lost = False

        async def on_event(event: dict[str, Any] | None) -> None:
            nonlocal lost
            if lost:
                lost = False
                await self._recovered()
            await handle(event)

        def interrupted(err: Exception) -> bool:
            nonlocal lost
            if isinstance(err, ApiUnreachable):
                logger.info("subscription lost: %s", err)
                lost = True
                if in_charge():
                    self.error = UNREACHABLE_TEXT
            else:
                logger.info("subscription interrupted: %s", err)
            return False

        async with taking_over(self, flag) as current:
            async with self:
                token = self.token

            def in_charge() -> bool:
                return current() and self._wanted()

            await follow(
                self,
                lambda: api.CENTRAL.subscribe(query, variables, token=token),
                in_charge,
                on_event,
                interrupted,
                (UiClientError,),
                RETRY_SECONDS,
            )
