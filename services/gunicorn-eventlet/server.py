"""gunicorn-eventlet: the arbiter forks WORKERS eventlet workers (monkey-patched), each serving
up to 1000 connections as green threads (greenlets); fib blocks its worker's whole hub while it
computes, /sleep only its own green thread."""

from fiblab.gunicorn_base import run_green

if __name__ == "__main__":
    run_green("eventlet")
