"""The first command on a learner's laptop: which torch build the install takes, for each kind of machine."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools import install
from tools.install import CPU_INDEX, Machine, commands, pip_settings, torch_pin, uv_options

ROOT_COURSE = ["--editable", ".[lab]"]
PIP = ["install", "--quiet"]
# What `pip config list` prints on a machine with a local wheel folder, two more indexes and a constraints file.
LISTED = """:env:.find-links='/opt/wheels'
global.cert='/etc/ssl/certs/ca-certificates.crt'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/srv/old-wheels'
global.index-url='https://mirror.example.org/simple'
"""


@pytest.fixture(autouse=True)
def pip_unless_asked(monkeypatch):
    """pip, as on a machine without uv, unless a test asks for uv."""
    monkeypatch.setenv("COURSE_INSTALLER", "pip")


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
    (bundle / "bundle.json").write_text(json.dumps({"wheels": {"python": python, "platform": sysconfig.get_platform()}}), encoding="utf-8")


def test_a_bundle_with_wheels_installs_everything_without_network_by_the_courses_hashes(tmp_path):
    built_here(tmp_path)
    steps, said = plan(Machine("Linux", nvidia=True), bundle=str(tmp_path), answers=lambda url: pytest.fail("asked the network"))
    offline = ["--no-index", "--find-links", str(tmp_path / "wheels")]
    locked = str(Path(sys.prefix) / "bundle-lock.txt")
    assert steps == [[*PIP, *offline, "--require-hashes", "--requirement", locked],
                     [*PIP, *offline, "--no-deps", "--no-build-isolation", *ROOT_COURSE]]
    assert "without network" in said and "tools/lock.txt" in said


def tiny_wheel(folder: Path, name: str = "tinycourse", answer: int = 42) -> Path:
    """A wheel of one module, `name`, whose ANSWER is `answer`."""
    import zipfile

    folder.mkdir(exist_ok=True)
    info, path = f"{name}-1.0.dist-info", folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", f"ANSWER = {answer}\n")
        wheel.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    return path


def test_only_the_wheels_the_lock_names_are_installed_each_by_its_hashes(tmp_path):
    lock = tmp_path / "lock.txt"
    lock.write_text("# a comment\nnumpy==2.4.6 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via torch\n"
                    "nvidia-cublas==13.1 ; sys_platform == 'linux' \\\n    --hash=sha256:cc\ntorch==2.13.0 \\\n    --hash=sha256:dd\n",
                    encoding="utf-8")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for file in ("numpy-2.4.6-cp311-cp311-manylinux_2_28_x86_64.whl", "torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl",
                 "evil_thing-1.0-py3-none-any.whl"):
        (wheels / file).write_bytes(b"")
    assert install.bundle_lock(wheels, lock) == ("numpy==2.4.6 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
                                                 "torch==2.13.0 \\\n    --hash=sha256:dd\n")  # no CUDA, no stranger
    entries = install.lock_entries(install.LOCK.read_text(encoding="utf-8"))
    assert {"torch", "transformers", "jupyterlab", "setuptools"} <= set(entries) and "pytest" not in entries


def test_a_changed_wheel_in_a_bundle_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    """End to end with pip: the hash comes from the course's lock, so a wheel rebuilt on the drive is refused."""
    good = tiny_wheel(tmp_path / "wheels")
    original, lock = good.read_bytes(), tmp_path / "lock.txt"
    lock.write_text(f"tinycourse==1.0 \\\n    --hash=sha256:{install.hashlib.sha256(good.read_bytes()).hexdigest()}\n",
                    encoding="utf-8")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    monkeypatch.setattr(install, "LOCK", lock)
    monkeypatch.setattr(install.sys, "prefix", str(venv))
    step = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(tmp_path / "wheels"),
            "--require-hashes", "--requirement", str(venv / "bundle-lock.txt")]
    tiny_wheel(tmp_path / "wheels", answer=666)  # the same name, other code: what a writer of the drive could do
    assert not install.checked_wheels(step)
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("error: tinycourse-1.0-py3-none-any.whl in ") and "copy it again" in said[0], said
    good.write_bytes(original)  # the course's own file again
    assert install.checked_wheels(step)
    assert subprocess.run([str(venv / "bin" / "python"), "-c", "import tinycourse; print(tinycourse.ANSWER)"],
                          capture_output=True, text=True).stdout == "42\n"


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
    done = subprocess.run([str(bare / "bin" / "python"), "-m", "tools.install", "--dry-run", "--extras", "lab,test"],
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "TORCH_INDEX": "pypi"},
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert "$ python -m pip install --quiet --editable .[lab,test]" in done.stdout
    # then JupyterLab's own setting that saves widget state in notebooks (tests/test_saved.py)
    assert done.stdout.rstrip().endswith("$ python -c from tools.install import save_widget_state; save_widget_state()")


def test_pips_settings_are_read_with_its_precedence():
    settings = pip_settings(LISTED + "install.find-links='/srv/install-wheels'\nnot a setting\n")
    assert settings["find-links"] == ["/opt/wheels"]  # PIP_FIND_LINKS over the [install] section over [global]
    assert settings["extra-index-url"] == ["file:///opt/pypi/simple", "file:///opt/pypi-more/simple"]
    assert settings["constraint"] == ["/etc/xdg/pip/constraints.txt"]
    assert pip_settings("global.find-links='/a'\ninstall.find-links='/b'\n")["find-links"] == ["/b"]
    assert pip_settings("") == {}


