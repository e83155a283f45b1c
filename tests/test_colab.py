import sys
import types

import pytest

from helpers import CourseError, colab, session

PINS = [("torch", "2.13.0"), ("transformers", "5.23.0"), ("datasets", "5.2.0"), ("evaluate", "0.4.6")]


@pytest.fixture
def fake_colab(monkeypatch):
    """Pretend to be on Colab: a `google.colab` module and a recording installer."""
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    installed = []
    monkeypatch.setattr(colab, "_pip_install", installed.extend)
    return installed


def test_colab_is_detected_by_its_module(fake_colab):
    assert colab.on_colab()


def test_nothing_happens_off_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(colab, "_pip_install", lambda specs: pytest.fail("installed off Colab"))
    assert colab.prepare() is False


def test_plan_installs_only_missing_or_different_pins_and_keeps_torch():
    colab_has = {"torch": "2.9.0+cu126", "transformers": "4.57.0", "datasets": "5.2.0"}
    specs, restart = colab.plan(PINS, version_of=colab_has.get)
    assert specs == ["transformers==5.23.0", "evaluate==0.4.6"] and restart is False


def test_restart_only_when_an_imported_library_changed():
    colab_has = {"transformers": "4.57.0", "evaluate": None}
    assert colab.plan(PINS, version_of=colab_has.get, imported={"transformers"})[1] is True
    assert colab.plan(PINS, version_of=colab_has.get, imported={"evaluate", "numpy"})[1] is False


def test_prepare_on_colab_installs_every_missing_pin_except_torch(fake_colab, monkeypatch):
    monkeypatch.setattr(colab, "installed_version", lambda name: None)  # a bare runtime: nothing of ours installed
    assert colab.prepare() is False
    pins = colab.requirements()
    assert ("torch", "2.13.0") in pins and len(pins) >= 10
    assert fake_colab == [f"{name}=={version}" for name, version in pins if name != "torch"]


def test_setup_stops_with_one_sentence_when_a_restart_is_needed(fake_colab, monkeypatch):
    monkeypatch.setattr(colab, "plan", lambda pins, imported=(): (["transformers==5.23.0"], True))
    with pytest.raises(CourseError, match=r"Restart the runtime \(Runtime → Restart session\)"):
        session.setup()
    assert fake_colab == ["transformers==5.23.0"]
