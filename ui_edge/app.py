"""The on-site dashboard app: pages and their routes (every page also follows the agent's status)."""

import reflex as rx

from ui_edge.pages.dashboard import DashboardState, dashboard_page
from ui_edge.pages.inventory import InventoryState
from ui_edge.pages.login import login_page
from ui_edge.pages.meters import MetersState, meters_page
from ui_edge.pages.not_found import not_found_page
from ui_edge.pages.sync import SyncState, sync_page
from ui_edge.state import EdgeState

app = rx.App(theme=rx.theme(accent_color="teal", radius="medium"))

app.add_page(dashboard_page, route="/", title="MeterIT on site · Dashboard",
             on_load=[EdgeState.load_status, DashboardState.load])  # fmt: skip
app.add_page(sync_page, route="/sync", title="MeterIT on site · Sync",
             on_load=[EdgeState.load_status, SyncState.load])  # fmt: skip
app.add_page(meters_page, route="/meters", title="MeterIT on site · Meters",
             on_load=[EdgeState.load_status, MetersState.load, InventoryState.load])  # fmt: skip
app.add_page(login_page, route="/login", title="MeterIT on site · Log in")
app.add_page(
    not_found_page, route="404", title="MeterIT on site · Page not found", on_load=EdgeState.load_status
)
