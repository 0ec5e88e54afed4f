#!/usr/bin/env bash
# Install the browser the dashboards' browser tests drive: Debian's chromium (never a browser build
# downloaded from elsewhere). Only `make test` needs it. Honours METERIT_DRY_RUN=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ -x /usr/bin/chromium ]; then
    [ "${METERIT_DRY_RUN:-0}" = 1 ] && echo "install_browser: Debian chromium present at /usr/bin/chromium"
    exit 0
fi
echo "install_browser: installing Debian chromium"
if [ "${METERIT_DRY_RUN:-0}" = 1 ]; then
    echo "install_browser: would run: $ROOT/scripts/apt_install.sh chromium fonts-dejavu-core"
else
    "$ROOT/scripts/apt_install.sh" chromium fonts-dejavu-core
fi
