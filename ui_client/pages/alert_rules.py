"""Alert rules: global rules and per-site overrides, edited by admins, with where each fires now."""

from typing import Any

import reflex as rx

from ui_client import alerting_queries as q
from ui_client import components
from ui_client.alerting_components import picker
from ui_client.alerting_format import SEVERITIES, firing_sites, outlook_row, rule_row
from ui_client.errors import UiClientError
from ui_client.pages.admin_common import field
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.components import empty_state, panel, table

NEW = "new"


def _number(text: str, what: str) -> float:
    try:
        return float(text.strip())
    except ValueError as err:
        raise ValueError(f"{what} must be a number") from err


class AlertRulesState(SessionState):
    """The rules, the outlook they give now, and the rule being edited with its preview."""

    global_rows: list[dict[str, str]] = []
    site_rows: list[dict[str, str]] = []
    kinds: list[str] = []
    site_choices: list[str] = []
    edit_id: str = ""
    edit_title: str = ""
    edit_kind: str = ""
    edit_site: str = ""
    edit_enabled: bool = True
    edit_threshold: str = ""
    edit_unit: str = ""
    edit_pending: str = ""
    edit_severity: str = "warning"
    edit_recipients: str = ""
    preview_rows: list[dict[str, str]] = []
    previewed: bool = False
    loaded: bool = False
    _rules: list[dict[str, Any]] = []
    _site_ids: dict[str, str] = {}

    async def _fetch(self) -> None:
        sites = (await self._gql(q.SITE_NAMES)).get("sites") or []
        self._site_ids = {s["name"]: str(s["id"]) for s in sites}
        self.site_choices = sorted(self._site_ids)
        names = {v: k for k, v in self._site_ids.items()}
        self._rules = (await self._gql(q.RULES)).get("alertRules") or []
        outlook = (await self._gql(q.OUTLOOK, {"siteId": None})).get("alertOutlook") or []
        firing = firing_sites(outlook)
        rows = [rule_row(r, names, firing) for r in self._rules]
        self.global_rows = [r for r in rows if r["scope"] == "global"]
        self.site_rows = [r for r in rows if r["scope"] == "site"]
        self.kinds = [r["kind"] for r in self.global_rows]
        self.loaded = True

    async def _refetch(self) -> None:
        await self._fetch()

    @rx.event
    async def load(self):
        """Fetch rules, sites and the outlook."""
        self.edit_id = ""
        try:
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    def _open(self, rule: dict[str, Any] | None, kind: str, site: str) -> None:
        base = rule or next((r for r in self._rules if r["kind"] == kind and not r.get("siteId")), {})
        self.edit_kind, self.edit_site = kind, site
        self.edit_enabled = bool(base.get("enabled", True))
        self.edit_threshold = f"{float(base.get('threshold') or 0):g}"
        self.edit_unit = base.get("thresholdUnit") or ""
        self.edit_pending = f"{float(base.get('pendingSeconds') or 0):g}"
        self.edit_severity = base.get("severity") or "warning"
        self.edit_recipients = ", ".join(base.get("recipients") or [])
        self.preview_rows, self.previewed = [], False

    @rx.event
    def edit(self, rule_id: str):
        """Open the editor on a rule."""
        rule = next((r for r in self._rules if str(r["id"]) == rule_id), None)
        if rule is None:
            return
        site = {v: k for k, v in self._site_ids.items()}.get(str(rule.get("siteId")), "")
        self._open(rule, rule["kind"], site)
        self.edit_id = rule_id
        self.edit_title = f"Edit {rule['kind']} ({site or 'all sites'})"

    @rx.event
    def new_override(self):
        """Open the editor on a new site override (starting from the global rule's values)."""
        kind = self.kinds[0] if self.kinds else ""
        self._open(None, kind, self.site_choices[0] if self.site_choices else "")
        self.edit_id, self.edit_title = NEW, "New site override"

    @rx.event
    def set_edit_kind(self, value: str):
        """Kind of a new override (its fields start from the global rule of that kind)."""
        self._open(None, value, self.edit_site)

    @rx.event
    def set_edit_site(self, value: str):
        """Site of a new override."""
        self.edit_site, self.previewed = value, False

    @rx.event
    def set_edit_enabled(self, value: bool):
        """Whether the rule is on."""
        self.edit_enabled, self.previewed = value, False

    @rx.event
    def set_edit_threshold(self, value: str):
        """The rule's threshold (in its unit)."""
        self.edit_threshold, self.previewed = value, False

    @rx.event
    def set_edit_pending(self, value: str):
        """Seconds a condition must hold before the alert opens (and be clear before it resolves)."""
        self.edit_pending, self.previewed = value, False

    @rx.event
    def set_edit_severity(self, value: str):
        """The alert's severity."""
        self.edit_severity, self.previewed = value, False

    @rx.event
    def set_edit_recipients(self, value: str):
        """Comma-separated e-mail addresses (none: the server's default recipients)."""
        self.edit_recipients, self.previewed = value, False

    @rx.event
    def cancel(self):
        """Close the editor."""
        self.edit_id = ""

    def _fields(self) -> dict[str, Any]:
        return {
            "enabled": self.edit_enabled,
            "threshold": _number(self.edit_threshold, "Threshold"),
            "pendingSeconds": _number(self.edit_pending, "Pending time"),
            "severity": self.edit_severity,
            "recipients": [r.strip() for r in self.edit_recipients.replace(";", ",").split(",") if r.strip()],
        }

    def _draft(self) -> dict[str, Any]:
        if self.edit_id == NEW:
            return {
                "kind": self.edit_kind,
                "siteId": self._site_ids.get(self.edit_site),
                "rule": self._fields(),
            }
        return {"ruleId": self.edit_id, "rule": self._fields()}

    @rx.event
    async def preview(self):
        """Where the rule would fire now with the values in the editor (nothing is saved)."""
        try:
            data = await self._gql(q.PREVIEW, {"draft": self._draft()})
        except ValueError as err:
            self.error = str(err)
            return None
        except UiClientError as err:
            return self._fail(err)
        now = utcnow()
        self.preview_rows = [outlook_row(e, now) for e in data.get("alertRulePreview") or []]
        self.previewed, self.error = True, ""
        return None

    @rx.event
    async def save(self):
        """Create or change the rule."""
        try:
            if self.edit_id == NEW:
                site_id = self._site_ids.get(self.edit_site)
                await self._gql(
                    q.CREATE_RULE, {"kind": self.edit_kind, "siteId": site_id, "rule": self._fields()}
                )
            else:
                await self._gql(q.UPDATE_RULE, {"id": self.edit_id, "rule": self._fields()})
            self.edit_id, self.error = "", ""
            self.notice = "Rule saved."
            await self._fetch()
        except ValueError as err:
            self.error = str(err)
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def delete(self, rule_id: str):
        """Delete a site override: the global rule applies to that site again."""
        try:
            await self._gql(q.DELETE_RULE, {"id": rule_id})
            self.edit_id = ""
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None


