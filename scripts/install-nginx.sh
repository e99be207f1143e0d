#!/usr/bin/env bash
# Installs Debian's nginx, the reverse proxy of docs/deploy/nginx.conf, when it is
# missing. bench/load.py runs it in front of gunicorn with `--proxy nginx` from its own
# temporary prefix, so the package must not start the system-wide service on port 80:
# a policy-rc.d that refuses service starts is in place for the install only.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx >/dev/null
