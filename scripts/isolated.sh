#!/usr/bin/env bash
# Runs a command in a private network namespace: its own loopback, so a whole test run there shares no 127.x
# address:port with anything else on the machine (another checkout's suite, a demo). The machine's services the
# tests use stay reachable on the same 127.0.0.1 ports inside (PostgreSQL 5432, Redis 6379; set BRIDGE_PORTS),
# each bridged by a pair of socat processes through a unix socket. Needs root, ip and socat. Nothing else is
# reachable inside: the dashboards' builds must find their npm packages installed already (one run outside).
# Usage: scripts/isolated.sh COMMAND [ARG ...]
set -euo pipefail
ports=${BRIDGE_PORTS:-5432 6379}
command -v socat >/dev/null || { echo "isolated.sh: socat is needed" >&2; exit 2; }
dir=$(mktemp -d /tmp/meterit-isolated.XXXXXX)
outside=()
cleanup() { kill "${outside[@]}" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for port in $ports; do  # outside: a unix socket per port, forwarding to the machine's loopback service
  socat "UNIX-LISTEN:$dir/$port.sock,fork" "TCP:127.0.0.1:$port" &
  outside+=($!)
done
unshare --net bash -c '
  set -euo pipefail
  dir=$1 ports=$2; shift 2
  ip link set lo up
  inside=()
  for port in $ports; do
    for _ in $(seq 50); do [ -S "$dir/$port.sock" ] && break; sleep 0.1; done
    socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$dir/$port.sock" &
    inside+=($!)
  done
  trap "kill ${inside[*]} 2>/dev/null || true" EXIT
  for port in $ports; do
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  done
  "$@"
' isolated "$dir" "$ports" "$@"
