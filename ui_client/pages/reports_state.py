"""State of the Reports page: sites and period chosen, the report previewed and downloaded, monthly e-mails."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import reflex as rx

from ui_client.errors import ApiError, UiClientError
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.format import local_time, number, parse_ts

SITE_LIST = "query { sites { id name timezone simulatedFrom simulatedUntil } }"
REPORT = """
query Report($from: DateTime!, $to: DateTime!, $siteIds: [ID!]) {
  generateReport(from: $from, to: $to, siteIds: $siteIds, resolution: DAY) {
    start end csv html markdown
    sites { siteId siteName timezone energyKwh cost currency completeness
            periods { start end energyKwh cost } }
  }
}"""
SCHEDULE_FIELDS = "id recipients siteIds timezone createdAt lastSentMonth"
SCHEDULES = f"query {{ reportSchedules {{ {SCHEDULE_FIELDS} }} }}"
ADD_SCHEDULE = f"""
mutation Add($recipients: [String!]!, $siteIds: [ID!]) {{
  addReportSchedule(recipients: $recipients, siteIds: $siteIds) {{ {SCHEDULE_FIELDS} }}
}}"""
REMOVE_SCHEDULE = "mutation Remove($id: ID!) { removeReportSchedule(id: $id) }"


def report_window(choice: str, month: str, first: str, last: str, timezone: str) -> tuple[datetime, datetime]:
    """[from, to) of a month ("YYYY-MM") or of the days first..last inclusive, at local midnights; ValueError."""
    zone = ZoneInfo(timezone)
    if choice == "month":
        start_day = date.fromisoformat(f"{month}-01")
        end_day = (start_day + timedelta(days=32)).replace(day=1)
    else:
        start_day, end_day = date.fromisoformat(first), date.fromisoformat(last) + timedelta(days=1)
        if end_day <= start_day:
            raise ValueError("the last day must not be before the first")
    return datetime.combine(start_day, time(0), zone), datetime.combine(end_day, time(0), zone)


def simulated_in(site: dict[str, Any], start: str | None, end: str | None) -> str:
    """'simulated …' when the site's simulated (demo) history overlaps the report's [start, end); else ''."""
    first, last = parse_ts(site.get("simulatedFrom")), parse_ts(site.get("simulatedUntil"))
    lo, hi = parse_ts(start), parse_ts(end)
    if None in (first, last, lo, hi) or last < lo or first >= hi:
        return ""
    tz = site.get("timezone")
    return f"simulated {local_time(max(first, lo), tz, '%Y-%m-%d')} to {local_time(min(last, hi), tz, '%Y-%m-%d')}"


def site_rows(report: dict[str, Any], sites: dict[str, dict[str, Any]] | None = None) -> list[dict[str, str]]:
    """One display row per site and a total row (kWh and cost summed; cost only in one currency); a site whose
    simulated history (from `sites`, by id) falls in the period says so."""
    rows, total, cost, currencies = [], 0.0, 0.0, set()
    for site in report.get("sites") or []:
        kwh = site.get("energyKwh")
        total += kwh or 0.0
        if site.get("cost") is not None:
            cost += site["cost"]
            currencies.add(site.get("currency") or "")
        complete = site.get("completeness")
        rows.append({
            "site": site.get("siteName") or "",
            "kwh": number(kwh, 3),
            "cost": "" if site.get("cost") is None else f"{site['cost']:.2f} {site.get('currency') or ''}",
            "completeness": "n/a" if complete is None else f"{100 * complete:.1f}%",
            "days": str(len(site.get("periods") or [])),
            "simulated": simulated_in(
                (sites or {}).get(str(site.get("siteId")), {}), report.get("start"), report.get("end")
            ),
        })  # fmt: skip
    if rows:
        cost_text = f"{cost:.2f} {currencies.pop()}" if len(currencies) == 1 else ""
        rows.append(
            {
                "site": "Total",
                "kwh": number(total, 3),
                "cost": cost_text,
                "completeness": "",
                "days": "",
                "simulated": "",
            }
        )
    return rows


class ReportsState(SessionState):
    """Sites and period of a report, its preview and downloads; the monthly e-mail schedules (admins)."""

    sites: list[dict[str, str]] = []  # id, name, timezone, chosen ("1" or "")
    period_choice: str = "month"
    month: str = ""
    first_day: str = ""
    last_day: str = ""
    rows: list[dict[str, str]] = []
    note: str = ""
    loading: bool = False
    recipients: str = ""
    schedules: list[dict[str, str]] = []
    _report: dict[str, Any] = {}

    @rx.event
    async def load(self):
        """The sites to choose from, last month as the default period, and the schedules (admins)."""
        today = utcnow().date()
        last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        self.month = self.month or last_month.strftime("%Y-%m")
        self.first_day = self.first_day or last_month.isoformat()
        self.last_day = self.last_day or (today.replace(day=1) - timedelta(days=1)).isoformat()
        try:
            found = (await self._gql(SITE_LIST)).get("sites") or []
            chosen = {s["id"] for s in self.sites if s["chosen"]}
            self.sites = [
                {"id": str(s["id"]), "name": s["name"], "timezone": s.get("timezone") or "UTC",
                 "chosen": "1" if str(s["id"]) in chosen else "",
                 "simulatedFrom": s.get("simulatedFrom") or "", "simulatedUntil": s.get("simulatedUntil") or ""}
                for s in found
            ]  # fmt: skip
            if self.is_admin:
                await self._load_schedules()
        except UiClientError as err:
            return self._fail(err)
        return None

    async def _load_schedules(self) -> None:
        names = {s["id"]: s["name"] for s in self.sites}
        self.schedules = [
            {"id": str(s["id"]), "recipients": ", ".join(s["recipients"]),
             "sites": "all sites" if s["siteIds"] is None else ", ".join(names.get(str(i), str(i)) for i in s["siteIds"]),
             "timezone": s["timezone"], "last": s.get("lastSentMonth") or "not yet"}
            for s in (await self._gql(SCHEDULES)).get("reportSchedules") or []
        ]  # fmt: skip

    @rx.event
    def toggle_site(self, site_id: str):
        """Choose or leave out one site."""
        self.sites = [
            {**s, "chosen": "" if s["chosen"] else "1"} if s["id"] == site_id else s for s in self.sites
        ]

    @rx.event
    def set_period_choice(self, value: str | list[str]):
        """A calendar month or a custom range of days."""
        self.period_choice = value[0] if isinstance(value, list) else value

    @rx.event
    def set_month(self, value: str):
        """The month, YYYY-MM."""
        self.month = value

    @rx.event
    def set_first_day(self, value: str):
        """First day of a custom range."""
        self.first_day = value

    @rx.event
    def set_last_day(self, value: str):
        """Last day of a custom range (included)."""
        self.last_day = value

    @rx.event
    def set_recipients(self, value: str):
        """Recipients of a new monthly e-mail, separated by commas."""
        self.recipients = value

    def _chosen(self) -> list[dict[str, str]]:
        return [s for s in self.sites if s["chosen"]]

    @rx.event
    async def preview(self):
        """Generate the report of the chosen sites and period and show it."""
        chosen = self._chosen()
        if not chosen:
            self.error = "Choose at least one site."
            return
        zones = {s["timezone"] for s in chosen}
        zone = zones.pop() if len(zones) == 1 else "UTC"  # each site's days are still its own local days
        try:
            start, end = report_window(self.period_choice, self.month, self.first_day, self.last_day, zone)
        except ValueError as err:
            self.error = f"Period: {err}"
            return
        self.loading = True
        yield
        try:
            variables = {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "siteIds": [s["id"] for s in chosen],
            }
            self._report = (await self._gql(REPORT, variables))["generateReport"]
        except UiClientError as err:
            yield self._fail(err)
            return
        finally:
            self.loading = False
        self.error = ""
        self.rows = site_rows(self._report, {s["id"]: s for s in self.sites})
        self.note = f"{start.date()} to {(end - timedelta(days=1)).date()} ({zone}), per local day"

    def _download(self, key: str, extension: str):
        if not self._report:
            self.error = "Preview a report first."
            return None
        name = f"meterit-report-{self._report['start'][:10]}.{extension}"
        return rx.download(data=self._report[key], filename=name)

    @rx.event
    def download_csv(self):
        """The previewed report as CSV (one row per meter and day)."""
        return self._download("csv", "csv")

    @rx.event
    def download_html(self):
        """The previewed report as an HTML page."""
        return self._download("html", "html")

    @rx.event
    def download_markdown(self):
        """The previewed report as Markdown."""
        return self._download("markdown", "md")

    @rx.event
    async def add_schedule(self):
        """Mail the chosen sites' report (all sites when none is chosen) every month to the recipients."""
        recipients = [r.strip() for r in self.recipients.split(",") if r.strip()]
        chosen = [s["id"] for s in self._chosen()] or None
        try:
            await self._gql(ADD_SCHEDULE, {"recipients": recipients, "siteIds": chosen})
            await self._load_schedules()
        except ApiError as err:
            self.error = str(err)
            return None
        except UiClientError as err:
            return self._fail(err)
        self.recipients = ""
        self.notice = "Monthly report scheduled: sent on the 1st for the month before."
        return None

    @rx.event
    async def remove_schedule(self, schedule_id: str):
        """Stop one monthly e-mail."""
        try:
            await self._gql(REMOVE_SCHEDULE, {"id": schedule_id})
            await self._load_schedules()
        except UiClientError as err:
            return self._fail(err)
        return None
