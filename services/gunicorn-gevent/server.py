"""gunicorn-gevent: the arbiter forks WORKERS gevent workers (monkey-patched), each serving
up to 1000 connections as greenlets; fib blocks its worker's whole hub while it computes."""

from fiblab.config import knob_int
from fiblab.gunicorn_base import KEEPALIVE_S, run

if __name__ == "__main__":
    run(
        worker_class="gevent",
        workers=knob_int("WORKERS"),
        worker_connections=1000,
        keepalive=KEEPALIVE_S,
    )
