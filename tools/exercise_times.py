"""python -m tools.exercise_times: how long each exercise's solution cells run, as a learner's kernel runs them.

Runs each solutions notebook (notebooks/solutions/) in a fresh kernel with the profile and data given, times every cell,
and adds up the cells under each `## Exercise L.N` heading. The lessons quote these times next to each exercise. The
result goes to benchmarks/exercise-times-cpu.json (merged with what is there, so lessons can be measured one at a time).
"""

import argparse
import json
import os
import re
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "notebooks" / "solutions"
RESULT = ROOT / "benchmarks" / "exercise-times-cpu.json"
HEADING = re.compile(r"^## Exercise (\d+\.\d+)", re.M)


def seconds(cell) -> float:
    """Wall time of one executed cell, from the timestamps nbclient records."""
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    return (datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def per_exercise(notebook) -> dict[str, float]:
    """Seconds of the cells under each exercise heading; the cells before the first heading are `setup`."""
    found, current = {"setup": 0.0}, "setup"
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and (match := HEADING.search(cell.source)):
            current = match[1]
            found[current] = 0.0
        elif cell.cell_type == "code":
            found[current] += seconds(cell)
    return {name: round(value, 1) for name, value in found.items()}


def run(name: str, env: dict, timeout: int) -> dict[str, float]:
    """Execute one solutions notebook in a fresh kernel with `env` added; its seconds per exercise."""
    import nbformat

    from tools.memory import run_notebook

    notebook = nbformat.read(SOLUTIONS / name, as_version=4)
    run_notebook(notebook, SOLUTIONS, env, timeout, record_timing=True)
    return per_exercise(notebook)


def main(argv=None) -> None:
    from helpers.hardware import describe_device

    parser = argparse.ArgumentParser(prog="python -m tools.exercise_times", description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="solutions notebooks to run, such as 01_load.ipynb (default: all)")
    parser.add_argument("--mrpc-dir", default=os.environ.get("MRPC_DIR", ""), help="a GLUE MRPC folder (default: MRPC_DIR)")
    parser.add_argument("--profile", default="full", choices=("full", "smoke"))
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    names = args.lessons or sorted(p.name for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
    env = {"COURSE_PROFILE": args.profile, "MRPC_DIR": args.mrpc_dir, "HF_HUB_OFFLINE": "1"}
    result = json.loads(RESULT.read_text(encoding="utf-8")) if RESULT.is_file() else {"lessons": {}}
    result.update(device=describe_device(), profile=args.profile, date=str(date.today()),
                  data="the GLUE MRPC files" if args.mrpc_dir else "the course's sample")
    for name in names:
        started = time.perf_counter()
        result["lessons"][name] = run(name, env, args.timeout)
        print(f"{name}: {result['lessons'][name]} ({time.perf_counter() - started:.0f} s in all)", flush=True)
        RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {RESULT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
