"""The notebooks as files: clean, and built the same way (nbval runs them)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def code_cells(path):
    return [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]


def test_the_lessons_are_there():
    assert [p.name for p in NOTEBOOKS][:3] == ["01_load.ipynb", "02_tokenize.ipynb", "03_pad.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    dirty = [i for i, cell in enumerate(code_cells(path)) if cell["outputs"] or cell["execution_count"]]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_same_short_setup_cell_then_parameters(path):
    cells = code_cells(path)
    setup = "".join(cells[0]["source"])
    assert setup == "".join(code_cells(NOTEBOOKS[0])[0]["source"]) and len(setup.splitlines()) <= 3
    assert "PROFILE = get_profile()" in "".join(cells[1]["source"])
