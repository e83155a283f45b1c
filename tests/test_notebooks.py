"""The notebooks as files: one shape, stored outputs only where they are the reference, and checks that can fail."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import export, outputs

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def code_cells(path):
    return [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]


def test_the_lessons_are_there():
    assert [p.name for p in NOTEBOOKS] == ["00_check.ipynb", "01_load.ipynb", "02_tokenize.ipynb", "03_pad.ipynb", "04_train.ipynb", "05_evaluate.ipynb", "06_loop.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stored_on_checked_cells_only(path):
    assert outputs.problems(nbformat.read(path, as_version=4)) == [], "run `make outputs`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_same_short_setup_cell_then_parameters(path):
    cells = code_cells(path)
    setup = "".join(cells[0]["source"])
    assert setup == "".join(code_cells(NOTEBOOKS[0])[0]["source"]) and len(setup.splitlines()) <= 5
    assert "PROFILE = get_profile()" in "".join(cells[1]["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lessons_teach_calls_not_helper_sources(path):
    code = "\n".join("".join(cell["source"]) for cell in code_cells(path))
    assert "show_source" not in code and "getsource" not in code and "NBVAL_CHECK_OUTPUT" not in code


RECIPE = {  # the original recipe's calls, each typed in a code cell of the lesson that teaches it
    "01_load.ipynb": ['load_dataset("nyu-mll/glue", "mrpc")', 'load_dataset("json", data_files='],
    "02_tokenize.ipynb": ["AutoTokenizer.from_pretrained(", "def tokenize_function(", ".map(tokenize_function, batched=True"],
    "03_pad.ipynb": ["DataCollatorWithPadding(tokenizer=tokenizer)"],
    "04_train.ipynb": ["AutoModelForSequenceClassification.from_pretrained(", "num_labels=2", "def compute_metrics(eval_preds)",
                       "np.argmax(logits, axis=-1)", "metric.compute(predictions=", "TrainingArguments(", 'eval_strategy="epoch"',
                       "processing_class=tokenizer", "compute_metrics=compute_metrics", "trainer.train()"],
    "05_evaluate.ipynb": ["evaluate.load(", "metric.compute(predictions=", "trainer.predict("],
}


@pytest.mark.parametrize("name", RECIPE)
def test_every_call_of_the_recipe_is_typed_in_its_lesson(name):
    code = "\n".join("".join(cell["source"]) for cell in code_cells(ROOT / "notebooks" / name))
    missing = [call for call in RECIPE[name] if call not in code]
    assert not missing, f"{name} no longer types {missing}"


def test_the_generated_module_agrees_with_the_lessons():
    assert export.main(["--check"]) == 0, "run `python -m tools.export`"


def test_the_exporter_sees_a_changed_lesson(tmp_path):
    for path in NOTEBOOKS:
        (tmp_path / path.name).write_text(path.read_text().replace("truncation=True, max_length=max_length", "truncation=False, max_length=max_length"))
    assert export.generate(tmp_path) != export.generate() and "truncation=False" in export.generate(tmp_path)
    assert "# From Lesson 2 · Tokenize sentence pairs (notebooks/02_tokenize.ipynb)\ndef tokenize_function(" in export.generate()


@pytest.mark.slow
def test_a_changed_reference_output_fails_the_suite(tmp_path):
    """nbval compares the checked cells with the stored outputs: change one, and the lesson fails; leave it, and it passes."""
    lesson = nbformat.read(ROOT / "notebooks" / "01_load.ipynb", as_version=4)
    nbformat.write(lesson, tmp_path / "unchanged.ipynb")
    cell = next(cell for cell in lesson.cells if outputs.checked(cell) and "label_names" in cell.source)
    cell.outputs[0]["data"]["text/plain"] = "{'train': 999999, 'nonsense': True}"
    nbformat.write(lesson, tmp_path / "changed.ipynb")
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "--nbval-lax", "--nbval-current-env",
                           "-q", "-rf", "changed.ipynb", "unchanged.ipynb"], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**subprocess.os.environ, **outputs.TEST_ENV, "COURSE_OUTPUT": str(tmp_path / "outputs")})
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 1 and summary.startswith("1 failed,"), done.stdout[-3000:]
    assert "FAILED changed.ipynb::Cell" in done.stdout and "999999" in done.stdout


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_a_laptop_screen(path):
    """JupyterLab shows about 120 characters of a line at 1400 pixels with the file browser open."""
    long = [line for cell in code_cells(path) for line in "".join(cell["source"]).splitlines() if len(line) > 115]
    assert not long, long
