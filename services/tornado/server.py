"""tornado: one process, one Tornado IOLoop serving both protocols.

HTTP through Tornado's own HTTPServer and tornado.web, TCP through a TCPServer; both drive the
same fiblab answers (fiblab.tornado_base). A coroutine per connection: waiting and /sleep are
cheap, fib blocks the loop and every other connection while it computes. No master.
"""

from fiblab.net import exit_on_signals
from fiblab.tornado_base import listen, serve


def main():
    exit_on_signals()  # until the loop takes SIGTERM over
    http, tcp = listen()
    serve(http, tcp, "tornado: one IOLoop, Tornado's HTTPServer and a TCPServer")


if __name__ == "__main__":
    main()
