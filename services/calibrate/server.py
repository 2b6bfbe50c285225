"""calibrate: not a model, a measuring stick for the lab.

Every /fib/{n} request and every TCP line is answered SERVICE_MS after it arrived, waiting
with asyncio.sleep (no CPU), with no limit on concurrency: so any latency a load client reports
beyond SERVICE_MS is the lab's own (network, front, client). Pipelined requests are answered in
order, each still SERVICE_MS after its own arrival. /sleep/{ms} waits ms; /healthz and other
errors answer at once.

A stall, to check that the open-model clients see a stall instead of hiding it (coordinated
omission): STALL_AT_MS after the first service request (0 = never), the whole process freezes
for STALL_MS (time.sleep on the loop), once. A service request is a TCP line or an HTTP request
other than /healthz: the healthchecks of the model and of the front (one every 2 s from about
1 s after start, for as long as the container lives) must not start the clock, or the stall
would land at a time that depends on how long `compose up --wait` took. In a lab run the clock
therefore starts at the orchestrator's verification (GET /fib/20 through the front), which comes
a fixed ~4 s (the fleet's start delay) before the load clients' common start.

Bodies are those of the real service (fib(n)), from a table, so verification passes.
"""

import asyncio
import time

from fiblab import config
from fiblab.aio import close_after_error, serve_until_signalled
from fiblab.core import Compute, Sleep
from fiblab.net import HTTP, TCP, log
from fiblab.session import HttpSession, TcpSession

SERVICE_S = config.knob_int("SERVICE_MS") / 1000
STALL_AT_S = config.knob_int("STALL_AT_MS") / 1000
STALL_S = config.knob_int("STALL_MS") / 1000


def _fib_table(size: int) -> list:
    table = [0, 1]
    while len(table) < size:
        table.append(table[-1] + table[-2])
    return table


FIB = _fib_table(config.FIB_MAX + 1)
_stall_armed = STALL_AT_S > 0 and STALL_S > 0


def arm_stall() -> None:
    global _stall_armed
    if _stall_armed:
        _stall_armed = False
        asyncio.get_running_loop().call_later(STALL_AT_S, stall)


def stall() -> None:
    log(f"stalling the whole process for {STALL_S * 1000:.0f} ms")
    time.sleep(STALL_S)
    log("stall over")


def due(step, protocol: str) -> tuple:
    """(seconds after its request's arrival, bytes) for one step; a service request starts the
    stall clock."""
    match step.action:
        case Compute(n):
            arm_stall()
            return SERVICE_S, step.reply(FIB[n])
        case Sleep(ms):
            arm_stall()
            return ms / 1000, step.reply(None)
    if protocol == TCP:  # every TCP line is a service request, a malformed one too
        arm_stall()
        return SERVICE_S, step.reply(None)
    return 0.0, step.reply(None)


async def send_in_order(writer, replies: asyncio.Queue) -> None:
    """Write each (due time, bytes) at its due time, in arrival order; None ends."""
    loop = asyncio.get_running_loop()
    while (item := await replies.get()) is not None:
        due_at, data = item
        await asyncio.sleep(max(0.0, due_at - loop.time()))
        writer.write(data)
        await writer.drain()


async def converse(reader, writer, session, protocol: str):
    """Read requests, queue their replies with due times; a second task writes them. An error
    reply (session.farewell) is due at once."""
    loop = asyncio.get_running_loop()
    # Bounded, so a client that pipelines without reading is paused instead of buffered.
    replies = asyncio.Queue(maxsize=1024)
    sender = asyncio.create_task(send_in_order(writer, replies))
    try:
        while not sender.done() and (data := await reader.read(65536)):
            arrival = loop.time()
            for step in session.feed(data):
                delay, reply = due(step, protocol)
                await replies.put((arrival + delay, reply))
            if session.farewell:
                await replies.put((arrival, session.farewell))
            if session.over:
                break
        await replies.put(None)
        await sender
        if session.farewell:
            await close_after_error(reader, writer)
        elif session.over:
            writer.write_eof()
    except ConnectionError:
        pass
    finally:
        sender.cancel()
        writer.close()


async def serve_tcp(reader, writer):
    await converse(reader, writer, TcpSession(), TCP)


async def serve_http(reader, writer):
    await converse(reader, writer, HttpSession(), HTTP)


async def main():
    banner = f"calibrate: every reply {SERVICE_S * 1000:.0f} ms after its request"
    if _stall_armed:
        banner += f", a {STALL_S * 1000:.0f} ms stall {STALL_AT_S * 1000:.0f} ms after the first service request"
    await serve_until_signalled(serve_http, serve_tcp, banner)


if __name__ == "__main__":
    asyncio.run(main())
