"""py-gevent: gevent's servers in one monkey-patched process.

A StreamServer serves the TCP line protocol (25000) and gevent's WSGIServer serves fiblab.wsgi
over HTTP (8000), with a greenlet per connection. The same blocking code as py-threads runs
here, but monkey patching turns every socket wait and time.sleep into a switch to another
greenlet: thousands of idle or sleeping clients cost little. fib never waits, so while it
computes it holds the one thread and no other connection is served.
"""

from gevent import monkey

monkey.patch_all()  # first, before anything imports socket, time or threading

import signal  # noqa: E402
import socket  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402
from gevent.server import StreamServer  # noqa: E402

from fiblab import config  # noqa: E402
from fiblab.blocking import serve_connection  # noqa: E402
from fiblab.net import BACKLOG, TCP, log  # noqa: E402
from fiblab.wsgi import application  # noqa: E402


def handle_tcp(sock, address):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    serve_connection(sock, TCP)


def main():
    tcp = StreamServer(("0.0.0.0", config.TCP_PORT), handle_tcp, backlog=BACKLOG)
    # log=None: no access log line per request; errors still go to stderr.
    http = WSGIServer(("0.0.0.0", config.HTTP_PORT), application, log=None, backlog=BACKLOG)
    tcp.start()
    http.start()
    log("py-gevent: a greenlet per connection, HTTP by gevent.pywsgi, TCP by StreamServer")
    # As PID 1 a process without a handler ignores SIGTERM (docker stop).
    stop = Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, stop.set)
    stop.wait()
    # Open connections end with the process.
    tcp.close()
    http.close()


if __name__ == "__main__":
    main()
