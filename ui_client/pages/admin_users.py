"""Admin page for users: create, change role, deactivate, grant sites (manager or viewer)."""

import reflex as rx

from ui_client import queries
from ui_client.errors import UiClientError
from ui_client.pages.admin_common import admin_only, field
from ui_client.state import SessionState
from ui_common.components import table

ROLES = ["viewer", "manager", "admin"]
SITE_ROLES = ["viewer", "manager"]


class AdminUsersState(SessionState):
    """Users administration."""

    users: list[dict[str, str]] = []
    new_email: str = ""
    new_password: str = ""
    new_role: str = "viewer"
    grants: list[dict[str, str]] = []
    site_names: list[str] = []
    site_ids: dict[str, str] = {}
    grant_email: str = ""
    grant_site_name: str = ""
    grant_role: str = "viewer"

    @rx.var
    def user_emails(self) -> list[str]:
        """E-mails of the users who are not admins (admins see every site)."""
        return [u["email"] for u in self.users if u["role"] != "admin"]

    @rx.event
    def set_grant_email(self, value: str):
        """The user to grant a site."""
        self.grant_email = value

    @rx.event
    def set_grant_site(self, value: str):
        """The site to grant."""
        self.grant_site_name = value

    @rx.event
    def set_grant_role(self, value: str):
        """The role at that site."""
        self.grant_role = value

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
        access = await self._gql(queries.SITE_GRANTS)
        self.site_ids = {s["name"]: str(s["id"]) for s in access.get("sites") or []}
        self.site_names = list(self.site_ids)
        self.grants = [
            {"user_id": str(g["userId"]), "email": g["email"], "site_id": str(g["siteId"]),
             "site": g["siteName"], "role": g["role"]}
            for g in access.get("siteGrants") or []
        ]  # fmt: skip

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

    @rx.event
    async def grant_site(self):
        """Give the chosen user the chosen role at the chosen site."""
        user = next((u["id"] for u in self.users if u["email"] == self.grant_email), None)
        site = self.site_ids.get(self.grant_site_name)
        if user is None or site is None:
            self.error = "Choose a user and a site."
            return None
        try:
            await self._gql(queries.GRANT_SITE, {"userId": user, "siteId": site, "role": self.grant_role})
            self.error = ""
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def revoke_site(self, user_id: str, site_id: str):
        """Take a user's role at a site away."""
        try:
            await self._gql(queries.REVOKE_SITE, {"userId": user_id, "siteId": site_id})
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None


def grant_row(grant) -> rx.Component:
    """One user's role at one site, with a revoke button."""
    return rx.table.row(
        rx.table.cell(grant["email"]),
        rx.table.cell(grant["site"]),
        rx.table.cell(grant["role"]),
        rx.table.cell(
            rx.button(
                "Revoke",
                size="1",
                color_scheme="red",
                variant="soft",
                on_click=AdminUsersState.revoke_site(grant["user_id"], grant["site_id"]),
            )
        ),
        data_testid="grant-row",
    )


def site_access() -> rx.Component:
    """Which non-admin user may read (viewer) or manage (manager) which site."""
    return rx.card(
        rx.heading("Site access", size="4"),
        rx.text("Admins see every site; everyone else only the sites granted here.", size="2"),
        rx.flex(
            field(
                "User",
                rx.select(
                    AdminUsersState.user_emails,
                    value=AdminUsersState.grant_email,
                    on_change=AdminUsersState.set_grant_email,
                    placeholder="Choose a user",
                ),
            ),
            field(
                "Site",
                rx.select(
                    AdminUsersState.site_names,
                    value=AdminUsersState.grant_site_name,
                    on_change=AdminUsersState.set_grant_site,
                    placeholder="Choose a site",
                ),
            ),
            field(
                "Role",
                rx.select(
                    SITE_ROLES, value=AdminUsersState.grant_role, on_change=AdminUsersState.set_grant_role
                ),
            ),
            rx.button("Grant", on_click=AdminUsersState.grant_site, data_testid="grant-site-button"),
            spacing="3",
            align="end",
            wrap="wrap",
        ),  # fmt: skip
        table(["User", "Site", "Role", "Actions"], AdminUsersState.grants, grant_row),
        width="100%",
    )


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
        site_access(),
        title="Users",
    )
