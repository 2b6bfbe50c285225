"""A generator scheduler over selectors, in the manner of David Beazley's PyCon 2015 talk
"Python Concurrency From the Ground Up": no asyncio, only generators and select.

A task is a generator. It runs until it yields a trap, a (why, what) pair that says what it
waits for; the loop parks it there and resumes it when that has happened:

    ("recv", sock)       until sock is readable (or a listening sock has a connection)
    ("send", sock)       until sock is writable
    ("sleep", seconds)   until that much time has passed

A task that never yields keeps every other task waiting: that is the point of py-eventloop.
Subclasses add traps as trap_<why>(task, what) methods (py-eventloop-pool adds "future").

The rest of the module is the service written as tasks, shared by both event-loop models.
compute(n) is a generator function: `value = yield from compute(n)`.
"""

import heapq
import itertools
import selectors
import socket
import time
import traceback
from collections import deque

from .core import Compute, Sleep
from .net import log
from .session import session_for


class Loop:
    def __init__(self):
        self.ready = deque()  # (task, value to send into it)
        self.selector = selectors.DefaultSelector()
        self.sleeping = []  # heap of (deadline, tie-breaker, task)
        self._tie = itertools.count()

    def spawn(self, task, value=None) -> None:
        self.ready.append((task, value))

    def run(self) -> None:
        while True:
            self._wait_for_events()
            self._run_ready()

    def _wait_for_events(self) -> None:
        if self.ready:
            timeout = 0
        elif self.sleeping:
            timeout = max(0.0, self.sleeping[0][0] - time.monotonic())
        else:
            timeout = None
        for key, _ in self.selector.select(timeout):
            self.selector.unregister(key.fileobj)
            self.ready.append((key.data, None))
        now = time.monotonic()
        while self.sleeping and self.sleeping[0][0] <= now:
            self.ready.append((heapq.heappop(self.sleeping)[2], None))

    def _run_ready(self) -> None:
        # Only the tasks ready now: one that becomes ready meanwhile waits for the next round,
        # so the selector is polled between rounds and no busy connection starves the rest.
        for _ in range(len(self.ready)):
            task, value = self.ready.popleft()
            try:
                why, what = task.send(value)
            except StopIteration:
                continue
            except ConnectionError:  # a client gone mid-reply is ordinary, not a bug
                continue
            except Exception:
                log("task failed:\n" + traceback.format_exc())
                continue
            getattr(self, "trap_" + why)(task, what)

    def trap_recv(self, task, sock) -> None:
        self.selector.register(sock, selectors.EVENT_READ, task)

    def trap_send(self, task, sock) -> None:
        self.selector.register(sock, selectors.EVENT_WRITE, task)

    def trap_sleep(self, task, seconds: float) -> None:
        heapq.heappush(self.sleeping, (time.monotonic() + seconds, next(self._tie), task))


# The service as tasks. Sockets here are non-blocking.


def recv(sock, size: int = 65536):
    # Wait first, then read: every read passes through the selector, which keeps the loop fair.
    yield "recv", sock
    try:
        return sock.recv(size)
    except OSError:
        return b""


def sendall(sock, data: bytes):
    # Try first: a small reply nearly always fits the socket buffer at once.
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view) :]
        except BlockingIOError:
            yield "send", sock


def close_after_error(sock) -> None:
    """Close after an error reply. close() with unread input sends a RST, which can destroy the
    reply before the client reads it; so send FIN and drop what input is already here first.
    (The blocking models also wait a moment for more: see net.linger_close.)"""
    try:
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()


def perform(action, compute):
    """A step's action as a task: compute(n) is a generator function too."""
    match action:
        case Compute(n):
            return (yield from compute(n))
        case Sleep(ms):
            yield "sleep", ms / 1000


def converse(conn, session, compute):
    """Serve one connection until either side ends it."""
    with conn:
        while data := (yield from recv(conn)):
            for step in session.feed(data):
                result = yield from perform(step.action, compute)
                yield from sendall(conn, step.reply(result))
            if session.farewell:
                yield from sendall(conn, session.farewell)
                return close_after_error(conn)
            if session.over:
                return


def accept_forever(loop: Loop, listener, protocol: str, compute):
    while True:
        yield "recv", listener
        try:
            conn, _ = listener.accept()
        except OSError as error:  # e.g. EMFILE, or a client gone before we got to it
            log(f"accept failed: {error!r}")
            yield "sleep", 0.01  # leave the connection in the backlog; do not spin on it
            continue
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        loop.spawn(converse(conn, session_for(protocol), compute))
