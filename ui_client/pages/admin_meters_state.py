"""State of a site's meters page: the inventory with each meter's state, its history, and the admin's form."""

from typing import Any

import reflex as rx

from causes import Cause, text
from ui_client import queries
from ui_client.errors import ApiError, Forbidden, UiClientError
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.inventory import (
    conflict_text,
    device_id,
    form_fields,
    history_rows,
    interval_text,
    parse_interval,
    parse_points,
    unit_symbol,
)

PLACEHOLDER_HINT = (
    "Central only heard of this meter in uploads: its points there are guesses and are not kept. "
    "List the points the edge should read (object type and instance as the device numbers them)."
)
TEXT_FIELDS = ("f_external_id", "f_name", "f_device_id", "f_address", "f_interval", "f_points")


def points_summary(points: list[dict[str, Any]]) -> str:
    """Point names with their unit symbols, cumulative ones marked: 'energy (kWh, cumulative), power (kW)'."""
    parts = []
    for p in points:
        notes = [n for n in (unit_symbol(p.get("unit")), "cumulative" if p.get("cumulative") else "") if n]
        parts.append(f"{p['name']} ({', '.join(notes)})" if notes else p["name"])
    return ", ".join(parts)


def meter_rows(inventory: list[dict[str, Any]], central: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One row per meter: the inventory's meters, then meters central only heard of (placeholders)."""
    by_id = {m["externalId"]: m for m in central}
    rows = []
    for m in inventory:
        known = by_id.get(m["externalId"]) or {}
        rows.append({
            "external_id": m["externalId"], "name": m["name"], "device": str(m.get("bacnetDeviceId") or ""),
            "address": m.get("bacnetAddress") or "", "enabled": "yes" if m.get("enabled") else "no",
            "interval": interval_text(m.get("intervalSeconds")) or "site default",
            "state": known.get("state") or "never answered", "points": points_summary(m.get("points") or []),
            "meter_id": str(known.get("id") or ""), "placeholder": "",
        })  # fmt: skip
    listed = {m["externalId"] for m in inventory}
    for m in central:
        if m["externalId"] not in listed:
            rows.append({
                "external_id": m["externalId"], "name": m.get("name") or "", "device": "", "address": "",
                "enabled": "yes" if m.get("enabled") else "no", "interval": "–", "state": m.get("state") or "",
                "points": points_summary(m.get("dataPoints") or []), "meter_id": str(m["id"]),
                "placeholder": "not in the inventory (heard of in uploads only)",
            })  # fmt: skip
    return rows


class AdminMetersState(SessionState):
    """A site's inventory: its meters, version and history; admins also edit a meter in the form."""

    site_name: str = ""
    version: str = ""
    meters: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    f_external_id: str = ""
    f_name: str = ""
    f_device_id: str = ""
    f_address: str = ""
    f_interval: str = ""
    f_enabled: bool = True
    f_points: str = ""
    form_error: str = ""
    form_note: str = ""
    form_hint: str = ""
    _inventory: dict[str, dict[str, Any]] = {}
    _central: dict[str, dict[str, Any]] = {}
    _timezone: str = "UTC"

    def _site_id(self) -> str:
        return self._path().rsplit("/", 1)[-1]

    def _show_inventory(self, inventory: dict[str, Any]) -> None:
        self.version = str(inventory["version"])
        self._inventory = {m["externalId"]: m for m in inventory["meters"]}
        self.history = history_rows(inventory.get("history") or [], utcnow(), self._timezone)

    async def _fetch(self) -> None:
        site = (await self._gql(queries.SITE, {"id": self._site_id()})).get("site") or {}
        inventory = (await self._gql(queries.SITE_INVENTORY, {"siteId": self._site_id()}))["siteInventory"]
        self.site_name = site.get("name", "unknown site")
        self._timezone = site.get("timezone") or "UTC"
        central = site.get("meters") or []
        self._central = {m["externalId"]: m for m in central}
        self._show_inventory(inventory)
        self.meters = meter_rows(inventory["meters"], central)

    async def _refetch(self) -> None:
        await self._fetch()

    @rx.event
    async def load(self):
        """Fetch the site's inventory, meters and history (every signed-in user may read them)."""
        self.form_error = self.form_note = self.form_hint = ""
        try:
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    def set_field(self, name: str, value: str):
        """Update one text field of the meter form."""
        if name in TEXT_FIELDS:
            setattr(self, name, value)

    @rx.event
    def set_f_enabled(self, value: bool):
        """Whether the edge collects this meter."""
        self.f_enabled = value

    @rx.event
    def edit(self, external_id: str):
        """Put a meter into the form (a placeholder's guessed points are left out: they must not reach the edge)."""
        m = self._inventory.get(external_id) or self._central.get(external_id) or {}
        self.f_external_id = external_id
        known = external_id in self._inventory
        for name, value in form_fields(m, with_points=known).items():
            setattr(self, name, value)
        self.form_hint = "" if known else PLACEHOLDER_HINT
        self.form_error = ""
        self.form_note = ""

    def _edit_input(self) -> dict[str, Any]:
        """The editMeter input from the form; ValueError for what the form itself can tell is wrong."""
        external_id = self.f_external_id.strip()
        if not external_id:
            raise ValueError("the meter needs an external id")
        return {
            "externalId": external_id, "name": self.f_name.strip() or None,
            "bacnetAddress": self.f_address.strip() or None, "bacnetDeviceId": device_id(self.f_device_id),
            "enabled": self.f_enabled, "intervalSeconds": parse_interval(self.f_interval),
            "points": parse_points(self.f_points) if self.f_points.strip() else None,
        }  # fmt: skip

    @rx.event
    async def save(self):
        """Edit (or add) the meter in the form as a new inventory version; a refusal is shown at the form."""
        self.form_note = ""
        try:
            meter = self._edit_input()
        except ValueError as err:
            self.form_error = text(Cause.NOT_SAVED, reason=err)
            return None
        try:
            data = await self._gql(queries.EDIT_METER, {"siteId": self._site_id(), "meter": meter})
        except ApiError as err:
            self.form_error = (text(Cause.NOT_SAVED, reason="this needs the admin role.") if isinstance(err, Forbidden)
                               else text(Cause.NOT_SAVED, reason=err))  # fmt: skip
            return None
        except UiClientError as err:
            return self._fail(err)
        found = data["editMeter"]
        self.form_error = self.form_hint = ""
        self.form_note = f"Saved as version {found['version']}; the edge applies it at its next sync."
        conflicts = [conflict_text(c) for c in found.get("conflicts") or []]
        if conflicts:
            self.form_note += " Conflicts: " + "; ".join(conflicts)
        try:
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def delete(self, external_id: str):
        """Take a meter out of the inventory (a placeholder central only heard of is deleted outright)."""
        try:
            if external_id in self._inventory:
                await self._gql(queries.REMOVE_METER, {"siteId": self._site_id(), "externalId": external_id})
            else:
                meter_id = str((self._central.get(external_id) or {}).get("id") or "")
                await self._gql(queries.DELETE_METER, {"meterId": meter_id})
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None
