"""python -m tools.twins: every lesson run on a twin of Colab's own stack and of Binder's own image, offline, smoke profile.

- `colab`: a Python of Colab's version with the versions Colab ships (`tools/colab-stack.txt`, read from
  googlecolab/backend-info at COLAB_COMMIT) and a stand-in `google.colab` that the kernel imports when it starts, as
  Colab's does. Each lesson starts from that stack as a fresh Colab runtime does (what an earlier lesson installed is
  undone), runs its own setup cell (pointed at this checkout instead of the release tag), then every cell.
- `binder`: the image built from `binder/` alone, as repo2docker builds it: the Python of `runtime.txt` with
  repo2docker's own base (JupyterLab, its kernel, at the versions of the repo2docker the tests pin), then
  `pip install -r binder/requirements.txt`, then `binder/postBuild`, in a copy of the repository. The lessons run one
  after another, as a learner goes through them, each under Binder's 2 GiB memory limit (a memory cgroup, which kills
  what goes over it, as Binder does), with each lesson's peak.
- `refresh GITDIR`: rewrite `tools/colab-stack.txt` from a clone of googlecolab/backend-info at COLAB_COMMIT.

Each twin prints a summary and writes it to `outputs/twins/NAME/summary.md` (and `summary.json`, the install log, the
executed notebooks). The exit status is 1 when a lesson failed or the twin could not be built, so CI fails (`make twins`).
"""

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from helpers.colab import HUGGING_FACE, canonical
from tools.install import installer, pip_config, pip_settings, this_machine, usable_torch_index, uv_options

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".twins"
OUT = ROOT / "outputs" / "twins"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RUNNER = ROOT / "tools" / "run_lesson.py"

# googlecolab/backend-info's commit the Colab twin follows. To move it: change this line, then run
# `python -m tools.twins refresh GITDIR` on a clone of that repository (it rewrites tools/colab-stack.txt).
COLAB_COMMIT = "a72407924822ea377410b69f0a290150bcb5c9c2"
COLAB_STACK = ROOT / "tools" / "colab-stack.txt"
# What the twin installs by name at Colab's versions: what the lessons run on. Everything else Colab ships constrains
# what these bring with them (its numpy for pandas, its fsspec for datasets, ...).
COLAB_NAMED = ("pip", "torch", "numpy", "pandas", "matplotlib", "scikit-learn", "ipython", "ipykernel", "ipywidgets",
               "traitlets", "jupyter-client", "nbclient", "nbformat", "tqdm", "filelock", "psutil", "pyarrow", "anywidget", "httplib2")
# ... and the Hugging Face libraries Colab ships (all of helpers.colab.HUGGING_FACE but evaluate, which it lacks)
# Colab's google.colab imports these third-party modules when its kernel starts: the closure of the top-level imports of
# google/colab/__init__.py in googlecolab/colabtools (2026-12-02). A setup cell meets them already imported.
STAND_IN = '''"""A stand-in for Colab's google.colab (tools/twins.py), imported when the kernel starts, importing what Colab's does."""
import importlib

for name in ("IPython", "PIL", "anywidget", "httplib2", "numpy", "packaging", "pexpect", "psutil", "traitlets", "zmq"):
    try:
        importlib.import_module(name)
    except ImportError:  # a twin without one of them: nothing the course installs replaces it
        pass
'''
BINDER_LIMIT = 2 * 1024**3  # mybinder.org's MEM_LIMIT
# repo2docker's base environment for the Python of runtime.txt (its conda lock), at the repo2docker version the tests pin
BINDER_BASE = ("pip", "jupyterlab", "notebook", "ipykernel", "ipywidgets", "jupyter-client", "jupyter-server", "traitlets",
               "nbclient", "nbformat")
# What the lessons see in both twins: offline, the smallest profile, the shipped sample, no bundle.
LESSON_ENV = {"HF_HUB_OFFLINE": "1", "COURSE_PROFILE": "smoke", "MRPC_DIR": "", "COURSE_BUNDLE": ""}


class TwinError(Exception):
    """A twin that cannot be built here: one sentence, with what to do."""


# --- Colab's package list ---------------------------------------------------------------------------------------------

