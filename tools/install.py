"""python -m tools.install: install the course into this Python with the torch build that suits the machine.

`make lab` and `make test` run it in `.venv`. It uses the standard library only, so it runs before anything is installed.

- Linux without an NVIDIA GPU: torch's CPU build, from PyTorch's CPU wheel index (about 190 MB), not PyPI's default
  Linux build, which brings about 4.4 GB of CUDA libraries that a CPU cannot use.
- Linux with an NVIDIA GPU: PyPI's build, which carries CUDA.
- macOS and Windows: PyPI's build (a CPU build there; Apple's MPS on Apple silicon).
- COURSE_BUNDLE naming a workshop bundle with wheels/: everything from those wheels, without network.
- TORCH_INDEX overrides the choice: `cpu`, `pypi`, or the URL of a wheel index.

It installs uv first (pyproject.toml's `install` extra), then everything else with it: the same packages as pip, a few
times faster, told pip's own settings here (indexes, wheel folders, constraints), which uv does not read by itself.
COURSE_INSTALLER=pip installs with pip alone.
"""

import sys

if sys.version_info < (3, 11):  # before anything that needs 3.11 (tomllib): one sentence, not a traceback
    sys.exit(f"error: the course needs Python 3.11 or newer, and this is {sys.version.split()[0]}: "
             "install Python 3.11+ and run `make clean && make lab PYTHON=python3.11`.")

import argparse
import ast
import functools
import hashlib
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sysconfig
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
LOCK = ROOT / "tools" / "lock.txt"  # python -m tools.lock: every package a bundle's wheels may hold, with its hashes


@dataclass(frozen=True)
class Machine:
    """What decides the torch build: the operating system, and whether an NVIDIA driver is there (install)."""

    system: str  # platform.system(): "Linux", "Darwin" or "Windows"
    nvidia: bool  # an NVIDIA driver answers (nvidia-smi, or /proc/driver/nvidia)


def this_machine() -> Machine:
    """The machine this runs on (install)."""
    nvidia = shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia/version").exists()
    return Machine(platform.system(), nvidia)


