#!/usr/bin/env bash
# Everything the lab needs before a run or a test: npm dependencies, a Docker engine, images.
# Idempotent: each step checks first, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }
start=$(date +%s)

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/setup-engine.sh
bash scripts/build-images.sh
log "ready in $(( $(date +%s) - start )) s"