def parse_freeze(text: str) -> dict[str, str]:
    """`pip freeze` lines → canonical name: version; a wheel URL's version is read from its file name (torch's +cpu)."""
    versions = {}
    for line in text.splitlines():
        line = line.strip()
        if pinned := re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line):
            versions[canonical(pinned[1])] = pinned[2]
        elif wheel := re.fullmatch(r"([A-Za-z0-9_.-]+) @ \S+/[^/]+?-([^-/]+)-cp\S+\.whl\S*", line):
            versions[canonical(wheel[1])] = wheel[2].replace("%2B", "+")
    return versions


def stack_text(freeze: str, os_info: str, commit: str) -> str:
    """tools/colab-stack.txt: a header naming the commit and Python, then every `name==version` of Colab's list."""
    python = re.search(r"^Python (\S+)", os_info, flags=re.M)
    system = next((line for line in os_info.splitlines() if line and not line.startswith("#")), "?")
    if python is None:
        raise TwinError("os-info.txt names no Python version: is this googlecolab/backend-info?")
    lines = [f"# googlecolab/backend-info@{commit}: pip-freeze.txt, read by `python -m tools.twins refresh` (do not edit)",
             f"# system: {system}", f"# python: {python[1]}"]
    lines += [f"{name}=={version}" for name, version in sorted(parse_freeze(freeze).items())]
    return "\n".join(lines) + "\n"


def read_stack(path: Path = COLAB_STACK) -> tuple[str, str, dict[str, str]]:
    """(the commit it was read from, Colab's Python version, name → version)."""
    text = path.read_text(encoding="utf-8")
    commit = re.search(r"^# googlecolab/backend-info@([0-9a-f]{40})", text, flags=re.M)
    python = re.search(r"^# python: (\S+)", text, flags=re.M)
    if commit is None or python is None:
        raise TwinError(f"{path} has lost its header: run `python -m tools.twins refresh GITDIR` again.")
    return commit[1], python[1], parse_freeze(text)


def refresh(gitdir: Path, commit: str = COLAB_COMMIT, path: Path = COLAB_STACK) -> str:
    """Rewrite tools/colab-stack.txt from googlecolab/backend-info's files at `commit`."""
    def show(name: str) -> str:
        done = subprocess.run(["git", "--git-dir" if (gitdir / "HEAD").exists() else "-C", str(gitdir), "show",
                               f"{commit}:{name}"], capture_output=True, text=True)
        if done.returncode != 0:
            raise TwinError(f"{gitdir} has no {name} at {commit[:12]}: clone googlecolab/backend-info there "
                            f"(`git clone https://github.com/googlecolab/backend-info`) and fetch that commit.")
        return done.stdout
    text = stack_text(show("pip-freeze.txt"), show("os-info.txt"), commit)
    path.write_text(text, encoding="utf-8")
    return text


# --- building environments --------------------------------------------------------------------------------------------

def find_python(version: str) -> Path:
    """A Python `X.Y` on this machine: on PATH, or the newest of pyenv's (the maintainers' machines have 3.11 to 3.13)."""
    if sys.version_info[:2] == tuple(int(part) for part in version.split(".")[:2]):
        return Path(sys.executable)
    if found := shutil.which(f"python{version}"):
        if subprocess.run([found, "-c", ""], capture_output=True).returncode == 0:  # not a pyenv shim with no such Python
            return Path(found)
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(root.glob(f"versions/{version}.*/bin/python{version}"),
                        key=lambda path: [int(part) for part in re.findall(r"\d+", path.parent.parent.name)])
    if not candidates:
        raise TwinError(f"there is no Python {version} here: install it (`pyenv install {version}`) and run again.")
    return candidates[-1]


def step(command: list[str], log, **options) -> None:
    """Run one install command, its output into the log; a failure raises TwinError with its last error line."""
    log.write(f"$ {' '.join(map(str, command))}\n")
    log.flush()
    done = subprocess.run([str(part) for part in command], stdout=log, stderr=subprocess.STDOUT, **options)
    if done.returncode != 0:
        log.flush()
        raise TwinError(f"`{' '.join(map(str, command))[:200]}` failed (exit {done.returncode}): "
                        f"{last_error(Path(log.name))}")


