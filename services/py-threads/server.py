"""py-threads: a thread per connection.

The main thread accepts; each connection gets a thread of its own that serves it to the end.
A thread waiting in recv or in /sleep costs almost nothing, so idle and I/O-bound clients do
not hold anyone up. But the GIL lets one thread at a time run Python: fib requests on several
connections share one core, whatever the CPU limit.

py-threads-ft (free-threaded) and py-threads-314 run this file on their own interpreters, which
their manifests declare (fiblab.interpreter).
"""

from fiblab.blocking import accept_forever, serve_in_thread
from fiblab.interpreter import banner, require
from fiblab.net import exit_on_signals, log, open_listeners


def main():
    require()  # the interpreter the manifest declares, or no start
    exit_on_signals()
    listeners = open_listeners()
    log(banner("a thread per connection"))
    accept_forever(listeners, serve_in_thread)


if __name__ == "__main__":
    main()
