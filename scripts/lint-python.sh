#!/usr/bin/env bash
# Lint and format check of the Python services with Ruff (settings: services/ruff.toml).
# Installs the pinned Ruff from PyPI with pip when this version is missing.
set -euo pipefail
cd "$(dirname "$0")/../services"
RUFF_VERSION=0.17.6
log() { printf '[lint-python] %s\n' "$*" >&2; }

if [ "$(python3 -m ruff --version 2>/dev/null)" != "ruff $RUFF_VERSION" ]; then
  log "installing ruff $RUFF_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "ruff==$RUFF_VERSION"
fi
python3 -m ruff check .
python3 -m ruff format --check .
