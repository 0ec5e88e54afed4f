"""Input types and login results of the local API."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.experimental.pydantic import input as pydantic_input

from edge_agent.meters import DataPointConfig, MeterConfig

# Derived from the models meters.json and the collector use (DataPointConfig is db/inventory.py's InventoryPoint
# with the design file's spellings accepted), so fields, defaults and BACnet spelling have one definition.
# Limits are checked by those models when the agent saves the meter (invalid meter configuration: ...).


@pydantic_input(
    model=DataPointConfig,
    all_fields=True,
    description="A point to read (bacpypes3 or camelCase BACnet names).",
)
class DataPointInput:
    """One point of a meter configuration."""


@pydantic_input(
    model=MeterConfig, all_fields=True, description="A meter to add or replace (meters.json format)."
)
class MeterConfigInput:
    """A meter to add or replace in the agent's configuration; strawberry.asdict gives its meters.json entry."""


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
