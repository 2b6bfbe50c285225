"""gunicorn-gevent: the arbiter forks WORKERS gevent workers (monkey-patched), each serving
up to 1000 connections as greenlets; fib blocks its worker's whole hub while it computes."""
from fiblab.config import WORKERS

bind = "0.0.0.0:8000"
backlog = 4096
workers = WORKERS
worker_class = "gevent"
worker_connections = 1000
# Longer than the front keeps an idle upstream connection (nginx: 60 s), so the front never
# sends a request on a connection that we are closing.
keepalive = 75

# The root filesystem is read-only: the workers' heartbeat files go to the /tmp tmpfs.
worker_tmp_dir = "/tmp"
# A fib(35) under a tight CPU limit takes seconds: the arbiter must not kill the worker for it.
timeout = 120
graceful_timeout = 3  # inside compose's 5 s stop grace period
accesslog = None  # a log line per request would cost more than some requests
errorlog = "-"
