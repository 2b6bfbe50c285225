#!/usr/bin/env bash
# Everything the lab needs before a run or a test: npm dependencies, a Docker engine, images.
# Idempotent: each step checks first, so a second run takes seconds.
#
#   --freethreaded   also build the free-threaded CPython and its models (a compile of several
#                    minutes, once per machine; FIBLAB_FREETHREADED=1 does the same)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }
start=$(date +%s)
build_args=()
for arg in "$@"; do
  case "$arg" in
    --freethreaded) build_args+=(--freethreaded) ;;
    *) echo "usage: $0 [--freethreaded]" >&2; exit 2 ;;
  esac
done

# A node_modules that is a link is another checkout's install (a git worktree sharing it): npm ci
# here would empty it under that checkout too, so it is left to its owner. Otherwise install when
# it is missing or the lock file's content differs from what npm last installed (not by mtime: a
# checkout or a merge touches the lock file without changing it).
lock_changed() {
  [ ! -f node_modules/.package-lock.json ] && return 0
  # Same versions both ways; optional packages of other platforms are in the lock file only.
  node -e '
    const fs = require("fs");
    const load = (f) => JSON.parse(fs.readFileSync(f, "utf8")).packages ?? {};
    const lock = load("package-lock.json"), installed = load("node_modules/.package-lock.json");
    const same = (k) => lock[k]?.version === installed[k]?.version;
    const wanted = Object.keys(lock).filter((k) => k !== "" && !lock[k].optional);
    process.exit(wanted.every(same) && Object.keys(installed).every(same) ? 1 : 0);
  '
}
if [ -L node_modules ]; then
  log "node_modules is a link to a shared install: not installing"
elif [ ! -d node_modules ] || lock_changed; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/setup-engine.sh
bash scripts/build-images.sh "${build_args[@]}"
log "ready in $(( $(date +%s) - start )) s"
