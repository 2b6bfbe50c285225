"""py-eventloop: one thread, a hand-written generator scheduler over selectors (no asyncio).

Every connection is a generator task on fiblab.loop.Loop; a task gives the loop back whenever
it would wait (recv, send, /sleep), so thousands of idle or sleeping connections cost nothing.
fib is different: it never waits, so while one fib runs, every other connection stands still.
That blocking is the lesson; py-eventloop-pool is the cure.
"""

from fiblab.core import fib
from fiblab.loop import Loop, accept_forever
from fiblab.net import exit_on_signals, log, open_listeners


def compute(n: int):
    """fib right here, on the loop."""
    return fib(n)
    yield  # never reached: it makes this a generator, like compute in py-eventloop-pool


def main():
    exit_on_signals()
    loop = Loop()
    for listener, protocol in open_listeners().items():
        listener.setblocking(False)
        loop.spawn(accept_forever(loop, listener, protocol, compute))
    log("py-eventloop: generator tasks on one selector loop, fib on the loop")
    loop.run()


if __name__ == "__main__":
    main()
