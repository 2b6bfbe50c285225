#!/usr/bin/env bash
# Build the load-client images, fiblab/k6 and fiblab/loadclient, and fiblab/wrk (Debian's wrk, the
# reference of `npm run bench:clients`). Everything that needs the network or a toolchain happens
# here on the host (k6 with Go, npm ci, tsc); the image builds only copy (wrk's only runs apt).
# Quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[build-clients] %s\n' "$*" >&2; }

bash scripts/build-k6.sh

client=loadtests/client
stamp="$client/node_modules/.fiblab-lock"
if [[ ! -f "$stamp" ]] || ! cmp -s "$client/package-lock.json" "$stamp"; then
  log "npm ci --omit=dev in $client"
  (cd "$client" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
  cp "$client/package-lock.json" "$stamp"
fi
log "compiling the load client"
rm -rf "$client/dist"
npx --no-install tsc -p "$client/tsconfig.json"

log "building images fiblab/k6, fiblab/loadclient and fiblab/wrk"
docker compose --progress quiet --profile clients build k6 loadclient wrk
log "client images ready"
