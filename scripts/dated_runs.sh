#!/usr/bin/env bash
# The whole suite with the clock placed at each date issue 15 names, one run after another (they share test
# addresses, so never two at once). Prints one line per date; exit status 1 if any run failed.
# Usage: scripts/dated_runs.sh [ISO moment ...]   (default: every listed moment; ~7 min each on 2 cores)
# ISOLATE=1 runs each in a private network namespace (scripts/isolated.sh), so other checkouts' tests on the
# same machine cannot share its addresses.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
moments=("$@")
if [ ${#moments[@]} -eq 0 ]; then
  moments=(
    2027-04-30T23:50:00  # the last day of a month (already 1 May in Berlin)
    2027-03-28T00:30:00  # Europe/Berlin spring change
    2027-10-31T00:30:00  # Europe/Berlin autumn change
    2027-03-14T06:30:00  # America/New_York spring change
    2027-11-07T05:30:00  # America/New_York autumn change
    2028-02-29T23:55:00  # a leap day
    2027-12-31T23:52:00  # 31 December -> 1 January during the run
    2028-12-06T12:00:00  # two years ahead
  )
fi
failed=0
for at in "${moments[@]}"; do
  log="test-artifacts/dated-$at.log"
  mkdir -p test-artifacts
  wrap=()
  [ "${ISOLATE:-0}" = 1 ] && wrap=(scripts/isolated.sh)
  CI=true METERIT_CLOCK_AT="$at" "${wrap[@]}" .venv/bin/pytest -n "${TEST_WORKERS:-3}" --dist loadgroup -q -p no:cacheprovider \
    -rfE >"$log" 2>&1 || failed=1
  echo "$at: $(tail -1 "$log")"
done
exit $failed
