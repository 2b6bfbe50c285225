"""py-threads: a thread per connection.

The main thread accepts; each connection gets a thread of its own that serves it to the end.
A thread waiting in recv or in /sleep costs almost nothing, so idle and I/O-bound clients do
not hold anyone up. But the GIL lets one thread at a time run Python: fib requests on several
connections share one core, whatever the CPU limit.
"""
import itertools
import threading

from fiblab.blocking import accept_forever, serve_connection
from fiblab.core import worker_id
from fiblab.net import exit_on_signals, log, open_listeners

_numbers = itertools.count(1)


def start_thread(conn, protocol):
    name = f"conn-{next(_numbers)}"
    # daemon: SIGTERM ends the process without waiting for open connections.
    thread = threading.Thread(target=serve_connection, name=name, daemon=True,
                              args=(conn, protocol), kwargs={"worker": worker_id(name)})
    try:
        thread.start()
    except RuntimeError as error:  # "can't start new thread": the container's pids limit
        log(f"no thread for a new connection: {error}")
        conn.close()


def main():
    exit_on_signals()
    listeners = open_listeners()
    log("py-threads: a thread per connection")
    accept_forever(listeners, start_thread)


if __name__ == "__main__":
    main()
