import pytest

from fiblab import core
from fiblab.core import (
    Compute,
    ProtocolError,
    Reply,
    Sleep,
    fib,
    parse_ms,
    parse_n,
    route,
    route_line,
)


def test_fib_values():
    assert [fib(n) for n in range(11)] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55]
    assert fib(20) == 6765


@pytest.mark.parametrize("text, value", [("0", 0), ("7", 7), ("35", 35), ("007", 7), (b"12", 12)])
def test_parse_n_accepts(text, value):
    assert parse_n(text) == value


@pytest.mark.parametrize(
    "text, status, reason",
    [
        ("", 400, "not an integer"),
        ("abc", 400, "not an integer"),
        ("+5", 400, "not an integer"),
        (" 5", 400, "not an integer"),
        ("5 ", 400, "not an integer"),
        ("1_0", 400, "not an integer"),
        ("٣", 400, "not an integer"),  # an Arabic-Indic digit: int() would take it
        ("1.5", 400, "not an integer"),
        ("-1", 400, "negative"),
        ("-0", 400, "negative"),
        ("36", 422, "above the cap (FIB_MAX=35)"),
        ("9" * 64, 422, "above the cap (FIB_MAX=35)"),
        ("9" * 65, 400, "number too long"),
    ],
)
def test_parse_n_refuses(text, status, reason):
    with pytest.raises(ProtocolError) as caught:
        parse_n(text)
    assert (caught.value.status, caught.value.reason) == (status, reason)
    assert isinstance(caught.value, ValueError)


def test_caps_follow_config(monkeypatch):
    monkeypatch.setattr(core.config, "FIB_MAX", 40)
    assert parse_n("40") == 40
    assert parse_ms("10000") == 10000
    with pytest.raises(ProtocolError) as caught:
        parse_ms("10001")
    assert caught.value.status == 422 and "SLEEP_MAX_MS=10000" in caught.value.reason


@pytest.mark.parametrize(
    "method, path, expected",
    [
        ("GET", "/fib/20", Compute(20)),
        ("HEAD", "/fib/20", Compute(20)),
        ("GET", "/fib/20?verbose=1", Compute(20)),
        ("GET", "/sleep/250", Sleep(250)),
        ("GET", "/healthz", Reply(200, b"ok\n")),
        ("GET", "/fib/x", Reply(400, b"not an integer\n")),
        ("GET", "/fib/", Reply(400, b"not an integer\n")),
        ("GET", "/fib/-2", Reply(400, b"negative\n")),
        ("GET", "/fib/36", Reply(422, b"above the cap (FIB_MAX=35)\n")),
        ("GET", "/sleep/10001", Reply(422, b"above the cap (SLEEP_MAX_MS=10000)\n")),
        ("GET", "/", Reply(404, b"not found\n")),
        ("GET", "/fib", Reply(404, b"not found\n")),
        ("GET", "/fib/1/2", Reply(404, b"not found\n")),
        ("GET", "/fibs/1", Reply(404, b"not found\n")),
        ("GET", "fib/1", Reply(404, b"not found\n")),
        ("GET", "/healthz/", Reply(404, b"not found\n")),
        ("POST", "/fib/1", Reply(405, b"method not allowed\n")),
        ("DELETE", "/healthz", Reply(405, b"method not allowed\n")),
        ("POST", "/nowhere", Reply(404, b"not found\n")),
    ],
)
def test_route(method, path, expected):
    assert route(method, path) == expected


def test_every_status_route_gives_has_a_reason_phrase():
    for method, path in [
        ("GET", "/fib/x"),
        ("GET", "/fib/99"),
        ("GET", "/nope"),
        ("GET", "/healthz"),
        ("PUT", "/fib/1"),
    ]:
        assert route(method, path).status in core.REASON


def test_worker_id(monkeypatch):
    monkeypatch.setattr(core.os, "getpid", lambda: 42)
    monkeypatch.setattr(core, "_HOSTNAME", "box")
    assert core.worker_id() == "box/42"
    assert core.worker_id("conn-3") == "box/42/conn-3"


def test_route_line():
    assert route_line(b"20\r") == Compute(20)
    assert route_line(b"abc") == Reply(400, b"error: not an integer\n")
    assert route_line(b"36") == Reply(422, b"error: above the cap (FIB_MAX=35)\n")
