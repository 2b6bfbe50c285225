"""The service as a WSGI application, for gunicorn, uWSGI and gevent's pywsgi.

`route` decides the answer; this module only speaks WSGI. A /sleep calls time.sleep, which
blocks a thread or, where gevent has monkey-patched the process, only the current greenlet.
"""

import re
import sys
import threading
import time

from . import interpreter
from .core import OK_BODY, REASON, Compute, Sleep, fib_body, route, worker_id

# gevent's pywsgi and uWSGI pass an absolute-form target ("GET http://host/fib/5", which a
# server must accept) through as PATH_INFO; the path is what follows the authority.
_ABSOLUTE = re.compile(r"https?://[^/]*", re.IGNORECASE)


def _path(environ) -> str:
    path = environ.get("PATH_INFO", "")
    if absolute := _ABSOLUTE.match(path):
        path = path[absolute.end() :] or "/"
    return path


def _threaded(environ) -> bool:
    """Do several threads of this process run the app (gthread, uWSGI threads)? Then X-Worker
    names the thread. gevent's and eventlet's servers also set wsgi.multithread, but their
    "threads" are greenlets, one per connection: naming them would give every connection a
    worker of its own."""
    if not environ.get("wsgi.multithread"):
        return False
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        return False
    patcher = sys.modules.get("eventlet.patcher")
    return not (patcher is not None and patcher.is_monkey_patched("thread"))


def application(environ, start_response):
    method = environ["REQUEST_METHOD"]
    action = route(method, _path(environ))
    if isinstance(action, Compute):
        status, body = 200, fib_body(action.n)
    elif isinstance(action, Sleep):
        time.sleep(action.ms / 1000)
        status, body = 200, OK_BODY
    else:
        status, body = action
    extra = (threading.current_thread().name,) if _threaded(environ) else ()
    headers = [
        ("Content-Type", "text/plain"),
        ("Content-Length", str(len(body))),
        ("X-Worker", worker_id(*extra)),
    ]
    if interpreter.REPORTS:
        headers.append((interpreter.HEADER, interpreter.report()))
    start_response(f"{status} {REASON[status]}", headers)
    return [b""] if method == "HEAD" else [body]
