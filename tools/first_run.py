"""python -m tools.first_run: a learner's first command, measured: from a fresh clone to lesson 1's first cell.

Clones this repository into a temporary folder, runs `make install` there (what `make lab` runs before JupyterLab opens),
then lesson 1's setup cell in a fresh kernel of the new environment. Then the same install again in a second clone with
pip alone (`COURSE_INSTALLER=pip`), for the comparison; both start with empty download caches. Prints and saves the
seconds of each step, the size of the new `.venv`, and the size of the wheels pip would download for it (`pip download`
of the same requirements, torch chosen as `make` chooses it). The result goes to benchmarks/first-run-cpu.json and the README's install table.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from tools.readme import write_section

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "benchmarks" / "first-run-cpu.json"


def timed(command: list[str], cwd: Path, **kwargs) -> float:
    """Seconds `command` took; it must succeed."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, **kwargs)
    return time.perf_counter() - started


def size_mb(folder: Path) -> int:
    """The bytes of every file under `folder`, in MB."""
    return round(sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink()) / 1e6)


def first_cell(clone: Path) -> float:
    """Seconds for lesson 1's setup cell, in a fresh kernel started from the clone's .venv."""
    code = ("import nbformat, time; from nbclient import NotebookClient\n"
            "nb = nbformat.read('notebooks/01_load.ipynb', 4); nb.cells = nb.cells[:2]\n"
            "start = time.perf_counter(); NotebookClient(nb, kernel_name='python3').execute()\n"
            "print(time.perf_counter() - start)")
    done = subprocess.run([str(clone / ".venv/bin/python"), "-c", code], cwd=clone, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def cold(scratch: Path, installer: str) -> dict[str, str]:
    """The environment of an install by `installer` (uv or pip) with empty download caches (a new machine's)."""
    return {**os.environ, "COURSE_INSTALLER": installer, "UV_CACHE_DIR": str(scratch / f"uv-cache-{installer}"),
            "PIP_NO_CACHE_DIR": "1"}


def main(argv=None) -> None:
    from tools.bundle import write_wheels
    from helpers.hardware import describe_device

    parser = argparse.ArgumentParser(prog="python -m tools.first_run", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        clone = Path(scratch) / "course"
        clone_s = timed(["git", "clone", "--quiet", str(ROOT), str(clone)], cwd=Path(scratch))
        install_s = timed(["make", "install"], cwd=clone, env=cold(Path(scratch), "uv"))
        with_pip = Path(scratch) / "course-pip"
        timed(["git", "clone", "--quiet", str(ROOT), str(with_pip)], cwd=Path(scratch))
        pip_s = timed(["make", "install"], cwd=with_pip, env=cold(Path(scratch), "pip"))
        timed([str(clone / ".venv/bin/python"), "-m", "pip", "install", "--quiet", "nbclient", "ipykernel"], cwd=clone)
        cell_s = first_cell(clone)
        wheels = Path(scratch) / "wheels"
        write_wheels(wheels)
        result = {"date": str(date.today()), "device": describe_device(), "python": sys.version.split()[0],
                  "clone_s": round(clone_s, 1), "make_install_s": round(install_s, 1),
                  "make_install_pip_s": round(pip_s, 1), "bytecode_at_install": sys.dont_write_bytecode,
                  "first_cell_s": round(cell_s, 1),
                  "venv_mb": size_mb(clone / ".venv"), "download_mb": size_mb(wheels), "wheels": len(list(wheels.iterdir())),
                  "torch_wheel_mb": size_mb_of(wheels, "torch-")}
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    write_section("install", table(result))


# Sizes of torch 2.13.0's wheels for Python 3.11 as PyPI lists them (HTTP Content-Length, 2026-11-27); PyPI's Linux wheel
# also pulls about 4.4 GB of nvidia-*, triton and cuda-bindings (measured on a Linux machine without a GPU, issue #16).
PYPI_TORCH_MB = {"Linux, NVIDIA GPU": "527 MB, plus about 4.4 GB of CUDA libraries (nvidia-*, triton)", "macOS (Apple silicon)": "111 MB",
                 "Windows": "122 MB"}


def table(result: dict) -> str:
    """The README's install table: what the first command downloads on each kind of machine, and what it took here."""
    lines = ["| machine | torch comes from | torch's download |", "|---|---|---|",
             f"| Linux, no NVIDIA GPU | PyTorch's CPU index (`TORCH_INDEX=cpu`) | {result['torch_wheel_mb']} MB |"]
    lines += [f"| {machine} | PyPI (`TORCH_INDEX=pypi`) | {size} |" for machine, size in PYPI_TORCH_MB.items()]
    return "\n".join(lines + ["", f"Measured by `python -m tools.first_run` on {result['device']}, Python {result['python']}, "
                               f"{result['date']}: `make install` in a fresh clone took {result['make_install_s']:.0f} s with uv, "
                               f"{result['make_install_pip_s']:.0f} s with pip alone (`COURSE_INSTALLER=pip`), both with "
                               "empty download caches"
                               + (" (uv's time includes compiling the bytecode, which pip always does: this machine sets "
                                  "PYTHONDONTWRITEBYTECODE)" if result.get("bytecode_at_install") else "") + "; "
                               f"lesson 1's first cell took {result['first_cell_s']:.0f} s more; the new `.venv` holds "
                               f"{result['venv_mb']:,} MB, from {result['wheels']} wheels of {result['download_mb']:,} MB "
                               "(torch's CPU build included). `TORCH_INDEX` (`cpu`, `pypi` or an index's URL) overrides the "
                               "choice; `COURSE_BUNDLE` installs from a workshop bundle's wheels without network."])


def size_mb_of(folder: Path, prefix: str) -> int:
    """The MB of the files in `folder` whose names start with `prefix`."""
    return round(sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith(prefix)) / 1e6)


if __name__ == "__main__":
    main()
