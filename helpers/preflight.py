"""python -m helpers.preflight: can this machine take the course? One line per check, and what to do about each problem.

Exit status 0 when every check passes (warnings allowed), 1 when one fails: a workshop can run it on every laptop.
"""

import importlib.metadata
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass

DISTRIBUTION = "mrpc-course"
DISK_MARGIN_GB = 1.0  # the data, the tokenized cache and a run's logs, on top of the model and its checkpoint


@dataclass
class Check:
    """One check's result: passed, a warning (the course still runs) or failed, with one line (lesson 0)."""

    name: str
    status: str  # "ok", "warn" or "fail"
    line: str

    def __str__(self) -> str:
        mark = {"ok": "✓", "warn": "!", "fail": "✗"}[self.status]
        return f"{mark} {self.name}: {self.line}"


def pins() -> dict[str, str]:
    """The versions the course pins, from its installed metadata (lesson 0)."""
    try:
        required = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    found = {}
    for spec in required:
        if "extra ==" in spec:
            continue
        match = re.match(r"([A-Za-z0-9_.-]+)==([^;\s]+)", spec)
        if match:
            found[match[1].lower()] = match[2]
    return found


def check_python(version=sys.version_info) -> Check:
    if tuple(version[:2]) < (3, 11):
        return Check("python", "fail", f"Python {version[0]}.{version[1]} is too old: install Python 3.11 or newer.")
    return Check("python", "ok", f"Python {version[0]}.{version[1]}.{version[2]}")


def check_libraries(pinned=None, version_of=None) -> Check:
    """Every pinned library installed; a version other than the pin is a warning (lesson 0)."""
    pinned = pins() if pinned is None else pinned
    if not pinned:
        return Check("libraries", "fail", f"the course is not installed in this Python: run `make install` (or pip install -e .).")

    def installed(name):
        try:
            return (version_of or importlib.metadata.version)(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    versions = {name: installed(name) for name in pinned}
    missing = sorted(name for name, version in versions.items() if version is None)
    if missing:
        return Check("libraries", "fail", f"missing {', '.join(missing)}: run `make install` (or pip install -e .) in this environment.")
    other = sorted(f"{name} {versions[name]} (pinned {pin})" for name, pin in pinned.items() if versions[name].split("+")[0] != pin)
    if other:
        return Check("libraries", "warn", f"{len(pinned)} installed, {len(other)} at other versions: {', '.join(other)}; "
                                          "the lessons are tested with the pins (`make install`).")
    return Check("libraries", "ok", f"{len(pinned)} pinned libraries at their pinned versions")


def check_kernel() -> Check:
    try:
        from jupyter_client.kernelspec import find_kernel_specs
    except ImportError:
        return Check("kernel", "fail", "no Jupyter kernel machinery: run `make install` (it installs ipykernel and JupyterLab).")
    if "python3" not in find_kernel_specs():
        return Check("kernel", "fail", "no python3 kernel: run `python -m ipykernel install --user`.")
    return Check("kernel", "ok", "a python3 kernel is installed")


def check_widgets() -> Check:
    try:
        import ipywidgets
    except ImportError:
        return Check("widgets", "fail", "ipywidgets is missing: run `make install`.")
    front_end = "jupyterlab_widgets"
    try:
        importlib.metadata.version("jupyterlab-widgets")
    except importlib.metadata.PackageNotFoundError:
        return Check("widgets", "warn", f"ipywidgets {ipywidgets.__version__}, but not {front_end}: JupyterLab will show widgets "
                                        "as text; run `make install` (Colab and VS Code bring their own).")
    return Check("widgets", "ok", f"ipywidgets {ipywidgets.__version__} with JupyterLab's widget manager "
                                  "(lesson 0 checks that this front end draws them)")


def check_output() -> Check:
    from helpers.errors import CourseError
    from helpers.profile import output_dir

    try:
        folder = output_dir()
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".preflight-"):
            pass
    except CourseError as error:
        return Check("outputs", "fail", str(error))
    except OSError as error:
        return Check("outputs", "fail", f"cannot write in {folder} ({error.strerror}): set COURSE_OUTPUT to a folder you can write to.")
    return Check("outputs", "ok", f"{folder} is writable")


def check_bundle() -> Check:
    """The course bundle COURSE_BUNDLE names: whole, or the file that is missing or damaged (workshops)."""
    from helpers.bundled import describe
    from helpers.errors import CourseError

    try:
        said = describe()
    except CourseError as error:
        return Check("bundle", "fail", str(error))
    return Check("bundle", "ok", said or "not used (COURSE_BUNDLE is not set)")


