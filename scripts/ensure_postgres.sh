#!/usr/bin/env bash
# Start the machine's PostgreSQL cluster when it is not accepting connections (tests need it).
set -euo pipefail

HOST="${PGHOST:-127.0.0.1}"
PORT="${PGPORT:-5432}"

ready() { pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null; }

if ready; then
    exit 0
fi
if ! command -v pg_ctlcluster >/dev/null; then
    echo "ensure_postgres: PostgreSQL is not installed; installing Debian's package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null
fi
version="$(ls /etc/postgresql | sort -V | tail -1)"
echo "ensure_postgres: starting PostgreSQL $version"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do
    ready && exit 0
    sleep 1
done
echo "ensure_postgres: PostgreSQL did not start on $HOST:$PORT" >&2
exit 1
