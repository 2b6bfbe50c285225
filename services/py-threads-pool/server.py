"""py-threads-pool: a thread per connection, fib computed in a process pool.

As py-threads, except that a connection's thread hands fib to one of WORKERS processes and
waits for the answer. The waiting releases the GIL, and each pool process has an interpreter
of its own, so fib requests use up to WORKERS cores; parsing and replying stay in the threads.

py-threads-pool-ft runs this file on the free-threaded interpreter, which its manifest declares
(fiblab.interpreter): there the pool is no longer the only way to a second core, and it shows
what the pool still costs or buys when threads could compute in parallel themselves.
"""

from fiblab import config
from fiblab.blocking import accept_forever, serve_in_thread
from fiblab.core import fib
from fiblab.interpreter import banner, require
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

    log(banner(f"a thread per connection, fib in {workers} processes"))
    try:
        accept_forever(listeners, start_thread)
    finally:
        stop_pool(pool)


if __name__ == "__main__":
    main()