def _actions(r) -> rx.Component:
    return rx.cond(
        AlertRulesState.is_admin,
        rx.hstack(
            rx.button(
                "Edit",
                size="1",
                variant="soft",
                on_click=AlertRulesState.edit(r["id"]),
                data_testid="rule-edit",
            ),
            rx.cond(
                r["scope"] == "site",
                rx.button(
                    "Delete",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=AlertRulesState.delete(r["id"]),
                    data_testid="rule-delete",
                ),  # fmt: skip
            ),
        ),
    )


def _rule_row(r) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(r["kind"], weight="medium"),
                rx.text(r["description"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(r["site"]),
        rx.table.cell(rx.badge(r["enabled"], color_scheme=rx.cond(r["enabled"] == "yes", "green", "gray"))),
        rx.table.cell(r["threshold"], " ", r["unit"], white_space="nowrap"),
        rx.table.cell(r["pending"], " s"),
        rx.table.cell(r["severity"]),
        rx.table.cell(
            r["recipients"], color=rx.cond(r["recipients"] == "server default", "var(--gray-10)", "")
        ),
        rx.table.cell(
            rx.cond(
                r["fires"] == "none now",
                rx.text(r["fires"], color_scheme="gray"),
                rx.text(r["fires"], color_scheme="red", weight="medium"),
            ),
            data_testid="rule-fires",
        ),
        rx.table.cell(_actions(r)),
        data_testid="rule-row",
        data_kind=r["kind"],
        data_scope=r["scope"],
    )


def _rule_card(r) -> rx.Component:
    """One rule on a phone."""
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(r["kind"], weight="bold"), rx.text(r["site"], color_scheme="gray"), wrap="wrap"),
            rx.text(r["threshold"], " ", r["unit"], " · pending ", r["pending"], " s · ", r["severity"],
                    " · on: ", r["enabled"], size="2"),
            rx.text("To ", r["recipients"], size="1", color_scheme="gray"),
            rx.text("Fires now for: ", r["fires"], size="2"),
            _actions(r),
            spacing="1",
        ),
        width="100%",
        data_testid="rule-card",
        data_kind=r["kind"],
    )  # fmt: skip


