"""Meters: the inventory, discovery over the configured range, adding a discovered device, test reads, the form."""

import logging
from typing import Any

import reflex as rx

from ui_common.components import badge, panel, select, table
from ui_common.format import number, unit_symbol
from ui_edge import components, queries
from ui_edge.errors import UiEdgeError
from ui_edge.format import quality
from ui_edge.pages.inventory import inventory_panel, meter_form
from ui_edge.state import EdgeState

logger = logging.getLogger(__name__)


class MetersState(EdgeState):
    """The discovery range and its results, the configured meters, and the last test read."""

    address_range: str = ""
    devices: list[dict[str, str]] = []
    objects: dict[str, list[dict[str, str]]] = {}
    discovering: bool = False
    discovery_note: str = ""
    configured: list[str] = []
    _points: dict[str, list[str]] = {}
    test_meter: str = ""
    test_point: str = ""
    test_points: list[str] = []
    testing: bool = False
    test_result: list[dict[str, str]] = []
    test_note: str = ""
    test_ok: bool = True

    async def _load_config(self) -> None:
        data = await self._gql(queries.DISCOVERY_RANGE)
        if not self.address_range:
            self.address_range = data["discoveryRange"]
        self._points = {m["externalId"]: list(m["dataPoints"]) for m in data["meters"]}
        self.configured = list(self._points)
        if self.test_meter not in self._points:
            self.test_meter = self.configured[0] if self.configured else ""
        self._choose_points()

    def _choose_points(self) -> None:
        self.test_points = ["all points", *self._points.get(self.test_meter, [])]
        if self.test_point not in self.test_points:
            self.test_point = "all points"

    @rx.event
    async def load(self):
        """Fetch the default discovery range and the configured meters."""
        try:
            await self._load_config()
        except UiEdgeError as err:
            yield self._fail(err)

    @rx.event
    def set_address_range(self, value: str):
        """The range to search, e.g. 127.0.0.10-127.0.0.20."""
        self.address_range = value

    @rx.event
    async def discover(self):
        """Who-Is over the range; list each device with its objects."""
        self.discovering = True
        self.discovery_note = ""
        self.devices = []
        yield
        try:
            found: list[dict[str, Any]] = (
                await self._gql(queries.DISCOVER, {"range": self.address_range or None})
            )["discoverDevices"]
        except UiEdgeError as err:
            self.discovery_note = f"Discovery failed: {err}"
            yield self._fail(err)
            return
        finally:
            self.discovering = False
        self.devices = [
            {"address": d["address"], "device_id": str(d["deviceId"]), "name": d["name"],
             "configured": d.get("configuredMeter") or "", "count": str(len(d["objects"]))}
            for d in found
        ]  # fmt: skip
        self.objects = {
            d["address"]: [
                {"type": o["objectType"], "instance": str(o["instance"]), "name": o["name"],
                 "units": unit_symbol(o.get("units")), "value": number(o.get("presentValue"), 3)}
                for o in d["objects"]
            ]
            for d in found
        }  # fmt: skip
        self.discovery_note = f"{len(found)} device(s) answered in {self.address_range}."

    @rx.event
    async def add_device(self, address: str):
        """Add every point of the device at this address to the configuration."""
        try:
            meters = (await self._gql(queries.ADD_DEVICE, {"address": address}))["addDiscoveredDevice"]
            await self._load_config()
        except UiEdgeError as err:
            yield self._fail(err)
            return
        added = {m["externalId"] for m in meters} - set(d["configured"] for d in self.devices)
        for device in self.devices:
            if device["address"] == address:
                device["configured"] = next(iter(sorted(added)), "added")
        self.devices = list(self.devices)
        self.discovery_note = (
            f"Device at {address} added to the configuration; polling starts with the next cycle."
        )

    @rx.event
    def set_test_meter(self, value: str):
        """Choose the meter to test-read."""
        self.test_meter = value
        self._choose_points()

    @rx.event
    def set_test_point(self, value: str):
        """Choose the point to test-read (or all)."""
        self.test_point = value

    @rx.event
    async def test_read(self):
        """Read the chosen point now, without queueing anything."""
        self.testing = True
        self.test_result = []
        self.test_note = ""
        yield
        point = None if self.test_point in ("", "all points") else self.test_point
        try:
            result = (await self._gql(queries.TEST_READ, {"meter": self.test_meter, "point": point}))[
                "testRead"
            ]
        except UiEdgeError as err:
            self.test_ok, self.test_note = False, f"Test read failed: {err}"
            return
        finally:
            self.testing = False
        self.test_ok = bool(result["ok"]) and not result["pointErrors"]
        self.test_result = [
            {"name": v["name"], "value": number(v["value"], 3), "unit": unit_symbol(v.get("unit")),
             "quality": quality(v.get("quality"))}
            for v in result["values"]
        ]  # fmt: skip
        errors = "; ".join(f"{k}: {v}" for k, v in (result["pointErrors"] or {}).items())
        if not result["ok"]:
            self.test_note = f"{result['meter']} at {result['address']} did not answer: {result['error']}"
        else:
            self.test_note = (
                f"Read {result['meter']} at {result['address']} in {result['elapsedMs']:.0f} ms."
                + (f" Errors: {errors}" if errors else "")
            )


