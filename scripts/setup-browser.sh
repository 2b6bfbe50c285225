#!/usr/bin/env bash
# Headless Chromium for the browser tests (test/integration/pages.test.ts), from Debian's own
# `chromium` package: playwright-core drives /usr/bin/chromium, nothing downloads a browser.
# Idempotent: exits at once when a working Chromium is already there.
# On Debian as root: apt installs the candidate apt picks (on a bookworm machine that is
# bookworm-security's build; the project's trixie source is pinned low), and falls back to
# trixie's build when the default one cannot be installed beside packages already from trixie.
set -euo pipefail

log() { printf '[setup-browser] %s\n' "$*" >&2; }

BROWSER="${FIBLAB_CHROMIUM:-/usr/bin/chromium}"
browser_ok() { [ -x "$BROWSER" ] && "$BROWSER" --headless --no-sandbox --version >/dev/null 2>&1; }

if browser_ok; then exit 0; fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  log "No Chromium at $BROWSER, and automatic install needs root on Debian."
  log "Install Debian's 'chromium' package (or set FIBLAB_CHROMIUM to a Chromium binary) and run this again."
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log "installing Debian's chromium package"
apt-get update -qq
if ! apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; then
  if [ -f /etc/apt/sources.list.d/fiblab-trixie.sources ]; then
    log "the default candidate did not install; trying Debian 13's build"
    apt-get install -y -qq --no-install-recommends -t trixie chromium fonts-dejavu-core >/dev/null
  else
    exit 1
  fi
fi

if ! browser_ok; then
  log "chromium is installed but '$BROWSER --headless --version' fails"
  exit 1
fi
log "ready: $("$BROWSER" --headless --no-sandbox --version 2>/dev/null)"
