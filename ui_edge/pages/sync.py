"""Sync status: central link since when, queue, last result, dead letters, Sync now and start/stop collection."""

import logging
from typing import Any

import reflex as rx

from ui_common.components import empty_state, table
from ui_common.format import number, unit_symbol
from ui_edge import components, queries
from ui_edge.errors import UiEdgeError
from ui_edge.format import clock, summary_text
from ui_edge.state import EdgeState

logger = logging.getLogger(__name__)


class SyncState(EdgeState):
    """Dead letters, the sync log and the outcome of the last Sync now."""

    dead_letters: list[dict[str, str]] = []
    sync_log: list[dict[str, str]] = []
    sync_outcome: str = ""
    sync_ok: bool = True
    syncing: bool = False
    switching: bool = False

    async def _load_lists(self) -> None:
        data = await self._gql(queries.SYNC_PAGE)
        tz = self.timezone
        self.dead_letters = [
            {"meter": d["meterExternalId"], "point": d["dataPoint"], "ts": clock(d["ts"], tz),
             "value": number(d["value"], 3), "unit": unit_symbol(d.get("unit")), "reason": d["reason"],
             "dead_at": clock(d["deadAt"], tz)}
            for d in data["deadLetters"]
        ]  # fmt: skip
        self.sync_log = [
            {"started": clock(e["startedAt"], tz), "outcome": e["outcome"], "size": str(e["batchSize"]),
             "new": str(e["new"]), "duplicates": str(e["duplicates"]), "rejected": str(e["rejected"]),
             "error": e.get("errorMessage") or ""}
            for e in data["syncLog"]
        ]  # fmt: skip

    @rx.event
    async def load(self):
        """Fetch dead letters and the sync log."""
        try:
            await self._load_lists()
        except UiEdgeError as err:
            yield self._fail(err)

    @rx.event
    async def sync_now(self):
        """Upload the queue now and show the outcome."""
        self.syncing = True
        self.sync_outcome = ""
        yield
        try:
            summary: dict[str, Any] = (await self._gql(queries.TRIGGER_SYNC))["triggerSync"]
            self.sync_ok = summary["outcome"] == "ok"
            self.sync_outcome = summary_text(summary)
            self._show_status((await self._gql(queries.STATUS))["status"])
            await self._load_lists()
        except UiEdgeError as err:
            self.sync_ok = False
            self.sync_outcome = f"Sync could not run: {err}"
            yield self._fail(err)
        finally:
            self.syncing = False

    async def _switch(self, mutation: str, field: str):
        self.switching = True
        yield
        try:
            self._show_status((await self._gql(mutation))[field])
        except UiEdgeError as err:
            yield self._fail(err)
        finally:
            self.switching = False

    @rx.event
    async def start_collection(self):
        """Resume polling meters."""
        async for update in self._switch(queries.START_COLLECTION, "startCollection"):
            yield update

    @rx.event
    async def stop_collection(self):
        """Pause polling meters."""
        async for update in self._switch(queries.STOP_COLLECTION, "stopCollection"):
            yield update


def _fact(label: str, value, testid: str) -> rx.Component:
    return rx.hstack(rx.text(label, weight="medium", min_width="12em"), rx.text(value, data_testid=testid))


def _dead_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["meter"]), rx.table.cell(row["point"]), rx.table.cell(row["ts"]),
        rx.table.cell(row["value"], " ", row["unit"]), rx.table.cell(row["reason"], data_testid="dead-reason"),
        rx.table.cell(row["dead_at"]),
    )  # fmt: skip


def _log_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["started"]), rx.table.cell(row["outcome"]), rx.table.cell(row["size"]),
        rx.table.cell(row["new"]), rx.table.cell(row["duplicates"]), rx.table.cell(row["rejected"]),
        rx.table.cell(row["error"]),
    )  # fmt: skip


def sync_page() -> rx.Component:
    """The sync status page."""
    return components.page(
        rx.card(
            rx.vstack(
                _fact("Central", SyncState.central_text, "central-text"),
                _fact("Readings queued", SyncState.queue_depth, "sync-queue-depth"),
                _fact("Oldest queued", SyncState.oldest_age, "oldest-age"),
                _fact("Last sync", SyncState.last_sync_text, "last-sync"),
                _fact("Dead letters", SyncState.dead_letter_count, "dead-letter-count"),
                rx.flex(
                    components.agent_button("Sync now", SyncState.sync_now, SyncState.syncing, "sync-now"),
                    rx.cond(
                        SyncState.collecting,
                        components.agent_button(
                            "Stop collection",
                            SyncState.stop_collection,
                            SyncState.switching,
                            "stop-collection",
                            color_scheme="amber",
                            variant="soft",
                        ),
                        components.agent_button(
                            "Start collection",
                            SyncState.start_collection,
                            SyncState.switching,
                            "start-collection",
                            color_scheme="green",
                        ),
                    ),
                    spacing="3",
                ),
                rx.cond(
                    SyncState.sync_outcome != "",
                    rx.cond(
                        SyncState.sync_ok,
                        components.banner(SyncState.sync_outcome, "green", "sync-outcome", icon="check"),
                        components.banner(SyncState.sync_outcome, "red", "sync-outcome"),
                    ),
                ),
                spacing="3",
            ),
            width="100%",
        ),
        rx.heading("Dead letters", size="4"),
        rx.cond(
            SyncState.dead_letters.length() > 0,
            table(
                ["Meter", "Point", "Reading time", "Value", "Reason", "Rejected at"],
                SyncState.dead_letters,
                _dead_row,
                "dead-letters",
                size="1",
            ),  # fmt: skip
            empty_state("No dead letters: central has accepted every reading it was sent.", "no-dead"),
        ),
        rx.heading("Sync log", size="4"),
        rx.cond(
            SyncState.sync_log.length() > 0,
            table(
                ["Started", "Outcome", "Batch", "New", "Duplicates", "Rejected", "Error"],
                SyncState.sync_log,
                _log_row,
                "sync-log",
                size="1",
            ),  # fmt: skip
            empty_state("No upload attempted yet.", "no-sync-log"),
        ),
        title="Sync status",
    )
