"""twisted: Twisted's reactor (epoll) serving both protocols in one thread.

HTTP through twisted.web (its own HTTP/1.1 parser, a Site over one leaf Resource); TCP through a
Protocol that feeds fiblab.session.TcpSession. Callbacks, not coroutines: a connection waiting for
bytes costs a registered socket, /sleep is a reactor.callLater, and fib runs inside a callback,
holding up the reactor and every other connection until it returns. No master.
"""

import re

from twisted.internet import interfaces, protocol, reactor
from twisted.web import resource, server
from zope.interface import implementer

from fiblab import config
from fiblab.core import OK_BODY, Compute, Sleep, fib, fib_body, route, worker_id
from fiblab.net import BACKLOG, log
from fiblab.session import TcpSession

# Longer than the front keeps an idle upstream connection, as for the other frameworks.
KEEPALIVE_S = 75
# After an error reply: how long, and how much, the client's further input is drained before
# the close (see fiblab.net.linger_close).
LINGER_S = 1.0
LINGER_BYTES = 64 * 1024
# twisted.web passes an absolute-form target ("GET http://host/fib/5") through as the path.
_ABSOLUTE = re.compile(rb"https?://[^/]*", re.IGNORECASE)


# HTTP


class Service(resource.Resource):
    isLeaf = True  # every path comes here; fiblab.core.route decides (404 before 405)

    def render(self, request):
        path = request.path
        if absolute := _ABSOLUTE.match(path):
            path = path[absolute.end() :] or b"/"
        action = route(request.method.decode("latin-1"), path.decode("latin-1"))
        if isinstance(action, Sleep):
            call = reactor.callLater(action.ms / 1000, self._reply, request, 200, OK_BODY)
            request.notifyFinish().addErrback(lambda _: call.active() and call.cancel())
            return server.NOT_DONE_YET
        if isinstance(action, Compute):
            status, body = 200, fib_body(action.n)
        else:
            status, body = action
        self._headers(request, status, body)
        return body  # twisted.web leaves the body out for HEAD

    @staticmethod
    def _headers(request, status: int, body: bytes) -> None:
        request.setResponseCode(status)
        request.setHeader(b"Content-Type", b"text/plain")
        request.setHeader(b"Content-Length", b"%d" % len(body))
        request.setHeader(b"X-Worker", worker_id().encode())
        if status == 405:
            request.setHeader(b"Allow", b"GET, HEAD")

    def _reply(self, request, status: int, body: bytes) -> None:
        self._headers(request, status, body)
        if request.method != b"HEAD":
            request.write(body)
        request.finish()


class QuietSite(server.Site):
    def log(self, request):
        pass  # no access log line per request: it would cost more than some requests


# TCP


@implementer(interfaces.IHalfCloseableProtocol)
class LineProtocol(protocol.Protocol):
    """The line protocol over one connection. Half-closeable: a client that sends its requests
    and then FIN still gets every reply before the close."""

    def connectionMade(self):
        self.transport.setTcpNoDelay(True)
        self.session = TcpSession()
        self.draining = None  # bytes still drained after an error reply, once it is sent

    def dataReceived(self, data):
        if self.draining is not None:
            self.draining -= len(data)
            if self.draining <= 0:
                self.transport.abortConnection()
            return
        for step in self.session.feed(data):
            self.transport.write(step.reply(fib(step.action.n) if step.action else None))
        if self.session.farewell:
            # The error reply, then FIN once it is written; drain what the client still sends,
            # for a moment, then close: a close with unread input would reset the reply away.
            self.transport.write(self.session.farewell)
            self.transport.loseWriteConnection()
            self.draining = LINGER_BYTES
            self.timer = reactor.callLater(LINGER_S, self.transport.loseConnection)

    def readConnectionLost(self):
        self.transport.loseConnection()  # after the replies already written

    def writeConnectionLost(self):
        pass

    def connectionLost(self, reason):
        timer = getattr(self, "timer", None)
        if timer is not None and timer.active():
            timer.cancel()


class LineFactory(protocol.ServerFactory):
    protocol = LineProtocol
    noisy = False


def main():
    site = QuietSite(Service(), timeout=KEEPALIVE_S)
    site.noisy = False
    reactor.listenTCP(config.HTTP_PORT, site, backlog=BACKLOG)
    reactor.listenTCP(config.TCP_PORT, LineFactory(), backlog=BACKLOG)
    log(f"twisted: the {type(reactor).__name__}, twisted.web for HTTP, a Protocol for TCP")
    reactor.run()  # installs SIGTERM and SIGINT handlers that stop the reactor


if __name__ == "__main__":
    main()
