"""py-fork: a child process forked for every connection, reaped on SIGCHLD.

The parent only accepts and forks; the child serves its one connection to the end and exits.
Children share nothing, so fib requests on different connections run on different cores, and
a crash takes one connection down, not the server. The costs: a fork per connection (the
front's upstream keep-alive spreads it over many requests) and a process per open connection.
At MAX_CHILDREN live children the parent stops accepting until one exits; new clients wait in
the kernel's accept backlog meanwhile.
"""

import os
import selectors
import signal
import socket
import time

from fiblab import config
from fiblab.blocking import serve_connection
from fiblab.net import (
    accept,
    child_exit_status,
    exit_on_signals,
    log,
    open_listeners,
    reset_signals_in_child,
)

MAX_CHILDREN = config.knob_int("MAX_CHILDREN")


def fork_child(conn, protocol, inherited) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            reset_signals_in_child()
            for sock in inherited:  # the parent's sockets are not this child's business
                sock.close()
            serve_connection(conn, protocol)
        finally:
            os._exit(0)  # never return into the parent's loop
    conn.close()  # the child has its own copy
    return pid


def reap(children: set) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no children at all
        if pid == 0:
            return  # children, but none has exited
        children.discard(pid)
        if status:
            log(f"child {pid} ended badly: {child_exit_status(status)}")


def main():
    exit_on_signals()
    listeners = open_listeners()
    # SIGCHLD only has to wake the select below: its handler does nothing, and set_wakeup_fd
    # makes every signal write a byte to this socketpair. The loop reaps, so the set of children
    # is only ever changed by the loop itself, never by a handler in the middle of it.
    wake_reader, wake_writer = socket.socketpair()
    wake_reader.setblocking(False)
    wake_writer.setblocking(False)
    signal.set_wakeup_fd(wake_writer.fileno())
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)

    accepting = selectors.DefaultSelector()  # the listeners and the wake-up
    at_cap = selectors.DefaultSelector()  # the wake-up only
    for listener, protocol in listeners.items():
        accepting.register(listener, selectors.EVENT_READ, protocol)
    for selector in (accepting, at_cap):
        selector.register(wake_reader, selectors.EVENT_READ)
    inherited = [*listeners, wake_reader, wake_writer]

    children = set()
    log(f"py-fork: a child per connection, at most {MAX_CHILDREN} at once")
    try:
        while True:
            selector = accepting if len(children) < MAX_CHILDREN else at_cap
            for key, _ in selector.select():
                if key.fileobj is wake_reader:
                    try:
                        while wake_reader.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                    reap(children)
                elif len(children) < MAX_CHILDREN:
                    try:
                        conn = accept(key.fileobj)
                    except OSError as error:
                        log(f"accept failed: {error!r}")
                        continue
                    try:
                        children.add(fork_child(conn, key.data, inherited))
                    except OSError as error:  # EAGAIN: the container's pids limit
                        log(f"fork failed: {error!r}")
                        conn.close()
                        time.sleep(0.01)
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    main()
