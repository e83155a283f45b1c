"""python -m tools.memory: run every lesson as a learner would (fresh kernel, full profile) and measure its peak memory.

Binder restarts a kernel above 2 GB; the course aims to keep each lesson under 1.5 GB (LIMIT_MB) on a CPU. The results go to
benchmarks/memory-cpu.json and the README's memory table.
"""

import argparse
import json
import os
import re
import time
from pathlib import Path

from tools.readme import write_section

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RESULT = ROOT / "benchmarks" / "memory-cpu.json"
PROBE = "import resource\nprint('PEAK_RSS_MB=%d' % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024))"
LIMIT_MB = 1536


def execute(name: str, env: dict, timeout: int = 3600) -> tuple[str, int, float]:
    """Run a lesson in a fresh kernel with `env` added; return what it printed, its peak RSS in MB and its seconds (Binder)."""
    import nbformat

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    start = time.perf_counter()
    run_notebook(notebook, NOTEBOOKS, env, timeout)
    seconds = time.perf_counter() - start
    # What it printed, and what it showed as HTML (progress bars, tables)
    printed = "\n".join(out.get("text", "") + out.get("data", {}).get("text/html", "") for cell in notebook.cells for out in cell.get("outputs", []))
    return printed, int(re.findall(r"PEAK_RSS_MB=(\d+)", printed)[-1]), seconds


def run_notebook(notebook, folder: Path, env: dict, timeout: int, **options) -> None:
    """Execute `notebook` in a fresh kernel started in `folder`, with `env` added to the environment for that run only."""
    from nbclient import NotebookClient

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(folder)}},
                       **options).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def table(result: dict) -> str:
    """The README's memory table (Binder)."""
    lines = [f"{result['device']}, `MEM_LIMIT` {result['mem_limit'] / 2**30:g} GiB, profile `{result['profile']}`, data: {result['data']}, {result['date']}.", "",
             "| lesson | peak memory of its kernel | wall time |", "|---|---|---|"]
    for row in result["lessons"]:
        if row.get("peak_mb") is None:  # a lesson added since the last measurement
            lines.append(f"| {row['lesson']} | not measured yet | not measured yet |")
            continue
        flag = "" if row["peak_mb"] <= LIMIT_MB else " ⚠ over 1.5 GB"
        lines.append(f"| {row['lesson']} | {row['peak_mb']:,} MB{flag} | {row['seconds']:.0f} s |")
    return "\n".join(lines + ([f"\n{result['note']}"] if result.get("note") else []))


def main(argv=None) -> None:
    from datetime import date

    from helpers.hardware import describe_device

    parser = argparse.ArgumentParser(prog="python -m tools.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--mrpc-dir", default=os.environ.get("MRPC_DIR", ""), help="a GLUE MRPC folder (default: MRPC_DIR, else automatic)")
    parser.add_argument("--profile", default="full")
    parser.add_argument("--mem-limit", default=str(2 * 1024**3), help="MEM_LIMIT the kernels see, in bytes (default: Binder's 2 GiB)")
    parser.add_argument("--readme", action="store_true", help="only regenerate the README's table from the saved JSON")
    parser.add_argument("lessons", nargs="*", help="only these lessons, such as 07_loop.ipynb; the others keep their saved rows")
    args = parser.parse_args(argv)
    if args.mrpc_dir and not Path(args.mrpc_dir).is_dir():
        parser.error(f"there is no folder {args.mrpc_dir}: point --mrpc-dir at the MRPC folder of the GLUE download.")
    if not args.readme:
        mrpc_dir = str(Path(args.mrpc_dir).resolve()) if args.mrpc_dir else ""  # the lessons' kernels start in notebooks/
        env = {"COURSE_PROFILE": args.profile, "MRPC_DIR": mrpc_dir, "MEM_LIMIT": args.mem_limit}
        saved = {row["lesson"]: row for row in json.loads(RESULT.read_text(encoding="utf-8"))["lessons"]} if args.lessons else {}
        lessons = []
        for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
            if args.lessons and path.name not in args.lessons and path.name in saved:
                lessons.append(saved[path.name])  # measured before, on the same machine (the date is the latest run's)
                continue
            _, peak, seconds = execute(path.name, env)
            lessons.append({"lesson": path.name, "peak_mb": peak, "seconds": round(seconds, 1)})
            print(f"{path.name}: {peak:,} MB, {seconds:.0f} s", flush=True)
        result = {"date": date.today().isoformat(), "device": describe_device(), "profile": args.profile, "mem_limit": int(args.mem_limit),
                  "data": "the GLUE MRPC files" if args.mrpc_dir else "automatic source", "lessons": lessons}
        RESULT.parent.mkdir(exist_ok=True)
        RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    write_section("memory", table(json.loads(RESULT.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
