"""A process pool for fib, shared by py-threads-pool, py-eventloop-pool and py-asyncio (POOL=1)."""

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .net import log


def _worker_init() -> None:
    # The parent decides when the pool stops; a Ctrl-C in a terminal reaches the whole group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


_stopping = False


def _broken() -> None:
    if _stopping:
        return  # stop_pool killed the workers itself
    # A pool that lost a worker (OOM killer, kill -9) fails every later fib while /healthz still
    # answers. Exit instead: the container restarts, and the lab counts the restart.
    log("the process pool lost a worker and is broken: exiting")
    os._exit(70)


def _check(future) -> None:
    if not future.cancelled() and isinstance(future.exception(), BrokenProcessPool):
        _broken()


class Pool(ProcessPoolExecutor):
    def submit(self, fn, /, *args, **kwargs):
        try:
            future = super().submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            _broken()
            raise
        future.add_done_callback(_check)
        return future


def start_pool(workers: int) -> Pool:
    """A pool of `workers` processes, all of them started before this returns.

    With the fork start method the pool forks all its workers at the first submit. That first
    submit happens here, while the caller has one thread: forking a process that has others can
    copy a lock one of them holds, and the child would wait for it forever.
    """
    pool = Pool(workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_init)
    pool.submit(int).result()
    return pool


def stop_pool(pool: Pool) -> None:
    """Stop at once: a worker may be deep in a fib(35) that nobody waits for any more."""
    global _stopping
    _stopping = True
    pool.shutdown(wait=False, cancel_futures=True)
    for child in multiprocessing.active_children():
        child.terminate()
