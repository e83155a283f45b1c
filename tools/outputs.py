"""python -m tools.outputs: refresh the reference outputs that the notebook tests compare against.

Runs each lesson as the tests do (offline, smoke profile, the shipped sample, a fresh kernel), then keeps the outputs of
the cells tagged `nbval-check-output` only, without execution counts, and writes the lesson back. Every other cell is
stored empty. `--check` reports lessons whose stored cells break these rules, without running anything.
"""

import os
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TAG = "nbval-check-output"
TEST_ENV = {"HF_HUB_OFFLINE": "1", "COURSE_PROFILE": "smoke", "MRPC_DIR": ""}


def checked(cell) -> bool:
    """Whether nbval compares this cell's output with the stored one."""
    return cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])


def problems(notebook) -> list[str]:
    """What breaks the rule: outputs on checked cells only, none missing, no execution counts."""
    found = []
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if cell.execution_count is not None or any("execution_count" in out and out["execution_count"] for out in cell.outputs):
            found.append(f"cell {number} keeps an execution count")
        if checked(cell) and not cell.outputs:
            found.append(f"cell {number} is checked but stores no reference output")
        if not checked(cell) and cell.outputs:
            found.append(f"cell {number} stores output but is not checked")
    return found


def strip(notebook):
    """The notebook with outputs on checked cells only and no execution counts or timings."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        cell.metadata.pop("execution", None)
        cell.outputs = [clean(out) for out in cell.outputs] if checked(cell) else []
    return notebook


def clean(output):
    """One output without its execution count."""
    if "execution_count" in output:
        output["execution_count"] = None
    return output


def refresh(path: Path) -> None:
    """Run one lesson as the tests do and store its checked outputs."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as outputs:
        os.environ.update({**TEST_ENV, "COURSE_OUTPUT": outputs})
        try:
            NotebookClient(notebook, timeout=600, kernel_name="python3", record_timing=False,
                           resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    nbformat.write(strip(notebook), path)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names = [a for a in argv if not a.startswith("--")]
    paths = [NOTEBOOKS / n for n in names] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if "--check" in argv:
        bad = {p.name: problems(nbformat.read(p, as_version=4)) for p in paths}
        for name, found in bad.items():
            for problem in found:
                print(f"{name}: {problem}: run `make outputs`.")
        return 1 if any(bad.values()) else 0
    for path in paths:
        refresh(path)
        print(f"{path.name}: {sum(map(checked, nbformat.read(path, as_version=4).cells))} checked outputs stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
