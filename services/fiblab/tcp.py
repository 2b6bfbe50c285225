"""The TCP protocol's framing, without I/O: newline-separated lines (LineBuffer).

One request per line: an ASCII decimal n, then "\\n" (a trailing "\\r" is ignored). Replies go
out in request order. A line over 64 bytes cannot be answered sensibly, so it gets
TOO_LONG_REPLY and the connection is closed.
"""

MAX_LINE = 64  # bytes of one request line, without its "\n"
TOO_LONG_REPLY = b"error: line too long\n"


class LineTooLong(ValueError):
    pass


class LineBuffer:
    """Cuts a byte stream into lines. feed() returns every line completed so far.

    An overlong line sets .error to a LineTooLong instead of raising, so the caller can still
    answer the complete lines that came before it; after that, feed() returns nothing.
    """

    def __init__(self, limit: int = MAX_LINE):
        self.limit = limit
        self.error = None
        self._pending = bytearray()

    def feed(self, data: bytes) -> list:
        if self.error:
            return []
        self._pending += data
        lines = []
        start = 0
        while (end := self._pending.find(b"\n", start)) != -1:
            if end - start > self.limit:
                break
            lines.append(bytes(self._pending[start:end]))
            start = end + 1
        del self._pending[:start]
        # Either a complete line that is too long, or an incomplete one that already is.
        end = self._pending.find(b"\n")
        if end > self.limit or (end == -1 and len(self._pending) > self.limit):
            self.error = LineTooLong(f"line over {self.limit} bytes")
            self._pending.clear()
        return lines
