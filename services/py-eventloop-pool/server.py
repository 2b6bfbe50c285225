"""py-eventloop-pool: the generator scheduler of py-eventloop, fib sent to a process pool.

A task that needs fib submits it to a ProcessPoolExecutor and yields ("future", f). The loop
parks the task until f is done, and meanwhile serves everyone else. The future completes in one
of the pool's threads, not in the loop; that thread must not touch the loop's queues while the
loop sleeps in select(), so its done-callback writes one byte to a socketpair that the selector
watches: the byte wakes the loop, and the loop itself resumes the task.
"""

import socket
from collections import deque

from fiblab import config
from fiblab.core import fib
from fiblab.loop import Loop, accept_forever
from fiblab.net import exit_on_signals, log, open_listeners
from fiblab.pool import start_pool, stop_pool


class PoolLoop(Loop):
    """Loop plus one trap: ("future", f) parks a task until f is done, then sends f into it."""

    def __init__(self):
        super().__init__()
        self.finished = deque()  # (task, future); appended by pool threads, drained by the loop
        self.wake_reader, self.wake_writer = socket.socketpair()
        self.wake_writer.setblocking(False)
        self.spawn(self.drain_wakeups())

    def trap_future(self, task, future) -> None:
        future.add_done_callback(lambda done: self.on_done(task, done))

    def on_done(self, task, future) -> None:  # runs in a pool thread
        self.finished.append((task, future))
        try:
            self.wake_writer.send(b"\0")
        except BlockingIOError:
            pass  # the socket is full of wake-ups already: the loop will wake anyway

    def drain_wakeups(self):
        while True:
            yield "recv", self.wake_reader
            self.wake_reader.recv(4096)
            while self.finished:
                self.spawn(*self.finished.popleft())


def main():
    exit_on_signals()
    # The pool first, so its processes do not inherit the listening sockets.
    workers = config.knob_int("WORKERS")
    pool = start_pool(workers)
    listeners = open_listeners()

    def compute(n: int):
        future = yield "future", pool.submit(fib, n)
        return future.result()

    loop = PoolLoop()
    for listener, protocol in listeners.items():
        listener.setblocking(False)
        loop.spawn(accept_forever(loop, listener, protocol, compute))
    log(f"py-eventloop-pool: generator tasks on one selector loop, fib in {workers} processes")
    try:
        loop.run()
    finally:
        stop_pool(pool)


if __name__ == "__main__":
    main()
