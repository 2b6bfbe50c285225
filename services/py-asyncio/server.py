"""py-asyncio: asyncio streams for both protocols, in one thread.

The standard library's event loop doing what py-eventloop does by hand: a coroutine per
connection, suspended at every await while it waits. fib runs on the loop and blocks it, as in
py-eventloop. With POOL=1, fib goes to a ProcessPoolExecutor(WORKERS) through run_in_executor:
the loop only waits for the answer, and fib requests use up to WORKERS cores.
"""
import asyncio

from fiblab import config
from fiblab.core import OK_BODY, Compute, ProtocolError, Reply, Sleep, error_line, fib, parse_line, route, worker_id
from fiblab.aio import serve_until_signalled
from fiblab.http import HttpParser, error_response, response
from fiblab.pool import start_pool, stop_pool
from fiblab.tcp import TOO_LONG_REPLY, LineBuffer

POOL = config.env_bool("POOL", False)
pool = None


async def compute(n: int) -> int:
    if pool is None:
        return fib(n)
    return await asyncio.get_running_loop().run_in_executor(pool, fib, n)


async def close_after_error(reader, writer) -> None:
    # Closing with unread input sends a RST, which can destroy the error reply before the
    # client reads it: send FIN first, then read what the client still sends, for a moment.
    writer.write_eof()
    try:
        async with asyncio.timeout(1.0):
            while await reader.read(65536):
                pass
    except (TimeoutError, ConnectionError):
        pass


async def serve_tcp(reader, writer):
    lines = LineBuffer()
    try:
        while data := await reader.read(65536):
            for line in lines.feed(data):
                try:
                    reply = b"%d\n" % await compute(parse_line(line))
                except ProtocolError as error:
                    reply = error_line(error)
                writer.write(reply)
                await writer.drain()
            if lines.error:
                writer.write(TOO_LONG_REPLY)
                await close_after_error(reader, writer)
                return
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve_http(reader, writer):
    worker = worker_id()
    parser = HttpParser()
    try:
        while data := await reader.read(65536):
            for request in parser.feed(data):
                match route(request.method, request.target):
                    case Compute(n):
                        status, body = 200, b"%d\n" % await compute(n)
                    case Sleep(ms):
                        await asyncio.sleep(ms / 1000)
                        status, body = 200, OK_BODY
                    case Reply(status, body):
                        pass
                head = request.method == "HEAD"
                writer.write(response(status, body, request.keep_alive, worker, head))
                await writer.drain()
                if not request.keep_alive:
                    return
            if parser.error:
                writer.write(error_response(parser.error, worker))
                await close_after_error(reader, writer)
                return
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve():
    where = f"fib in {config.WORKERS} processes" if pool else "fib on the loop"
    await serve_until_signalled(serve_http, serve_tcp, f"py-asyncio: asyncio streams, {where}")


def main():
    global pool
    if POOL:
        pool = start_pool(config.WORKERS)  # before the loop starts any thread (see fiblab.pool)
    try:
        asyncio.run(serve())
    finally:
        if pool:
            stop_pool(pool)


if __name__ == "__main__":
    main()