def check_data_and_model() -> tuple[list[Check], object]:
    """The data source and checkpoint lessons 4 and 5 would use, and why; the data, for the timing (lesson 0)."""
    import contextlib
    import io

    from helpers.checkpoints import default_checkpoint, resolve
    from helpers.errors import CourseError
    from helpers.hardware import has_gpu
    from helpers.recipe import load_mrpc

    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said):
            raw = load_mrpc()
        data = Check("data", "ok", said.getvalue().strip().splitlines()[0].removeprefix("Data: "))
    except CourseError as error:
        return [Check("data", "fail", str(error))], None
    name = default_checkpoint(for_training=True, gpu=has_gpu())
    try:
        where, why, _ = resolve(name)
    except CourseError as error:
        return [data, Check("checkpoint", "fail", str(error))], raw
    return [data, Check("checkpoint", "ok", f"{name} from {where}, because {why}")], raw


def check_speed_memory_disk(raw, hardware=None, disk_free_gb=None) -> list[Check]:
    """A timed training step, the time lesson 5's training would take, and memory and disk against what it needs (lesson 0)."""
    from helpers.checkpoints import REGISTRY, default_checkpoint
    from helpers.cost import estimate, minutes, pair_tokens
    from helpers.hardware import detect
    from helpers.profile import output_dir
    from helpers.training import course_defaults

    hardware = hardware or detect()
    settings = course_defaults(default_checkpoint(for_training=True, gpu=hardware.gpu), hardware=hardware)
    started = time.perf_counter()
    cost = estimate(settings, pair_tokens(raw, "train"), pair_tokens(raw, "validation"))
    speed = Check("speed", "ok" if cost.minutes < 60 else "warn",
                  f"lesson 5 ({settings.checkpoint}, {settings.epochs} epoch{'s' * (settings.epochs > 1)}, batches of {settings.batch_size}, "
                  f"profile {settings.profile}) would take "
                  f"about {minutes(cost.minutes)}, between {minutes(cost.low)} and {minutes(cost.high)} "
                  f"(measured in {time.perf_counter() - started:.0f} s)"
                  + ("" if cost.minutes < 60 else "; a GPU (Colab's T4) would take minutes"))
    memory = Check("memory", "ok", f"{hardware.memory_gb:.1f} GB, lesson 5 needs about {cost.gb:.1f} GB")
    if hardware.memory_gb < cost.gb:
        memory = Check("memory", "fail", f"{hardware.memory_gb:.1f} GB, but lesson 5 needs about {cost.gb:.1f} GB: close other "
                                         "programs, or use a machine (or Colab) with more memory.")
    checkpoint = REGISTRY.get(settings.checkpoint)
    needed = DISK_MARGIN_GB + (3 * checkpoint.params_m * 4e6 if checkpoint else 0) / 1e9  # model, checkpoint with AdamW
    free = shutil.disk_usage(output_dir()).free / 1e9 if disk_free_gb is None else disk_free_gb
    disk = Check("disk", "ok", f"{free:.1f} GB free, a run needs about {needed:.1f} GB")
    if free < needed:
        disk = Check("disk", "fail", f"{free:.1f} GB free where the course writes, but a run needs about {needed:.1f} GB: "
                                     "free some space, or set COURSE_OUTPUT to a folder on a larger disk.")
    return [speed, memory, disk]


def run_checks() -> list[Check]:
    """Every check, in the order a learner meets what it checks (lesson 0)."""
    checks = [check_python(), check_libraries(), check_kernel(), check_widgets(), check_output()]
    if any(c.status == "fail" for c in checks[:2]):
        return checks  # without the libraries, nothing below can run
    checks.append(check_bundle())
    if checks[-1].status == "fail":
        return checks  # the data and the checkpoint would fail with the same line
    found, raw = check_data_and_model()
    checks += found
    if raw is not None:
        checks += check_speed_memory_disk(raw)
    return checks


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.preflight", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from helpers.session import library_warnings

    library_warnings()
    checks = run_checks()
    for check in checks:
        print(check)
    failed = [c for c in checks if c.status == "fail"]
    print(f"{'Ready for the course' if not failed else 'Not ready'}: {len(checks) - len(failed)} of {len(checks)} checks passed.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
