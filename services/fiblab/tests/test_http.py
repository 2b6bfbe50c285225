import pytest

from fiblab.http import MAX_HEADERS, HttpError, HttpParser, Request, error_response, response

GET = b"GET /fib/10 HTTP/1.1\r\nHost: lab\r\n\r\n"


def feed_all(data, parser=None):
    parser = parser or HttpParser()
    return parser.feed(data), parser


def test_one_request():
    (request,), parser = feed_all(GET)
    assert request == Request("GET", "/fib/10", "HTTP/1.1", [("host", "lab")], True)
    assert parser.error is None


def test_split_at_every_byte():
    stream = (
        GET + b"GET /sleep/1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcHEAD /healthz HTTP/1.0\r\n\r\n"
    )
    for cut in range(len(stream) + 1):
        parser = HttpParser()
        requests = parser.feed(stream[:cut]) + parser.feed(stream[cut:])
        assert [(r.method, r.target, r.keep_alive) for r in requests] == [
            ("GET", "/fib/10", True),
            ("GET", "/sleep/1", True),
            ("HEAD", "/healthz", False),
        ], cut
        assert parser.error is None


def test_byte_by_byte():
    parser = HttpParser()
    requests = [r for b in GET * 3 for r in parser.feed(bytes([b]))]
    assert len(requests) == 3


def test_pipelined_in_one_write():
    requests, _ = feed_all(GET * 50)
    assert len(requests) == 50


def test_bare_lf_and_leading_empty_lines():
    requests, parser = feed_all(b"\r\n\nGET /healthz HTTP/1.1\nHost: x\n\n")
    assert [r.target for r in requests] == ["/healthz"] and parser.error is None


@pytest.mark.parametrize(
    "head, keep_alive",
    [
        (b"GET / HTTP/1.1\r\n", True),
        (b"GET / HTTP/1.1\r\nConnection: close\r\n", False),
        (b"GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n", False),
        (b"GET / HTTP/1.0\r\n", False),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n", True),
    ],
)
def test_keep_alive(head, keep_alive):
    (request,), _ = feed_all(head + b"\r\n")
    assert request.keep_alive is keep_alive


def test_absolute_form_target():
    (request,), _ = feed_all(b"GET http://lab:8080/fib/3?x HTTP/1.1\r\n\r\n")
    assert request.target == "/fib/3?x"


def test_body_is_skipped_even_when_split():
    parser = HttpParser()
    assert parser.feed(b"POST /fib/1 HTTP/1.1\r\nContent-Length: 10\r\n\r\n01234") == []
    requests = parser.feed(b"56789" + GET)
    assert [r.method for r in requests] == ["POST", "GET"]


def test_complete_requests_before_an_error_are_kept():
    requests, parser = feed_all(GET + b"NONSENSE\r\n\r\n" + GET)
    assert len(requests) == 1
    assert parser.error.status == 400
    assert parser.feed(GET) == []


@pytest.mark.parametrize(
    "data, status",
    [
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
        (b"GET  / HTTP/1.1\r\n\r\n", 400),
        (b"G(T / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/x\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nA: x\x00y\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nA: " + b"b" * 17000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\n" + b"A: b\r\n" * (MAX_HEADERS + 1) + b"\r\n", 431),
    ],
)
def test_errors(data, status):
    requests, parser = feed_all(data)
    assert requests == []
    assert parser.error.status == status


def test_same_content_length_twice_is_fine():
    (request,), parser = feed_all(
        b"GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n"
    )
    assert parser.error is None


def test_limits_hit_before_the_newline_arrives():
    parser = HttpParser()
    parser.feed(b"GET /" + b"a" * 9000)
    assert parser.error.status == 414
    parser = HttpParser()
    parser.feed(b"GET / HTTP/1.1\r\nA: " + b"b" * 17000)
    assert parser.error.status == 431


def test_exactly_at_the_limits():
    target = b"/" + b"a" * (8192 - len(b"GET  HTTP/1.1") - 1)
    line = b"GET " + target + b" HTTP/1.1"
    assert len(line) == 8192
    requests, parser = feed_all(line + b"\r\n\r\n")
    assert parser.error is None and len(requests) == 1


def test_response():
    reply = response(200, b"55\n", True, "h/1")
    assert reply == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
        b"Connection: keep-alive\r\nX-Worker: h/1\r\n\r\n55\n"
    )
    assert response(200, b"55\n", False, "h/1", head=True).endswith(
        b"Connection: close\r\nX-Worker: h/1\r\n\r\n"
    )
    assert b"Allow: GET, HEAD\r\n" in response(405, b"x\n", True, "w")
    error = error_response(HttpError(431, "too big"), "w")
    assert error.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert error.endswith(b"Connection: close\r\nX-Worker: w\r\n\r\ntoo big\n")
