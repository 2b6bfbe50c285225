"""One connection's conversation, without I/O: bytes in, what to answer and when to close out.

Every hand-written model drives one of these, whatever its I/O style (blocking sockets, the
generator loop, asyncio, calibrate's timed replies). Feed it what arrived; it parses, routes and
returns a Step per complete request, in order. A driver carries out each step's action, sends
`step.reply(result)` and then looks at the session:

    session.farewell   bytes to send last (the stream broke the protocol), then close after
                       an error: net.linger_close, loop.close_after_error, aio.close_after_error
    session.over       no more requests will be read: close (after the farewell, if any)

    for step in session.feed(data):
        send(step.reply(perform(step.action)))
    if session.farewell: send it, close after error
    elif session.over: close
"""

from collections.abc import Callable
from typing import NamedTuple

from .core import OK_BODY, Compute, Reply, Sleep, route, route_line, worker_id
from .http import HttpParser, error_response, response
from .net import HTTP
from .tcp import TOO_LONG_REPLY, LineBuffer


class Step(NamedTuple):
    """One request's answer. action: Compute(n) (result: fib(n)), Sleep(ms) (wait ms; result:
    None) or None (the answer is ready; result: None). Then send reply(result)."""

    action: Compute | Sleep | None
    reply: Callable[[int | None], bytes]


def fib_line(value: int) -> bytes:
    return b"%d\n" % value


def _ready(data: bytes) -> Callable:
    return lambda _: data


class TcpSession:
    """The line protocol: one reply per line; an overlong line ends the connection."""

    def __init__(self):
        self.lines = LineBuffer()
        self.farewell = None
        self.over = False

    def feed(self, data: bytes) -> list:
        steps = [self._step(line) for line in self.lines.feed(data)]
        if self.lines.error:
            self.farewell, self.over = TOO_LONG_REPLY, True
        return steps

    @staticmethod
    def _step(line: bytes) -> Step:
        match route_line(line):
            case Compute() as action:
                return Step(action, fib_line)
            case Reply(_, body):
                return Step(None, _ready(body))


class HttpSession:
    """HTTP/1.1: one response per request, in order; after a request that does not keep the
    connection alive nothing more is read, and a broken stream gets an error response."""

    def __init__(self, worker: str = None):
        self.worker = worker or worker_id()
        self.parser = HttpParser()
        self.farewell = None
        self.over = False

    def feed(self, data: bytes) -> list:
        steps = []
        for request in self.parser.feed(data):
            steps.append(self._step(request))
            if not request.keep_alive:
                self.over = True
                return steps
        if self.parser.error:
            self.farewell, self.over = error_response(self.parser.error, self.worker), True
        return steps

    def _step(self, request) -> Step:
        def reply(status: int, body: bytes) -> bytes:
            return response(status, body, request.keep_alive, self.worker, request.method == "HEAD")

        match route(request.method, request.target):
            case Compute() as action:
                return Step(action, lambda value: reply(200, fib_line(value)))
            case Sleep() as action:
                return Step(action, lambda _: reply(200, OK_BODY))
            case Reply(status, body):
                return Step(None, _ready(reply(status, body)))


def session_for(protocol: str, worker: str = None):
    return HttpSession(worker) if protocol == HTTP else TcpSession()
