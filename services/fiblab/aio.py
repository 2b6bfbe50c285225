"""Serving both protocols on asyncio streams, for the asyncio-based servers."""
import asyncio
import signal

from fiblab.net import HTTP, log, open_listeners


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
