"""uvicorn: fiblab.asgi on uvloop. With WORKERS > 1, uvicorn's supervisor (this process) spawns
that many server processes sharing the listening socket and replaces any that die."""

import uvicorn
from fiblab.config import knob_int

# The guard matters: uvicorn spawns its workers, and spawning re-imports this module.
if __name__ == "__main__":
    uvicorn.run(
        "fiblab.asgi:app",
        host="0.0.0.0",
        port=8000,
        backlog=4096,
        workers=knob_int("WORKERS"),
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,  # a log line per request would cost more than some requests
        # Longer than the front keeps an idle upstream connection (nginx: 60 s), so the front
        # never sends a request on a connection that we are closing.
        timeout_keep_alive=75,
        timeout_graceful_shutdown=3,  # inside compose's 5 s stop grace period
    )
