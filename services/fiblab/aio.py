"""The service on asyncio streams, for py-asyncio and calibrate."""

import asyncio
import signal

from .core import Compute, Sleep
from .net import HTTP, log, open_listeners


async def perform(action, compute):
    """A step's action as a coroutine: compute(n) is a coroutine function too."""
    match action:
        case Compute(n):
            return await compute(n)
        case Sleep(ms):
            await asyncio.sleep(ms / 1000)


async def close_after_error(reader, writer) -> None:
    """Close after an error reply. Closing with unread input sends a RST, which can destroy the
    reply before the client reads it: send FIN first, then read what the client still sends,
    for a moment. The caller closes the writer."""
    writer.write_eof()
    try:
        async with asyncio.timeout(1.0):
            while await reader.read(65536):
                pass
    except (TimeoutError, ConnectionError):
        pass


async def converse(reader, writer, session, compute) -> None:
    """Serve one connection until either side ends it."""
    try:
        while data := await reader.read(65536):
            for step in session.feed(data):
                writer.write(step.reply(await perform(step.action, compute)))
                await writer.drain()
            if session.farewell:
                writer.write(session.farewell)
                return await close_after_error(reader, writer)
            if session.over:
                return
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve_until_signalled(serve_http, serve_tcp, banner: str) -> None:
    """Accept on both ports until SIGTERM or SIGINT, then stop accepting.

    asyncio.run then cancels the connections still open, so shutdown is prompt.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    servers = [
        await asyncio.start_server(serve_http if protocol == HTTP else serve_tcp, sock=listener)
        for listener, protocol in open_listeners().items()
    ]
    log(banner)
    await stop.wait()
    for server in servers:
        server.close()
