"""py-threads-314: py-threads on Debian's python3.14 (fiblab/python314), GIL on.

The same code as py-threads, on the newer interpreter: the baseline that tells what 3.14 itself
changes from 3.13, GIL and all, before free threading. The process refuses to start if the
interpreter is not the one its manifest declares (fiblab.interpreter).
"""

from fiblab.blocking import accept_forever, serve_in_thread
from fiblab.interpreter import report, require
from fiblab.net import exit_on_signals, log, open_listeners


def main():
    require()  # the interpreter the manifest declares, or no start
    exit_on_signals()
    listeners = open_listeners()
    log(f"py-threads-314: a thread per connection, Python {report()}")
    accept_forever(listeners, serve_in_thread)


if __name__ == "__main__":
    main()
