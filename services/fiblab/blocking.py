"""Serving one accepted connection to its end, for the models that block on it.

py-sync, py-threads, py-threads-pool, py-fork and py-prefork differ only in what runs this:
the accepting loop itself, a new thread, a forked child, or a pre-forked worker.
"""
import traceback

from .core import fib
from .http import serve_http_connection
from .net import HTTP, log
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
