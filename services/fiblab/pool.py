"""A process pool for fib, shared by py-threads-pool, py-eventloop-pool and py-asyncio (POOL=1)."""
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor


def _worker_init() -> None:
    # The parent decides when the pool stops; a Ctrl-C in a terminal reaches the whole group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes, all of them started before this returns.

    With the fork start method the pool forks all its workers at the first submit. That first
    submit happens here, while the caller has one thread: forking a process that has others can
    copy a lock one of them holds, and the child would wait for it forever.
    """
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_worker_init)
    pool.submit(int).result()
    return pool


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop at once: a worker may be deep in a fib(35) that nobody waits for any more."""
    pool.shutdown(wait=False, cancel_futures=True)
    for child in multiprocessing.active_children():
        child.terminate()
