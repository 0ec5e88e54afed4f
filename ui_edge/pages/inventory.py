"""The meters page's inventory: the version this site runs (or a change central has not accepted yet), central's
history and last conflicts, and the form that edits a meter (proposed to central as an edge dashboard change)."""

from typing import Any

import reflex as rx

from causes import Cause, text
from ui_common.clock import utcnow
from ui_common.components import panel, select
from ui_common.inventory import (
    POINTS_HELP,
    conflict_text,
    device_id,
    form_fields,
    history_rows,
    parse_interval,
    parse_points,
)
from ui_common.inventory_view import conflicts_list, history_table
from ui_edge import queries
from ui_edge.errors import AgentUnreachable, NotAuthenticated, UiEdgeError
from ui_edge.state import EdgeState

NEW_METER = "new meter"
TEXT_FIELDS = ("f_id", "f_name", "f_address", "f_device_id", "f_interval", "f_points")


def version_text(inventory: dict[str, Any]) -> str:
    """The version line: central's version run here, and a local change waiting for central's answer."""
    version = inventory.get("version")
    text = f"version {version}" if version is not None else "no version from central yet"
    if inventory.get("pending"):
        text += (
            f" · a change from {inventory.get('pendingOrigin') or 'this site'} is not yet accepted by central"
        )
    return text


class InventoryState(EdgeState):
    """The site inventory as this agent runs it, and the meter form."""

    inventory_version: str = ""
    pending: bool = False
    history: list[dict[str, str]] = []
    conflicts: list[str] = []
    meter_choices: list[str] = [NEW_METER]
    chosen: str = NEW_METER
    f_id: str = ""
    f_name: str = ""
    f_address: str = ""
    f_device_id: str = ""
    f_interval: str = ""
    f_enabled: bool = True
    f_points: str = ""
    form_error: str = ""
    form_note: str = ""
    _meters: dict[str, dict[str, Any]] = {}

    async def _fetch(self) -> None:
        inventory = (await self._gql(queries.INVENTORY))["inventory"]
        self.inventory_version = version_text(inventory)
        self.pending = bool(inventory.get("pending"))
        self.history = history_rows(inventory.get("history") or [], utcnow(), self.timezone or None)
        self.conflicts = [conflict_text(c) for c in inventory.get("conflicts") or []]
        self._meters = {m["externalId"]: m for m in inventory.get("meters") or []}
        self.meter_choices = [NEW_METER, *self._meters]

    @rx.event
    async def load(self):
        """Fetch the inventory, its history and last conflicts."""
        try:
            await self._fetch()
        except UiEdgeError as err:
            yield self._fail(err)

    @rx.event
    def choose(self, external_id: str):
        """Put a configured meter (or an empty one) into the form."""
        self.chosen = external_id
        m = self._meters.get(external_id) or {}
        self.f_id = m.get("externalId", "")
        for name, value in form_fields(m).items():
            setattr(self, name, value)
        self.form_error = self.form_note = ""

    @rx.event
    def set_field(self, name: str, value: str):
        """Update one text field of the form."""
        if name in TEXT_FIELDS:
            setattr(self, name, value)

    @rx.event
    def set_f_enabled(self, value: bool):
        """Whether this agent polls the meter."""
        self.f_enabled = value

    def _meter_input(self) -> dict[str, Any]:
        """saveMeterConfig's input from the form; ValueError for what the form itself can tell is wrong."""
        if not self.f_id.strip() or not self.f_address.strip():
            raise ValueError("the meter needs an id and a BACnet address")
        return {
            "id": self.f_id.strip(), "name": self.f_name.strip() or self.f_id.strip(),
            "bacnetIp": self.f_address.strip(), "bacnetDeviceId": device_id(self.f_device_id),
            "enabled": self.f_enabled, "intervalSeconds": parse_interval(self.f_interval),
            "dataPoints": parse_points(self.f_points),
        }  # fmt: skip

    @rx.event
    async def save(self):
        """Save the meter here (it runs at once) and propose it to central; a refusal is shown at the form."""
        self.form_note = ""
        try:
            meter = self._meter_input()
        except ValueError as err:
            self.form_error = text(Cause.NOT_SAVED, reason=err)
            return None
        try:
            await self._gql(queries.SAVE_METER, {"meter": meter})
        except (AgentUnreachable, NotAuthenticated) as err:
            return self._fail(err)
        except UiEdgeError as err:
            self.form_error = text(Cause.NOT_SAVED, reason=err)
            return None
        self.form_error = ""
        self.form_note = f"Saved {meter['id']}; it runs now and is proposed to central."
        try:
            await self._fetch()
        except UiEdgeError as err:
            return self._fail(err)
        return None


def _text(label: str, name: str, value, placeholder: str = "") -> rx.Component:
    testid = "meter-" + name.removeprefix("f_").replace("_", "-")
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(value=value, placeholder=placeholder, data_testid=testid,
                 on_change=lambda v: InventoryState.set_field(name, v)),
        spacing="1",
    )  # fmt: skip


def inventory_panel() -> rx.Component:
    """The version this site runs, the last conflicts and the history as central last sent it."""
    return panel(
        "Inventory",
        rx.text("This site runs ", rx.text.strong(InventoryState.inventory_version, data_testid="inventory-version")),
        conflicts_list(InventoryState.conflicts),
        rx.text("History (as central last sent it)", size="2", weight="medium"),
        history_table(InventoryState.history),
    )  # fmt: skip


def meter_form() -> rx.Component:
    """Add or edit a meter here; central records it as an edge dashboard change."""
    return panel(
        "Add or edit a meter",
        select(InventoryState.meter_choices, InventoryState.chosen, InventoryState.choose, "meter-choice", "Meter"),
        rx.flex(
            _text("Id", "f_id", InventoryState.f_id),
            _text("Name", "f_name", InventoryState.f_name),
            _text("BACnet address", "f_address", InventoryState.f_address, "127.0.0.10:47808"),
            _text("BACnet device id", "f_device_id", InventoryState.f_device_id),
            _text("Interval (s)", "f_interval", InventoryState.f_interval, "site default"),
            rx.checkbox("Enabled", checked=InventoryState.f_enabled, on_change=InventoryState.set_f_enabled,
                        data_testid="meter-enabled"),
            spacing="3", wrap="wrap", align="end",
        ),
        rx.text(POINTS_HELP, size="1", color_scheme="gray"),
        rx.text_area(value=InventoryState.f_points, rows="4", width="100%", data_testid="meter-points",
                     on_change=lambda v: InventoryState.set_field("f_points", v)),
        rx.cond(InventoryState.form_error != "",
                rx.callout(InventoryState.form_error, icon="triangle_alert", color_scheme="red", width="100%",
                           data_testid="meter-form-error")),
        rx.cond(InventoryState.form_note != "",
                rx.callout(InventoryState.form_note, icon="check", color_scheme="green", width="100%",
                           data_testid="meter-form-note")),
        rx.button("Save meter", on_click=InventoryState.save, disabled=InventoryState.agent_down,
                  data_testid="save-meter"),
    )  # fmt: skip
