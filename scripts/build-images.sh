#!/usr/bin/env bash
# Build every image the lab uses: the front, each model, the load clients.
# Docker's layer cache makes a second run take seconds.
#
# Models on another interpreter (build arg PYTHON, services/python/model.Dockerfile) need its
# base image: fiblab/python314 (Debian's 3.14 package) is built here every time it is missing;
# the free-threaded CPython (fiblab/python-ft, and fiblab/python-gil beside it) is a compile of
# several minutes, built only when asked: `--freethreaded` (npm run setup -- --freethreaded) or
# FIBLAB_FREETHREADED=1. Without it the models on it are left out, loudly; once built, it is
# kept (scripts/build-interpreters.sh) and its models are built like any other.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[build-images] %s\n' "$*" >&2; }
freethreaded=${FIBLAB_FREETHREADED:-0}
for arg in "$@"; do
  case "$arg" in
    --freethreaded) freethreaded=1 ;;
    *) echo "usage: $0 [--freethreaded]" >&2; exit 2 ;;
  esac
done

bash scripts/base-image.sh
bash scripts/build-clients.sh
if [ "$freethreaded" = 1 ]; then bash scripts/build-interpreters.sh --freethreaded; else bash scripts/build-interpreters.sh; fi
log "building front and models"
services=()
skipped=()
while read -r service python; do
  if [ -n "$python" ] && ! docker image inspect "fiblab/$python:latest" >/dev/null 2>&1; then
    skipped+=("$service")
  else
    services+=("$service")
  fi
done < <(docker compose --profile '*' config --format json | node -e '
  const config = JSON.parse(require("fs").readFileSync(0, "utf8"));
  for (const [name, service] of Object.entries(config.services)) {
    if (name === "k6" || name === "loadclient") continue;
    console.log(name, service.build?.args?.PYTHON ?? "");
  }')
docker compose --progress quiet --profile '*' build "${services[@]}"
if [ ${#skipped[@]} -gt 0 ]; then
  log "NOT built: ${skipped[*]}: the free-threaded interpreter is not built on this machine (npm run setup -- --freethreaded)"
fi
log "images ready"
