"""py-threads-ft: py-threads on the free-threaded interpreter (fiblab/python-ft).

The same code as py-threads: the main thread accepts, each connection gets a thread of its own.
Without the GIL, threads run Python in parallel: fib requests on several connections use as
many cores as the CPU limit gives, and a long fib no longer takes turns with short requests.
The process refuses to start if the GIL is on (fiblab.interpreter).
"""

from fiblab.blocking import accept_forever, serve_in_thread
from fiblab.interpreter import report, require
from fiblab.net import exit_on_signals, log, open_listeners


def main():
    require()  # the interpreter the manifest declares, or no start
    exit_on_signals()
    listeners = open_listeners()
    log(f"py-threads-ft: a thread per connection, Python {report()}")
    accept_forever(listeners, serve_in_thread)


if __name__ == "__main__":
    main()
