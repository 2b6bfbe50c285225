"""gunicorn-sync: the arbiter forks WORKERS sync workers; each serves one request at a time
and closes the connection after it (the sync class does no keep-alive)."""
from fiblab.config import WORKERS

bind = "0.0.0.0:8000"
backlog = 4096
workers = WORKERS
worker_class = "sync"

# The root filesystem is read-only: the workers' heartbeat files go to the /tmp tmpfs.
worker_tmp_dir = "/tmp"
# A fib(35) under a tight CPU limit takes seconds: the arbiter must not kill the worker for it.
timeout = 120
graceful_timeout = 3  # inside compose's 5 s stop grace period
accesslog = None  # a log line per request would cost more than some requests
errorlog = "-"
