"""Serving one accepted connection to its end, for the models that block on it.

py-sync, py-threads, py-threads-pool, py-fork and py-prefork differ only in what runs this:
the accepting loop itself, a new thread, a forked child, or a pre-forked worker.
"""

import itertools
import selectors
import threading
import time
import traceback

from . import config
from .core import Compute, Sleep, fib, worker_id
from .net import HTTP, accept, linger_close, log
from .session import session_for


def perform(action, compute=fib):
    """A step's action, right here: compute(n) -> int, or a sleep."""
    match action:
        case Compute(n):
            return compute(n)
        case Sleep(ms):
            time.sleep(ms / 1000)


def converse(sock, session, compute=fib) -> None:
    """Serve one connection until either side ends it."""
    # One send per reply, as soon as it is known: batching a pipeline's replies would delay
    # the early ones behind the late ones.
    while data := sock.recv(65536):
        for step in session.feed(data):
            sock.sendall(step.reply(perform(step.action, compute)))
        if session.farewell:
            sock.sendall(session.farewell)
            return linger_close(sock)
        if session.over:
            return


def serve_connection(conn, protocol: str, compute=fib, worker: str = None) -> None:
    """Never raises: a bug met by one connection is logged and that connection closed, the
    server goes on. compute(n) -> int is where fib runs.

    An HTTP connection silent for IDLE_TIMEOUT_S is closed, so an idle client cannot pin a
    worker that serves one connection at a time."""
    try:
        if protocol == HTTP:
            conn.settimeout(config.IDLE_TIMEOUT_S or None)
        converse(conn, session_for(protocol, worker), compute)
    except OSError:
        pass  # reset by the peer, or the idle timeout: either way this connection is over
    except Exception:
        log("connection failed:\n" + traceback.format_exc())
    finally:
        conn.close()


_thread_numbers = itertools.count(1)


def serve_in_thread(conn, protocol: str, compute=fib) -> None:
    """serve_connection in a new thread of its own (py-threads, py-threads-pool), named in
    X-Worker."""
    name = f"conn-{next(_thread_numbers)}"
    # daemon: SIGTERM ends the process without waiting for open connections.
    thread = threading.Thread(
        target=serve_connection,
        name=name,
        daemon=True,
        args=(conn, protocol, compute, worker_id(name)),
    )
    try:
        thread.start()
    except RuntimeError as error:  # "can't start new thread": the container's pids limit
        log(f"no thread for a new connection: {error}")
        conn.close()


def accept_forever(listeners: dict, handle) -> None:
    """Wait on the listening sockets ({socket: protocol}); give every accepted connection to
    handle(conn, protocol). select only says which port has a client."""
    selector = selectors.DefaultSelector()
    for listener, protocol in listeners.items():
        selector.register(listener, selectors.EVENT_READ, protocol)
    while True:
        for key, _ in selector.select():
            try:
                conn = accept(key.fileobj)
            except BlockingIOError:
                continue  # a sibling process sharing this socket took the connection first
            except OSError as error:  # out of file descriptors, or a client already gone
                log(f"accept failed: {error!r}")
                time.sleep(0.01)  # leave the connection in the backlog; do not spin on it
                continue
            handle(conn, key.data)
