#!/usr/bin/env bash
# The interpreter base images of the models that do not run on Debian 13's python3
# (services/python/Dockerfile), each built once per machine: an image whose `fiblab.inputs`
# label matches the hash of what it is built from (that Dockerfile, this script, the base image)
# is kept, anything else is rebuilt. Progress is docker build's plain output.
#
#   scripts/build-interpreters.sh                 fiblab/python314 (Debian's 3.14 package: a minute)
#   scripts/build-interpreters.sh --freethreaded  also fiblab/python-ft and fiblab/python-gil:
#                                                 CPython compiled twice from Debian's source
#                                                 package (about 10 minutes on two cores)
#   --force                                       rebuild even when the stamps match
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[interpreters] %s\n' "$*" >&2; }
BASE_IMAGE=${BASE_IMAGE:-debian:trixie-slim}
targets=(deb314:fiblab/python314)
force=0
for arg in "$@"; do
  case "$arg" in
    --freethreaded) targets+=(ft:fiblab/python-ft gil:fiblab/python-gil) ;;
    --force) force=1 ;;
    *) echo "usage: $0 [--freethreaded] [--force]" >&2; exit 2 ;;
  esac
done

bash scripts/base-image.sh
base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")
inputs=$(cat services/python/Dockerfile scripts/build-interpreters.sh <(echo "$base_id") | sha256sum | cut -c1-16)
stamp() { docker image inspect -f '{{index .Config.Labels "fiblab.inputs"}}' "$1" 2>/dev/null || true; }

for pair in "${targets[@]}"; do
  target=${pair%%:*} image=${pair#*:}
  if [ $force = 0 ] && [ "$(stamp "$image:latest")" = "$inputs" ]; then
    log "$image is up to date"
    continue
  fi
  case $target in
    deb314) log "building $image: Debian's python3.14 package" ;;
    *) log "building $image: CPython compiled from Debian's source package (several minutes; plain progress follows)" ;;
  esac
  t0=$(date +%s)
  DOCKER_BUILDKIT=1 docker build --progress plain --target "$target" \
    --build-arg BASE_IMAGE="$BASE_IMAGE" --label fiblab.inputs="$inputs" \
    -t "$image:latest" services/python
  log "$image built in $(( $(date +%s) - t0 )) s: $(docker run --rm "$image:latest" python3 -c 'import sys; print(sys.version.split()[0], "gil=%d" % sys._is_gil_enabled())'), $(( $(docker image inspect -f '{{.Size}}' "$image:latest") / 1000000 )) MB"
done