def last_error(log: Path) -> str:
    """The last `ERROR:` (pip) or `error:` (uv) line of a log, or where to look."""
    lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
             if line.lstrip().startswith(("ERROR:", "error:"))]
    return lines[-1][:300] if lines else f"see {log}"


def fresh_venv(python: Path, venv: Path, log) -> Path:
    if venv.exists():
        shutil.rmtree(venv)
    step([python, "-m", "venv", venv], log)
    return venv / "bin" / "python"


def lesson_env(venv: Path, **extra: str) -> dict[str, str]:
    """The environment of a twin's lesson: the twin's Python first on PATH, none of the course's own settings."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("COURSE_", "VIRTUAL_ENV", "PYTHONPATH", "JUPYTER", "IPYTHON", "HF_", "MEM_LIMIT"))}
    return {**env, **LESSON_ENV, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": str(venv),
            "JUPYTER_DATA_DIR": str(venv / "share" / "jupyter-user"), **extra}


def run_lesson(python: Path, lesson: Path, cwd: Path, out: Path, env: dict, log, setup_from: str = "",
               preexec_fn=None) -> dict:
    """tools/run_lesson.py in the twin's Python; its JSON result (a kernel that could not even start is a failure too)."""
    result_file = out / f"{lesson.stem}.json"
    result_file.unlink(missing_ok=True)
    command = [python, RUNNER, lesson, "--cwd", cwd, "--result", result_file, "--executed", out / lesson.name]
    if setup_from:
        command += ["--setup-from", setup_from]
    log.write(f"$ {' '.join(map(str, command))}\n")
    log.flush()
    subprocess.run([str(part) for part in command], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                   preexec_fn=preexec_fn)
    try:
        return json.loads(result_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"lesson": lesson.stem, "passed": False, "seconds": None, "restart_asked": False, "setup_printed": [],
                "error": f"the runner wrote no result (killed?): see {Path(log.name).name}"}


# --- the Colab twin ---------------------------------------------------------------------------------------------------

def colab_requirements(versions: dict[str, str], cpu_index: bool) -> tuple[list[str], list[str]]:
    """(what to install by name, the constraints for the rest): Colab's versions; torch's +cpu only from PyTorch's index."""
    missing = [name for name in COLAB_NAMED if name not in versions]
    if missing:
        raise TwinError(f"Colab's package list has no {', '.join(missing)}: the twin cannot be faithful; "
                        "update COLAB_NAMED in tools/twins.py.")
    named = []
    for name in [*COLAB_NAMED, *sorted(name for name in HUGGING_FACE if name in versions)]:
        version = versions[name]
        if name == "torch" and not cpu_index:
            version = version.split("+")[0]  # PyPI serves the same release as a CUDA build
        named.append(f"{name}=={version}")
    constraints = [f"{name}=={version}" for name, version in versions.items()
                   if name not in COLAB_NAMED and name not in HUGGING_FACE and name not in {"google-colab", "torchaudio", "torchvision", "torchcodec"}
                   and not name.startswith(("nvidia-", "cuda-", "triton"))]  # torch's own, where PyPI's build needs them
    return named, constraints


