#!/usr/bin/env bash
# npm run swarm:down: remove the swarm's nodes, registry, volumes, network and API sockets.
# Everything is found by label and by the swarm's name (FIBLAB_SWARM_PREFIX), so this also clears
# what a failed swarm:up left, leaves a swarm of another name alone, and is safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/swarm/common.sh
# Names of this swarm: <prefix> (the network), <prefix>-registry, <prefix>-<n>.
mine() { grep -E "^/?$SWARM_PREFIX(-registry|-[0-9]+)?\$" || true; }
for role in swarm-node swarm-registry; do
  ids=$(docker ps -a --filter "label=$ROLE_LABEL=$role" --format '{{.Names}}' | mine)
  [ -z "$ids" ] || docker rm -f -v $ids >/dev/null
  vols=$(docker volume ls --filter "label=$ROLE_LABEL=$role" --format '{{.Name}}' | mine)
  [ -z "$vols" ] || docker volume rm $vols >/dev/null
done
nets=$(docker network ls --filter "label=$ROLE_LABEL=swarm-network" --format '{{.Name}}' | mine)
[ -z "$nets" ] || docker network rm $nets >/dev/null
rm -rf "$SWARM_RUN_DIR"
log "down: no node, registry, volume or network of $SWARM_PREFIX left"
