#!/usr/bin/env bash
# npm run swarm:demo [scenario]: bring the three-node swarm up, run the scenario (default smoke)
# on it with `lab run --engine swarm` (model and front on the server node, clients on the client
# nodes), archived under results/<stamp>-<name>-swarm/, and take the swarm down whatever happened.
set -euo pipefail
cd "$(dirname "$0")/../.."
scenario=${1:-loadtests/scenarios/smoke.yaml}
# FIBLAB_SETUP=0 skips setup.
[ "${FIBLAB_SETUP:-1}" = 0 ] || bash scripts/setup.sh
# Refused before anything starts when the scenario asks what a swarm cannot do.
images=$(npx tsx orchestrator/src/cli.ts plan --engine swarm --images "$scenario")
trap 'bash scripts/swarm/down.sh' EXIT
# shellcheck disable=SC2086 # one image name per word
bash scripts/swarm/up.sh $images
npx tsx orchestrator/src/cli.ts run --engine swarm "$scenario"
