"""The service itself, with no I/O: fib, number parsing, routing and the TCP line reply.

Every model (and the WSGI/ASGI apps) asks these functions what to answer and only decides
*where* the answer is computed and *how* the bytes travel.
"""

import os
import re
import socket
from typing import NamedTuple

from . import config

MAX_NUMBER_BYTES = 64

# Fixed phrases rather than http.HTTPStatus: its phrases change between Python versions.
REASON = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    422: "Unprocessable Content",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}

OK_BODY = b"ok\n"


def fib(n: int) -> int:
    # Naive on purpose: the CPU cost is the point. The base cases stop at 2, as in the Node
    # models, so a given n costs the same number of calls in every runtime.
    if n <= 2:
        return 1 if n >= 1 else 0
    return fib(n - 1) + fib(n - 2)


def fib_body(n: int) -> bytes:
    """The reply body for /fib/{n} and a TCP line; top-level so a process pool can pickle it."""
    return b"%d\n" % fib(n)


_HOSTNAME = socket.gethostname()


def worker_id(*extra) -> str:
    # The pid is read on every call: forked workers share the parent's module state.
    return "/".join([_HOSTNAME, str(os.getpid()), *map(str, extra)])


class ProtocolError(ValueError):
    """A request the service refuses; .status is the HTTP status, .reason the short text."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


_DIGITS = re.compile(rb"[0-9]+")
_NEGATIVE = re.compile(rb"-[0-9]+")


def _parse_number(text, cap: int, cap_name: str) -> int:
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else bytes(text)
    if len(raw) > MAX_NUMBER_BYTES:
        raise ProtocolError("number too long", 400)
    if _NEGATIVE.fullmatch(raw):
        raise ProtocolError("negative", 400)
    # A regex over bytes, not int(): int() also takes spaces, '+', '_' and non-ASCII digits.
    if not _DIGITS.fullmatch(raw):
        raise ProtocolError("not an integer", 400)
    value = int(raw)
    if value > cap:
        raise ProtocolError(f"above the cap ({cap_name}={cap})", 422)
    return value


def parse_n(text, cap: int = None) -> int:
    """A fib argument: ASCII decimal digits only, at most FIB_MAX."""
    return _parse_number(text, config.FIB_MAX if cap is None else cap, "FIB_MAX")


def parse_ms(text, cap: int = None) -> int:
    """A /sleep duration in milliseconds: ASCII decimal digits only, at most SLEEP_MAX_MS."""
    return _parse_number(text, config.SLEEP_MAX_MS if cap is None else cap, "SLEEP_MAX_MS")


class Compute(NamedTuple):
    """Answer 200 with fib_body(n)."""

    n: int


class Sleep(NamedTuple):
    """Answer 200 with OK_BODY after ms milliseconds, without using the CPU."""

    ms: int


class Reply(NamedTuple):
    """An answer that is ready now."""

    status: int
    body: bytes


Route = Compute | Sleep | Reply


def route(method: str, path: str) -> Route:
    """What to do with one HTTP request. HEAD is routed as GET; the caller drops the body."""
    path = path.split("?", 1)[0]
    if path == "/healthz":
        action = "healthz"
    else:
        prefix, sep, arg = path[1:].partition("/")
        if not path.startswith("/") or not sep or prefix not in ("fib", "sleep") or "/" in arg:
            return Reply(404, b"not found\n")
        action = prefix
    if method not in ("GET", "HEAD"):
        return Reply(405, b"method not allowed\n")
    if action == "healthz":
        return Reply(200, OK_BODY)
    try:
        if action == "fib":
            return Compute(parse_n(arg))
        return Sleep(parse_ms(arg))
    except ProtocolError as error:
        return Reply(error.status, error.reason.encode() + b"\n")


def parse_line(line: bytes) -> int:
    """The n of one TCP request line, given without its newline (a trailing \\r is ignored)."""
    if line.endswith(b"\r"):
        line = line[:-1]
    return parse_n(line)


def error_line(error: ProtocolError) -> bytes:
    return b"error: " + error.reason.encode() + b"\n"


def route_line(line: bytes) -> Compute | Reply:
    """What to do with one TCP request line, given without its newline. The TCP protocol has no
    status: a Reply's status only says why, its body is the whole reply."""
    try:
        return Compute(parse_line(line))
    except ProtocolError as error:
        return Reply(error.status, error_line(error))
