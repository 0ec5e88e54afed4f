"""Input types and login results of the local API."""

from datetime import datetime
from typing import Annotated

import strawberry

from edge_agent.meters import DataPointConfig

_POINT = DataPointConfig.model_fields


@strawberry.input
class DataPointInput:
    """One point of a meter configuration (edge_agent.meters.DataPointConfig; camelCase BACnet names accepted)."""

    name: str
    object_type: str = _POINT["object_type"].default
    instance: int = 0
    property: str = _POINT["property"].default
    unit: str | None = None
    cumulative: bool = False
    cov: bool = False


@strawberry.input
class MeterConfigInput:
    """A meter to add or replace in the agent's configuration (meters.json format)."""

    id: str
    name: str
    bacnet_ip: str
    bacnet_device_id: int | None = None
    enabled: bool = True
    interval_seconds: float | None = strawberry.field(default=None, description="its own polling interval")
    data_points: list[DataPointInput] = strawberry.field(default_factory=list)

    def to_dict(self) -> dict:
        """The meters.json entry."""
        return {
            "id": self.id, "name": self.name, "bacnet_ip": self.bacnet_ip, "bacnet_device_id": self.bacnet_device_id,
            "enabled": self.enabled, "interval_seconds": self.interval_seconds,
            "data_points": [vars(p).copy() for p in self.data_points],
        }  # fmt: skip


@strawberry.type
class LoginSuccess:
    """A token for the Authorization header (or the websocket connection_init payload)."""

    token: str
    expires_at: datetime


@strawberry.type
class LoginFailed:
    """Why the login was refused."""

    reason: str


LoginResult = Annotated[LoginSuccess | LoginFailed, strawberry.union("LoginResult")]
