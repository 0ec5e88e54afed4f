"""Reflex configuration for both dashboards; METERIT_UI_APP (client | edge) picks which one to build."""

import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

# Each app is the package ui_<name> with its app object in ui_<name>/app.py. `meterit ui` sets the
# variable and separate work dirs (REFLEX_WEB_WORKDIR / REFLEX_STATES_WORKDIR) so the apps never share .web/.
UI_APPS = ("client", "edge")

_name = os.environ.get("METERIT_UI_APP", "client")
if _name not in UI_APPS:
    raise ValueError(f"METERIT_UI_APP must be one of {', '.join(UI_APPS)}, not {_name!r}")
_package = f"ui_{_name}"
os.environ.setdefault("REFLEX_WEB_WORKDIR", f".web_{_package}")
os.environ.setdefault("REFLEX_STATES_WORKDIR", f".states_{_package}")

config = rx.Config(
    app_name=_package,
    app_module_import=f"{_package}.app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_compression_formats=[],
    plugins=[rx.plugins.RadixThemesPlugin()],
    disable_plugins=[SitemapPlugin],
)
