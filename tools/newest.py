"""python -m tools.newest: the suite again, on the newest releases of the course's libraries; a summary of what moved and broke.

CI runs it after the pinned runs (`make newest`, after `make test` and `make slow`). Those decide whether a change lands;
this one only informs: it installs a second environment (`.venv-newest`) fresh, with the libraries below unpinned (the
newest the package index serves; torch's build chosen as `make` chooses it) and everything else as pinned, runs the whole
suite there (both tiers: the browser's memory check included), and writes `outputs/newest/summary.md` (and `summary.json`,
`pytest.log`, `junit.xml`, `install.log`, the browser's screenshots) beside printing the summary.
The README's "When the libraries move" says how to read it and how to move the pins.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

from helpers.colab import canonical
from tools.install import WIDGET_STATE, installer, this_machine, usable_torch_index, uses_uv
from tools import TEST_ENV

ROOT = Path(__file__).resolve().parent.parent
# The libraries whose next release the course wants to hear about first; tokenizers comes with transformers, unpinned.
MOVING = ("transformers", "datasets", "evaluate", "accelerate", "huggingface-hub", "tokenizers", "safetensors", "torch",
          "ipywidgets", "jupyterlab", "nbval")


def name_of(spec: str) -> str:
    """`transformers==5.23.0` → `transformers`, in the normalised form pip compares (PEP 503)."""
    return canonical(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0])


def pins(pyproject: Path = ROOT / "pyproject.toml", extras: tuple[str, ...] = ("lab", "test", "install")) -> dict[str, str]:
    """Every requirement of the course and its extras, by name, as pyproject.toml pins it."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] + [spec for extra in extras for spec in project["optional-dependencies"][extra]]
    return {name_of(spec): spec for spec in specs}


def requirements(pinned: dict[str, str]) -> list[str]:
    """What the newest environment asks pip for: the moving libraries by name alone, the others as pinned."""
    return [name if name in MOVING else spec for name, spec in pinned.items()] + [
        name for name in MOVING if name not in pinned]


def install(venv: Path, log) -> tuple[bool, str]:
    """A fresh environment with the newest releases; (whether it worked, one line on where torch came from)."""
    if venv.exists():
        shutil.rmtree(venv)
    python = str(venv / "bin" / "python")
    index, why = usable_torch_index(this_machine())
    torch_from = f"torch from {index or 'PyPI'}, because {why}"
    install = installer(python)  # tools.install's: uv where it is, told pip's settings here; pip otherwise
    steps = [[sys.executable, "-m", "venv", str(venv)]]
    if not uses_uv():
        steps.append(install + ["--upgrade", "pip"])
    if index is not None:
        steps.append(installer(python, own_index=True) + ["torch", "--index-url", index])
    steps += [install + requirements(pins()), install + ["--no-deps", "--editable", str(ROOT)], [python, "-c", WIDGET_STATE]]
    for step in steps:
        log.write(f"$ {' '.join(step)}\n")
        log.flush()
        if subprocess.run(step, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
            return False, torch_from
    return True, torch_from


def installed(venv: Path) -> dict[str, str]:
    """Name → version of what the environment holds."""
    listed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
                            capture_output=True, text=True)
    return {name_of(entry["name"]): entry["version"] for entry in json.loads(listed.stdout or "[]")}


def results(junit: Path) -> dict:
    """Counts, and each failed test with the first line of why, from pytest's JUnit XML."""
    counts = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
    failed = []
    try:
        suite = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):  # no report, or half of one: pytest was killed
        return {**counts, "failures": [{"test": "pytest", "why": ["wrote no whole report: see pytest.log"]}], "seconds": 0.0}
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    for case in suite.iter("testcase"):
        test = f"{case.get('classname', '')}::{case.get('name')}"  # tests.test_loop::test_..., or a notebook's cell
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if problem is not None:
            counts["failed" if problem.tag == "failure" else "errors"] += 1
            failed.append({"test": test, "why": (problem.get("message") or problem.text or "").strip().splitlines()[:1]})
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return {**counts, "failures": failed, "seconds": float(suite.get("time", 0))}


def pip_error(log: Path) -> str:
    """pip's last `ERROR:` line (uv's `error:`) in an install log, or "" (a full disk is not a version conflict, and says so)."""
    try:
        errors = [line.strip() for line in log.read_text(errors="replace", encoding="utf-8").splitlines()
                  if line.startswith(("ERROR:", "error:"))]
    except OSError:
        return ""
    return errors[-1] if errors else ""