def _rules(rows, testid: str) -> rx.Component:
    return rx.box(
        rx.tablet_and_desktop(table(HEADERS, rows, _rule_row, testid=testid)),
        rx.mobile_only(rx.vstack(rx.foreach(rows, _rule_card), spacing="2", width="100%")),
        width="100%",
    )


HEADERS = ["Rule", "Applies to", "On", "Threshold", "Pending", "Severity", "Recipients", "Fires now for", ""]


def _preview() -> rx.Component:
    return rx.cond(
        AlertRulesState.previewed,
        rx.cond(
            AlertRulesState.preview_rows.length() > 0,
            table(
                ["Site", "Meter", "State", "When", "Condition"],
                AlertRulesState.preview_rows,
                lambda p: rx.table.row(
                    rx.table.cell(p["site"]),
                    rx.table.cell(p["what"]),
                    rx.table.cell(p["state"]),
                    rx.table.cell(p["hint"]),
                    rx.table.cell(p["message"]),
                    data_testid="preview-row",
                ),
                testid="preview-table",
            ),  # fmt: skip
            rx.text("With these values the rule fires for no site now.", data_testid="preview-none"),
        ),
    )


def _editor() -> rx.Component:
    s = AlertRulesState
    is_new = s.edit_id == NEW
    return rx.cond(
        s.edit_id != "",
        panel(
            "Rule",
            rx.heading(s.edit_title, size="3", data_testid="rule-editor-title"),
            rx.flex(
                rx.cond(is_new, field("Kind", picker(s.kinds, s.edit_kind, s.set_edit_kind, "edit-kind"))),
                rx.cond(is_new, field("Site", picker(s.site_choices, s.edit_site, s.set_edit_site, "edit-site"))),
                field("Enabled", rx.switch(checked=s.edit_enabled, on_change=s.set_edit_enabled, data_testid="edit-enabled")),
                field(rx.text("Threshold (", s.edit_unit, ")"), rx.input(value=s.edit_threshold, on_change=s.set_edit_threshold, width="8em", data_testid="edit-threshold")),
                field("Pending (s)", rx.input(value=s.edit_pending, on_change=s.set_edit_pending, width="7em", data_testid="edit-pending")),
                field("Severity", picker(SEVERITIES, s.edit_severity, s.set_edit_severity, "edit-severity")),
                field("Recipients (comma-separated; empty: server default)",
                      rx.input(value=s.edit_recipients, on_change=s.set_edit_recipients, min_width="18em", data_testid="edit-recipients")),
                spacing="3",
                wrap="wrap",
                align="end",
            ),
            rx.hstack(
                rx.button("Preview", variant="soft", on_click=s.preview, data_testid="rule-preview"),
                rx.button("Save", on_click=s.save, data_testid="rule-save"),
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=s.cancel),
                wrap="wrap",
            ),
            _preview(),
        ),
    )  # fmt: skip


def alert_rules_page() -> rx.Component:
    """The alert rules page."""
    s = AlertRulesState
    return components.page(
        rx.text(
            "A rule watches a condition at every site; a site override replaces the global rule of its kind for "
            "one site. An alert opens once the condition has held for the pending time.",
            color_scheme="gray",
        ),
        rx.cond(
            s.is_admin,
            rx.button("Add site override", on_click=s.new_override, data_testid="rule-new"),
            rx.callout("Only admins can change rules.", icon="info", data_testid="rules-read-only"),
        ),
        _editor(),
        rx.heading("Global rules", size="4"),
        _rules(s.global_rows, "rules-global"),
        rx.heading("Site overrides", size="4"),
        rx.cond(
            s.site_rows.length() > 0,
            _rules(s.site_rows, "rules-sites"),
            rx.cond(
                s.loaded,
                empty_state("No site overrides: every site follows the global rules.", "rules-sites-empty"),
            ),
        ),
        title="Alert rules",
    )
