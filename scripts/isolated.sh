#!/usr/bin/env bash
# Runs a command in a private network namespace: its own loopback, so a whole test run there shares no 127.x
# address:port with anything else on the machine (another checkout's suite, a demo). The machine's PostgreSQL
# stays reachable on 127.0.0.1:5432 inside, bridged by socat to its unix socket. Needs root, ip and socat.
# Usage: scripts/isolated.sh COMMAND [ARG ...]
set -euo pipefail
socket=${PG_SOCKET:-/var/run/postgresql/.s.PGSQL.5432}
[ -S "$socket" ] || { echo "isolated.sh: no PostgreSQL socket at $socket (set PG_SOCKET)" >&2; exit 2; }
command -v socat >/dev/null || { echo "isolated.sh: socat is needed" >&2; exit 2; }
exec unshare --net bash -c '
  set -euo pipefail
  ip link set lo up
  socat TCP-LISTEN:5432,bind=127.0.0.1,fork,reuseaddr "UNIX-CONNECT:$0" &
  bridge=$!
  trap "kill $bridge 2>/dev/null || true" EXIT
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && break; sleep 0.1; done
  "$@"
' "$socket" "$@"