def torch_pin(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The `torch==X` requirement pyproject.toml pins (install)."""
    found = [spec for spec in tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"] if spec.startswith("torch==")]
    return found[0]


def torch_index(machine: Machine, override: str = "") -> tuple[str | None, str]:
    """(the index to take torch from, or None for pip's default; why), for this machine or the TORCH_INDEX override (install)."""
    override = override.strip()
    if override == "pypi":
        return None, "TORCH_INDEX=pypi"
    if override == "cpu":
        return CPU_INDEX, "TORCH_INDEX=cpu"
    if override:
        return override, "TORCH_INDEX is set"
    if machine.system != "Linux":
        return None, f"on {machine.system}, PyPI's torch is the build for it"
    if machine.nvidia:
        return None, "an NVIDIA GPU is here, and PyPI's Linux torch carries CUDA"
    return CPU_INDEX, "Linux without an NVIDIA GPU: the CPU build, not PyPI's 4.4 GB of CUDA libraries"


def reachable(url: str, timeout: float = 3.0) -> bool:
    """Whether a wheel index answers within `timeout` seconds, a name lookup that hangs included (install)."""
    import threading

    answer = []

    def probe():
        try:
            urllib.request.urlopen(urllib.request.Request(url.rstrip("/") + "/torch/", method="HEAD"), timeout=timeout).close()
            answer.append(True)
        except Exception:  # any failure to answer means: not reachable from here
            answer.append(False)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(answer and answer[0])


def usable_torch_index(machine: Machine, override: str | None = None, answers=None) -> tuple[str | None, str]:
    """`torch_index` (for TORCH_INDEX unless `override` is given), or pip's default index (None) where the chosen one does not
    answer from here; and why (install)."""
    index, why = torch_index(machine, os.environ.get("TORCH_INDEX", "") if override is None else override)
    if index is not None and not (answers or reachable)(index):
        return None, f"{index} does not answer from here (on Linux that can be PyPI's CUDA build: set TORCH_INDEX to choose)"
    return index, why


PIP_TO_UV = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links",
             "constraint": "--constraint"}  # pip's settings that uv takes as options of its own
SCOPES = ["global", "install", ":env:"]  # pip's precedence, lowest first: its config's [global], [install], then PIP_*


def pip_settings(listed: str) -> dict[str, list[str]]:
    """Setting → values from `pip config list`'s lines (`global.find-links='/opt/wheels'`), later scopes winning (install)."""
    found: dict[str, tuple[int, list[str]]] = {}
    for line in listed.splitlines():
        scoped, _, value = line.partition("=")
        scope, _, name = scoped.rpartition(".")
        if scope not in SCOPES or not value:
            continue
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            value = value.strip("'\"")
        rank = SCOPES.index(scope)
        if name not in found or found[name][0] <= rank:
            found[name] = (rank, str(value).split())
    return {name: values for name, (_, values) in found.items()}


def uv_options(settings: dict[str, list[str]], own_index: bool = False) -> list[str]:
    """uv's options for pip's settings; an index given on the command line replaces pip's `index-url` as it does in pip (install)."""
    options = []
    for name, option in PIP_TO_UV.items():
        if name == "index-url" and own_index:
            continue
        options += [part for value in settings.get(name, []) for part in (option, value)]
    if settings.get("no-index", ["false"])[0].lower() in ("1", "true", "yes", "on"):
        options.append("--no-index")
    if "--extra-index-url" in options:  # pip takes the newest release from any index; uv, by default, from the first
        options += ["--index-strategy", "unsafe-best-match"]
    return options


def uv_pin(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The `uv==X` requirement pyproject.toml pins (install)."""
    return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["optional-dependencies"]["install"][0]


def pip_install(target: str = sys.executable) -> list[str]:
    """pip's install command for the Python `target`, up to its arguments (install)."""
    return [target, "-m", "pip", "install", "--quiet"]


def pip_asked() -> bool:
    """Whether COURSE_INSTALLER asks for pip alone (install)."""
    return os.environ.get("COURSE_INSTALLER", "").strip() == "pip"


def bring_uv() -> None:
    """Install the pinned uv into this Python with pip, unless it is there or pip was asked for; pip goes on if it cannot (install)."""
    if pip_asked() or importlib.util.find_spec("uv") is not None:
        return
    done = subprocess.run(pip_install() + [uv_pin()], capture_output=True, text=True)
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        print(f"{uv_pin()} could not be installed ({said}): installing with pip instead.")
    importlib.invalidate_caches()


def uses_uv() -> bool:
    """Whether the install goes through uv: it is in this Python, and COURSE_INSTALLER does not ask for pip (install)."""
    return not pip_asked() and importlib.util.find_spec("uv") is not None


@functools.cache  # pip's settings do not change while one install runs: read once for all its steps
def pip_config() -> str:
    """`pip config list`'s lines here, or "" where pip cannot say (install)."""
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def installer(target: str = sys.executable, settings: dict[str, list[str]] | None = None, own_index: bool = False) -> list[str]:
    """The command that installs into the Python `target`, up to its arguments: uv told pip's settings here, or pip (install)."""
    if not uses_uv():
        return pip_install(target)
    settings = pip_settings(pip_config()) if settings is None else settings
    # A Python told not to write bytecode (PYTHONDONTWRITEBYTECODE) would compile each module at every import: once here
    bytecode = ["--compile-bytecode"] if sys.dont_write_bytecode else []
    return [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", target, *bytecode,
            *uv_options(settings, own_index)]


def commands(machine: Machine, extras: str, override: str = "", bundle: str = "", answers=None,
             settings: dict[str, list[str]] | None = None) -> tuple[list[list[str]], str]:
    """The commands that install torch, then the course with `extras`; and one line saying where torch comes from (install)."""
    course = ["--editable", f".[{extras}]" if extras else "."]
    wheels = Path(bundle).expanduser() / "wheels" if bundle else None
    if wheels is not None and wheels.is_dir() and fits(wheels.parent):
        offline = pip_install() + ["--no-index", "--find-links", str(wheels)]  # pip: the bundle's wheels hold no uv
        locked = Path(sys.prefix) / "bundle-lock.txt"  # the course's own hashes, for the wheels the bundle holds
        steps = [offline + ["--require-hashes", "--requirement", str(locked)],
                 offline + ["--no-deps", "--no-build-isolation", *course]]  # the course itself, from this checkout
        return steps, (f"Everything from the bundle's wheels in {wheels}, without network, each checked against the "
                       f"SHA-256 that {LOCK.relative_to(ROOT)} pins.")
    index, why = usable_torch_index(machine, override, answers)
    install = installer(settings=settings)
    if index is None:
        return [install + course], f"torch from pip's default index, because {why}."
    torch_step = installer(settings=settings, own_index=True) + [torch_pin(), "--index-url", index]
    return [torch_step, install + course], f"torch from {index}, because {why}."


def lock_entries(lock: str) -> dict[str, str]:
    """{name: entry} of a hashed requirements file such as tools/lock.txt: each `name==version` with its markers and hashes
    (install)."""
    entries: dict[str, str] = {}
    name = None
    for line in lock.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name = line.split("==")[0].strip().lower().replace("_", "-").replace(".", "-")
            entries[name] = line
        elif name and line.strip().startswith("--hash="):
            entries[name] += "\n" + line
        else:
            name = None  # a comment ends an entry
    return entries


def wheel_name(file: str) -> str:
    """The normalised package name of a wheel's file name (install)."""
    return file.split("-")[0].lower().replace("_", "-").replace(".", "-")


def bundle_lock(wheels: Path, lock: Path = None) -> str:
    """The lock's entries for the packages that `wheels` holds: what pip installs from a bundle, by the course's hashes;
    a wheel the lock does not name is never installed (install)."""
    entries, held = lock_entries((lock or LOCK).read_text(encoding="utf-8")), {wheel_name(p.name) for p in wheels.glob("*.whl")}
    return "".join(entries[name].rstrip(" \\") + "\n" for name in sorted(entries) if name in held)


def checked_wheels(step: list[str]) -> bool:
    """Install a bundle's wheels with pip's --require-hashes against the course's lock; a changed wheel in one line (install)."""
    wheels, locked = Path(step[step.index("--find-links") + 1]), Path(step[step.index("--requirement") + 1])
    locked.write_text(bundle_lock(wheels), encoding="utf-8")
    done = subprocess.run(step, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    if done.returncode == 0:
        return True
    if "DO NOT MATCH THE HASHES" in done.stderr:
        named = next(iter(re.findall(r"/([^/\s]+\.whl)", done.stderr)), "a wheel")  # pip names the file's URL
        print(f"error: {named} in {wheels} is not the file the course's lock (tools/{LOCK.name}) names: the bundle "
              "was changed after it was built; copy it again from the instructor's drive, or install with the network "
              "(unset COURSE_BUNDLE).", file=sys.stderr)
    else:
        sys.stderr.write(done.stderr)
        print(f"error: pip could not install the bundle's wheels from {wheels}: read its message above; the bundle may lack "
              "a wheel for this machine (unset COURSE_BUNDLE to install with the network).", file=sys.stderr)
    return False


def fits(bundle: Path) -> bool:
    """Whether a bundle's wheels were built for this Python and platform (its bundle.json says so) (install)."""
    try:
        built = json.loads((bundle / "bundle.json").read_text(encoding="utf-8")).get("wheels") or {}
    except (OSError, ValueError):
        return False
    here = {"python": f"{sys.version_info[0]}.{sys.version_info[1]}", "platform": sysconfig.get_platform()}
    if built and built != here:
        print(f"The bundle's wheels are for Python {built.get('python')} on {built.get('platform')}, and this is Python "
              f"{here['python']} on {here['platform']}: installing from the network instead.")
        return False
    return True


# JupyterLab's own setting that saves each widget's state in the notebook, so that a notebook reopened without its kernel
# draws its widgets (marked disconnected) instead of "Error displaying widget: model not found"
LAB_SETTINGS = {"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True}}
# Run by the Python of the environment it is for (a venv, Binder's image): python -c WIDGET_STATE, in the repository
WIDGET_STATE = "from tools.install import save_widget_state; save_widget_state()"


def save_widget_state(prefix: str | None = None) -> str:
    """Set LAB_SETTINGS in the overrides.json of this environment's JupyterLab (`<prefix>/share/jupyter/lab/settings`),
    keeping any other setting there; remove the server extension earlier versions enabled. Returns the file written."""
    prefix = Path(prefix or sys.prefix)
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:
        settings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except ValueError:
        raise SystemExit(f"error: {path} is not valid JSON: fix it or delete it, then install again.") from None
    for plugin, values in LAB_SETTINGS.items():
        settings.setdefault(plugin, {}).update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    (prefix / "etc" / "jupyter" / "jupyter_server_config.d" / "mrpc-course.json").unlink(missing_ok=True)  # helpers/saved.py's
    return str(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.install", description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="lab", help="the course's extras to install: lab (default), or lab,test")
    parser.add_argument("--dry-run", action="store_true", help="print the install commands, run nothing")
    args = parser.parse_args(argv)
    bundle = os.path.expanduser(os.environ.get("COURSE_BUNDLE", "").strip())
    if bundle and not (Path(bundle) / "wheels").is_dir():
        print(f"COURSE_BUNDLE={bundle} holds no wheels/ folder: installing from the network instead.")
    if not bundle and not args.dry_run:
        bring_uv()
    steps, said = commands(this_machine(), args.extras, os.environ.get("TORCH_INDEX", ""), bundle)
    print(said)
    for step in steps:
        print("$ python", " ".join(step[1:]))
        if args.dry_run:
            continue
        if "--require-hashes" in step:  # a bundle's wheels: refused in one line unless each has the course's hash
            if not checked_wheels(step):
                return 2
            continue
        if subprocess.run(step, cwd=ROOT).returncode != 0:
            tool, asked = step[2], " ".join(step[step.index("install") + 1:])
            also = " COURSE_INSTALLER=pip installs with pip instead." if tool == "uv" else ""
            print(f"error: {tool} failed ({asked}): read its message above; TORCH_INDEX can choose another torch.{also}",
                  file=sys.stderr)
            return 2
    if "lab" in args.extras.split(","):  # JupyterLab saves each widget's state in the notebook (its own setting)
        enable = [sys.executable, "-c", WIDGET_STATE]
        print("$ python", " ".join(enable[1:]))
        if not args.dry_run and subprocess.run(enable, cwd=ROOT).returncode != 0:
            print("error: JupyterLab's setting to save widget state could not be written: read the message above.", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
