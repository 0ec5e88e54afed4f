#!/usr/bin/env bash
# Install the tools the Reflex dashboards and their browser tests need, without downloading prebuilt
# toolchains from outside the package registries: bun from the npm registry into .tools/, and Debian's
# chromium. Idempotent and quiet when everything is already there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BUN_VERSION="${METERIT_BUN_VERSION:-1.4.4}"
BUN="$TOOLS/bin/bun"

have_bun() {
    [ -x "$BUN" ] && [ "$("$BUN" --version 2>/dev/null)" = "$BUN_VERSION" ]
}

if ! command -v npm >/dev/null 2>&1; then
    echo "install_ui_tools: installing Debian nodejs and npm (needed to fetch bun from npm)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

if ! have_bun; then
    echo "install_ui_tools: installing bun $BUN_VERSION from npm into $TOOLS"
    mkdir -p "$TOOLS"
    npm install --global --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION" >/dev/null
    have_bun || { echo "install_ui_tools: bun $BUN_VERSION not usable at $BUN" >&2; exit 1; }
fi

if ! [ -x /usr/bin/chromium ]; then
    echo "install_ui_tools: installing Debian chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
