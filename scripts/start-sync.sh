#!/usr/bin/env bash
# Start the on-site ("Sync") system: migrate the edge database, then the edge agent and its dashboard.
# Settings come from .env / the environment (see edge_agent/.env.example). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
.venv/bin/meterit db upgrade edge
.venv/bin/meterit edge "$@" &
edge=$!
.venv/bin/meterit ui edge &
ui=$!
trap 'kill $edge $ui 2>/dev/null; wait' INT TERM EXIT
wait -n $edge $ui
