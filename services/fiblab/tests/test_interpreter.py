import platform

import pytest

from fiblab import http, interpreter

HERE = {"version": ".".join(platform.python_version().split(".")[:2]), "gil": True}


@pytest.fixture
def gil(monkeypatch):
    def set_gil(on: bool):
        monkeypatch.setattr(interpreter.sys, "_is_gil_enabled", lambda: on, raising=False)

    return set_gil


def test_the_running_interpreter_matches_its_own_description(gil):
    gil(True)
    assert interpreter.mismatch(HERE) == ""
    assert interpreter.mismatch({**HERE, "version": platform.python_version()}) == ""


def test_a_gil_where_none_is_declared_is_a_mismatch(gil):
    gil(True)
    assert "the GIL is on" in interpreter.mismatch({**HERE, "gil": False})
    gil(False)
    assert "the GIL is off" in interpreter.mismatch(HERE)


def test_another_version_is_a_mismatch(gil):
    gil(True)
    assert "not 2.7" in interpreter.mismatch({**HERE, "version": "2.7"})
    # 3.1 is not 3.11 or 3.13: versions are compared by their parts, not as text prefixes.
    assert "not 3.1" in interpreter.mismatch({**HERE, "version": "3.1"})


def test_report_says_version_and_gil(gil):
    gil(False)
    assert interpreter.report() == f"{platform.python_version()} gil=0"


def test_require_exits_with_the_given_code(gil, monkeypatch):
    gil(True)
    monkeypatch.setattr(interpreter, "declared", lambda: {**HERE, "gil": False})
    with pytest.raises(SystemExit) as exit_:
        interpreter.require(code=4)
    assert exit_.value.code == 4
    monkeypatch.setattr(interpreter, "declared", lambda: None)
    interpreter.require()  # nothing declared: nothing checked


def test_replies_carry_x_python_only_when_the_model_declares_an_interpreter(monkeypatch):
    assert b"X-Python" not in http.response(200, b"1\n", True, "h/1")
    monkeypatch.setattr(interpreter, "REPORTS", True)
    assert f"X-Python: {interpreter.report()}\r\n".encode() in http.response(
        200, b"1\n", True, "h/1"
    )


def test_the_banner_names_the_model_and_a_declared_interpreter(monkeypatch):
    monkeypatch.setattr(interpreter.config, "manifest", lambda: {"name": "py-threads-ft"})
    monkeypatch.setattr(interpreter, "REPORTS", False)
    assert interpreter.banner("a thread per connection") == "py-threads-ft: a thread per connection"
    monkeypatch.setattr(interpreter, "REPORTS", True)
    assert interpreter.banner("x") == f"py-threads-ft: x, Python {interpreter.report()}"
