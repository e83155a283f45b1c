"""python -m tools.outputs: refresh the reference outputs that the notebook tests compare against.

Runs each lesson as the tests do (offline, smoke profile, the shipped sample, a fresh kernel), then keeps the outputs of
the cells tagged `nbval-check-output` only, and writes the lesson back. Every other cell is stored empty, without an
execution count. nbval skips a stored output whose cell has no execution count ("Unrun reference cell"), so the checked
cells are numbered 1, 2, 3... in order: the same numbers on every refresh, whatever ran in between.
`--check` reports lessons whose stored cells break these rules, without running anything.
"""

import os
import sys
import tempfile
from pathlib import Path

import nbformat

from tools import TEST_ENV

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TAG = "nbval-check-output"


def checked(cell) -> bool:
    """Whether nbval compares this cell's output with the stored one."""
    return cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])


def reference_counts(notebook) -> dict[int, int]:
    """The execution count each checked cell stores: 1, 2, 3... in order, by cell index."""
    indices = [number for number, cell in enumerate(notebook.cells) if checked(cell)]
    return {number: count for count, number in enumerate(indices, start=1)}


def problems(notebook) -> list[str]:
    """What breaks the rule: outputs on checked cells only, none missing, counts 1, 2, 3... on checked cells only."""
    found, counts = [], reference_counts(notebook)
    if "widgets" in notebook.metadata:
        found.append("the notebook stores widget state")
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if cell.execution_count != counts.get(number) or any(out.get("execution_count") not in (None, counts.get(number)) for out in cell.outputs):
            found.append(f"cell {number} has execution count {cell.execution_count}, not {counts.get(number)}")
        if checked(cell) and not cell.outputs:
            found.append(f"cell {number} is checked but stores no reference output")
        if not checked(cell) and cell.outputs:
            found.append(f"cell {number} stores output but is not checked")
    return found


def strip(notebook):
    """The notebook with outputs on checked cells only, numbered 1, 2, 3..., and no timings or widget state."""
    notebook.metadata.pop("widgets", None)  # the state of a run's widgets: noise in every diff
    notebook.metadata.get("language_info", {}).pop("version", None)
    counts = reference_counts(notebook)
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        cell.execution_count = counts.get(number)
        cell.metadata.pop("execution", None)
        cell.outputs = cell.outputs if checked(cell) else []
        for output in cell.outputs:
            if "execution_count" in output:
                output["execution_count"] = cell.execution_count
    return notebook


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
