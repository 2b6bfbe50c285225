"""Knobs: environment variables, read at start-up.

A model's knobs have their defaults in its manifest, model.json (the one place they are
written; the orchestrator and docker-compose.yml follow it). The image copies the manifest beside
this package, as /app/model.json; a server run by hand finds the one beside its script.

A malformed knob fails loudly at start-up: a lab run with a silently ignored setting would
measure something other than what its scenario says.
"""

import functools
import json
import os
import sys

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def _read_manifest() -> dict:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = os.path.dirname(os.path.abspath(sys.argv[0])) if sys.argv and sys.argv[0] else here
    for folder in (here, script):
        path = os.path.join(folder, "model.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as file:
                return json.load(file)
    raise FileNotFoundError(f"no model.json in {here} or {script}: the knobs' defaults live there")


@functools.cache
def manifest() -> dict:
    """This model's model.json, beside the package (/app) or beside the server's script."""
    return _read_manifest()


@functools.cache
def manifest_knobs() -> dict:
    return _read_manifest().get("knobs", {})


def default(name: str):
    knobs = manifest_knobs()
    if name not in knobs:
        raise KeyError(f"model.json lists no knob {name}")
    return knobs[name]["default"]


def knob_int(name: str) -> int:
    """A knob of this model: the environment's value, else its manifest's default."""
    return env_int(name, int(default(name)))


def knob_bool(name: str) -> bool:
    return env_bool(name, bool(default(name)))


# Contract-wide limits, the same for every model (docs/DESIGN.md), so in no manifest.
FIB_MAX = env_int("FIB_MAX", 35)
SLEEP_MAX_MS = env_int("SLEEP_MAX_MS", 10000)
# Seconds a keep-alive connection may stay silent before a blocking model closes it, so an
# idle client cannot pin a worker that serves one connection at a time.
IDLE_TIMEOUT_S = env_int("IDLE_TIMEOUT_S", 5)
# Overridable so the models can run on a host next to other things (tests, local runs).
HTTP_PORT = env_int("HTTP_PORT", 8000)
TCP_PORT = env_int("TCP_PORT", 25000)
