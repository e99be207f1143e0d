#!/usr/bin/env bash
# Installs the CJK font the PDF scorecards embed (Noto Sans CJK SC, from Debian's
# fonts-noto-cjk; reports/render.py explains the choice). WeasyPrint finds it through
# fontconfig by family name; Pango lays the text out. `make run` and `make test` call this.
set -euo pipefail
need=()
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || need+=(libpango-1.0-0)
dpkg -s libpangoft2-1.0-0 >/dev/null 2>&1 || need+=(libpangoft2-1.0-0)
dpkg -s fontconfig >/dev/null 2>&1 || need+=(fontconfig)
# WeasyPrint subsets the embedded fonts with it (without, every PDF carries whole fonts).
dpkg -s libharfbuzz-subset0 >/dev/null 2>&1 || need+=(libharfbuzz-subset0)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
