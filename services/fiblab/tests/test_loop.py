import socket
import time

from fiblab.core import fib
from fiblab.loop import Loop, converse
from fiblab.session import HttpSession, TcpSession


def compute_here(n):
    return fib(n)
    yield


def drive(loop, until, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        loop._wait_for_events()
        loop._run_ready()
    assert until()


def pair():
    server, client = socket.socketpair()
    server.setblocking(False)
    client.setblocking(False)
    return server, client


def read_available(sock):
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except BlockingIOError:
        pass
    return out


def test_sleep_trap_orders_by_deadline():
    loop, woke = Loop(), []

    def sleeper(name, seconds):
        yield "sleep", seconds
        woke.append(name)

    loop.spawn(sleeper("late", 0.05))
    loop.spawn(sleeper("early", 0.01))
    drive(loop, lambda: len(woke) == 2)
    assert woke == ["early", "late"]


def test_tcp_task_pipelined():
    loop = Loop()
    server, client = pair()
    loop.spawn(converse(server, TcpSession(), compute_here))
    client.sendall(b"1\n10\nbad\n20\n")
    got = []
    drive(loop, lambda: got.append(read_available(client)) or b"".join(got).count(b"\n") == 4)
    assert b"".join(got) == b"1\n55\nerror: not an integer\n6765\n"


def test_http_tasks_interleave_while_one_sleeps():
    loop = Loop()
    slow_server, slow_client = pair()
    fast_server, fast_client = pair()
    loop.spawn(converse(slow_server, HttpSession(), compute_here))
    loop.spawn(converse(fast_server, HttpSession(), compute_here))
    slow_client.sendall(b"GET /sleep/300 HTTP/1.1\r\n\r\n")
    fast_client.sendall(b"GET /fib/10 HTTP/1.1\r\n\r\n")
    fast = []
    drive(
        loop,
        lambda: fast.append(read_available(fast_client)) or b"".join(fast).endswith(b"55\n"),
        timeout=0.25,
    )
    assert read_available(slow_client) == b""
    slow = []
    drive(
        loop, lambda: slow.append(read_available(slow_client)) or b"".join(slow).endswith(b"ok\n")
    )


def test_a_failing_task_does_not_stop_the_loop(capsys):
    loop, done = Loop(), []

    def broken():
        yield "sleep", 0
        raise RuntimeError("bug")

    def fine():
        yield "sleep", 0.01
        done.append(True)

    loop.spawn(broken())
    loop.spawn(fine())
    drive(loop, lambda: done)
    assert "RuntimeError: bug" in capsys.readouterr().err
