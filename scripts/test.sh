#!/usr/bin/env bash
# The test suite: setup if missing, then Python unit tests, type check, lint, and every vitest
# project (unit tests of pure logic, integration tests against real containers).
# Extra arguments go to vitest, e.g. `npm test -- --project unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The whole suite covers every model, the free-threaded ones too: their interpreter is built once
# per machine (about 10-17 minutes cold), which the demo never waits for.
bash scripts/setup.sh --freethreaded
bash scripts/setup-browser.sh  # Chromium for the page tests only, so the demo does not wait for it
echo "== python unit tests (services/fiblab)"
(cd services && python3 -m pytest -q -p no:cacheprovider fiblab/tests)
echo "== node unit tests (services/node-common)"
node --test services/node-common/test/
echo "== go unit tests (the k6 output extension, loadtests/k6/hdrout)"
(cd loadtests/k6 && go test ./hdrout/)
echo "== go tests (the k8s export validator, loadtests/k8s-validate)"
(cd loadtests/k8s-validate && go test ./...)
echo "== type check"
npx tsc -p tsconfig.json --noEmit
echo "== lint (ESLint, Prettier, Ruff)"
npm run -s lint
echo "== findings (every figure FINDINGS.md quotes, against the run it cites)"; npm run -s findings:check
echo "== vitest"
npx vitest run "$@"
