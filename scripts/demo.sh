#!/usr/bin/env bash
# The main job in one command: setup if missing, then the smoke sweep, ending in an archived report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx tsx orchestrator/src/cli.ts run "${1:-loadtests/scenarios/smoke.yaml}"
