"""The interpreter a model runs on, held to what its manifest declares.

A model whose model.json has an "interpreter" entry (the models on fiblab/python-ft,
fiblab/python-gil or fiblab/python314) declares the Python version and whether the GIL is on:

    "interpreter": { "image": "fiblab/python-ft", "version": "3.13", "gil": false }

Such a model refuses to start when the running interpreter disagrees (require(), called once
the server has imported everything it will use: an extension module without free-threading
support re-enables the GIL when it is imported, and a PYTHON_GIL=1 in the environment does
so from the start), and every reply it makes carries `X-Python: <version> gil=<0|1>`, read when
the reply is made, so a run cannot silently measure another interpreter. Models that declare
nothing are untouched: no header, no check.
"""

import platform
import sys

from . import config


def gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)  # 3.13+; before that there is always a GIL
    return True if check is None else bool(check())


def report() -> str:
    """What runs here, as X-Python says it: "3.13.5 gil=0"."""
    return f"{platform.python_version()} gil={int(gil_enabled())}"


def declared():
    """The manifest's "interpreter" entry, or None (also when there is no manifest at all)."""
    try:
        return config.manifest().get("interpreter")
    except FileNotFoundError:
        return None


def mismatch(spec: dict) -> str:
    """Why the running interpreter is not the declared one; empty when it is."""
    problems = []
    version = str(spec.get("version", ""))
    actual = platform.python_version()
    if version and actual != version and not actual.startswith(version + "."):
        problems.append(f"Python {actual}, not {version}")
    if "gil" in spec and bool(spec["gil"]) != gil_enabled():
        problems.append(f"the GIL is {'on' if gil_enabled() else 'off'}")
    return "; ".join(problems)


def require(code: int = 78) -> None:
    """Exit with `code` (78, EX_CONFIG) unless the running interpreter is the declared one."""
    spec = declared()
    if spec is None:
        return
    if problem := mismatch(spec):
        print(
            f"fiblab: refusing to start: the manifest declares {spec}, but here {problem} "
            f"({sys.version}); loaded modules that may have re-enabled the GIL: "
            f"{sorted(m for m in sys.modules if '.' not in m and not m.startswith('_'))}",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(code)


def banner(what: str) -> str:
    """A server's start-up line, "<model>: <what>", naming the interpreter where the manifest
    declares one: a model on another interpreter runs its neighbour's server.py (the image's
    SOURCE folder), so the model's name comes from the manifest, not from the file."""
    line = f"{config.manifest()['name']}: {what}"
    return f"{line}, Python {report()}" if REPORTS else line


HEADER = "X-Python"
# Whether replies carry the header: only for models that declare an interpreter.
REPORTS = declared() is not None
