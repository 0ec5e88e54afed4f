#!/usr/bin/env bash
# Make this checkout runnable: a project venv with MeterIT and its dev tools, plus the dashboards'
# tools (bun from npm, Debian chromium). Idempotent: re-runs only what pyproject.toml changes require.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.bootstrap-stamp"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi

want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
    echo "bootstrap: installing MeterIT and its dependencies into $VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev]"
    echo "$want" > "$STAMP"
fi

if [ -x "$ROOT/scripts/install_ui_tools.sh" ]; then
    "$ROOT/scripts/install_ui_tools.sh"
fi
