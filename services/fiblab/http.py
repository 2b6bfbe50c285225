"""HTTP/1.1 for the hand-written models, without I/O: a request parser and a response builder.

What the parser covers, and the calls it makes:
- Requests split across any number of writes, and pipelined requests, in order.
- Limits: request line over 8 KiB -> 414; header section over 16 KiB or over 100 fields -> 431.
- A malformed request line or header -> 400; a version other than HTTP/1.x -> 505. After any
  of these the byte stream can no longer be framed, so the connection is answered and closed.
- Bodies: a Content-Length body is read and thrown away (no route takes one), up to 1 MiB, else
  413. A Transfer-Encoding (chunked) body gets 501 and a close: none of the lab's clients sends
  one, and nginx de-chunks request bodies before proxying, so parsing chunks would be dead code.
- Keep-alive: HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
- Lenient where it costs nothing: bare LF line ends, empty lines before a request, no Host
  required. Replies carry no Date header (the front adds its own).
"""

import re
from typing import NamedTuple

from . import interpreter
from .core import REASON

MAX_REQUEST_LINE = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERS = 100
MAX_BODY = 1024 * 1024

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET = re.compile(rb"[\x21-\x7e]+")
_VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])")
_ABSOLUTE = re.compile(rb"https?://[^/]*", re.IGNORECASE)


class Request(NamedTuple):
    method: str
    target: str
    version: str
    headers: list  # (lower-case name, value) pairs, in arrival order
    keep_alive: bool


class HttpError(Exception):
    """The byte stream broke the protocol: answer .status with .reason, then close."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class HttpParser:
    """feed(bytes) -> the requests completed so far.

    A broken stream sets .error to an HttpError instead of raising, so the caller can still
    answer the complete requests that came before it; after that, feed() returns nothing.
    """

    def __init__(
        self,
        max_request_line=MAX_REQUEST_LINE,
        max_header_bytes=MAX_HEADER_BYTES,
        max_headers=MAX_HEADERS,
        max_body=MAX_BODY,
    ):
        self.max_request_line = max_request_line
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        self.max_body = max_body
        self.error = None
        self._buffer = bytearray()
        self._start = None  # (method, target, version) once the request line is in
        self._headers = []
        self._header_bytes = 0
        self._body_left = 0
        self._waiting = None  # a parsed request whose body is still arriving

    def feed(self, data: bytes) -> list:
        if self.error:
            return []
        self._buffer += data
        requests = []
        try:
            self._parse(requests)
        except HttpError as error:
            self.error = error
            self._buffer.clear()
        return requests

    def _parse(self, out: list) -> None:
        buffer, pos = self._buffer, 0
        try:
            while True:
                if self._waiting:
                    taken = min(self._body_left, len(buffer) - pos)
                    pos += taken
                    self._body_left -= taken
                    if self._body_left:
                        return
                    out.append(self._waiting)
                    self._waiting = None
                end = buffer.find(b"\n", pos)
                if end == -1:
                    self._check_partial(len(buffer) - pos)
                    return
                line = bytes(buffer[pos:end])
                pos = end + 1
                if line.endswith(b"\r"):
                    line = line[:-1]
                if self._start is None:
                    if line:  # empty lines before a request line are allowed (RFC 9112, 2.2)
                        self._start = self._request_line(line)
                elif line:
                    self._header_line(line)
                else:
                    request = self._end_of_head()
                    if self._body_left:
                        self._waiting = request
                    else:
                        out.append(request)
        finally:
            del buffer[:pos]

    def _check_partial(self, pending: int) -> None:
        # Refuse a line that can only end up too long now, rather than buffering it whole.
        if self._start is None and pending > self.max_request_line + 1:
            raise HttpError(414, "request line too long")
        if self._start is not None and self._header_bytes + pending > self.max_header_bytes:
            raise HttpError(431, "header section too large")

    def _request_line(self, line: bytes) -> tuple:
        if len(line) > self.max_request_line:
            raise HttpError(414, "request line too long")
        parts = line.split(b" ")
        if len(parts) != 3:
            raise HttpError(400, "malformed request line")
        method, target, version = parts
        if not _TOKEN.fullmatch(method) or not _TARGET.fullmatch(target):
            raise HttpError(400, "malformed request line")
        match = _VERSION.fullmatch(version)
        if not match:
            raise HttpError(400, "malformed request line")
        if match[1] != b"1":
            raise HttpError(505, "only HTTP/1.x is served")
        # The absolute form (a proxy's "GET http://host/path") names the same resource.
        if absolute := _ABSOLUTE.match(target):
            target = target[absolute.end() :] or b"/"
        return method.decode("ascii"), target.decode("ascii"), version.decode("ascii")

    def _header_line(self, line: bytes) -> None:
        self._header_bytes += len(line) + 2
        if self._header_bytes > self.max_header_bytes:
            raise HttpError(431, "header section too large")
        if len(self._headers) >= self.max_headers:
            raise HttpError(431, "too many header fields")
        if line[0] in b" \t":
            raise HttpError(400, "obsolete header line folding")
        name, colon, value = line.partition(b":")
        value = value.strip(b" \t")
        if not colon or not _TOKEN.fullmatch(name) or b"\0" in value or b"\r" in value:
            raise HttpError(400, "malformed header field")
        self._headers.append((name.decode("ascii").lower(), value.decode("latin-1")))

    def _end_of_head(self) -> Request:
        (method, target, version), headers = self._start, self._headers
        self._start, self._headers, self._header_bytes = None, [], 0
        if any(name == "transfer-encoding" for name, _ in headers):
            raise HttpError(501, "request bodies with a transfer-encoding are not supported")
        lengths = {value for name, value in headers if name == "content-length"}
        if len(lengths) > 1:
            raise HttpError(400, "conflicting content-length")
        if lengths:
            length = lengths.pop()
            if not (length.isascii() and length.isdigit()):
                raise HttpError(400, "malformed content-length")
            self._body_left = int(length)
            if self._body_left > self.max_body:
                raise HttpError(413, "request body too large")
        tokens = {
            token.strip().lower()
            for name, value in headers
            if name == "connection"
            for token in value.split(",")
        }
        if version == "HTTP/1.0":
            keep_alive = "keep-alive" in tokens
        else:
            keep_alive = "close" not in tokens
        return Request(method, target, version, headers, keep_alive)


def response(status: int, body: bytes, keep_alive: bool, worker: str, head: bool = False) -> bytes:
    """A complete reply. With head=True the body is left out but still counted."""
    lines = [
        f"HTTP/1.1 {status} {REASON.get(status, 'Unknown')}",
        "Content-Type: text/plain",
        f"Content-Length: {len(body)}",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
        f"X-Worker: {worker}",
    ]
    if status == 405:
        lines.append("Allow: GET, HEAD")
    if interpreter.REPORTS:
        lines.append(f"{interpreter.HEADER}: {interpreter.report()}")
    head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head_bytes if head else head_bytes + body


def error_response(error: HttpError, worker: str) -> bytes:
    return response(error.status, error.reason.encode() + b"\n", False, worker)
