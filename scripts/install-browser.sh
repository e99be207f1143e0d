#!/usr/bin/env bash
# Installs Debian's Chromium and the fonts the browser tests and screenshots need.
# Playwright drives /usr/bin/chromium; it never downloads a browser of its own.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
dpkg -s poppler-utils >/dev/null 2>&1 || need+=(poppler-utils)
# The browser tests run some servers on faked days (see tests/e2e/test_any_day_setup.py).
command -v faketime >/dev/null 2>&1 || need+=(faketime)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
