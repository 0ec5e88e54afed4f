#!/usr/bin/env bash
# Make this checkout runnable: a project venv with MeterIT and its dev tools, and bun for the Reflex
# dashboards: what `make demo` needs. --with-browser adds Debian chromium for the browser tests
# (`make test`). --dry-run (or METERIT_DRY_RUN=1) prints each step that would run, changing nothing.
# Idempotent: re-runs only what pyproject.toml changes require.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.bootstrap-stamp"
PYTHON="${PYTHON:-python3}"
WITH_BROWSER=0
export METERIT_DRY_RUN="${METERIT_DRY_RUN:-0}"

for arg in "$@"; do
    case "$arg" in
        --with-browser) WITH_BROWSER=1 ;;
        --dry-run) METERIT_DRY_RUN=1 ;;
        *) echo "usage: scripts/bootstrap.sh [--with-browser] [--dry-run]" >&2; exit 2 ;;
    esac
done

step() {
    if [ "$METERIT_DRY_RUN" = 1 ]; then echo "bootstrap: would run: $*"; else "$@"; fi
}

write_stamp() {
    echo "$1" > "$STAMP"
}

if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating $VENV"
    step "$PYTHON" -m venv "$VENV"
fi

# Central's C loops (setup.py) need a C compiler: the tests require them (CI fails without), the demo runs
# their Python forms without one.
if [ "$WITH_BROWSER" = 1 ] && ! command -v cc > /dev/null; then
    echo "bootstrap: installing Debian gcc for central's C loops"
    step "$ROOT/scripts/apt_install.sh" gcc libc6-dev
fi

# the install builds the C modules in place (setup.py): a checkout without them installs again
want="$(cat "$ROOT/pyproject.toml" "$ROOT/setup.py" "$ROOT"/db/central/_fold.c "$ROOT"/db/central/ingest/_rows.c \
    | sha256sum | cut -d' ' -f1)"
unbuilt() {
    command -v cc > /dev/null && ! { compgen -G "$ROOT/db/central/_fold.*.so" && compgen -G "$ROOT/db/central/ingest/_rows.*.so"; } > /dev/null
}
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ] || unbuilt; then
    echo "bootstrap: installing MeterIT and its dependencies into $VENV"
    step "$VENV/bin/python" -m pip install --quiet --upgrade pip
    step "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev]"
    step write_stamp "$want"
fi

"$ROOT/scripts/install_ui_tools.sh"
if [ "$WITH_BROWSER" = 1 ]; then
    "$ROOT/scripts/install_browser.sh"
fi
