#!/usr/bin/env bash
# npm run swarm:down: remove the swarm's nodes, registry, volumes, network and API sockets.
# Everything is found by label, so this also clears what a failed swarm:up left; safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/swarm/common.sh
for role in swarm-node swarm-registry; do
  ids=$(docker ps -aq --filter "label=$ROLE_LABEL=$role")
  [ -z "$ids" ] || docker rm -f -v $ids >/dev/null
  vols=$(docker volume ls -q --filter "label=$ROLE_LABEL=$role")
  [ -z "$vols" ] || docker volume rm $vols >/dev/null
done
nets=$(docker network ls -q --filter "label=$ROLE_LABEL=swarm-network")
[ -z "$nets" ] || docker network rm $nets >/dev/null
rm -rf "$SWARM_RUN_DIR"
log "down: no swarm node, registry, volume or network left"
