"""Admin page for sites: create (key shown once, with the edge .env lines), rotate a key, deactivate, networks."""

from typing import Any

import reflex as rx

from ui_client import api, queries
from ui_client.errors import UiClientError
from ui_client.format import site_row
from ui_client.pages.admin_common import admin_only, field
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.components import table


def edge_env_lines(api_key: str) -> str:
    """The lines an installer pastes into the edge's .env file."""
    return f"CLIENT_API_URL={api.api_url()}\nCLIENT_API_KEY={api_key}\n"


class AdminSitesState(SessionState):
    """Sites administration."""

    rows: list[dict[str, str]] = []
    new_name: str = ""
    new_timezone: str = "UTC"
    shown_key: str = ""
    shown_key_site: str = ""
    env_lines: str = ""
    busy: bool = False

    @rx.event
    def set_new_name(self, value: str):
        """Name of the site to create."""
        self.new_name = value

    @rx.event
    def set_new_timezone(self, value: str):
        """Time zone of the site to create."""
        self.new_timezone = value

    async def _fetch(self) -> None:
        data = await self._gql(queries.SITES, {"search": None})
        now = utcnow()
        self.rows = [
            site_row(s, now) for s in sorted(data.get("sites") or [], key=lambda s: s["name"].lower())
        ]

    @rx.event
    async def load(self):
        """Fetch sites (admins only); any key shown earlier is gone for good."""
        self.shown_key = ""
        self.env_lines = ""
        if not self.is_admin:
            return None
        try:
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    def _show_key(self, created: dict[str, Any]) -> None:
        self.shown_key = created["apiKey"]
        self.shown_key_site = created["site"]["name"]
        self.env_lines = edge_env_lines(created["apiKey"])

    @rx.event
    async def create_site(self):
        """Create a site and show its API key once."""
        if not self.new_name.strip():
            self.error = "Give the site a name."
            return None
        try:
            data = await self._gql(
                queries.CREATE_SITE,
                {"name": self.new_name.strip(), "timezone": self.new_timezone.strip() or "UTC"},
            )
            self._show_key(data["createSite"])
            self.new_name = ""
            self.error = ""
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def rotate_key(self, site_id: str):
        """Replace a site's key; the old one stops working."""
        try:
            data = await self._gql(queries.ROTATE_KEY, {"siteId": site_id})
            self._show_key(data["rotateSiteKey"])
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def set_active(self, site_id: str, active: bool):
        """Deactivate or reactivate a site."""
        try:
            await self._gql(queries.SET_SITE_ACTIVE, {"siteId": site_id, "active": active})
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def save_networks(self, site_id: str, text: str):
        """Accept the site's key only from these networks (comma-separated CIDRs; empty: any address)."""
        networks = [part for part in text.replace(",", " ").split() if part]
        current = next((r["networks"] for r in self.rows if r["id"] == site_id), None)
        if current is not None and current.replace(",", " ").split() == networks:
            return None
        try:
            await self._gql(queries.SET_SITE_NETWORKS, {"siteId": site_id, "networks": networks})
            self.error = ""
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    def hide_key(self):
        """Forget the key shown; it cannot be shown again."""
        self.shown_key = ""
        self.env_lines = ""


def key_box() -> rx.Component:
    """The new key, shown once, with a copy button and the edge .env lines."""
    return rx.cond(
        AdminSitesState.shown_key != "",
        rx.callout(
            rx.vstack(
                rx.text(
                    "API key for ",
                    rx.text.strong(AdminSitesState.shown_key_site),
                    ". It is shown only now: copy it to the edge.",
                ),
                rx.hstack(
                    rx.code(AdminSitesState.shown_key, data_testid="new-api-key"),
                    rx.button("Copy key", size="1", on_click=rx.set_clipboard(AdminSitesState.shown_key)),
                    wrap="wrap",
                ),
                rx.text("Lines for the edge's .env file:", size="2"),
                rx.code_block(AdminSitesState.env_lines, language="bash", data_testid="env-lines"),
                rx.hstack(
                    rx.button(
                        "Copy .env lines", size="1", on_click=rx.set_clipboard(AdminSitesState.env_lines)
                    ),
                    rx.button("Done", size="1", variant="soft", on_click=AdminSitesState.hide_key),
                ),
                spacing="2",
            ),
            icon="key",
            color_scheme="green",
            data_testid="key-box",
        ),
    )


def site_admin_row(row) -> rx.Component:
    """One site with its admin actions."""
    return rx.table.row(
        rx.table.cell(row["name"]),
        rx.table.cell(row["status"]),
        rx.table.cell(rx.cond(row["inactive"] == "", "active", "deactivated")),
        rx.table.cell(
            rx.input(
                default_value=row["networks"],
                placeholder="any address",
                on_blur=lambda text: AdminSitesState.save_networks(row["id"], text),
                title="Networks the site's key is accepted from: CIDRs separated by commas; empty for any",
                data_testid="site-networks",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Rotate key", size="1", variant="soft", on_click=AdminSitesState.rotate_key(row["id"])
                ),
                rx.cond(
                    row["inactive"] == "",
                    rx.button(
                        "Deactivate",
                        size="1",
                        color_scheme="red",
                        variant="soft",
                        on_click=AdminSitesState.set_active(row["id"], False),
                    ),
                    rx.button(
                        "Activate",
                        size="1",
                        variant="soft",
                        on_click=AdminSitesState.set_active(row["id"], True),
                    ),
                ),
                rx.link(rx.button("Meters", size="1", variant="outline"), href="/admin/meters/" + row["id"]),
                wrap="wrap",
            )
        ),
        data_testid="admin-site-row",
    )


def admin_sites_page() -> rx.Component:
    """The sites admin page."""
    return admin_only(
        rx.card(
            rx.flex(
                field(
                    "Name",
                    rx.input(
                        value=AdminSitesState.new_name,
                        on_change=AdminSitesState.set_new_name,
                        placeholder="Building name",
                        data_testid="new-site-name",
                    ),
                ),
                field(
                    "Time zone",
                    rx.input(value=AdminSitesState.new_timezone, on_change=AdminSitesState.set_new_timezone),
                ),
                rx.button("Create site", on_click=AdminSitesState.create_site, data_testid="create-site"),
                spacing="3",
                align="end",
                wrap="wrap",
            ),
            width="100%",
        ),
        key_box(),
        table(
            ["Site", "Status", "Active", "Allowed networks", "Actions"], AdminSitesState.rows, site_admin_row
        ),
        title="Sites admin",
    )
