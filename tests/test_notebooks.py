"""The notebooks as files: one shape, stored outputs only where they are the reference, and checks that can fail."""

import ast
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
    return [cell for cell in json.loads(path.read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "code"]


def test_the_lessons_are_there():
    assert [p.name for p in NOTEBOOKS] == ["00_check.ipynb", "01_load.ipynb", "02_tokenize.ipynb", "03_pad.ipynb", "04_train.ipynb", "05_faster.ipynb",
                                           "06_evaluate.ipynb", "07_loop.ipynb"]


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


def parsed(path) -> list[ast.Module]:
    """Each code cell of a lesson as Python (IPython's `%` and `!` lines left out)."""
    return [ast.parse("\n".join(line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!"))))
            for cell in code_cells(path)]


def calls(trees, callee: str, at_top: bool = True) -> list[ast.Call]:
    """The calls of `callee` (as written: `Trainer`, `evaluate.load`, `*.map`), outside any `if` when `at_top`."""
    found = []
    for tree in trees:
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            name = ast.unparse(node.func) if isinstance(node, ast.Call) else None
            if name and (name == callee or callee.startswith("*") and name.endswith(callee[1:])):
                chain, up = [], node
                while up in parents:
                    up = parents[up]
                    chain.append(up)
                if not (at_top and any(isinstance(p, (ast.If, ast.Try)) for p in chain)):
                    found.append(node)
    return found


def typed(trees, callee: str, positional=(), at_top: bool = True, keywords=None) -> bool:
    """Whether the lesson types this call with these arguments first and these keywords (`...` for any value)."""
    keywords = keywords or {}
    for call in calls(trees, callee, at_top):
        given = {k.arg: ast.unparse(k.value) for k in call.keywords}
        if [ast.unparse(a) for a in call.args[: len(positional)]] == list(positional) and \
                all(k in given and (v is ... or given[k] == v) for k, v in keywords.items()):
            return True
    return False


def function(trees, name: str) -> ast.FunctionDef | None:
    return next((node for tree in trees for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name), None)


RECIPE = {  # the original recipe's calls, each typed in a code cell of the lesson that teaches it (lesson 4: outside any `if`)
    "01_load.ipynb": [("load_dataset", ("'nyu-mll/glue'", "'mrpc'"), {}), ("load_dataset", ("'json'",), {"data_files": ..., "features": ...})],
    "02_tokenize.ipynb": [("AutoTokenizer.from_pretrained", ("CHECKPOINT",), {}), ("*.map", ("tokenize_function",), {"batched": "True"})],
    "03_pad.ipynb": [("DataCollatorWithPadding", (), {"tokenizer": "tokenizer"})],
    "04_train.ipynb": [("AutoTokenizer.from_pretrained", ("checkpoint",), {}),
                       ("DataCollatorWithPadding", (), {"tokenizer": "tokenizer"}),
                       ("AutoModelForSequenceClassification.from_pretrained", ("checkpoint",),
                        {"num_labels": "2", "id2label": "id2label", "label2id": "label2id"}),
                       ("TrainingArguments", (), {"output_dir": ..., "eval_strategy": "'epoch'", "num_train_epochs": "epochs"}),
                       ("Trainer", (), {"model": "model", "args": "training_args", "train_dataset": "tokenized_datasets['train']",
                                        "eval_dataset": "tokenized_datasets['validation']", "data_collator": "data_collator",
                                        "processing_class": "tokenizer", "compute_metrics": "compute_metrics"}),
                       ("trainer.train", (), {}), ("trainer.save_model", (), {}), ("trainer.save_state", (), {}),
                       ("trainer.save_metrics", ("'train'", "train_result.metrics"), {})],
    "06_evaluate.ipynb": [("evaluate.load", ("'glue'", "'mrpc'"), {}), ("metric.compute", (), {"predictions": ..., "references": ...}),
                          ("trainer.predict", (), {})],
}


@pytest.mark.parametrize("name", RECIPE)
def test_every_call_of_the_recipe_is_typed_in_its_lesson(name):
    trees = parsed(ROOT / "notebooks" / name)
    at_top = name == "04_train.ipynb"  # the same calls online and offline: no branch around them
    missing = [f"{callee}{args}" for callee, args, keywords in RECIPE[name] if not typed(trees, callee, args, at_top, keywords)]
    assert not missing, f"{name} no longer types {missing}"


def test_lesson_4_defines_compute_metrics_as_the_documentation_does():
    trees = parsed(ROOT / "notebooks" / "04_train.ipynb")
    defined = function(trees, "compute_metrics")
    assert defined is not None and [a.arg for a in defined.args.args] == ["eval_preds"]
    assert typed([defined], "evaluate.load", ("'glue'", "'mrpc'"), at_top=False)
    assert typed([defined], "np.argmax", ("logits",), at_top=False, keywords={"axis": "-1"})
    assert typed([defined], "metric.compute", (), at_top=False, keywords={"predictions": "predictions", "references": "labels"})


def recipe_lines(path) -> int:
    """Non-blank code lines between the parameters cell and the summary: the recipe, not the setup or the exercises."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    end = next(n for n, c in enumerate(cells) if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("## Summary"))
    code = [c for c in cells[:end] if c["cell_type"] == "code"][2:]  # the setup cell and the parameters cell aside
    return sum(1 for c in code for line in "".join(c["source"]).splitlines() if line.strip())


def test_lesson_4_is_the_recipe_in_about_forty_lines():
    """The Hugging Face course's recipe, the data in four lines, the label names typed, the run kept by the Trainer's own
    calls and used.json."""
    assert recipe_lines(ROOT / "notebooks" / "04_train.ipynb") <= 46


def test_the_recipe_checks_fail_on_a_wrapped_call(tmp_path):
    """The checks parse the code: a call inside an `if`, or with num_labels hidden elsewhere, is not the typed recipe."""
    lesson = json.loads((ROOT / "notebooks" / "04_train.ipynb").read_text(encoding="utf-8"))
    for cell in lesson["cells"]:
        code = "".join(cell["source"])
        code = code.replace("from_pretrained(checkpoint, num_labels=2,", "from_pretrained(checkpoint_path(checkpoint), config=config,")
        code = code.replace("train_result = trainer.train()", "if True:\n    train_result = trainer.train()")
        cell["source"] = code
    (tmp_path / "04_train.ipynb").write_text(json.dumps(lesson), encoding="utf-8")
    trees = parsed(tmp_path / "04_train.ipynb")
    assert not typed(trees, "AutoModelForSequenceClassification.from_pretrained", ("checkpoint",), keywords={"num_labels": "2"})
    assert not typed(trees, "trainer.train") and typed(trees, "trainer.train", at_top=False)


def test_the_generated_module_agrees_with_the_lessons():
    assert export.main(["--check"]) == 0, "run `python -m tools.export`"


def test_the_exporter_sees_a_changed_lesson(tmp_path):
    for path in NOTEBOOKS:
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8").replace("truncation=True, max_length=max_length", "truncation=False, max_length=max_length"), encoding="utf-8")
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


def course_objects(path) -> tuple[set[str], list[str]]:
    """The course objects a lesson meets, as issue #34 counts them: each name imported from `helpers` that is not a module,
    and each `module.attr` read through an imported helpers module (`helpers.setup` too); the exercise checks (`check`)
    left out. And the lesson's imports from a helpers submodule (`from helpers.folders import ...`), which it should not."""
    modules = {p.stem for p in (ROOT / "helpers").iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()}
    objects, submodule_imports, aliases = set(), [], {}
    for tree in parsed(path):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "helpers":
                if node.module != "helpers":
                    submodule_imports.append(f"from {node.module} import ...")
                for alias in node.names:
                    if alias.name in modules:
                        aliases[alias.asname or alias.name] = alias.name
                    elif alias.name != "check":
                        objects.add(alias.name)
            elif isinstance(node, ast.Import):
                aliases.update({alias.asname or alias.name: alias.name.removeprefix("helpers.") or "helpers"
                                for alias in node.names if alias.name.split(".")[0] == "helpers"})
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                if aliases[node.value.id] != "check":
                    objects.add(f"{aliases[node.value.id]}.{node.attr}")
    return objects, submodule_imports


# Course objects each lesson meets today, and its non-blank code lines (issue #34 asks for 20 objects in all, 53 before it
# counted this way, and about 100 lines a lesson): a lesson may meet fewer, not more.
OBJECT_BUDGET = {"00_check": 4, "01_load": 8, "02_tokenize": 6, "03_pad": 12, "04_train": 9, "05_faster": 17,
                 "06_evaluate": 18, "07_loop": 12}
LINE_BUDGET = {"00_check": 17, "01_load": 46, "02_tokenize": 54, "03_pad": 54, "04_train": 61, "05_faster": 181,
               "06_evaluate": 65, "07_loop": 132}


def code_lines(path) -> int:
    """Non-blank lines of every code cell of a lesson, the setup cell's and the exercises' included."""
    return sum(1 for cell in code_cells(path) for line in "".join(cell["source"]).splitlines() if line.strip())


def test_lessons_stay_within_their_code_lines():
    assert {path.stem: code_lines(path) for path in NOTEBOOKS if code_lines(path) > LINE_BUDGET[path.stem]} == {}


def test_lessons_meet_no_more_course_objects_than_their_budget_and_none_from_a_submodule(capsys):
    counted = {path.stem: course_objects(path) for path in NOTEBOOKS}
    every = set().union(*(objects for objects, _ in counted.values()))
    with capsys.disabled():
        print("\n" + "\n".join(f"{name}: {len(objects)} course objects" for name, (objects, _) in counted.items())
              + f"\nin all: {len(every)}")
    assert {name: len(objects) for name, (objects, _) in counted.items() if len(objects) > OBJECT_BUDGET[name]} == {}
    assert {name: imports for name, (_, imports) in counted.items() if imports} == {}
    assert len(every) <= 49  # 53 before issue #34 (counted the same way)


def test_the_course_object_count_sees_names_attributes_and_submodule_imports(tmp_path):
    lesson = {"cells": [{"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}
                        for source in ("import helpers; helpers.setup()",
                                       "from helpers import runs, load_mrpc, check\nfrom helpers.folders import write_json",
                                       "runs.record(1); runs.record(2); runs.load_run(3); check.exercise_4_1(1, 2)")],
              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "lesson.ipynb").write_text(json.dumps(lesson), encoding="utf-8")
    objects, imports = course_objects(tmp_path / "lesson.ipynb")
    assert objects == {"helpers.setup", "load_mrpc", "write_json", "runs.record", "runs.load_run"}
    assert imports == ["from helpers.folders import ..."]
