"""Lessons 4 and 5 run as a learner would (fresh kernels, offline, smoke), and leave what they promise."""

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def execute(name: str, env: dict) -> str:
    """Run a notebook in a fresh kernel with `env`; return all the text it printed."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return "\n".join(out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", []))


@pytest.fixture(scope="module")
def lessons(tmp_path_factory):
    outputs = tmp_path_factory.mktemp("outputs")
    env = {"HF_HUB_OFFLINE": "1", "COURSE_PROFILE": "smoke", "COURSE_OUTPUT": str(outputs), "MRPC_DIR": ""}
    return outputs, execute("04_train.ipynb", env), execute("05_evaluate.ipynb", env)


def test_lesson_4_saves_a_run_with_its_loss_curve(lessons):
    outputs, printed, _ = lessons
    (run,) = (outputs / "runs").iterdir()
    assert f"Saved the run in {run}" in printed
    assert (run / "loss_curve.png").stat().st_size > 10_000 and (run / "model.safetensors").is_file()


def test_lesson_5_prints_accuracy_and_f1_of_that_run(lessons):
    _, _, printed = lessons
    found = re.search(r"accuracy (\d\.\d+) · F1 (\d\.\d+) on (\d+) validation pairs", printed)
    assert found, printed[-2000:]
    accuracy, f1, pairs = float(found[1]), float(found[2]), int(found[3])
    assert 0 <= accuracy <= 1 and 0 <= f1 <= 1 and pairs == 32
