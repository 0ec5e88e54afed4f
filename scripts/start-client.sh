#!/usr/bin/env bash
# Start the central ("Client") system: migrate the database, then the API and the central dashboard.
# Settings come from .env / the environment (see .env.example). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
.venv/bin/meterit db upgrade central
.venv/bin/meterit api "$@" &
api=$!
.venv/bin/meterit ui client &
ui=$!
trap 'kill $api $ui 2>/dev/null; wait' INT TERM EXIT
wait -n $api $ui
