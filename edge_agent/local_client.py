"""A client of the running agent's local GraphQL API, with the same control methods as EdgeAgent.

`meterit mcp edge` talks to the agent that runs on the site through it: one collector per site, always, and
the tools see that agent's state. Answers are validated into the models of edge_agent/models.py; the GraphQL
selections are derived from those models' fields.
"""

import re
import types
import typing
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel

from db.clock import utcnow
from edge_agent.errors import EdgeError
from edge_agent.models import (
    AgentStatus,
    DeadLetterEntry,
    DiscoveredDevice,
    EdgeAlertEntry,
    InventoryView,
    MeterStatus,
    ReadingRow,
    SyncLogEntry,
    SyncSummary,
)

# Fields a model has that the local API spells otherwise (or that the caller fills in).
_STATUS_SKIP = {"central_outage_since", "central_outage_alerting"}


class AgentNotRunning(EdgeError):
    """No edge agent answers at the local API's address."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _nested(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation (Model, list[Model], Model | None), if any."""
    if isinstance(annotation, type) and not isinstance(annotation, types.GenericAlias):
        return annotation if issubclass(annotation, BaseModel) else None
    for arg in typing.get_args(annotation):
        if inner := _nested(arg):
            return inner
    return None


def selection(model: type[BaseModel], skip: frozenset[str] = frozenset()) -> str:
    """The GraphQL selection of a model's fields (camelCase, nested models included)."""
    parts = []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        inner = _nested(field.annotation)
        parts.append(f"{_camel(name)} {{ {selection(inner)} }}" if inner else _camel(name))
    return " ".join(parts)


def snake_keys(value: Any) -> Any:
    """camelCase keys of a GraphQL answer as the models' field names."""
    if isinstance(value, dict):
        return {_snake(k): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


STATUS = f"{selection(AgentStatus, frozenset(_STATUS_SKIP))} centralOutage {{ since alerting }}"


class LocalAgentClient:
    """The running agent behind its local API URL (password used only when the API asks for a login)."""

    def __init__(self, url: str, password: str | None = None, timeout: float = 60.0) -> None:
        self.url, self.password, self.timeout = url, password, timeout
        self._token: str | None = None

    async def _post(self, query: str, variables: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(
                    self.url, json={"query": query, "variables": variables or {}}, headers=headers
                )
        except httpx.TransportError as err:
            raise AgentNotRunning(
                f"no edge agent answers at {self.url}: start it with `meterit edge run` "
                "(these tools act on the running agent and never start a second collector)"
            ) from err
        body = (
            response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        )
        if response.status_code == 401 and self.password and not self._token:
            await self._login()
            return await self._post(query, variables)
        if response.status_code >= 400 and not body.get("errors"):
            raise EdgeError(f"local API answered HTTP {response.status_code}: {response.text[:200]}")
        if body.get("errors"):
            message = body["errors"][0]["message"]
            if "not authenticated" in message and self.password and not self._token:
                await self._login()
                return await self._post(query, variables)
            if "not authenticated" in message and not self.password:
                raise EdgeError(
                    "the agent's local API needs its password: set LOCAL_API_PASSWORD (the agent printed it "
                    "at its first start; `meterit edge local-password` makes a new one)"
                )
            raise EdgeError(message)
        return body["data"]

    async def _login(self) -> None:
        data = await self._post(
            "mutation($p: String!) { login(password: $p) { __typename ... on LoginSuccess { token } } }",
            {"p": self.password},
        )
        self._token = data["login"].get("token")
        if not self._token:
            raise EdgeError("the local API refused LOCAL_API_PASSWORD")

    async def status(self) -> AgentStatus:
        """The agent's state."""
        raw = snake_keys((await self._post(f"{{ status {{ {STATUS} }} }}"))["status"])
        outage = raw.pop("central_outage", None) or {}
        raw["central_outage_since"], raw["central_outage_alerting"] = (
            outage.get("since"),
            bool(outage.get("alerting")),
        )
        return AgentStatus.model_validate(raw)

    async def edge_alerts(self) -> list[EdgeAlertEntry]:
        """The edge's own alerts: open ones, then ended ones."""
        data = await self._post(f"{{ alerts {{ {selection(EdgeAlertEntry)} }} }}")
        return [EdgeAlertEntry.model_validate(a) for a in snake_keys(data["alerts"])]

    async def meters(self) -> list[MeterStatus]:
        """Configured meters and their health."""
        data = await self._post(f"{{ meters {{ {selection(MeterStatus)} }} }}")
        return [MeterStatus.model_validate(m) for m in snake_keys(data["meters"])]

    async def sync_log(self, limit: int = 50) -> list[SyncLogEntry]:
        """Latest upload attempts."""
        data = await self._post(
            f"query($n: Int!) {{ syncLog(limit: $n) {{ {selection(SyncLogEntry)} }} }}", {"n": limit}
        )
        return [SyncLogEntry.model_validate(r) for r in snake_keys(data["syncLog"])]

    async def dead_letters(self, limit: int = 100) -> list[DeadLetterEntry]:
        """Readings central rejected."""
        query = f"query($n: Int!) {{ deadLetters(limit: $n) {{ {selection(DeadLetterEntry)} }} }}"
        data = await self._post(query, {"n": limit})
        return [DeadLetterEntry.model_validate(r) for r in snake_keys(data["deadLetters"])]

    async def recent_readings(
        self, meter: str, point: str | None = None, since: datetime | None = None
    ) -> list[ReadingRow]:
        """Locally kept readings of one meter (hours back from `since`, at most 24)."""
        hours = 24.0 if since is None else max(0.0, (utcnow() - since).total_seconds() / 3600)
        fields = selection(ReadingRow, frozenset({"meter_external_id"}))
        query = f"query($m: String!, $p: String, $h: Float!) {{ readings(meter: $m, point: $p, hours: $h) {{ {fields} }} }}"
        data = await self._post(query, {"m": meter, "p": point, "h": min(hours, 24.0)})
        return [
            ReadingRow.model_validate({**r, "meter_external_id": meter}) for r in snake_keys(data["readings"])
        ]

    async def start_collection(self) -> AgentStatus:
        """Resume polling."""
        await self._post("mutation { startCollection { collecting } }")
        return await self.status()

    async def stop_collection(self) -> AgentStatus:
        """Pause polling."""
        await self._post("mutation { stopCollection { collecting } }")
        return await self.status()

    async def trigger_sync(self) -> SyncSummary:
        """Upload now."""
        data = await self._post(f"mutation {{ triggerSync {{ {selection(SyncSummary)} }} }}")
        return SyncSummary.model_validate(snake_keys(data["triggerSync"]))

    async def discover_devices(self, address_range: str) -> list[DiscoveredDevice]:
        """Devices answering Who-Is in a range."""
        query = f"mutation($r: String!) {{ discoverDevices(addressRange: $r) {{ {selection(DiscoveredDevice)} }} }}"
        data = await self._post(query, {"r": address_range})
        return [DiscoveredDevice.model_validate(d) for d in snake_keys(data["discoverDevices"])]

    async def inventory_view(self) -> InventoryView:
        """The inventory the agent runs: version, pending change, meters, conflicts, central's history."""
        data = await self._post(f"{{ inventory {{ {selection(InventoryView)} }} }}")
        return InventoryView.model_validate(snake_keys(data["inventory"]))
