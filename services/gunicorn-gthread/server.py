"""gunicorn-gthread: the arbiter forks WORKERS workers, each with a pool of THREADS threads;
idle keep-alive connections wait in the worker's poller, not in a thread.

gunicorn-gthread-ft runs this file on the free-threaded interpreter; each worker checks it
against the manifest (fiblab.gunicorn_base)."""

from fiblab.config import knob_int
from fiblab.gunicorn_base import KEEPALIVE_S, run

if __name__ == "__main__":
    run(
        worker_class="gthread",
        workers=knob_int("WORKERS"),
        threads=knob_int("THREADS"),
        keepalive=KEEPALIVE_S,
    )
