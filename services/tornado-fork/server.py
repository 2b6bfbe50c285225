"""tornado-fork: Tornado's own pre-fork master, tornado.process.fork_processes.

The parent opens the listening sockets, then fork_processes(WORKERS) forks that many children
and stays behind as their master: it waits for them and forks a replacement for any that dies
abnormally (up to 100 times); it serves nothing. Each child returns from fork_processes and runs
an IOLoop of its own on the shared sockets, as the tornado model does: fib blocks that child's
loop only, so up to WORKERS requests compute at once.

fork_processes installs no signal handling: as PID 1 the parent would ignore SIGTERM. So it
forwards SIGTERM to its process group (the children), waits a moment for them, and exits.
"""

import os
import signal
import time

import tornado.process

from fiblab import config
from fiblab.net import log
from fiblab.tornado_base import listen, serve

STOP_GRACE_S = 3.0  # compose allows 5 s between SIGTERM and SIGKILL


def stop_children(signum, frame):
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, signal.SIG_IGN)  # the killpg below reaches this process too
    log(f"{signal.Signals(signum).name}: stopping the workers")
    os.killpg(0, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                time.sleep(0.05)
        except ChildProcessError:
            break
    raise SystemExit(0)


def main():
    workers = config.knob_int("WORKERS")
    http, tcp = listen()  # before the fork: every child accepts on the same sockets
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, stop_children)
    log(f"tornado-fork master: fork_processes({workers})")
    task = tornado.process.fork_processes(workers)  # returns only in the children
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, signal.SIG_DFL)  # until the child's loop takes them over
    serve(http, tcp, f"tornado-fork worker {task}: an IOLoop on the shared sockets")


if __name__ == "__main__":
    main()
