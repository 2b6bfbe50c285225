"""gunicorn-sync: the arbiter forks WORKERS sync workers; each serves one request at a time
and closes the connection after it (the sync class does no keep-alive)."""

from fiblab.config import knob_int
from fiblab.gunicorn_base import run

if __name__ == "__main__":
    run(worker_class="sync", workers=knob_int("WORKERS"))
