"""gunicorn for the gunicorn models: the settings they share, and run(), which starts the
arbiter in this process (as the gunicorn command would) with a model's own settings on top."""

import os

from gunicorn.app.base import BaseApplication

from .config import knob_bool, knob_int
from .net import log

SHARED = {
    "bind": "0.0.0.0:8000",
    "backlog": 4096,
    # The root filesystem is read-only: the workers' heartbeat files go to the /tmp tmpfs.
    "worker_tmp_dir": "/tmp",
    "graceful_timeout": 3,  # inside compose's 5 s stop grace period
    "accesslog": None,  # a log line per request would cost more than some requests
    "errorlog": "-",
}
# Longer than the front keeps an idle upstream connection (nginx: 60 s), so the front never
# sends a request on a connection that we are closing. (The sync class does no keep-alive.)
KEEPALIVE_S = 75


class _Server(BaseApplication):
    def __init__(self, settings: dict):
        self.settings = settings
        super().__init__()

    def load_config(self):
        for name, value in self.settings.items():
            self.cfg.set(name, value)

    def load(self):
        # Imported here, in each worker, as the gunicorn command does: the gevent class
        # monkey-patches a worker before it loads the app. With PRELOAD=1 (--preload) gunicorn
        # calls this once, in the arbiter, before it forks: the workers share the app's pages
        # copy-on-write, and it is imported before the green classes monkey-patch.
        from .interpreter import require
        from .wsgi import application

        # The one line that shows where the app was loaded: the arbiter's pid with PRELOAD=1,
        # each worker's pid otherwise (tests compare it with gunicorn's "[pid]" prefix).
        log(f"app loaded in pid {os.getpid()}")

        # In each worker, after its class has imported what it uses: the interpreter must be the
        # one the manifest declares. Exit status 4 is gunicorn's APP_LOAD_ERROR, on which the
        # arbiter halts instead of forking a replacement that would fail the same way.
        require(code=4)
        return application


def run(**settings) -> None:
    # TIMEOUT (the model's knob, default 120 s): a worker silent for longer is killed and
    # replaced by the arbiter (hang detection). A fib(35) under a tight CPU limit takes seconds,
    # so the default must not kill a worker for it.
    # PRELOAD (default 0): --preload, the app imported in the arbiter before it forks.
    _Server(
        {**SHARED, "timeout": knob_int("TIMEOUT"), "preload_app": knob_bool("PRELOAD"), **settings}
    ).run()


def run_green(worker_class: str) -> None:
    """The green-thread classes (gevent, eventlet): WORKERS workers, each serving up to 1000
    connections, with keep-alive."""
    run(
        worker_class=worker_class,
        workers=knob_int("WORKERS"),
        worker_connections=1000,
        keepalive=KEEPALIVE_S,
    )
