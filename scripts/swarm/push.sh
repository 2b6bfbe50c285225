#!/usr/bin/env bash
# scripts/swarm/push.sh image ...: push lab images to the swarm's registry (through its port on
# 127.0.0.1, which the host's engine trusts without TLS), then pull them onto the nodes that run
# them (load clients onto client nodes, the rest onto server nodes) under their usual names
# (fiblab/<name>:latest), so stacks and client containers name them as compose does and no node
# ever looks for them elsewhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/swarm/common.sh
port=$(docker port "$SWARM_REGISTRY" 5000/tcp | head -1 | sed 's/.*://')
for _ in $(seq 1 40); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.25; done
for image in "$@"; do
  ref=${image%:latest}:latest
  docker tag "$ref" "127.0.0.1:$port/$ref"
  docker push -q "127.0.0.1:$port/$ref" >/dev/null
  docker rmi "127.0.0.1:$port/$ref" >/dev/null
done
pull_all() {
  local node=$1
  for image in "${@:2}"; do
    ref=${image%:latest}:latest
    node_docker "$node" pull -q "$SWARM_REGISTRY_ADDR/$ref" >/dev/null
    node_docker "$node" tag "$SWARM_REGISTRY_ADDR/$ref" "$ref"
  done
}
is_client_image() { case "$1" in fiblab/k6* | fiblab/loadclient* | fiblab/wrk*) return 0 ;; *) return 1 ;; esac; }
pids=()
for n in $(seq 1 "$SWARM_NODES"); do
  node=$(node_name "$n")
  role=$(node_docker "$(node_name 1)" node inspect -f "{{index .Spec.Labels \"$ROLE_LABEL\"}}" "$node")
  mine=()
  for image in "$@"; do
    if is_client_image "$image"; then [ "$role" = client ] && mine+=("$image"); else [ "$role" = server ] && mine+=("$image"); fi
  done
  if [ ${#mine[@]} -gt 0 ]; then pull_all "$node" "${mine[@]}" & pids+=($!); fi
done
for p in "${pids[@]}"; do wait "$p"; done
log "images on the nodes that run them: $*"
