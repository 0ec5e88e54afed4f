"""Admin page for users: create, change role, deactivate."""

import reflex as rx

from ui_client import queries
from ui_client.errors import UiClientError
from ui_client.pages.admin_common import admin_only, field
from ui_client.state import SessionState
from ui_common.components import table

ROLES = ["viewer", "admin"]


class AdminUsersState(SessionState):
    """Users administration."""

    users: list[dict[str, str]] = []
    new_email: str = ""
    new_password: str = ""
    new_role: str = "viewer"

    @rx.event
    def set_new_email(self, value: str):
        """Email of the user to create."""
        self.new_email = value

    @rx.event
    def set_new_password(self, value: str):
        """Initial password of the user to create."""
        self.new_password = value

    @rx.event
    def set_new_role(self, value: str):
        """Role of the user to create."""
        self.new_role = value

    async def _fetch(self) -> None:
        data = await self._gql(queries.USERS)
        self.users = [
            {
                "id": str(u["id"]),
                "email": u["email"],
                "role": u["role"],
                "active": "yes" if u["isActive"] else "no",
            }
            for u in data.get("users") or []
        ]

    @rx.event
    async def load(self):
        """Fetch users (admins only)."""
        if not self.is_admin:
            return None
        try:
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def create_user(self):
        """Create a user."""
        if not self.new_email.strip() or not self.new_password:
            self.error = "Enter an email and a password."
            return None
        try:
            await self._gql(queries.CREATE_USER, {"email": self.new_email.strip(), "password": self.new_password,
                                                  "role": self.new_role})  # fmt: skip
            self.new_email = ""
            self.new_password = ""
            self.error = ""
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def update_user(self, user_id: str, role: str, active: bool):
        """Change a user's role or active flag."""
        try:
            await self._gql(queries.UPDATE_USER, {"id": user_id, "role": role, "isActive": active})
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None


def user_row(user) -> rx.Component:
    """One user with role and activation controls."""
    active = user["active"] == "yes"
    return rx.table.row(
        rx.table.cell(user["email"]),
        rx.table.cell(
            rx.select(
                ROLES,
                value=user["role"],
                on_change=lambda role: AdminUsersState.update_user(user["id"], role, active),
            )
        ),
        rx.table.cell(user["active"]),
        rx.table.cell(
            rx.cond(
                active,
                rx.button(
                    "Deactivate",
                    size="1",
                    color_scheme="red",
                    variant="soft",
                    on_click=AdminUsersState.update_user(user["id"], user["role"], False),
                ),
                rx.button(
                    "Activate",
                    size="1",
                    variant="soft",
                    on_click=AdminUsersState.update_user(user["id"], user["role"], True),
                ),
            )
        ),
        data_testid="user-row",
    )


def admin_users_page() -> rx.Component:
    """The users admin page."""
    return admin_only(
        rx.card(
            rx.flex(
                field(
                    "Email",
                    rx.input(
                        value=AdminUsersState.new_email,
                        on_change=AdminUsersState.set_new_email,
                        type="email",
                        data_testid="new-user-email",
                    ),
                ),
                field(
                    "Password",
                    rx.input(
                        value=AdminUsersState.new_password,
                        type="password",
                        on_change=AdminUsersState.set_new_password,
                        data_testid="new-user-password",
                    ),
                ),
                field(
                    "Role",
                    rx.select(ROLES, value=AdminUsersState.new_role, on_change=AdminUsersState.set_new_role),
                ),
                rx.button("Create user", on_click=AdminUsersState.create_user, data_testid="create-user"),
                spacing="3",
                align="end",
                wrap="wrap",
            ),
            width="100%",
        ),
        table(["Email", "Role", "Active", "Actions"], AdminUsersState.users, user_row),
        title="Users",
    )
