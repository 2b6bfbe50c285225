"""py-sync: one process, one thread, one client connection at a time.

The simplest server there is: accept, serve that connection to its end, accept the next.
Meanwhile every other client waits in the kernel's accept backlog. A keep-alive connection
that idles pins the whole server (until IDLE_TIMEOUT_S), which is why the front keeps no idle
connections to this model (model.json: front.upstreamKeepalive false).
"""

from fiblab.blocking import accept_forever, serve_connection
from fiblab.net import exit_on_signals, log, open_listeners


def main():
    exit_on_signals()
    listeners = open_listeners()
    log("py-sync: one connection at a time")
    accept_forever(listeners, serve_connection)


if __name__ == "__main__":
    main()
