#!/usr/bin/env bash
# npm run swarm:up [-- image ...]: a three-node Docker swarm on this machine, for tests and demos.
# Nodes are privileged Docker-in-Docker containers (Debian's docker.io, /var/lib/docker on a
# volume each); node 1 is the manager and the server node (fiblab.role=server), the others are
# client nodes. A registry container (Debian's docker-registry) on the swarm's own network serves
# the lab's images to the nodes; the images given (default: the smoke scenario's model, the
# front and the load clients) are pushed to it and pulled onto the nodes that run them.
# Idempotent: what already runs is kept. `npm run swarm:down` removes everything.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/swarm/common.sh
start=$EPOCHREALTIME
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(fiblab/py-threads fiblab/front fiblab/k6 fiblab/loadclient)
for i in "${images[@]}"; do
  docker image inspect "$i" >/dev/null 2>&1 || { echo "swarm:up: image $i is not built (npm run setup)" >&2; exit 1; }
done

bash scripts/base-image.sh
log "building the node and registry images"
docker build -q --build-arg BASE_IMAGE="${BASE_IMAGE:-debian:trixie-slim}" -t fiblab/swarm-node:latest -f scripts/swarm/node.Dockerfile scripts/swarm >/dev/null
docker build -q --build-arg BASE_IMAGE="${BASE_IMAGE:-debian:trixie-slim}" -t fiblab/swarm-registry:latest -f scripts/swarm/registry.Dockerfile scripts/swarm >/dev/null

docker network inspect "$SWARM_NETWORK" >/dev/null 2>&1 ||
  docker network create --label "$ROLE_LABEL=swarm-network" "$SWARM_NETWORK" >/dev/null

running() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }

if ! running "$SWARM_REGISTRY"; then
  docker rm -f "$SWARM_REGISTRY" >/dev/null 2>&1 || true
  docker volume create --label "$ROLE_LABEL=swarm-registry" "$SWARM_REGISTRY" >/dev/null
  docker run -d --name "$SWARM_REGISTRY" --label "$ROLE_LABEL=swarm-registry" --network "$SWARM_NETWORK" \
    -p 127.0.0.1::5000 -v "$SWARM_REGISTRY:/var/lib/docker-registry" fiblab/swarm-registry:latest >/dev/null
fi

for n in $(seq 1 "$SWARM_NODES"); do
  node=$(node_name "$n")
  running "$node" && continue
  docker rm -f "$node" >/dev/null 2>&1 || true
  docker volume create --label "$ROLE_LABEL=swarm-node" "$node" >/dev/null
  mkdir -p "$SWARM_RUN_DIR/$node"
  # The server node forwards the ports the front is published on (host mode) to 127.0.0.1 here,
  # so the orchestrator verifies a cell exactly as it does on one machine.
  forward=(); [ "$n" = 1 ] && forward=(-p "127.0.0.1::$FRONT_NODE_HTTP" -p "127.0.0.1::$FRONT_NODE_TCP")
  docker run -d --privileged "${forward[@]}" --name "$node" --hostname "$node" --label "$ROLE_LABEL=swarm-node" \
    --network "$SWARM_NETWORK" -e FIBLAB_REGISTRY="$SWARM_REGISTRY_ADDR" \
    -v "$node:/var/lib/docker" -v "$SWARM_RUN_DIR/$node:/run/fiblab-api" fiblab/swarm-node:latest >/dev/null
done
for n in $(seq 1 "$SWARM_NODES"); do
  node=$(node_name "$n")
  for _ in $(seq 1 120); do node_docker "$node" info >/dev/null 2>&1 && break; sleep 0.5; done
  node_docker "$node" info >/dev/null || { log "$node: the engine did not start"; docker logs --tail 20 "$node" >&2; exit 1; }
done
log "engines up after $(elapsed) s"

manager=$(node_name 1)
if [ "$(node_docker "$manager" info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
  addr=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$SWARM_NETWORK\").IPAddress}}" "$manager")
  node_docker "$manager" swarm init --advertise-addr "$addr" >/dev/null
fi
token=$(node_docker "$manager" swarm join-token -q worker)
maddr=$(node_docker "$manager" info -f '{{.Swarm.NodeAddr}}')
for n in $(seq 2 "$SWARM_NODES"); do
  node=$(node_name "$n")
  [ "$(node_docker "$node" info -f '{{.Swarm.LocalNodeState}}')" = active ] && continue
  node_docker "$node" swarm join --token "$token" "$maddr:2377" >/dev/null
done
for n in $(seq 1 "$SWARM_NODES"); do
  role=client; [ "$n" = 1 ] && role=server
  node_docker "$manager" node update --label-add "$ROLE_LABEL=$role" "$(node_name "$n")" >/dev/null
done
log "swarm formed after $(elapsed) s"

bash scripts/swarm/push.sh "${images[@]}"
log "up in $(elapsed) s: $(node_docker "$manager" node ls --format '{{.Hostname}}' | paste -sd' ')"
