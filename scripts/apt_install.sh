#!/usr/bin/env bash
# Install Debian packages: as root directly, else through sudo when it needs no password, else say
# which command to run (a user who is not root gets a clear message, not apt's permission error).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n apt-get update -qq >/dev/null
    sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
else
    echo "apt_install: installing $* needs root: run 'sudo apt-get install $*', then again" >&2
    exit 1
fi
