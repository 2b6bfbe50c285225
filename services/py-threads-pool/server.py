"""py-threads-pool: a thread per connection, fib computed in a process pool.

As py-threads, except that a connection's thread hands fib to one of WORKERS processes and
waits for the answer. The waiting releases the GIL, and each pool process has an interpreter
of its own, so fib requests use up to WORKERS cores; parsing and replying stay in the threads.
"""
import itertools
import threading

from fiblab import config
from fiblab.blocking import accept_forever, serve_connection
from fiblab.core import fib, worker_id
from fiblab.net import exit_on_signals, log, open_listeners
from fiblab.pool import start_pool, stop_pool

_numbers = itertools.count(1)
pool = None


def compute(n: int) -> int:
    return pool.submit(fib, n).result()


def start_thread(conn, protocol):
    name = f"conn-{next(_numbers)}"
    thread = threading.Thread(target=serve_connection, name=name, daemon=True,
                              args=(conn, protocol, compute), kwargs={"worker": worker_id(name)})
    try:
        thread.start()
    except RuntimeError as error:  # "can't start new thread": the container's pids limit
        log(f"no thread for a new connection: {error}")
        conn.close()


def main():
    global pool
    exit_on_signals()
    # The pool first: before any thread exists (see fiblab.pool), and before the listening
    # sockets, which its processes would otherwise inherit and hold open.
    pool = start_pool(config.WORKERS)
    listeners = open_listeners()
    log(f"py-threads-pool: a thread per connection, fib in {config.WORKERS} processes")
    try:
        accept_forever(listeners, start_thread)
    finally:
        stop_pool(pool)


if __name__ == "__main__":
    main()
