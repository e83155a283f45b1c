"""The first command on a learner's laptop: which torch build the install takes, for each kind of machine."""

import subprocess
import sys
from pathlib import Path

import pytest

from helpers.install import CPU_INDEX, Machine, commands, torch_pin

ROOT_COURSE = ["--editable", ".[lab]"]
PIP = ["install", "--quiet"]


def plan(machine, override="", bundle="", answers=lambda url: True):
    steps, said = commands(machine, "lab", override, bundle, answers)
    return [step[3:] for step in steps], said  # without `python -m pip`


def test_the_torch_pin_is_pyprojects():
    assert torch_pin().startswith("torch==2.") and torch_pin() == "torch==2.13.0"


def test_linux_without_nvidia_takes_the_cpu_build_from_pytorchs_index():
    steps, said = plan(Machine("Linux", nvidia=False))
    assert steps == [[*PIP, torch_pin(), "--index-url", CPU_INDEX], [*PIP, *ROOT_COURSE]]
    assert "CPU build" in said


@pytest.mark.parametrize("machine, reason", [
    (Machine("Linux", nvidia=True), "NVIDIA GPU"),
    (Machine("Darwin", nvidia=False), "on Darwin"),
    (Machine("Windows", nvidia=False), "on Windows"),
    (Machine("Windows", nvidia=True), "on Windows"),
])
def test_gpus_macos_and_windows_take_pypis_build(machine, reason):
    steps, said = plan(machine)
    assert steps == [[*PIP, *ROOT_COURSE]] and reason in said


@pytest.mark.parametrize("override, index", [("cpu", CPU_INDEX), ("https://example.org/whl/cu130", "https://example.org/whl/cu130")])
def test_torch_index_overrides_the_choice(override, index):
    steps, said = plan(Machine("Linux", nvidia=True), override)
    assert steps[0] == [*PIP, torch_pin(), "--index-url", index] and "TORCH_INDEX" in said
    steps, said = plan(Machine("Linux", nvidia=False), "pypi")
    assert steps == [[*PIP, *ROOT_COURSE]] and "TORCH_INDEX=pypi" in said


def test_an_unreachable_cpu_index_falls_back_to_pips_default_and_says_so():
    steps, said = plan(Machine("Linux", nvidia=False), answers=lambda url: False)
    assert steps == [[*PIP, *ROOT_COURSE]]  # this machine: pip's own index holds a CPU wheel
    assert "does not answer" in said and "TORCH_INDEX" in said


def built_here(bundle: Path, python: str = f"{sys.version_info[0]}.{sys.version_info[1]}") -> None:
    import json
    import sysconfig

    (bundle / "wheels").mkdir()
    (bundle / "bundle.json").write_text(json.dumps({"wheels": {"python": python, "platform": sysconfig.get_platform()}}))


def test_a_bundle_with_wheels_installs_everything_without_network(tmp_path):
    built_here(tmp_path)
    steps, said = plan(Machine("Linux", nvidia=True), bundle=str(tmp_path), answers=lambda url: pytest.fail("asked the network"))
    offline = ["--no-index", "--find-links", str(tmp_path / "wheels")]
    assert steps == [[*PIP, *offline, torch_pin()], [*PIP, *offline, *ROOT_COURSE]]
    assert "without network" in said


def test_wheels_built_for_another_python_are_left_alone(tmp_path, capsys):
    built_here(tmp_path, python="3.9")
    assert plan(Machine("Darwin", nvidia=False), bundle=str(tmp_path))[0] == [[*PIP, *ROOT_COURSE]]
    assert "for Python 3.9" in capsys.readouterr().out


def test_a_bundle_without_wheels_is_ignored_for_the_install(tmp_path):
    assert plan(Machine("Darwin", nvidia=False), bundle=str(tmp_path))[0] == [[*PIP, *ROOT_COURSE]]


def test_the_command_runs_before_anything_is_installed(tmp_path):
    """A bare Python (no torch, no transformers) can run it: the Makefile calls it first thing in a new .venv."""
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    done = subprocess.run([str(bare / "bin" / "python"), "-m", "helpers.install", "--dry-run", "--extras", "lab,test"],
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "TORCH_INDEX": "pypi"},
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert "$ python -m pip install --quiet --editable .[lab,test]" in done.stdout
