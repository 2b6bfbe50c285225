import socket
import threading

import pytest

from fiblab import blocking, config
from fiblab.core import Compute, Sleep
from fiblab.net import HTTP, TCP
from fiblab.session import HttpSession, TcpSession
from fiblab.tcp import TOO_LONG_REPLY

GET = b"GET /fib/10 HTTP/1.1\r\nHost: lab\r\n\r\n"


def answers(session, data, compute=lambda n: n * 100):
    """Every reply to data, as a blocking driver would send it (sleeps skipped)."""
    out = []
    for step in session.feed(data):
        out.append(step.reply(compute(step.action.n) if isinstance(step.action, Compute) else None))
    return out


@pytest.mark.parametrize(
    "line, reply",
    [
        (b"20", b"2000\n"),
        (b"20\r", b"2000\n"),
        (b"0", b"0\n"),
        (b"", b"error: not an integer\n"),
        (b"abc", b"error: not an integer\n"),
        (b"-4", b"error: negative\n"),
        (b"36", b"error: above the cap (FIB_MAX=35)\n"),
        (b"20\r\r", b"error: not an integer\n"),
    ],
)
def test_tcp_line(line, reply):
    session = TcpSession()
    assert answers(session, line + b"\n") == [reply]
    assert not session.over and session.farewell is None


def test_tcp_overlong_line_answers_what_came_before_then_says_farewell():
    session = TcpSession()
    assert answers(session, b"5\n" + b"1" * 100 + b"\n6\n") == [b"500\n"]
    assert session.over and session.farewell == TOO_LONG_REPLY


def test_http_steps():
    session = HttpSession("w")
    steps = session.feed(GET + b"GET /sleep/250 HTTP/1.1\r\n\r\nHEAD /nope HTTP/1.1\r\n\r\n")
    assert [step.action for step in steps] == [Compute(10), Sleep(250), None]
    assert steps[0].reply(55).endswith(b"X-Worker: w\r\n\r\n55\n")
    assert steps[1].reply(None).endswith(b"\r\n\r\nok\n")
    assert steps[2].reply(None).startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert steps[2].reply(None).endswith(b"\r\n\r\n")  # HEAD: no body
    assert not session.over


def test_http_nothing_after_a_closing_request():
    session = HttpSession("w")
    out = answers(
        session, GET + b"GET /fib/2 HTTP/1.1\r\nConnection: close\r\n\r\n" + GET + b"BAD\r\n\r\n"
    )
    assert len(out) == 2 and b"Connection: close" in out[1]
    assert session.over and session.farewell is None


def test_http_broken_stream_answers_what_came_before_then_says_farewell():
    session = HttpSession("w")
    assert len(answers(session, GET + b"BAD\r\n\r\n")) == 1
    assert session.over and session.farewell.startswith(b"HTTP/1.1 400 Bad Request\r\n")


def _exchange(protocol, data, shut=False):
    server, client = socket.socketpair()
    thread = threading.Thread(
        target=blocking.serve_connection, args=(server, protocol), kwargs={"worker": "w"}
    )
    thread.start()
    client.sendall(data)
    if shut:
        client.shutdown(socket.SHUT_WR)
    out = b""
    while chunk := client.recv(65536):
        out += chunk
    thread.join(5)
    assert not thread.is_alive()
    return out


def test_blocking_tcp_pipelined_in_order():
    assert _exchange(TCP, b"1\n10\nx\n20\r\n", shut=True) == b"1\n55\nerror: not an integer\n6765\n"


def test_blocking_tcp_closes_on_overlong_line():
    assert _exchange(TCP, b"5\n" + b"1" * 100 + b"\n6\n") == b"5\n" + TOO_LONG_REPLY


def test_blocking_http_pipelined_then_close():
    out = _exchange(HTTP, GET + b"GET /fib/20 HTTP/1.1\r\nConnection: close\r\n\r\n" + GET)
    assert out.count(b"HTTP/1.1 200 OK") == 2
    assert out.endswith(b"Connection: close\r\nX-Worker: w\r\n\r\n6765\n")


def test_blocking_http_error_closes():
    out = _exchange(HTTP, GET + b"BAD\r\n\r\n")
    assert out.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 400 Bad Request" in out


def test_blocking_http_idle_timeout_closes(monkeypatch):
    monkeypatch.setattr(config, "IDLE_TIMEOUT_S", 0.2)
    assert _exchange(HTTP, GET).endswith(b"55\n")
