# Names shared by scripts/swarm/*.sh (sourced, not run). Everything the swarm makes on the host
# carries the lab's role label (orchestrator/src/docker/labels.ts) with a swarm-* value, so
# swarm:down finds it by label, and run sweeps (fiblab.run) never touch it.
SWARM_PREFIX=${FIBLAB_SWARM_PREFIX:-fiblab-swarm}
SWARM_NODES=${FIBLAB_SWARM_NODES:-3}
SWARM_NETWORK=$SWARM_PREFIX
SWARM_REGISTRY=$SWARM_PREFIX-registry
SWARM_REGISTRY_ADDR=$SWARM_REGISTRY:5000
# Each node's API socket appears here on the host (no TCP port is opened for it).
SWARM_RUN_DIR=/run/$SWARM_PREFIX
ROLE_LABEL=fiblab.role
# Server-node ports the front is published on (orchestrator/src/engine/swarm-nodes.ts says the same).
FRONT_NODE_HTTP=18080
FRONT_NODE_TCP=18081
node_name() { printf '%s-%s' "$SWARM_PREFIX" "$1"; }
node_docker() { local node=$1; shift; docker exec "$node" docker "$@"; }
log() { printf '[swarm] %s\n' "$*" >&2; }
# Seconds since $start (set from $EPOCHREALTIME), one decimal.
elapsed() { awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
