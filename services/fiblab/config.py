"""Knobs, read once from the environment at import.

A malformed knob fails loudly at start-up: a lab run with a silently ignored setting would
measure something other than what its scenario says.
"""
import os

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


FIB_MAX = env_int("FIB_MAX", 35)
SLEEP_MAX_MS = env_int("SLEEP_MAX_MS", 10000)
WORKERS = env_int("WORKERS", 2)
THREADS = env_int("THREADS", 4)
# Seconds a keep-alive connection may stay silent before a blocking model closes it, so an
# idle client cannot pin a worker that serves one connection at a time.
IDLE_TIMEOUT_S = env_int("IDLE_TIMEOUT_S", 5)
# Overridable so the models can run on a host next to other things (tests, local runs).
HTTP_PORT = env_int("HTTP_PORT", 8000)
TCP_PORT = env_int("TCP_PORT", 25000)
