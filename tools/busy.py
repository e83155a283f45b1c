"""Lessons 2 and 3 on a busy computer: each run N times in a fresh kernel while other processes keep every core busy;
prints how often the verdict named the faster way, and each Run All's seconds (`python -m tools.busy`).

The verdict lines are those `helpers.measure.verdict` prints ("Batched: 2.1× faster than one row at a time."). The
load is one busy loop per core (`--load 0` for a quiet computer). Timings depend on the CPU: the summary names it.
"""

import argparse
import json
import multiprocessing
import os
import re
import statistics
import sys
import time
from pathlib import Path

import nbformat

from tools.ceiling import cpu_class
from tools.memory import run_notebook

ROOT = Path(__file__).resolve().parent.parent
# Each lesson, the name of the way that should win, and the first words of the line `measure.verdict` prints
LESSONS = {"02_tokenize": ("Batched", "faster"), "03_pad": ("Dynamic padding", "faster")}


def spin() -> None:  # pragma: no cover - a child process that only burns a core
    while True:
        pass


def verdict_line(notebook, name: str) -> str:
    """The line of the executed lesson that starts with the measured way's name, or "" if none was printed."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(name + ":"):
                    return line
    return ""


def run_lesson(lesson: str) -> dict:
    notebook = nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)
    started = time.perf_counter()
    run_notebook(notebook, ROOT / "notebooks", {}, timeout=900)
    seconds = time.perf_counter() - started
    name, expected = LESSONS[lesson]
    line = verdict_line(notebook, name)
    said = re.match(rf"{re.escape(name)}: (?:[\d.]+× )?(faster|slower|no clear difference|one run each)", line)
    return {"seconds": round(seconds, 1), "line": line, "right": bool(said) and said.group(1) == expected}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each lesson (default 10)")
    parser.add_argument("--load", type=int, default=os.cpu_count(), help="busy processes beside the lessons (default: one per core)")
    parser.add_argument("--lessons", nargs="+", default=list(LESSONS), choices=list(LESSONS))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    loops = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.load)]
    for loop in loops:
        loop.start()
    results = {}
    try:
        for lesson in args.lessons:
            results[lesson] = []
            for index in range(args.runs):
                result = run_lesson(lesson)
                results[lesson].append(result)
                print(f"{lesson} run {index + 1}: {result['seconds']} s · {result['line'] or '(no verdict printed)'}", flush=True)
    finally:
        for loop in loops:
            loop.terminate()
    machine = f"{cpu_class()}, {args.load} busy processes"
    print(f"\n{machine}; data: {os.environ.get('MRPC_DIR') or 'automatic'}; profile: {os.environ.get('COURSE_PROFILE') or 'full'}")
    for lesson, runs in results.items():
        seconds = [run["seconds"] for run in runs]
        right = sum(run["right"] for run in runs)
        print(f"{lesson}: the faster way named in {right} of {len(runs)} runs; Run All {statistics.median(seconds):.0f} s median "
              f"({min(seconds):.0f}–{max(seconds):.0f})")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=1) + "\n", encoding="utf-8")
    sys.exit(0)


if __name__ == "__main__":
    main()
