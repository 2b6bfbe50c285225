"""uwsgi: uWSGI's master forks WORKERS processes, each running THREADS threads, all accepting on
one shared socket. This script only starts uWSGI (it becomes this process); uwsgi.ini says how."""

import os

from fiblab.config import knob_int

if __name__ == "__main__":
    # uWSGI cannot read the knobs' defaults from model.json: they go on its command line.
    os.execvp(
        "uwsgi",
        [
            "uwsgi",
            "--ini",
            "/app/uwsgi.ini",
            "--processes",
            str(knob_int("WORKERS")),
            "--threads",
            str(knob_int("THREADS")),
            # HARAKIRI: seconds one request may take before the master kills its worker and
            # forks a new one (0: off, uWSGI's default).
            "--harakiri",
            str(knob_int("HARAKIRI")),
        ],
    )
