"""gunicorn-gthread-ft: gunicorn-gthread on the free-threaded interpreter (fiblab/python-ft).

The arbiter forks WORKERS workers, each with a pool of THREADS threads; idle keep-alive
connections wait in the worker's poller, not in a thread. Without the GIL a worker's threads
compute in parallel. gunicorn is Debian's package, its pure-Python modules copied onto the
interpreter's path; each worker refuses to boot if the GIL is on (fiblab.gunicorn_base), and
the arbiter then halts."""

from fiblab.config import knob_int
from fiblab.gunicorn_base import KEEPALIVE_S, run

if __name__ == "__main__":
    run(
        worker_class="gthread",
        workers=knob_int("WORKERS"),
        threads=knob_int("THREADS"),
        keepalive=KEEPALIVE_S,
    )
