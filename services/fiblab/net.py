"""Sockets and process life: what every model does around serving.

Listening sockets on HTTP_PORT (8000) and TCP_PORT (25000), accepting, closing after an error
without losing the error reply, exiting on SIGTERM, and a log line format.
"""

import os
import signal
import socket
import sys
import time

from . import config
from .core import worker_id

HTTP, TCP = "http", "tcp"
BACKLOG = 1024


def log(message: str) -> None:
    # print, not logging: logging takes locks, and a lock held across fork() deadlocks the child.
    print(f"{time.strftime('%H:%M:%S')} {worker_id()} {message}", file=sys.stderr, flush=True)


def open_listener(
    port: int, host: str = "0.0.0.0", reuseport: bool = False, backlog: int = BACKLOG
) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A restarted server may bind at once, even with old connections in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        # Several sockets on one port; the kernel spreads new connections over them by hash.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def open_listeners(reuseport: bool = False) -> dict:
    """{listening socket: HTTP or TCP} for the two ports every model serves."""
    return {
        open_listener(config.HTTP_PORT, reuseport=reuseport): HTTP,
        open_listener(config.TCP_PORT, reuseport=reuseport): TCP,
    }


def accept(listener: socket.socket) -> socket.socket:
    conn, _ = listener.accept()
    # Replies are small writes; Nagle's algorithm would hold one back until the previous is
    # acknowledged, and delayed ACKs turn that into tens of milliseconds.
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def linger_close(sock: socket.socket, timeout: float = 1.0, limit: int = 64 * 1024) -> None:
    """Close after an error reply. close() with unread input sends a RST, which can destroy the
    reply before the client reads it; so send FIN, drain the input briefly, then close."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while limit > 0 and time.monotonic() < deadline:
            data = sock.recv(min(limit, 65536))
            if not data:
                break
            limit -= len(data)
    except OSError:
        pass
    sock.close()


def _exit(signum, frame):
    raise SystemExit(0)


def exit_on_signals(*signums) -> None:
    """SIGTERM (docker stop) and SIGINT raise SystemExit in the main thread.

    A blocking accept or select is interrupted at once, finally blocks run, the process exits
    0. Needed: as PID 1 in a container, a process without a handler ignores SIGTERM and is
    killed only when the grace period ends.
    """
    for signum in signums or (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit)


def reset_signals_in_child() -> None:
    """In a forked child: default dispositions again, so SIGTERM from the parent just ends it,
    and nothing blocked. TTIN/TTOU are ignored: they are for a master, and their default
    action would stop (freeze) the process."""
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    for signum in (signal.SIGTTIN, signal.SIGTTOU):
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def child_exit_status(status: int) -> str:
    """waitpid's status as words, for the log."""
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
