"""Exported cells a learner can edit: each self-contained in its lesson, run by its own lesson, never replaced by a re-import."""

import ast
import json
import os
import re
from pathlib import Path

import pytest

from tools import export

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MARKER = "#| export"


def code_cells(path: Path) -> list[str]:
    """The lesson's code cells in order, IPython's `%` and `!` lines left out."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["\n".join(line for line in "".join(c["source"]).splitlines() if not line.lstrip().startswith(("%", "!")))
            for c in cells if c["cell_type"] == "code"]


def exported(code: str) -> bool:
    return code.lstrip().startswith(MARKER)


def bound_names(code: str) -> set[str]:
    """What a cell leaves defined for the cells after it: imports, functions, classes and assignments at its top level."""
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        else:
            names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def names_from_other_lessons(path: Path) -> dict[str, set[str]]:
    """For each exported cell (by its first definition), the names it uses that its own lesson never defines before it."""
    found, known = {}, set()
    for code in code_cells(path):
        if exported(code):
            first = next(iter(sorted(export.defined_names(code))), "?")
            missing = export.free_names(code) - known
            if missing:
                found[first] = missing
        known |= bound_names(code)
    return found


def reimported_own_definitions(path: Path) -> list[str]:
    """Import lines by which a lesson replaces definitions of its own exported cells with the generated module's copies."""
    cells = code_cells(path)
    own = set().union(*(export.defined_names(code) for code in cells if exported(code)))
    found = []
    for code in cells:
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "helpers":
                found += [f"from {node.module} import {a.name}" for a in node.names if a.name in own]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exported_cell_uses_only_names_its_own_lesson_defines(path):
    assert names_from_other_lessons(path) == {}, "define or import these in the lesson, before the cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_lesson_reimports_what_it_defines(path):
    assert reimported_own_definitions(path) == [], "call the lesson's own definitions: a re-import hides a learner's edit"


def test_the_generated_module_defines_every_name_it_uses():
    module = (ROOT / "helpers" / "recipe.py").read_text(encoding="utf-8")
    assert export.free_names(module) == set()


def test_the_checks_fail_on_a_lesson_that_borrows_and_reimports(tmp_path):
    """A lesson like the loop lesson of 2026-11-28: exports using another lesson's names, then a re-import of its own."""
    cells = [("code", "import helpers; helpers.setup()"),
             ("code", "#| export\ndef accelerate_loop(settings):\n    return load_model(settings.checkpoint)"),
             ("code", "from helpers.recipe import accelerate_loop\n\naccelerate_loop(settings)")]
    path = tmp_path / "06_loop.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": kind, "source": code, "metadata": {}} for kind, code in cells]}),
                    encoding="utf-8")
    assert names_from_other_lessons(path) == {"accelerate_loop": {"load_model"}}
    assert reimported_own_definitions(path) == ["from helpers.recipe import accelerate_loop"]


# What a learner types into an exercise cell that runs nothing until answered: (the cell's line, the learner's line)
ANSWERS = {"05_faster.ipynb": [("RATES = []", "RATES = [1e-4, 2e-4]"),
                               ("chosen = None", "chosen = candidates[0]; score_run(chosen)")]}


def edited(path: Path, target: Path) -> dict[str, str]:
    """A copy of a lesson, its exercises answered (ANSWERS), whose exported functions each print a marker first; the
    markers, by function."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    markers = {}
    for line, answer in ANSWERS.get(path.name, []):
        cells = [cell for cell in notebook["cells"] if line in "".join(cell["source"])]
        assert len(cells) == 1, f"{path.name}: no one cell holds {line!r}; update ANSWERS"
        cells[0]["source"] = "".join(cells[0]["source"]).replace(line, answer, 1)
    for cell in notebook["cells"]:
        code = "".join(cell["source"])
        if cell["cell_type"] != "code" or not exported(code):
            continue
        for name in sorted(export.defined_names(code)):
            marker = markers[name] = f"EDITED {name} {os.getpid()}"
            code = re.sub(rf"^(def {name}\(.*?\).*?:\n(?:    \"\"\".*?\"\"\"\n)?)", rf'\1    print("{marker}")\n', code,
                          count=1, flags=re.M | re.S)
        cell["source"] = code
    target.write_text(json.dumps(notebook), encoding="utf-8")
    return markers


def called_in_lesson(path: Path, names: set[str]) -> set[str]:
    """Which of these names the lesson's own cells call outside the exported cells."""
    calls = set()
    for code in code_cells(path):
        if not exported(code):
            calls |= {n.func.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return calls & names


LESSONS_WITH_EXPORTS = [p for p in NOTEBOOKS if any(exported(code) for code in code_cells(p))]


@pytest.mark.slow
@pytest.mark.parametrize("path", LESSONS_WITH_EXPORTS, ids=lambda p: p.name)
def test_an_edit_to_an_exported_cell_changes_what_its_lesson_runs(path, tmp_path):
    """Edit every exported function in a copy of the lesson, run the lesson with its exercises answered: each exported
    function it calls runs the edited code."""
    import nbformat
    from nbclient import NotebookClient

    from tools.outputs import TEST_ENV

    copy = tmp_path / path.name
    markers = edited(path, copy)
    called = called_in_lesson(copy, set(markers))
    assert called, f"{path.name} calls none of its exported functions"
    notebook = nbformat.read(copy, as_version=4)
    env = {**TEST_ENV, "COURSE_OUTPUT": str(tmp_path / "outputs")}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
    printed = "".join(out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", []))
    assert {name for name in called if markers[name] not in printed} == set(), "these ran the generated module's copy"
