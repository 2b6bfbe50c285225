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
from fiblab.core import OK_BODY, Compute, ProtocolError, Reply, Sleep, error_line, parse_line, route, worker_id
from fiblab.http import HttpParser, error_response, response
from fiblab.aio import serve_until_signalled
from fiblab.net import log
from fiblab.tcp import TOO_LONG_REPLY, LineBuffer

SERVICE_S = config.env_int("SERVICE_MS", 50) / 1000
STALL_AT_S = config.env_int("STALL_AT_MS", 0) / 1000
STALL_S = config.env_int("STALL_MS", 0) / 1000


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


async def send_in_order(writer, replies: asyncio.Queue) -> None:
    """Write each (due time, bytes) at its due time, in arrival order; None ends."""
    loop = asyncio.get_running_loop()
    while (item := await replies.get()) is not None:
        due, data = item
        await asyncio.sleep(max(0.0, due - loop.time()))
        writer.write(data)
        await writer.drain()


async def serve(reader, writer, replies_for):
    """Read requests, queue their replies with due times; a second task writes them.
    replies_for(data) -> ([(delay, bytes)], close?)"""
    loop = asyncio.get_running_loop()
    # Bounded, so a client that pipelines without reading is paused instead of buffered.
    replies = asyncio.Queue(maxsize=1024)
    sender = asyncio.create_task(send_in_order(writer, replies))
    close = False
    try:
        while not sender.done() and (data := await reader.read(65536)):
            arrival = loop.time()
            items, close = replies_for(data)
            for delay, reply in items:
                await replies.put((arrival + delay, reply))
            if close:
                break
        await replies.put(None)
        await sender
        if close:
            writer.write_eof()
    except ConnectionError:
        pass
    finally:
        sender.cancel()
        writer.close()


def tcp_replies(lines: LineBuffer):
    def replies_for(data):
        items = []
        for line in lines.feed(data):
            arm_stall()
            try:
                items.append((SERVICE_S, b"%d\n" % FIB[parse_line(line)]))
            except ProtocolError as error:
                items.append((SERVICE_S, error_line(error)))
        if lines.error:
            items.append((0.0, TOO_LONG_REPLY))
        return items, bool(lines.error)
    return replies_for


def http_replies(parser: HttpParser, worker: str):
    def replies_for(data):
        items = []
        for request in parser.feed(data):
            match route(request.method, request.target):
                case Compute(n):
                    arm_stall()
                    delay, status, body = SERVICE_S, 200, b"%d\n" % FIB[n]
                case Sleep(ms):
                    arm_stall()
                    delay, status, body = ms / 1000, 200, OK_BODY
                case Reply(status, body):
                    delay = 0.0
            head = request.method == "HEAD"
            items.append((delay, response(status, body, request.keep_alive, worker, head)))
            if not request.keep_alive:
                return items, True
        if parser.error:
            items.append((0.0, error_response(parser.error, worker)))
        return items, bool(parser.error)
    return replies_for


async def serve_tcp(reader, writer):
    await serve(reader, writer, tcp_replies(LineBuffer()))


async def serve_http(reader, writer):
    await serve(reader, writer, http_replies(HttpParser(), worker_id()))


async def main():
    stall_note = f", a {STALL_S * 1000:.0f} ms stall {STALL_AT_S * 1000:.0f} ms after the first service request" if _stall_armed else ""
    await serve_until_signalled(serve_http, serve_tcp, f"calibrate: every reply {SERVICE_S * 1000:.0f} ms after its request{stall_note}")


if __name__ == "__main__":
    asyncio.run(main())