def _object_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["type"]), rx.table.cell(row["instance"]), rx.table.cell(row["name"], data_testid="object-name"),
        rx.table.cell(row["units"], data_testid="object-units"), rx.table.cell(row["value"]),
    )  # fmt: skip


def _device_card(device) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(device["name"], size="3", data_testid="device-name"),
                rx.text(
                    "device ", device["device_id"], " at ", device["address"], color_scheme="gray", size="2"
                ),
                rx.spacer(),
                rx.cond(
                    device["configured"] != "",
                    badge("configured as " + device["configured"], "green", "device-configured"),
                    rx.button(
                        "Add to configuration",
                        size="1",
                        on_click=MetersState.add_device(device["address"]),
                        data_testid="add-device",
                    ),  # fmt: skip
                ),
                width="100%",
                align="center",
            ),
            table(
                ["Object", "Instance", "Name", "Units", "Present value"],
                MetersState.objects.get(device["address"], []),
                _object_row,
                "device-objects",
                size="1",
            ),  # fmt: skip
            width="100%",
        ),
        width="100%",
        data_testid="device-card",
    )


def _test_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["name"]), rx.table.cell(row["value"], data_testid="test-value"),
        rx.table.cell(row["unit"], data_testid="test-unit"), rx.table.cell(row["quality"]),
    )  # fmt: skip


def _discovery() -> rx.Component:
    return panel(
        "Discover devices",
        rx.hstack(
            rx.input(
                value=MetersState.address_range,
                on_change=MetersState.set_address_range,
                placeholder="127.0.0.10-127.0.0.20",
                width="22em",
                data_testid="discovery-range",
            ),  # fmt: skip
            components.agent_button("Discover", MetersState.discover, MetersState.discovering, "discover"),
            align="center",
        ),
        rx.text(MetersState.discovery_note, size="2", data_testid="discovery-note"),
        rx.foreach(MetersState.devices, _device_card),
    )


def _test_read() -> rx.Component:
    return panel(
        "Test-read a point",
        rx.hstack(
            select(
                MetersState.configured,
                MetersState.test_meter,
                MetersState.set_test_meter,
                "test-meter",
                "Meter",
            ),
            select(
                MetersState.test_points,
                MetersState.test_point,
                MetersState.set_test_point,
                "test-point",
                "Point",
            ),
            components.agent_button(
                "Read now",
                MetersState.test_read,
                MetersState.testing,
                "test-read",
                disabled=MetersState.agent_down | (MetersState.test_meter == ""),
            ),
            align="center",
        ),
        rx.cond(
            MetersState.test_note != "",
            rx.cond(
                MetersState.test_ok,
                components.banner(MetersState.test_note, "green", "test-note", icon="check"),
                components.banner(MetersState.test_note, "red", "test-note"),
            ),
        ),
        rx.cond(
            MetersState.test_result.length() > 0,
            table(
                ["Point", "Value", "Unit", "Quality"],
                MetersState.test_result,
                _test_row,
                "test-result",
                size="1",
            ),
        ),
    )


def meters_page() -> rx.Component:
    """The meters page."""
    return components.page(inventory_panel(), _discovery(), _test_read(), meter_form(), title="Meters")
