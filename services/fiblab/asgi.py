"""The service as an ASGI application, for uvicorn (run it with lifespan off).

fib runs on the event loop itself, blocking every other request of this worker while it
computes; /sleep awaits asyncio.sleep and blocks nothing.
"""

import asyncio

from .core import OK_BODY, Compute, Sleep, fib_body, route, worker_id


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    action = route(scope["method"], scope["path"])
    if isinstance(action, Compute):
        status, body = 200, fib_body(action.n)
    elif isinstance(action, Sleep):
        await asyncio.sleep(action.ms / 1000)
        status, body = 200, OK_BODY
    else:
        status, body = action
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", b"%d" % len(body)),
                (b"x-worker", worker_id().encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
