#!/usr/bin/env bash
# Build the k6 binary on the host (no Go inside image builds) into the k6 image's build context:
# loadtests/k6/bin/k6 (ignored by git). Uses the host's Go settings as they are.
# Idempotent: does nothing when the binary of the pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
K6_VERSION="${K6_VERSION:-v1.8.1}"
BIN_DIR="$PWD/loadtests/k6/bin"
STAMP="$BIN_DIR/.version"
log() { printf '[build-k6] %s\n' "$*" >&2; }

if [[ -x "$BIN_DIR/k6" && -f "$STAMP" && "$(cat "$STAMP")" == "$K6_VERSION" ]]; then
  log "k6 $K6_VERSION present"
  exit 0
fi
command -v go >/dev/null || { log "go is required to build k6"; exit 1; }
mkdir -p "$BIN_DIR"
log "building k6 $K6_VERSION (a few minutes the first time)"
GOBIN="$BIN_DIR" CGO_ENABLED=0 go install -trimpath -ldflags='-s -w' "go.k6.io/k6@$K6_VERSION"
printf '%s\n' "$K6_VERSION" >"$STAMP"
"$BIN_DIR/k6" version >&2
