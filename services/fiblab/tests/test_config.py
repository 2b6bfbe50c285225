import json

import pytest

from fiblab import config


@pytest.fixture
def manifest(tmp_path, monkeypatch):
    """A model folder with a manifest, as if its server.py had been started by hand."""
    (tmp_path / "model.json").write_text(
        json.dumps(
            {
                "knobs": {
                    "WORKERS": {"default": 3, "description": "d"},
                    "POOL": {"default": 0, "description": "d"},
                }
            }
        )
    )
    monkeypatch.setattr(config.sys, "argv", [str(tmp_path / "server.py")])
    config.manifest_knobs.cache_clear()
    yield
    config.manifest_knobs.cache_clear()


def test_knob_defaults_come_from_the_manifest(manifest, monkeypatch):
    monkeypatch.delenv("WORKERS", raising=False)
    monkeypatch.delenv("POOL", raising=False)
    assert config.knob_int("WORKERS") == 3
    assert config.knob_bool("POOL") is False


def test_the_environment_overrides(manifest, monkeypatch):
    monkeypatch.setenv("WORKERS", "5")
    monkeypatch.setenv("POOL", "1")
    assert config.knob_int("WORKERS") == 5
    assert config.knob_bool("POOL") is True


def test_malformed_knob_fails_loudly(manifest, monkeypatch):
    monkeypatch.setenv("WORKERS", "many")
    with pytest.raises(ValueError, match="WORKERS must be an integer"):
        config.knob_int("WORKERS")


def test_a_knob_the_manifest_does_not_list_is_a_bug(manifest):
    with pytest.raises(KeyError, match="THREADS"):
        config.knob_int("THREADS")


def test_every_manifest_default_is_usable():
    """Every knob default of a Python model parses as the kind its server reads (knob_int);
    the Node models read their own (node-common's knob(), SCHED is a word)."""
    import pathlib

    checked = 0
    for path in pathlib.Path(__file__).parents[2].glob("*/model.json"):
        manifest = json.loads(path.read_text())
        if manifest.get("runtime") != "python":
            continue
        for name, knob in manifest.get("knobs", {}).items():
            assert isinstance(knob["default"], int), f"{path}: {name}"
            checked += 1
    assert checked > 20
