"""py-asyncio: asyncio streams for both protocols, in one thread.

The standard library's event loop doing what py-eventloop does by hand: a coroutine per
connection, suspended at every await while it waits. fib runs on the loop and blocks it, as in
py-eventloop. With POOL=1, fib goes to a ProcessPoolExecutor(WORKERS) through run_in_executor:
the loop only waits for the answer, and fib requests use up to WORKERS cores.
"""

import asyncio

from fiblab import config
from fiblab.aio import converse, serve_until_signalled
from fiblab.core import fib
from fiblab.pool import start_pool, stop_pool
from fiblab.session import HttpSession, TcpSession

pool = None


async def compute(n: int) -> int:
    if pool is None:
        return fib(n)
    return await asyncio.get_running_loop().run_in_executor(pool, fib, n)


async def serve_tcp(reader, writer):
    await converse(reader, writer, TcpSession(), compute)


async def serve_http(reader, writer):
    await converse(reader, writer, HttpSession(), compute)


def main():
    global pool
    workers = config.knob_int("WORKERS")
    if config.knob_bool("POOL"):
        pool = start_pool(workers)  # before the loop starts any thread (see fiblab.pool)
    where = f"fib in {workers} processes" if pool else "fib on the loop"
    try:
        asyncio.run(
            serve_until_signalled(serve_http, serve_tcp, f"py-asyncio: asyncio streams, {where}")
        )
    finally:
        if pool:
            stop_pool(pool)


if __name__ == "__main__":
    main()
