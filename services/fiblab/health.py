"""The container healthcheck: exit 0 iff GET /healthz on 127.0.0.1:HTTP_PORT answers 200 within 2 s.

python3 -m fiblab.health
"""

import socket
import sys
import time

from . import config

TIMEOUT_S = 2.0


def healthy(host: str = "127.0.0.1", port: int = None, timeout: float = TIMEOUT_S) -> bool:
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port or config.HTTP_PORT), timeout=timeout) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            reply = b""
            while b"\r\n" not in reply:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                chunk = sock.recv(1024)
                if not chunk:
                    break
                reply += chunk
    except OSError:
        return False
    return reply.split(b" ", 2)[1:2] == [b"200"]


if __name__ == "__main__":
    sys.exit(0 if healthy() else 1)
