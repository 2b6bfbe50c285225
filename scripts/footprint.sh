#!/usr/bin/env bash
# Prints, per model: image size, time from `up` to healthy, and idle memory and process count
# after it settles. A benchmark (figures to read), not a test. Usage: scripts/footprint.sh [model...]
set -euo pipefail
cd "$(dirname "$0")/.."
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  mapfile -t models < <(for f in services/*/model.json; do basename "$(dirname "$f")"; done)
fi
project=fiblab-footprint
trap 'docker compose -p $project --profile "*" down --timeout 5 >/dev/null 2>&1 || true' EXIT
printf '%-20s %10s %10s %12s %6s\n' model image_MB up_s idle_MiB pids
for m in "${models[@]}"; do
  # A model on the free-threaded interpreter has no image until `npm run setup -- --freethreaded`.
  if ! size=$(docker image inspect -f '{{.Size}}' "fiblab/$m:latest" 2>/dev/null); then
    printf '%-20s (no image fiblab/%s:latest: not built on this machine)\n' "$m" "$m"
    continue
  fi
  start=$(date +%s.%N)
  COMPOSE_PROJECT_NAME=$project FRONT_HTTP_PORT=0 FRONT_TCP_PORT=0 UPSTREAM_KEEPALIVE=0 \
    docker compose --profile "$m" up -d --wait --no-build >/dev/null 2>&1
  up=$(awk -v a="$start" -v b="$(date +%s.%N)" "BEGIN{print b-a}")
  sleep 3
  read -r mem pids < <(docker stats --no-stream --format '{{.MemUsage}} {{.PIDs}}' "$project-$m-1" | awk '{print $1, $NF}')
  printf '%-20s %10.0f %10.1f %12s %6s\n' "$m" "$((size / 1000000))" "$up" "$mem" "$pids"
  docker compose -p $project --profile "$m" down --timeout 5 >/dev/null 2>&1
done
