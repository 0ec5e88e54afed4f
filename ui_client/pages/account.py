"""Account page: change one's own password (every other session of the user ends)."""

import reflex as rx

from ui_client import components, queries
from ui_client.errors import UiClientError
from ui_client.pages.admin_common import field
from ui_client.state import SessionState

MIN_LENGTH = 8  # db/central/users.py MIN_PASSWORD_LENGTH; the API says so too


FIELDS = ("current-password", "new-password", "new-password-again")


class AccountState(SessionState):
    """The password form's answer; the passwords stay in the browser's form until it is sent."""

    message: str = ""

    @rx.event
    def load(self):
        """No answer shown yet; the form's fields are the browser's, so typing before this runs is kept."""
        self.message = ""

    @rx.event
    async def change(self, form: dict):
        """Change the password; the answer's token replaces this tab's (the old one has ended)."""
        self.message = ""
        current, new, again = (str(form.get(name) or "") for name in FIELDS)
        if new != again:
            self.error = "The new passwords differ."
            return None
        if len(new) < MIN_LENGTH:
            self.error = f"The new password needs at least {MIN_LENGTH} characters."
            return None
        try:
            data = await self._gql(queries.CHANGE_PASSWORD, {"old": current, "new": new})
        except UiClientError as err:
            return self._fail(err)
        result = data["changePassword"]
        self.token, self.expires_at = result["token"], result.get("expiresAt") or ""
        self.error = ""
        self.message = "Password changed. Your other sessions have ended."
        return [rx.set_value(name, "") for name in FIELDS]


def _password(label: str, name: str) -> rx.Component:
    """One password field, named and identified by `name`."""
    return field(label, rx.input(type="password", name=name, id=name, data_testid=name))


def account_page() -> rx.Component:
    """The account page."""
    return components.page(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Change password", size="4"),
                    _password("Current password", "current-password"),
                    _password("New password", "new-password"),
                    _password("New password again", "new-password-again"),
                    rx.button("Change password", type="submit", data_testid="change-password"),
                    rx.cond(
                        AccountState.message != "",
                        rx.text(AccountState.message, data_testid="password-changed"),
                    ),
                    spacing="3",
                ),
                on_submit=AccountState.change,
            ),
            max_width="420px",
        ),
        title="Account",
    )
