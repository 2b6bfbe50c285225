import threading

import pytest

from fiblab.wsgi import application


def call(method, path, **environ):
    """Run the WSGI app once: (status line, headers dict, body)."""
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(
        application({"REQUEST_METHOD": method, "PATH_INFO": path, **environ}, start_response)
    )
    return seen["status"], seen["headers"], body


@pytest.mark.parametrize(
    "method, path, status, body",
    [
        ("GET", "/fib/20", "200 OK", b"6765\n"),
        ("GET", "/sleep/1", "200 OK", b"ok\n"),
        ("GET", "/healthz", "200 OK", b"ok\n"),
        ("GET", "/fib/x", "400 Bad Request", b"not an integer\n"),
        ("GET", "/fib/36", "422 Unprocessable Content", b"above the cap (FIB_MAX=35)\n"),
        ("GET", "/nope", "404 Not Found", b"not found\n"),
        ("POST", "/fib/3", "405 Method Not Allowed", b"method not allowed\n"),
    ],
)
def test_routes(method, path, status, body):
    got_status, headers, got_body = call(method, path)
    assert (got_status, got_body) == (status, body)
    assert headers["Content-Type"] == "text/plain"
    assert headers["Content-Length"] == str(len(body))


def test_head_has_length_but_no_body():
    status, headers, body = call("HEAD", "/fib/20")
    assert (status, headers["Content-Length"], body) == ("200 OK", "5", b"")


def test_x_worker_names_the_thread_only_for_threaded_servers():
    _, headers, _ = call("GET", "/fib/1")
    assert headers["X-Worker"].count("/") == 1
    _, headers, _ = call("GET", "/fib/1", **{"wsgi.multithread": True})
    assert headers["X-Worker"].endswith("/" + threading.current_thread().name)


@pytest.mark.parametrize("path_info", ["http://fiblab/fib/10", "HTTPS://fiblab:8000/fib/10"])
def test_absolute_form_target(path_info):
    # gevent's pywsgi and uWSGI pass the absolute form through as PATH_INFO.
    assert call("GET", path_info)[2] == b"55\n"
