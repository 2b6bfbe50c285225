"""py-threads-pool-ft: py-threads-pool on the free-threaded interpreter (fiblab/python-ft).

The same code as py-threads-pool: a thread per connection, fib handed to a process pool of
WORKERS. Without the GIL the pool is no longer the only way to a second core; this model shows
what the pool still costs or buys when threads could compute in parallel themselves. The
process refuses to start if the GIL is on (fiblab.interpreter).
"""

from fiblab import config
from fiblab.blocking import accept_forever, serve_in_thread
from fiblab.core import fib
from fiblab.interpreter import report, require
from fiblab.net import exit_on_signals, log, open_listeners
from fiblab.pool import start_pool, stop_pool


def main():
    require()  # the interpreter the manifest declares, or no start
    exit_on_signals()
    # The pool first: before any thread exists (see fiblab.pool), and before the listening
    # sockets, which its processes would otherwise inherit and hold open.
    workers = config.knob_int("WORKERS")
    pool = start_pool(workers)
    listeners = open_listeners()

    def compute(n: int) -> int:
        return pool.submit(fib, n).result()

    def start_thread(conn, protocol):
        serve_in_thread(conn, protocol, compute)

    log(
        f"py-threads-pool-ft: a thread per connection, fib in {workers} processes, Python {report()}"
    )
    try:
        accept_forever(listeners, start_thread)
    finally:
        stop_pool(pool)


if __name__ == "__main__":
    main()
