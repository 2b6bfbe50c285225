"""gunicorn-gevent: the arbiter forks WORKERS gevent workers (monkey-patched), each serving
up to 1000 connections as greenlets; fib blocks its worker's whole hub while it computes."""

from fiblab.gunicorn_base import run_green

if __name__ == "__main__":
    run_green("gevent")
