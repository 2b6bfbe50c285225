"""Serving one accepted connection to its end, for the models that block on it.

py-sync, py-threads, py-threads-pool, py-fork and py-prefork differ only in what runs this:
the accepting loop itself, a new thread, a forked child, or a pre-forked worker.
"""
import selectors
import time
import traceback

from .core import fib
from .http import serve_http_connection
from .net import HTTP, accept, log
from .tcp import serve_tcp_connection


def serve_connection(conn, protocol: str, compute=fib, worker: str = None) -> None:
    """Never raises: a bug met by one connection is logged and that connection closed, the
    server goes on. compute(n) -> int is where fib runs."""
    try:
        if protocol == HTTP:
            serve_http_connection(conn, compute, worker)
        else:
            serve_tcp_connection(conn, compute)
    except Exception:
        log("connection failed:\n" + traceback.format_exc())
    finally:
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
