#!/usr/bin/env bash
# Build fiblab's k6 on the host (no Go and no downloads inside image builds) into the k6 image's
# build context: loadtests/k6/bin/k6 (ignored by git). It is k6 (pinned in loadtests/k6/go.mod)
# plus our output extension loadtests/k6/hdrout (--out fiblab-hdr=...), assembled as xk6 does: a
# main package importing k6's cmd and the extension (loadtests/k6/cmd/k6), built with go build.
# Uses the host's Go settings as they are (modules come from the configured proxy, once).
# Idempotent: does nothing when the stamp (hash of the Go sources, go.mod, go.sum, the pinned k6
# version and the Go version) matches the binary's.
set -euo pipefail
cd "$(dirname "$0")/.."
K6_VERSION=v1.8.1
SRC="$PWD/loadtests/k6"
BIN_DIR="$SRC/bin"
STAMP="$BIN_DIR/.stamp"
log() { printf '[build-k6] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "go is required to build k6"; exit 1; }
grep -qE "^[[:space:]]*go\.k6\.io/k6 $K6_VERSION\$" "$SRC/go.mod" ||
  { log "loadtests/k6/go.mod does not require go.k6.io/k6 $K6_VERSION"; exit 1; }

stamp() {
  {
    echo "k6 $K6_VERSION"
    go env GOVERSION
    (cd "$SRC" && find . -path ./bin -prune -o -path ./vendor -prune -o -name testdata -prune -o \
      -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) ! -name '*_test.go' -print |
      LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -d' ' -f1
}
want="$(stamp)"
if [[ -x "$BIN_DIR/k6" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  log "k6 $K6_VERSION + fiblab-hdr present"
  exit 0
fi
mkdir -p "$BIN_DIR"
log "building k6 $K6_VERSION with the fiblab-hdr output (a few minutes the first time)"
tmp="$BIN_DIR/.k6.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(cd "$SRC" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp" ./cmd/k6)
"$tmp" version >&2
"$tmp" version 2>&1 | grep -q "fiblab-hdr" || { log "the built k6 does not list the fiblab-hdr extension"; exit 1; }
mv -f "$tmp" "$BIN_DIR/k6"
rm -f "$BIN_DIR/.version"
printf '%s\n' "$want" >"$STAMP"
