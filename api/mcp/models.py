"""Structured outputs of the central MCP server's tools (pydantic models: the SDK publishes their schemas).

Records that GraphQL shows too are defined once: in api/services/ (MeterInfo, SiteInfo, AlertInfo, EnergyItem),
api/alerts/ (RuleInfo) or db/ (ReadingRow, InventoryMeter, InventoryHistoryEntry).
"""

from datetime import datetime

from pydantic import BaseModel

from api.alerts.service import RuleInfo
from api.services.alerts import AlertInfo
from api.services.meters import MeterInfo
from api.services.readings import EnergyItem
from api.services.reports import SiteReport
from api.services.sites import SiteInfo
from db.central.storage.readings_query import ReadingRow
from db.inventory import InventoryMeter
from db.inventory_history import InventoryHistoryEntry


class MetersResult(BaseModel):
    """Meters found."""

    meters: list[MeterInfo]


ReadingItem = ReadingRow  # one definition: db/central/storage/readings_query.py


class ReadingsResult(BaseModel):
    """One page of readings; pass next_cursor as `after` for the next page."""

    meter_id: int
    point: str
    resolution: str
    items: list[ReadingItem]
    next_cursor: str | None


class EnergyResult(BaseModel):
    """One page of energy buckets; pass next_cursor as `after` for the next page."""

    meter_id: int
    point: str
    resolution: str
    timezone: str
    currency: str | None
    items: list[EnergyItem]
    next_cursor: str | None


class SiteStatus(SiteInfo):
    """A site's live status and its open alerts."""

    open_alerts: int


class SiteStatusResult(BaseModel):
    """Status of the sites asked for."""

    sites: list[SiteStatus]


class AlertsResult(BaseModel):
    """Alerts, newest first."""

    alerts: list[AlertInfo]


class RulesResult(BaseModel):
    """The rules in force after the change (if any)."""

    changed: RuleInfo | None = None
    rules: list[RuleInfo]


class EmailResult(BaseModel):
    """An email handed to the SMTP server."""

    sent: bool
    recipients: list[str]
    subject: str


class ReportResult(BaseModel):
    """The report as data, plus CSV and Markdown renderings."""

    start: datetime
    end: datetime
    resolution: str
    sites: list[SiteReport]
    csv: str
    markdown: str


class SiteInventoryResult(BaseModel):
    """A site's meter inventory at its current version, with its newest history entries."""

    site_id: int
    version: int
    digest: str
    meters: list[InventoryMeter]
    history: list[InventoryHistoryEntry]
