"""The central dashboard app: pages and their routes."""

import reflex as rx

from ui_client.pages.account import AccountState, account_page
from ui_client.pages.admin_meters import AdminMetersState, admin_meters_page
from ui_client.pages.admin_sites import AdminSitesState, admin_sites_page
from ui_client.pages.admin_users import AdminUsersState, admin_users_page
from ui_client.pages.alert_hints import FleetHintsState
from ui_client.pages.alert_rules import AlertRulesState, alert_rules_page
from ui_client.pages.alerts import AlertsState, alerts_page
from ui_client.pages.emails import EmailsState, emails_page
from ui_client.pages.login import LoginState, login_page
from ui_client.pages.not_found import not_found_page
from ui_client.pages.overview import OverviewState, overview_page
from ui_client.pages.reports import reports_page
from ui_client.pages.reports_state import ReportsState
from ui_client.pages.site import SiteState, site_page
from ui_client.pages.site_alerting import SiteAlertingState
from ui_client.state import SessionState

app = rx.App()
_guard = SessionState.require_login

app.add_page(login_page, route="/login", title="MeterIT · Sign in", on_load=LoginState.open_page)
app.add_page(
    overview_page,
    route="/",
    title="MeterIT · Overview",
    on_load=[_guard, OverviewState.load, FleetHintsState.load],
)
app.add_page(
    site_page,
    route="/site/[site_id]",
    title="MeterIT · Site",
    on_load=[_guard, SiteState.load, SiteAlertingState.load],
)
app.add_page(account_page, route="/account", title="MeterIT · Account",
             on_load=[_guard, AccountState.load])  # fmt: skip
app.add_page(alerts_page, route="/alerts", title="MeterIT · Alerts", on_load=[_guard, AlertsState.load])
app.add_page(alert_rules_page, route="/alert-rules", title="MeterIT · Alert rules",
             on_load=[_guard, AlertRulesState.load])  # fmt: skip
app.add_page(emails_page, route="/emails", title="MeterIT · Sent e-mails", on_load=[_guard, EmailsState.load])
app.add_page(not_found_page, route="404", title="MeterIT · Page not found")
app.add_page(reports_page, route="/reports", title="MeterIT · Reports", on_load=[_guard, ReportsState.load])
app.add_page(admin_sites_page, route="/admin", title="MeterIT · Sites admin",
             on_load=[_guard, AdminSitesState.load])  # fmt: skip
app.add_page(admin_users_page, route="/admin/users", title="MeterIT · Users",
             on_load=[_guard, AdminUsersState.load])  # fmt: skip
app.add_page(admin_meters_page, route="/admin/meters/[site_id]", title="MeterIT · Meters",
             on_load=[_guard, AdminMetersState.load])  # fmt: skip
