"""A site's meters page: the inventory with each meter's state, its version and history; admins edit meters."""

import reflex as rx

from ui_client import components
from ui_client.pages.admin_common import field
from ui_client.pages.admin_meters_state import AdminMetersState
from ui_common.components import badge, panel, table
from ui_common.inventory import POINTS_HELP
from ui_common.inventory_view import history_table

HEADERS = ["External id", "Name", "State", "Device", "Address", "Enabled", "Interval (s)", "Points"]
_STATE_COLORS = (("reachable", "green"), ("unreachable", "red"), ("never answered", "amber"))


def _state_badge(state) -> rx.Component:
    return badge(state, rx.match(state, *_STATE_COLORS, "gray"), "meter-state")


def meter_row(m) -> rx.Component:
    """One meter; admins also get edit and delete."""
    return rx.table.row(
        rx.table.cell(m["external_id"], data_testid="meter-external-id-cell"),
        rx.table.cell(rx.vstack(rx.text(m["name"], data_testid="meter-name-cell"),
                                rx.text(m["placeholder"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(_state_badge(m["state"])), rx.table.cell(m["device"]), rx.table.cell(m["address"]),
        rx.table.cell(m["enabled"]), rx.table.cell(m["interval"], data_testid="meter-interval-cell"),
        rx.table.cell(m["points"], data_testid="meter-points-cell"),
        rx.table.cell(
            rx.cond(
                AdminMetersState.is_admin,
                rx.hstack(
                    rx.button("Edit", size="1", variant="soft", on_click=AdminMetersState.edit(m["external_id"]),
                              data_testid="edit-meter"),
                    rx.button("Delete", size="1", color_scheme="red", variant="soft",
                              on_click=AdminMetersState.delete(m["external_id"]), data_testid="delete-meter"),
                ),
            )
        ),
        data_testid="meter-row",
    )  # fmt: skip


def _text(label: str, name: str, value, placeholder: str = "") -> rx.Component:
    testid = "meter-" + name.removeprefix("f_").replace("_", "-")
    return field(label, rx.input(value=value, placeholder=placeholder, data_testid=testid,
                                 on_change=lambda v: AdminMetersState.set_field(name, v)))  # fmt: skip


def _form() -> rx.Component:
    """The admin's meter form, with the API's refusal (or the saved version) right under it."""
    return panel(
        "Add or edit a meter",
        rx.flex(
            _text("External id", "f_external_id", AdminMetersState.f_external_id),
            _text("Name", "f_name", AdminMetersState.f_name),
            _text("BACnet address", "f_address", AdminMetersState.f_address, "127.0.0.10 or 2:0x0a"),
            _text("BACnet device id", "f_device_id", AdminMetersState.f_device_id),
            _text("Interval (s)", "f_interval", AdminMetersState.f_interval, "site default"),
            rx.checkbox(
                "Enabled",
                checked=AdminMetersState.f_enabled,
                on_change=AdminMetersState.set_f_enabled,
                data_testid="meter-enabled",
            ),  # fmt: skip
            spacing="3",
            wrap="wrap",
            align="end",
        ),
        rx.text(POINTS_HELP + " Leave empty to keep the meter's points.", size="1", color_scheme="gray"),
        rx.cond(
            AdminMetersState.form_hint != "",
            rx.text(
                AdminMetersState.form_hint, size="1", color_scheme="amber", data_testid="meter-form-hint"
            ),
        ),
        rx.text_area(
            value=AdminMetersState.f_points,
            rows="4",
            width="100%",
            data_testid="meter-points",
            on_change=lambda v: AdminMetersState.set_field("f_points", v),
        ),  # fmt: skip
        rx.cond(
            AdminMetersState.form_error != "",
            rx.callout(
                AdminMetersState.form_error,
                icon="triangle_alert",
                color_scheme="red",
                width="100%",
                data_testid="meter-form-error",
            ),  # fmt: skip
        ),
        rx.cond(
            AdminMetersState.form_note != "",
            rx.callout(
                AdminMetersState.form_note,
                icon="check",
                color_scheme="green",
                width="100%",
                data_testid="meter-form-note",
            ),  # fmt: skip
        ),
        rx.button("Save meter", on_click=AdminMetersState.save, data_testid="save-meter"),
    )


def admin_meters_page() -> rx.Component:
    """The meters page of one site: everyone reads it, admins edit."""
    return components.page(
        rx.hstack(
            rx.heading(AdminMetersState.site_name, size="4"),
            rx.text(
                "inventory version ",
                rx.text.strong(AdminMetersState.version, data_testid="inventory-version"),
            ),
            align="center",
            spacing="4",
        ),  # fmt: skip
        table([*HEADERS, ""], AdminMetersState.meters, meter_row, "meters-table"),
        rx.cond(
            AdminMetersState.is_admin,
            _form(),
            rx.callout(
                "Read only: editing meters needs the admin role.",
                icon="lock",
                color_scheme="gray",
                data_testid="read-only-note",
            ),  # fmt: skip
        ),
        panel("Inventory history", history_table(AdminMetersState.history)),
        title="Meters",
    )
