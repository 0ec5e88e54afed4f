#!/usr/bin/env bash
# Install what the Reflex dashboards need, without downloading prebuilt toolchains from outside the
# package registries: bun from the npm registry into .tools/ (npm itself from Debian when missing).
# No browser: that is scripts/install_browser.sh, for the tests. Honours METERIT_DRY_RUN=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BUN_VERSION="${METERIT_BUN_VERSION:-1.4.4}"
BUN="$TOOLS/bin/bun"

step() {
    if [ "${METERIT_DRY_RUN:-0}" = 1 ]; then echo "install_ui_tools: would run: $*"; else "$@"; fi
}

have_bun() {
    [ -x "$BUN" ] && [ "$("$BUN" --version 2>/dev/null)" = "$BUN_VERSION" ]
}

if have_bun; then
    [ "${METERIT_DRY_RUN:-0}" = 1 ] && echo "install_ui_tools: bun $BUN_VERSION present at $BUN"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "install_ui_tools: installing Debian nodejs and npm (needed to fetch bun from npm)"
    step "$ROOT/scripts/apt_install.sh" nodejs npm
fi

echo "install_ui_tools: installing bun $BUN_VERSION from npm into $TOOLS"
step mkdir -p "$TOOLS"
step npm install --global --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION"
if [ "${METERIT_DRY_RUN:-0}" != 1 ] && ! have_bun; then
    echo "install_ui_tools: bun $BUN_VERSION not usable at $BUN" >&2
    exit 1
fi
