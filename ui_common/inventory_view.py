"""Inventory pieces both dashboards draw: the history table and the last conflicts."""

import reflex as rx

from ui_common.components import empty_state, table

HISTORY_HEADERS = ["Version", "When", "Origin", "Author", "What changed", "Conflicts"]


def _history_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["version"], data_testid="history-version"),
        rx.table.cell(row["when"], white_space="nowrap"),
        rx.table.cell(row["origin"], data_testid="history-origin"),
        rx.table.cell(row["author"], data_testid="history-author"),
        rx.table.cell(row["changes"], data_testid="history-changes"),
        rx.table.cell(row["conflicts"], data_testid="history-conflicts"),
        data_testid="history-row",
    )


def history_table(rows) -> rx.Component:
    """The inventory's history (rows from ui_common.inventory.history_rows), or a note when there is none."""
    return rx.cond(
        rows.length() > 0,
        table(HISTORY_HEADERS, rows, _history_row, "inventory-history", size="1"),
        empty_state("No inventory change recorded yet.", "history-empty"),
    )


def conflicts_list(conflicts) -> rx.Component:
    """The conflicts of the last change (strings), if any: central's value was kept, this one recorded."""
    return rx.cond(
        conflicts.length() > 0,
        rx.callout(
            rx.vstack(
                rx.text("Edits made on both sides; central's value was kept and this one recorded:"),
                rx.foreach(conflicts, lambda c: rx.text(c, size="2", data_testid="inventory-conflict")),
                spacing="1",
            ),
            icon="git_merge",
            color_scheme="amber",
            width="100%",
            data_testid="inventory-conflicts",
        ),
    )