def build_colab(work: Path, log) -> dict:
    commit, python_version, versions = read_stack()
    if commit != COLAB_COMMIT:
        raise TwinError(f"tools/colab-stack.txt was read at {commit[:12]}, and COLAB_COMMIT is {COLAB_COMMIT[:12]}: "
                        "run `python -m tools.twins refresh GITDIR`.")
    wanted = ".".join(python_version.split(".")[:2])
    python = find_python(wanted)
    venv = work / "venv"
    twin_python = fresh_venv(python, venv, log)
    index, why = usable_torch_index(this_machine(), override="cpu")
    named, constraints = colab_requirements(versions, cpu_index=index is not None)
    (work / "constraints.txt").write_text("\n".join(constraints) + "\n", encoding="utf-8")
    settings = pip_settings(pip_config())
    if index is not None:
        torch = next(spec for spec in named if spec.startswith("torch=="))
        step(installer(str(twin_python), settings, own_index=True) + [torch, "--index-url", index], log)
    step(installer(str(twin_python), settings) + ["--constraint", work / "constraints.txt", *named], log)
    site = Path(subprocess.run([twin_python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "google" / "colab").mkdir(parents=True, exist_ok=True)  # no google/__init__.py: a namespace, as Colab's
    (site / "google" / "colab" / "__init__.py").write_text(STAND_IN, encoding="utf-8")
    startup = work / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-google-colab.py").write_text("import google.colab  # as Colab's kernel does when it starts\n",
                                               encoding="utf-8")
    frozen = subprocess.run([twin_python, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True)
    (work / "pristine.txt").write_text(frozen.stdout, encoding="utf-8")
    build = subprocess.run([twin_python, "-c", "import torch; print(torch.version.cuda or '')"], capture_output=True,
                           text=True).stdout.strip()
    return {"python": python, "twin_python": twin_python, "venv": venv, "settings": settings, "commit": commit,
            "colab_python": python_version, "here_python": subprocess.run(
                [twin_python, "-c", "import platform; print(platform.python_version())"], capture_output=True,
                text=True).stdout.strip(),
            "torch_from": (f"torch {versions['torch']} from {index}" if index else
                           f"torch {versions['torch'].split('+')[0]} from PyPI, a CUDA {build} build, because {why} "
                           "(Colab's is the CPU build)"),
            "named": named}


def reset_colab(built: dict, log) -> None:
    """Back to Colab's stack as it ships: what an earlier lesson's setup installed is undone (a fresh runtime)."""
    uv = [sys.executable, "-m", "uv", "pip", "sync", "--quiet", "--python", str(built["twin_python"]),
          *uv_options(built["settings"])]
    step(uv + [built["venv"].parent / "pristine.txt"], log)


def colab(out: Path = OUT / "colab", work: Path = WORK / "colab", lessons=LESSONS) -> int:
    started, rows = time.perf_counter(), []
    built, problem, install_seconds = build_twin(out, work, build_colab, work)
    if built:
        with open(out / "lessons.log", "w", encoding="utf-8") as log:
            for lesson in lessons:
                content = work / "content" / lesson.stem  # a fresh runtime's /content and Hugging Face cache
                if content.exists():
                    shutil.rmtree(content)
                content.mkdir(parents=True)
                try:
                    reset_colab(built, log)
                except TwinError as exc:
                    rows.append({"lesson": lesson.stem, "passed": False, "error": f"reset to Colab's stack: {exc}"})
                    continue
                env = lesson_env(built["venv"], IPYTHONDIR=str(work / "ipython"), HF_HOME=str(content / ".hf"))
                rows.append(run_lesson(built["twin_python"], lesson, content, out, env, log, setup_from=str(ROOT)))
                print(row_line(rows[-1]), flush=True)
    text = colab_summary(built, rows, install_seconds, time.perf_counter() - started - install_seconds, problem)
    return finish(out, text, {"built": bool(built), "problem": problem, "install_seconds": round(install_seconds),
                              "lessons": rows, "commit": COLAB_COMMIT})


def setup_said(row: dict) -> str:
    """What the Colab setup cell did: what it installed, and whether it went on."""
    said = " ".join(row.get("setup_printed") or [])
    installed = re.search(r"Colab: installing (.+?); every other", said)
    what = f"installed {installed[1]}" if installed else "installed nothing"
    return what + ("; asked for a restart" if row.get("restart_asked") else "; went on without a restart")


def row_line(row: dict) -> str:
    verdict = "passed" if row.get("passed") else f"FAILED: {row.get('error') or 'asked for a restart'}"
    seconds = f" ({row['seconds']:.0f} s)" if row.get("seconds") is not None else ""
    return f"{row['lesson']}: {verdict}{seconds}"


def colab_summary(built, rows, install_seconds, run_seconds, problem) -> str:
    lines = [f"# The lessons on a twin of Colab ({date.today().isoformat()})", ""]
    try:
        commit, colab_python, versions = read_stack()
    except (OSError, TwinError):
        commit, colab_python, versions = COLAB_COMMIT, "?", {}
    lines.append(f"Colab's stack from googlecolab/backend-info@{commit[:12]} (Python {colab_python}); a stand-in "
                 "`google.colab` imported when each kernel starts; each lesson from that stack as a fresh runtime, its "
                 "own setup cell installing this checkout; offline, profile smoke.")
    if problem:
        return "\n".join(lines + ["", f"**The twin could not be built**: {problem} No lesson ran."]) + "\n"
    lines += ["", f"Here: Python {built['here_python']}; {built['torch_from']}. Built in {install_seconds:.0f} s; "
              f"the lessons ran in {run_seconds:.0f} s.", "",
              "| library | Colab ships (the twin has) |", "|---|---|"]
    lines += [f"| {spec.split('==')[0]} | {spec.split('==')[1]} |" for spec in built["named"]]
    lines += ["", "| lesson | result | the setup cell | seconds |", "|---|---|---|---|"]
    for row in rows:
        verdict = "✓ passed" if row.get("passed") else f"✗ {row.get('error') or 'asked for a restart'}"
        seconds = f"{row['seconds']:.0f}" if row.get("seconds") is not None else "–"
        lines.append(f"| {row['lesson']} | {verdict} | {setup_said(row)} | {seconds} |")
    passed = sum(1 for row in rows if row.get("passed"))
    lines += ["", f"{passed} of {len(rows)} lessons passed."]
    return "\n".join(lines) + "\n"


def build_twin(out: Path, work: Path, build, where: Path) -> tuple[dict | None, str | None, float]:
    """A twin built by `build(where, log)` into a clean `out` (its install.log there): what it built, or why not, and the
    seconds it took."""
    clear(out)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(out / "install.log", "w", encoding="utf-8") as log:
        try:
            return build(where, log), None, time.perf_counter() - started
        except TwinError as exc:
            return None, str(exc), time.perf_counter() - started


def clear(out: Path) -> None:
    """An earlier run's lessons out of the way: what is in `out` is this run's."""
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.ipynb"), *out.glob("*.json"), *out.glob("*.log"), out / "summary.md"]:
        old.unlink(missing_ok=True)


def finish(out: Path, text: str, data: dict) -> int:
    (out / "summary.md").write_text(text, encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    print(text + f"(written to {out / 'summary.md'})", flush=True)
    ok = data["built"] and data["lessons"] and all(row.get("passed") for row in data["lessons"])
    return 0 if ok else 1


# --- the Binder twin --------------------------------------------------------------------------------------------------

def binder_python() -> str:
    """The `X.Y` of binder/runtime.txt (`python-3.11`)."""
    found = re.search(r"python-(\d+\.\d+)", (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8"))
    if found is None:
        raise TwinError("binder/runtime.txt names no Python as `python-X.Y`: repo2docker would not read it either.")
    return found[1]


def repo2docker_base(python: str) -> dict[str, str]:
    """BINDER_BASE at the versions of repo2docker's conda lock for that Python (conda-forge names, pip's spelling)."""
    spec = importlib.util.find_spec("repo2docker")  # found, not imported (its import warns of its own dependencies)
    if spec is None or spec.origin is None:
        raise TwinError("repo2docker is not installed here: run `make .venv/.installed-test` (the test extra has it).")
    lock = Path(spec.origin).parent / "buildpacks" / "conda" / f"environment.py-{python}-linux-64.lock"
    if not lock.is_file():
        raise TwinError(f"this repo2docker has no base environment for Python {python} ({lock.name}): "
                        "pick a Python it supports in binder/runtime.txt.")
    found = {}
    for name, version in re.findall(r"/([^/\s]+?)-(\d[^-/\s]*)-[^-/\s]+\.(?:conda|tar\.bz2)", lock.read_text(encoding="utf-8")):
        found[canonical(name)] = version
    return {name: found[name] for name in BINDER_BASE if name in found}


def copy_repository(target: Path) -> None:
    """The repository as repo2docker receives it: the files git knows (tracked, or new and not ignored)."""
    if target.exists():
        shutil.rmtree(target)
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def memory_cgroup(name: str, limit: int) -> tuple[Path | None, str]:
    """A memory cgroup (v1 or v2) under this process's own, capped at `limit` bytes; (None, why) where there is none."""
    folder, files = None, ()
    for line in Path("/proc/self/cgroup").read_text(encoding="utf-8").splitlines():
        number, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):  # cgroup v1
            folder = Path("/sys/fs/cgroup/memory") / path.lstrip("/") / name
            files = ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes")
            break
        if number == "0" and Path("/sys/fs/cgroup/cgroup.controllers").exists():  # cgroup v2
            folder, files = Path("/sys/fs/cgroup") / path.lstrip("/") / name, ("memory.max", "memory.swap.max")
    if folder is None:
        return None, "no memory cgroup here"
    try:
        if folder.exists():
            folder.rmdir()
        folder.mkdir()
        (folder / files[0]).write_text(str(limit), encoding="utf-8")
    except OSError as exc:
        return None, f"no memory cgroup could be made ({exc.strerror})"
    try:
        (folder / files[1]).write_text(str(limit) if "memsw" in files[1] else "0", encoding="utf-8")  # no swap past it
    except OSError:
        pass  # no swap accounting: there is no swap to spill into either
    return folder, ""


def cgroup_peak(folder: Path) -> tuple[int | None, bool]:
    """(the cgroup's peak memory in MB, whether it killed something for going over)."""
    peak = next((folder / name for name in ("memory.max_usage_in_bytes", "memory.peak") if (folder / name).exists()), None)
    mb = int(peak.read_text(encoding="utf-8")) // 2**20 if peak else None
    events = next((folder / name for name in ("memory.oom_control", "memory.events") if (folder / name).exists()), None)
    killed = bool(events and re.search(r"^oom_kill (\d+)", events.read_text(encoding="utf-8"), flags=re.M)
                  and int(re.search(r"^oom_kill (\d+)", events.read_text(encoding="utf-8"), flags=re.M)[1]) > 0)
    return mb, killed


def build_binder(home: Path, log) -> dict:
    python_version = binder_python()
    python = find_python(python_version)
    base = repo2docker_base(python_version)
    copy_repository(home)
    venv = home.parent / "venv"
    twin_python = fresh_venv(python, venv, log)
    step(installer(str(twin_python)) + [f"{name}=={version}" for name, version in base.items()], log)
    env = lesson_env(venv)
    # repo2docker's Dockerfile: `pip install --no-cache-dir -r "binder/requirements.txt"`, then `./binder/postBuild`
    # (tests/test_packaging.py checks that it still says so)
    step([venv / "bin" / "pip", "install", "--no-cache-dir", "-r", "binder/requirements.txt"], log, cwd=home, env=env)
    step(["bash", "binder/postBuild"], log, cwd=home, env=env)
    versions = subprocess.run([twin_python, "-c", "import platform, torch; print(platform.python_version(), torch.__version__)"],
                              capture_output=True, text=True).stdout.split()
    return {"venv": venv, "twin_python": twin_python, "base": base, "python": python_version,
            "here_python": versions[0] if versions else "?", "torch": versions[1] if len(versions) > 1 else "?"}


def binder(out: Path = OUT / "binder", work: Path = WORK / "binder", lessons=LESSONS, limit: int = BINDER_LIMIT) -> int:
    started, home, rows, limited = time.perf_counter(), work / "home", [], ""
    built, problem, install_seconds = build_twin(out, work, build_binder, home)
    if built:
        env = lesson_env(built["venv"], MEM_LIMIT=str(limit), HF_HOME=str(home / ".cache" / "huggingface"))
        with open(out / "lessons.log", "w", encoding="utf-8") as log:
            for lesson in lessons:
                group, why = memory_cgroup(f"binder-twin-{lesson.stem}", limit)
                limited = limited or why
                join = (lambda: (group / "cgroup.procs").write_text(str(os.getpid()), encoding="utf-8")) if group else None
                row = run_lesson(built["twin_python"], home / "notebooks" / lesson.name, home / "notebooks", out, env, log,
                                 preexec_fn=join)
                if row.get("largest_process_mb", 0) > limit // 2**20:  # shared libraries this machine had cached count here
                    row["passed"] = False
                    row["error"] = f"one process alone went past Binder's {limit // 2**20:,} MB ({row['largest_process_mb']:,} MB)"
                if group:
                    row["peak_mb"], killed = cgroup_peak(group)
                    if killed:
                        row["passed"] = False
                        row["error"] = f"killed at Binder's {limit // 2**20:,} MB limit ({row.get('error')})"
                    try:
                        group.rmdir()
                    except OSError:
                        pass
                rows.append(row)
                print(row_line(rows[-1]), flush=True)
    text = binder_summary(built, rows, install_seconds, time.perf_counter() - started - install_seconds, problem,
                          limit, limited)
    return finish(out, text, {"built": bool(built), "problem": problem, "install_seconds": round(install_seconds),
                              "limit_bytes": limit, "limit_enforced": not limited, "lessons": rows})


def binder_summary(built, rows, install_seconds, run_seconds, problem, limit, limited) -> str:
    lines = [f"# The lessons on a twin of Binder's image ({date.today().isoformat()})", "",
             "Built from `binder/` alone as repo2docker builds it (runtime.txt's Python with repo2docker's base, "
             "`pip install -r binder/requirements.txt`, `binder/postBuild`), in a copy of the repository; the lessons "
             f"in order, offline, profile smoke, `MEM_LIMIT` {limit / 2**30:g} GiB."]
    if problem:
        return "\n".join(lines + ["", f"**The twin could not be built**: {problem} No lesson ran."]) + "\n"
    base = ", ".join(f"{name} {version}" for name, version in built["base"].items())
    lines += ["", f"Here: Python {built['here_python']} (runtime.txt: {built['python']}), torch {built['torch']}; "
              f"repo2docker's base: {base}. Built in {install_seconds:.0f} s; the lessons ran in {run_seconds:.0f} s.",
              "", ("Each lesson ran in a memory cgroup capped at the limit, which kills what goes over it, as Binder does; "
                   "its peak counts every process of the lesson and the files they read (page cache), as Binder's does, but "
                   "not the pages of libraries this machine had already cached before (torch's), which the largest process's "
                   "own peak counts: both must stay under the limit."
                   if not limited else f"**The limit was not enforced**: {limited}; the peaks are the largest process's."),
              "", "| lesson | result | peak memory (all processes) | largest process | seconds |", "|---|---|---|---|---|"]
    for row in rows:
        verdict = "✓ passed" if row.get("passed") else f"✗ {row.get('error')}"
        peak = f"{row['peak_mb']:,} MB" if row.get("peak_mb") is not None else "–"
        largest = f"{row['largest_process_mb']:,} MB" if row.get("largest_process_mb") is not None else "–"
        seconds = f"{row['seconds']:.0f}" if row.get("seconds") is not None else "–"
        lines.append(f"| {row['lesson']} | {verdict} | {peak} | {largest} | {seconds} |")
    passed = sum(1 for row in rows if row.get("passed"))
    lines += ["", f"{passed} of {len(rows)} lessons passed under the {limit // 2**20:,} MB limit."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.twins", description=__doc__.splitlines()[0])
    parser.add_argument("twins", nargs="+", help="colab, binder (both run; the exit status is 1 if either failed), "
                                                 "or refresh GITDIR")
    parser.add_argument("--lessons", nargs="+", metavar="LESSON", help="only these lessons, such as 00_check (default: all)")
    args = parser.parse_args(argv)
    lessons = LESSONS
    if args.lessons:
        lessons = [path for path in LESSONS if path.stem in args.lessons or path.name in args.lessons]
        if len(lessons) != len(args.lessons):
            parser.error(f"no such lesson among {', '.join(args.lessons)}: choose from {', '.join(p.stem for p in LESSONS)}")
    if args.twins[0] == "refresh":
        if len(args.twins) != 2:
            parser.error("refresh takes one argument: a clone of googlecolab/backend-info")
        try:
            refresh(Path(args.twins[1]))
        except TwinError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"Wrote {COLAB_STACK.relative_to(ROOT)} from googlecolab/backend-info@{COLAB_COMMIT[:12]}.")
        return 0
    unknown = [name for name in args.twins if name not in ("colab", "binder")]
    if unknown:
        parser.error(f"no twin named {', '.join(unknown)}: choose colab, binder, or both")
    status = 0
    for name in args.twins:
        status |= colab(lessons=lessons) if name == "colab" else binder(lessons=lessons)
    return status


if __name__ == "__main__":
    sys.exit(main())
