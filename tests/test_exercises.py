"""Every exercise has its time, a check or a hint, and a solution that the tests run (notebooks/solutions/, by nbval)."""

import inspect
import re
from pathlib import Path

import nbformat
import pytest

from helpers import check
from tools import outputs

ROOT = Path(__file__).parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TAUGHT = [path for path in LESSONS if path.name != "00_check.ipynb"]  # lesson 0 checks the machine: no exercises
HEADING = re.compile(r"^### Exercise (\d+)\.(\d+) · about (\d+) min\n", re.M)
COMPUTING = re.compile(r"\*The computing takes (under a second|about \d+ (s|min)) on a 2-core CPU\.\*")
CHECKS = {name for name, _ in inspect.getmembers(check, inspect.isfunction) if name.startswith("exercise_")}


def exercises(path):
    """(number, heading cell, the cell after it) for each exercise of a lesson."""
    cells = nbformat.read(path, as_version=4).cells
    found = []
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown" and (match := HEADING.match(cell.source)):
            found.append((f"{match[1]}.{match[2]}", cell, cells[index + 1]))
    return found


# The course's lessons, in order: lesson 4 the plain Trainer recipe, lesson 5 its speed levers and run folders.
COURSE = ["00_check.ipynb", "01_load.ipynb", "02_tokenize.ipynb", "03_pad.ipynb", "04_train.ipynb", "05_faster.ipynb",
          "06_evaluate.ipynb", "07_loop.ipynb"]


def test_lesson_0_and_the_solutions_are_there():
    assert [p.name for p in LESSONS] == COURSE
    assert LESSONS[0].name == "00_check.ipynb"
    assert [p.name for p in sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))] == [p.name for p in TAUGHT]


@pytest.mark.parametrize("path", TAUGHT, ids=lambda p: p.name)
def test_every_exercise_has_its_time_and_a_check_or_a_hint(path):
    found = exercises(path)
    lesson = int(path.name[:2])
    assert [number for number, _, _ in found] == [f"{lesson}.{n}" for n in range(1, len(found) + 1)] and len(found) >= 3
    for number, heading, after in found:
        assert COMPUTING.search(heading.source), f"exercise {number} does not say what its computing takes"
        checked = after.cell_type == "code" and f"check.exercise_{number.replace('.', '_')}(" in after.source
        hint = after.cell_type == "markdown" and after.source.startswith("<details><summary>Hint</summary>")
        assert checked or hint, f"exercise {number} is followed by neither its check nor a folded hint"


@pytest.mark.parametrize("path", TAUGHT, ids=lambda p: p.name)
def test_every_exercise_is_solved_and_every_check_passes_in_the_solutions(path):
    solutions = nbformat.read(ROOT / "notebooks" / "solutions" / path.name, as_version=4)
    headings = re.findall(r"^## Exercise (\d+\.\d+)", "\n".join(c.source for c in solutions.cells if c.cell_type == "markdown"), re.M)
    assert headings == [number for number, _, _ in exercises(path)]
    code = "\n".join(cell.source for cell in solutions.cells if cell.cell_type == "code")
    for number, _, after in exercises(path):
        name = f"exercise_{number.replace('.', '_')}"
        if name in after.source:
            assert f"check.{name}(" in code and ".must_be_right()" in code.split(f"check.{name}(")[1].splitlines()[0], name


def test_every_check_is_offered_by_its_lesson():
    offered = {f"exercise_{number.replace('.', '_')}" for path in TAUGHT for number, _, after in exercises(path)
               if "check.exercise_" in after.source}
    assert offered == CHECKS


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_solutions_store_no_outputs_and_open_like_the_lessons(path):
    notebook = nbformat.read(path, as_version=4)
    assert outputs.problems(notebook) == [], "strip the outputs: they are checked by running"
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert setup.source == next(c for c in nbformat.read(LESSONS[1], as_version=4).cells if c.cell_type == "code").source
    assert f"(../{path.name})" in notebook.cells[0].source  # links back to its lesson


@pytest.mark.parametrize("path", TAUGHT, ids=lambda p: p.name)
def test_each_lesson_links_its_solutions(path):
    text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown")
    assert f"(solutions/{path.name})" in text
