"""Tornado for the tornado and tornado-fork models: the service on Tornado's own HTTP server
(HTTPServer, its HTTP/1.1 parser, tornado.web) and on a TCPServer, in one IOLoop (Tornado 6 runs
on asyncio). fib runs on the loop and blocks every other connection of the process while it
computes; /sleep awaits and blocks nothing. Imported only in images that carry Tornado.
"""

import asyncio
import re
import signal
import socket

from tornado.httpserver import HTTPServer
from tornado.iostream import StreamClosedError
from tornado.netutil import bind_sockets
from tornado.tcpserver import TCPServer

from tornado import web

from . import config
from .core import OK_BODY, Compute, Sleep, fib, fib_body, route, worker_id
from .net import BACKLOG, log
from .session import TcpSession

# Longer than the front keeps an idle upstream connection, as for the other frameworks.
KEEPALIVE_S = 75
# Tornado passes an absolute-form target ("GET http://host/fib/5") through as the path.
_ABSOLUTE = re.compile(r"https?://[^/]*", re.IGNORECASE)


class Service(web.RequestHandler):
    """Every path and method: fiblab.core.route decides (404 before 405, as the contract says)."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS")

    def set_default_headers(self):
        # Also on Tornado's own error pages (an unsupported method, a bad request).
        self.set_header("Content-Type", "text/plain")
        self.set_header("X-Worker", worker_id())

    def compute_etag(self):
        return None  # no ETag (and no hashing of every body)

    async def _serve(self, *args):
        path = self.request.path
        if absolute := _ABSOLUTE.match(path):
            path = path[absolute.end() :] or "/"
        match route(self.request.method, path):
            case Compute(n):
                status, body = 200, fib_body(n)
            case Sleep(ms):
                await asyncio.sleep(ms / 1000)
                status, body = 200, OK_BODY
            case (status, body):
                pass
        self.set_status(status)
        if status == 405:
            self.set_header("Allow", "GET, HEAD")
        # finish() sets Content-Length from the body, and leaves the body out for HEAD.
        self.finish(body)

    get = head = post = delete = patch = put = options = _serve


async def _close_after_error(stream, timeout: float = 1.0, limit: int = 64 * 1024) -> None:
    """Close after an error reply without a reset destroying it: FIN, drain briefly, close."""
    try:
        stream.socket.shutdown(socket.SHUT_WR)
        async with asyncio.timeout(timeout):
            while limit > 0:
                limit -= len(await stream.read_bytes(65536, partial=True))
    except (OSError, TimeoutError, StreamClosedError):
        pass


class LineServer(TCPServer):
    """The TCP line protocol: fiblab.session.TcpSession over a Tornado IOStream."""

    async def handle_stream(self, stream, address):
        stream.set_nodelay(True)
        session = TcpSession()
        try:
            while not session.over:
                data = await stream.read_bytes(65536, partial=True)
                for step in session.feed(data):
                    await stream.write(step.reply(fib(step.action.n) if step.action else None))
            if session.farewell:
                await stream.write(session.farewell)
                await _close_after_error(stream)
        except StreamClosedError:
            pass  # the client is gone (or half-closed: everything it asked is answered)
        finally:
            stream.close()


def listen() -> tuple:
    """The listening sockets (HTTP, TCP), IPv4 on all interfaces, opened before any fork."""
    http = bind_sockets(config.HTTP_PORT, address="0.0.0.0", backlog=BACKLOG)
    tcp = bind_sockets(config.TCP_PORT, address="0.0.0.0", backlog=BACKLOG)
    return http, tcp


def serve(http_sockets, tcp_sockets, banner: str) -> None:
    """Serve both protocols in this process's IOLoop until SIGTERM or SIGINT."""

    async def run():
        # No access log: Tornado logs every 4xx/5xx reply through logging otherwise.
        app = web.Application([(r".*", Service)], log_function=lambda handler: None)
        http = HTTPServer(app, idle_connection_timeout=KEEPALIVE_S)
        http.add_sockets(http_sockets)
        tcp = LineServer()
        tcp.add_sockets(tcp_sockets)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        log(banner)
        await stop.wait()
        http.stop()
        tcp.stop()

    asyncio.run(run())
