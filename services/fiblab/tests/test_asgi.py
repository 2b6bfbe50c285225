import asyncio

import pytest

from fiblab.asgi import app


def call(method, path):
    """Run the ASGI app once: (status, headers dict, body)."""
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": method, "path": path}
    asyncio.run(app(scope, receive, send))
    start, body = sent
    assert (start["type"], body["type"]) == ("http.response.start", "http.response.body")
    return start["status"], dict(start["headers"]), body["body"]


@pytest.mark.parametrize(
    "method, path, status, body",
    [
        ("GET", "/fib/20", 200, b"6765\n"),
        ("GET", "/sleep/1", 200, b"ok\n"),
        ("GET", "/healthz", 200, b"ok\n"),
        ("GET", "/fib/-1", 400, b"negative\n"),
        ("GET", "/sleep/10001", 422, b"above the cap (SLEEP_MAX_MS=10000)\n"),
        ("GET", "/fib/1/2", 404, b"not found\n"),
        ("DELETE", "/sleep/1", 405, b"method not allowed\n"),
    ],
)
def test_routes(method, path, status, body):
    got_status, headers, got_body = call(method, path)
    assert (got_status, got_body) == (status, body)
    assert headers[b"content-type"] == b"text/plain"
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"x-worker"].count(b"/") == 1


def test_head_has_length_but_no_body():
    status, headers, body = call("HEAD", "/fib/20")
    assert (status, headers[b"content-length"], body) == (200, b"5", b"")


def test_other_scopes_are_ignored():
    async def fail(*_):
        raise AssertionError("no message expected")

    asyncio.run(app({"type": "lifespan"}, fail, fail))
