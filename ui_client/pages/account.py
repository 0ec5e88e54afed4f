"""Account page: change one's own password (every other session of the user ends)."""

import reflex as rx

from ui_client import components, queries
from ui_client.errors import UiClientError
from ui_client.pages.admin_common import field
from ui_client.state import SessionState

MIN_LENGTH = 8  # db/central/users.py MIN_PASSWORD_LENGTH; the API says so too


class AccountState(SessionState):
    """The password form."""

    current: str = ""
    new: str = ""
    again: str = ""
    message: str = ""

    @rx.event
    def set_current(self, value: str):
        """The current password."""
        self.current = value

    @rx.event
    def set_new(self, value: str):
        """The new password."""
        self.new = value

    @rx.event
    def set_again(self, value: str):
        """The new password again."""
        self.again = value

    @rx.event
    def load(self):
        """A fresh form."""
        self.current = self.new = self.again = self.message = ""

    @rx.event
    async def change(self):
        """Change the password; the answer's token replaces this tab's (the old one has ended)."""
        self.message = ""
        if self.new != self.again:
            self.error = "The new passwords differ."
            return None
        if len(self.new) < MIN_LENGTH:
            self.error = f"The new password needs at least {MIN_LENGTH} characters."
            return None
        try:
            data = await self._gql(queries.CHANGE_PASSWORD, {"old": self.current, "new": self.new})
        except UiClientError as err:
            return self._fail(err)
        result = data["changePassword"]
        self.token, self.expires_at = result["token"], result.get("expiresAt") or ""
        self.current = self.new = self.again = ""
        self.error = ""
        self.message = "Password changed. Your other sessions have ended."
        return None


def account_page() -> rx.Component:
    """The account page."""
    return components.page(
        rx.card(
            rx.vstack(
                rx.heading("Change password", size="4"),
                field(
                    "Current password",
                    rx.input(
                        value=AccountState.current,
                        type="password",
                        on_change=AccountState.set_current,
                        data_testid="current-password",
                    ),
                ),
                field(
                    "New password",
                    rx.input(
                        value=AccountState.new,
                        type="password",
                        on_change=AccountState.set_new,
                        data_testid="new-password",
                    ),
                ),
                field(
                    "New password again",
                    rx.input(
                        value=AccountState.again,
                        type="password",
                        on_change=AccountState.set_again,
                        data_testid="new-password-again",
                    ),
                ),
                rx.button("Change password", on_click=AccountState.change, data_testid="change-password"),
                rx.cond(
                    AccountState.message != "", rx.text(AccountState.message, data_testid="password-changed")
                ),
                spacing="3",
            ),  # fmt: skip
            max_width="420px",
        ),
        title="Account",
    )
