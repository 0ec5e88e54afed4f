"""Admin page for one site's meters and points: the configuration its edge downloads."""

from typing import Any

import reflex as rx

from ui_client import queries
from ui_client.errors import UiClientError
from ui_client.pages.admin_common import admin_only, field
from ui_client.state import SessionState
from ui_common.components import table

POINTS_HELP = "One point per line: name, object type, instance, unit, cumulative (yes/no). E.g. energy, analog-input, 0, kWh, yes"


def parse_points(text: str) -> list[dict[str, Any]]:
    """Data points from the form's lines; raises ValueError naming the bad line."""
    points = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3 or not parts[2].isdigit():
            raise ValueError(f"line {number}: expected name, object type, instance[, unit, cumulative]")
        points.append({
            "name": parts[0], "objectType": parts[1], "instance": int(parts[2]),
            "unit": parts[3] if len(parts) > 3 and parts[3] else None,
            "cumulative": len(parts) > 4 and parts[4].lower() in ("yes", "true", "1"),
        })  # fmt: skip
    return points


def format_points(points: list[dict[str, Any]]) -> str:
    """The form's lines for existing data points."""
    return "\n".join(
        f"{p['name']}, {p['objectType']}, {p['instance']}, {p.get('unit') or ''}, {'yes' if p.get('cumulative') else 'no'}"
        for p in points
    )


class AdminMetersState(SessionState):
    """A site's meters and the meter form."""

    site_name: str = ""
    meters: list[dict[str, str]] = []
    f_external_id: str = ""
    f_name: str = ""
    f_device_id: str = ""
    f_address: str = ""
    f_enabled: bool = True
    f_points: str = ""
    _raw: dict[str, dict[str, Any]] = {}

    def _site_id(self) -> str:
        return self._path().rsplit("/", 1)[-1]

    async def _fetch(self) -> None:
        site = (await self._gql(queries.SITE, {"id": self._site_id()})).get("site") or {}
        self.site_name = site.get("name", "unknown site")
        self._raw = {str(m["id"]): m for m in site.get("meters") or []}
        self.meters = [
            {"id": str(m["id"]), "external_id": m["externalId"], "name": m["name"] or "",
             "device": str(m.get("bacnetDeviceId") or ""), "address": m.get("bacnetAddress") or "",
             "enabled": "yes" if m.get("enabled") else "no",
             "points": ", ".join(p["name"] for p in m.get("dataPoints") or [])}
            for m in site.get("meters") or []
        ]  # fmt: skip

    @rx.event
    async def load(self):
        """Fetch the site's meters (admins only)."""
        if not self.is_admin:
            return None
        try:
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    def set_field(self, name: str, value: str):
        """Update one text field of the meter form."""
        if name in ("f_external_id", "f_name", "f_device_id", "f_address", "f_points"):
            setattr(self, name, value)

    @rx.event
    def set_f_enabled(self, value: bool):
        """Whether the edge collects this meter."""
        self.f_enabled = value

    @rx.event
    def edit(self, meter_id: str):
        """Put a meter into the form."""
        m = self._raw.get(meter_id) or {}
        self.f_external_id = m.get("externalId", "")
        self.f_name = m.get("name") or ""
        self.f_device_id = str(m.get("bacnetDeviceId") or "")
        self.f_address = m.get("bacnetAddress") or ""
        self.f_enabled = bool(m.get("enabled", True))
        self.f_points = format_points(m.get("dataPoints") or [])

    @rx.event
    async def save(self):
        """Create or update the meter in the form."""
        try:
            points = parse_points(self.f_points)
            if not self.f_external_id.strip():
                raise ValueError("the meter needs an external id")
            device = int(self.f_device_id) if self.f_device_id.strip() else None
        except ValueError as err:
            self.error = f"Cannot save: {err}"
            return None
        meter = {"externalId": self.f_external_id.strip(), "name": self.f_name.strip() or self.f_external_id.strip(),
                 "bacnetDeviceId": device, "bacnetAddress": self.f_address.strip() or None,
                 "enabled": self.f_enabled, "dataPoints": points}  # fmt: skip
        try:
            await self._gql(queries.UPSERT_METER, {"siteId": self._site_id(), "meter": meter})
            self.error = ""
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def delete(self, meter_id: str):
        """Remove a meter from the site's configuration."""
        try:
            await self._gql(queries.DELETE_METER, {"meterId": meter_id})
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None


def meter_row(m) -> rx.Component:
    """One meter with edit and delete."""
    return rx.table.row(
        rx.table.cell(m["external_id"]), rx.table.cell(m["name"]), rx.table.cell(m["device"]),
        rx.table.cell(m["address"]), rx.table.cell(m["enabled"]), rx.table.cell(m["points"]),
        rx.table.cell(rx.hstack(
            rx.button("Edit", size="1", variant="soft", on_click=AdminMetersState.edit(m["id"])),
            rx.button("Delete", size="1", color_scheme="red", variant="soft",
                      on_click=AdminMetersState.delete(m["id"])),
        )),
        data_testid="meter-row",
    )  # fmt: skip


def _text(label: str, name: str, value) -> rx.Component:
    testid = "meter-" + name.removeprefix("f_").replace("_", "-")
    return field(
        label,
        rx.input(value=value, on_change=lambda v: AdminMetersState.set_field(name, v), data_testid=testid),
    )


def admin_meters_page() -> rx.Component:
    """The meters admin page of one site."""
    return admin_only(
        rx.heading(AdminMetersState.site_name, size="4"),
        table(
            ["External id", "Name", "Device", "Address", "Enabled", "Points", ""],
            AdminMetersState.meters,
            meter_row,
        ),
        rx.card(
            rx.vstack(
                rx.heading("Add or update a meter", size="3"),
                rx.flex(
                    _text("External id", "f_external_id", AdminMetersState.f_external_id),
                    _text("Name", "f_name", AdminMetersState.f_name),
                    _text("BACnet device id", "f_device_id", AdminMetersState.f_device_id),
                    _text("BACnet address", "f_address", AdminMetersState.f_address),
                    rx.checkbox(
                        "Enabled",
                        checked=AdminMetersState.f_enabled,
                        on_change=AdminMetersState.set_f_enabled,
                    ),
                    spacing="3",
                    wrap="wrap",
                    align="end",
                ),
                rx.text(POINTS_HELP, size="1", color_scheme="gray"),
                rx.text_area(
                    value=AdminMetersState.f_points,
                    rows="4",
                    width="100%",
                    on_change=lambda v: AdminMetersState.set_field("f_points", v),
                    data_testid="meter-points",
                ),
                rx.button("Save meter", on_click=AdminMetersState.save, data_testid="save-meter"),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        title="Meters",
    )
