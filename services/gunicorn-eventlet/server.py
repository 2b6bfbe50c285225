"""gunicorn-eventlet: the arbiter forks WORKERS eventlet workers (monkey-patched), each serving
up to 1000 connections as green threads (greenlets); fib blocks its worker's whole hub while it
computes, /sleep only its own green thread."""

from fiblab.config import knob_int
from fiblab.gunicorn_base import KEEPALIVE_S, run

if __name__ == "__main__":
    run(
        worker_class="eventlet",
        workers=knob_int("WORKERS"),
        worker_connections=1000,
        keepalive=KEEPALIVE_S,
    )
