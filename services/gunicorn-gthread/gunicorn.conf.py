"""gunicorn-gthread: the arbiter forks WORKERS workers, each with a pool of THREADS threads;
idle keep-alive connections wait in the worker's poller, not in a thread."""
from fiblab.config import THREADS, WORKERS

bind = "0.0.0.0:8000"
backlog = 4096
workers = WORKERS
worker_class = "gthread"
threads = THREADS
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
