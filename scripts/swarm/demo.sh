#!/usr/bin/env bash
# npm run swarm:demo [scenario]: bring the three-node swarm up, run the scenario (default smoke)
# on it through the Swarm engine (model and front on the server node, clients on the client
# nodes), archive the report under results/, and take the swarm down whatever happened.
set -euo pipefail
cd "$(dirname "$0")/../.."
scenario=${1:-loadtests/scenarios/smoke.yaml}
# FIBLAB_SETUP=0 skips setup (a checkout whose node_modules is shared with another must not npm ci).
[ "${FIBLAB_SETUP:-1}" = 0 ] || bash scripts/setup.sh
trap 'bash scripts/swarm/down.sh' EXIT
images=$(npx tsx scripts/swarm/demo.ts --images "$scenario")
# shellcheck disable=SC2086 # one image name per word
bash scripts/swarm/up.sh $images
npx tsx scripts/swarm/demo.ts "$scenario"
