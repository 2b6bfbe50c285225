#!/usr/bin/env bash
# Everything the lab needs before a run or a test: npm dependencies, a Docker engine, images.
# Idempotent: each step checks first, so a second run takes seconds.
#
#   --freethreaded   also build the free-threaded CPython and its models (a compile of several
#                    minutes, once per machine; FIBLAB_FREETHREADED=1 does the same)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }
start=$(date +%s)
build_args=()
for arg in "$@"; do
  case "$arg" in
    --freethreaded) build_args+=(--freethreaded) ;;
    *) echo "usage: $0 [--freethreaded]" >&2; exit 2 ;;
  esac
done

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/setup-engine.sh
bash scripts/build-images.sh "${build_args[@]}"
log "ready in $(( $(date +%s) - start )) s"