def summary(pinned: dict[str, str], versions: dict[str, str], outcome: dict, torch_from: str, installed_ok: bool,
            install_error: str = "") -> str:
    """The maintainer's page: versions pinned and tried, and what failed."""
    lines = [f"# The suite on the newest releases ({date.today().isoformat()})", "",
             "Informational: the pinned run decides whether a change lands. " + torch_from + ".", "",
             "| library | pinned | newest here |", "|---|---|---|"]
    for name in MOVING:
        pin = pinned[name].split("==")[1] if "==" in pinned.get(name, "") else None
        now = versions.get(name, "not installed")
        moved = pin is not None and now != "not installed" and now.split("+")[0] != pin.split("+")[0]  # 2.13.0+cpu is 2.13.0
        lines.append(f"| {name} | {pin or '(as transformers brings it)'} | {now}{' (moved)' if moved else ''} |")
    lines.append("")
    if not installed_ok:
        if "OSError" in install_error:  # the machine (a full disk, a permission), not the releases
            lines += [f"**The install failed on this machine, not on the releases**: `{install_error[:300]}` "
                      "Make room or fix it, then run `make newest` again. The tests did not run."]
        else:
            lines += ["**The newest releases could not be installed together**: "
                      + (f"`{install_error[:300]}`; the rest of " if install_error else "")
                      + "the installer's message is at the end of `outputs/newest/install.log`. The tests did not run."]
        return "\n".join(lines) + "\n"
    if outcome.get("timed_out"):
        lines += [f"**The suite ran past {outcome['timed_out']} s and was stopped**: a test may hang on these releases "
                  "(the end of `outputs/newest/pytest.log` shows where)."]
    total = outcome["passed"] + outcome["failed"] + outcome["errors"]
    verdict = "all pass" if outcome["failed"] + outcome["errors"] == 0 and total else "**something broke**"
    lines.append(f"Tests: {outcome['passed']} passed, {outcome['failed']} failed, {outcome['errors']} errors, "
                 f"{outcome['skipped']} skipped in {outcome['seconds']:.0f} s: {verdict}.")
    if outcome["failures"]:
        lines += ["", "What failed (the whole story is in `outputs/newest/pytest.log`):", ""]
        lines += [f"- `{item['test']}`: {(item['why'] or ['(no message)'])[0][:300]}" for item in outcome["failures"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.newest", description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=str(ROOT / ".venv-newest"), help="where to build the environment (made anew)")
    parser.add_argument("--out", default=str(ROOT / "outputs" / "newest"), help="where the summary and logs go")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds before the suite is stopped (default 3600)")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (default: the whole suite, both tiers)")
    args = parser.parse_args(argv)
    out, venv = Path(args.out), Path(args.venv)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(out / "install.log", "w", encoding="utf-8") as log:
        ok, torch_from = install(venv, log)
    print(f"Installed the newest releases in {time.perf_counter() - started:.0f} s" if ok else "The install failed.")
    outcome = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0, "failures": [], "seconds": 0.0, "timed_out": None}
    if ok:
        junit = out / "junit.xml"
        junit.unlink(missing_ok=True)
        env = {**os.environ, **TEST_ENV, "COURSE_OUTPUT": str(out / "tests"), "VIRTUAL_ENV": str(venv),
               "BROWSER_SCREENSHOTS": str(out / "browser"),  # not over the pinned run's
               "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
        timed_out = None
        with open(out / "pytest.log", "w", encoding="utf-8") as log:
            try:
                subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", f"--junitxml={junit}", *args.pytest_args],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                timed_out = args.timeout
        outcome = {**results(junit), "timed_out": timed_out}
    pinned = pins()
    versions = installed(venv) if ok else {}
    if ok:  # which build: PyPI's Linux torch carries CUDA, and with it about 390 MB more in every kernel
        build = subprocess.run([str(venv / "bin" / "python"), "-c", "import torch; print(torch.version.cuda or '')"],
                               capture_output=True, text=True).stdout.strip()
        torch_from += f", a CUDA {build} build" if build else ", the CPU build"
    text = summary(pinned, versions, outcome, torch_from, ok, "" if ok else pip_error(out / "install.log"))
    (out / "summary.md").write_text(text, encoding="utf-8")
    (out / "summary.json").write_text(json.dumps({
        "installed": ok, "torch_from": torch_from, "versions": {name: versions.get(name) for name in MOVING},
        "pinned": {name: pinned.get(name) for name in MOVING}, **outcome}, indent=2), encoding="utf-8")
    print(text + f"(written to {out / 'summary.md'})")
    return 0  # informational: the pinned run decides


if __name__ == "__main__":
    sys.exit(main())