def test_uv_is_told_pips_indexes_wheels_and_constraints_and_pips_way_of_choosing_among_indexes():
    options = uv_options(pip_settings(LISTED))
    assert options == ["--index-url", "https://mirror.example.org/simple",
                       "--extra-index-url", "file:///opt/pypi/simple", "--extra-index-url", "file:///opt/pypi-more/simple",
                       "--find-links", "/opt/wheels", "--constraint", "/etc/xdg/pip/constraints.txt",
                       "--index-strategy", "unsafe-best-match"]
    assert "--index-url" not in uv_options(pip_settings(LISTED), own_index=True)  # torch's index replaces it, as in pip
    assert uv_options({"no-index": ["true"], "find-links": ["/w"]}) == ["--find-links", "/w", "--no-index"]
    assert uv_options({}) == []


@pytest.mark.parametrize("dont_write_bytecode", [True, False])
def test_with_uv_here_both_steps_go_through_it_into_this_python(monkeypatch, dont_write_bytecode):
    monkeypatch.delenv("COURSE_INSTALLER")
    monkeypatch.setattr(install.importlib.util, "find_spec", lambda name: object() if name == "uv" else None)
    monkeypatch.setattr(install.sys, "dont_write_bytecode", dont_write_bytecode)
    steps, said = commands(Machine("Linux", nvidia=False), "lab", answers=lambda url: True, settings=pip_settings(LISTED))
    uv = [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", sys.executable]
    uv += ["--compile-bytecode"] if dont_write_bytecode else []  # else Python compiles each module at every import
    assert steps[0] == uv + uv_options(pip_settings(LISTED), own_index=True) + [torch_pin(), "--index-url", CPU_INDEX]
    assert steps[1] == uv + uv_options(pip_settings(LISTED)) + ROOT_COURSE and "CPU build" in said
    monkeypatch.setenv("COURSE_INSTALLER", "pip")  # the way out where uv fails
    assert [step[:5] for step in commands(Machine("Darwin", nvidia=False), "lab")[0]] == [[sys.executable, "-m", "pip", *PIP]]


def test_uv_installs_from_the_wheel_folder_pips_configuration_names(tmp_path):
    """End to end: pip's config file names a wheel folder and no index; uv, told it, installs from there into a new venv."""
    import zipfile

    pytest.importorskip("uv")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    info = "tinycourse-1.0.dist-info"
    with zipfile.ZipFile(wheels / "tinycourse-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("tinycourse/__init__.py", "ANSWER = 42\n")
        wheel.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: tinycourse\nVersion: 1.0\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nno-index = true\nfind-links = {wheels}\n", encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PIP_", "UV_"))}  # the file alone
    env |= {"PIP_CONFIG_FILE": str(config), "UV_CACHE_DIR": str(tmp_path / "cache")}
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, env=env).stdout
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    os.environ.pop("COURSE_INSTALLER")
    try:
        step = install.installer(str(venv / "bin" / "python"), pip_settings(listed)) + ["tinycourse"]
    finally:
        os.environ["COURSE_INSTALLER"] = "pip"
    done = subprocess.run(step, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert subprocess.run([str(venv / "bin" / "python"), "-c", "import tinycourse; print(tinycourse.ANSWER)"],
                          capture_output=True, text=True).stdout == "42\n"


def test_uv_is_brought_in_first_from_its_pin_and_pip_goes_on_where_it_cannot_be(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_INSTALLER")
    monkeypatch.setattr(install.importlib.util, "find_spec", lambda name: None)
    ran = []
    failed = subprocess.CompletedProcess([], 1, "", "ERROR: Could not find a version that satisfies the requirement uv\n")
    monkeypatch.setattr(install.subprocess, "run", lambda command, **kw: ran.append(command) or failed)
    install.bring_uv()
    assert ran == [[sys.executable, "-m", "pip", "install", "--quiet", install.uv_pin()]]
    assert install.uv_pin().startswith("uv==")
    assert capsys.readouterr().out == (f"{install.uv_pin()} could not be installed (ERROR: Could not find a version that "
                                       "satisfies the requirement uv): installing with pip instead.\n")
    assert install.installer()[2] == "pip"  # and the install goes on with pip
    monkeypatch.setenv("COURSE_INSTALLER", "pip")
    ran.clear()
    install.bring_uv()
    assert ran == []  # asked for pip: uv is not brought in


def test_torch_index_is_read_from_the_environment_unless_given(monkeypatch):
    """bundle and newest ask without an override: TORCH_INDEX decides for them as for the install."""
    monkeypatch.setenv("TORCH_INDEX", "pypi")
    assert install.usable_torch_index(Machine("Linux", nvidia=False)) == (None, "TORCH_INDEX=pypi")
    assert install.usable_torch_index(Machine("Linux", nvidia=False), "", answers=lambda url: True)[0] == CPU_INDEX
