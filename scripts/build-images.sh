#!/usr/bin/env bash
# Build every image the lab uses: the front, each model, the load clients.
# Docker's layer cache makes a second run take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[build-images] %s\n' "$*" >&2; }

bash scripts/base-image.sh
bash scripts/build-clients.sh
log "building front and models"
services=$(docker compose --profile '*' config --services | grep -v -x -e k6 -e loadclient)
docker compose --progress quiet --profile '*' build $services
log "images ready"
