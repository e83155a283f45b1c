"""Training: settings checked, learning happens, runs are saved whole and found again, results repeat."""

import json
from pathlib import Path

import pytest
import torch

from helpers import CourseError
from helpers.recipe import load_model, load_mrpc, make_trainer, tokenize_dataset, train_run
from helpers.runs import RUN_FILES, list_runs, load_run, new_run_dir
from helpers.training import Settings, course_defaults


@pytest.mark.parametrize("epochs", [0, -2, 1.5])
def test_bad_epochs_are_one_clear_sentence(epochs):
    with pytest.raises(CourseError, match="epochs must be a whole number from 1 to 100"):
        Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=epochs).check()


def test_bad_learning_rate_and_batch_size_are_refused():
    with pytest.raises(CourseError, match="learning_rate must be a number above 0 and below 1"):
        Settings("sentence-transformers/all-MiniLM-L6-v2", learning_rate=0).check()
    with pytest.raises(CourseError, match="batch_size must be a whole number"):
        Settings("sentence-transformers/all-MiniLM-L6-v2", batch_size=0).check()


def test_bad_padding_multiple_is_refused():
    with pytest.raises(CourseError, match="pad_to_multiple_of must be None or a whole number of at least 1, not 0: try 8"):
        Settings("sentence-transformers/all-MiniLM-L6-v2", pad_to_multiple_of=0).check()


@pytest.mark.parametrize("warmup", [-0.1, 1, 1.5])
def test_a_warmup_that_is_not_a_share_of_the_steps_is_refused(warmup):
    with pytest.raises(CourseError, match="warmup must be a share of the steps, at least 0 and below 1"):
        Settings("sentence-transformers/all-MiniLM-L6-v2", warmup=warmup).check()


@pytest.mark.parametrize("dropout", [-0.1, 1, 1.5, "0.1"])
def test_a_dropout_that_is_not_a_probability_is_refused(dropout):
    with pytest.raises(CourseError, match="dropout must be None .* or a probability from 0 to below 1"):
        Settings("sentence-transformers/all-MiniLM-L6-v2", dropout=dropout).check()
    with pytest.raises(CourseError, match="freeze_embeddings must be True or False, not 'yes'"):
        Settings("sentence-transformers/all-MiniLM-L6-v2", freeze_embeddings="yes").check()


def test_frozen_embeddings_get_no_gradients_and_no_optimizer_state(tiny_checkpoint, tmp_path):
    from dataclasses import replace

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    settings = replace(course_defaults(tiny_checkpoint, "smoke", "sample"), freeze_embeddings=True, dropout=0.0, epochs=1)
    model = load_model(tiny_checkpoint, settings.dropout, settings.freeze_embeddings)
    before = model.bert.embeddings.word_embeddings.weight.detach().clone()
    trainer = make_trainer(model, tokenizer, tokenize_dataset(load_mrpc("sample", "smoke"), tokenizer), settings, tmp_path)
    trainer.train()
    optimized = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    assert all(id(p) not in optimized for p in model.bert.embeddings.parameters())
    assert optimized == {id(p) for p in model.parameters() if p.requires_grad}
    assert torch.equal(model.bert.embeddings.word_embeddings.weight, before)  # untouched: no weight decay either
    assert not torch.equal(model.bert.encoder.layer[0].attention.self.query.weight, load_model(tiny_checkpoint).bert.encoder.layer[0].attention.self.query.weight)


def test_the_course_warms_up_over_a_tenth_of_the_steps_and_the_seed_recipe_not_at_all(tmp_path):
    from helpers.recipe import training_arguments
    from tools.bench import seed_recipe

    course = training_arguments(course_defaults("sentence-transformers/all-MiniLM-L6-v2", "full"), tmp_path)
    seed = training_arguments(seed_recipe("sentence-transformers/all-MiniLM-L6-v2", None, "full"), tmp_path)
    assert course.get_warmup_steps(345) == 35 and seed.get_warmup_steps(1377) == 0


def test_the_course_pads_batches_to_a_multiple_of_8(tiny_checkpoint, tmp_path):
    from transformers import AutoTokenizer

    settings = course_defaults(tiny_checkpoint, "smoke", "sample")
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    trainer = make_trainer(load_model(tiny_checkpoint), tokenizer, tokenize_dataset(load_mrpc("sample", "smoke"), tokenizer), settings, tmp_path)
    widths = {batch["input_ids"].shape[1] for batch in trainer.get_train_dataloader()}
    assert settings.pad_to_multiple_of == 8 and widths and all(width % 8 == 0 for width in widths)


def test_unknown_checkpoint_fails_before_any_work():
    with pytest.raises(CourseError, match="Unknown checkpoint 'bert-base-uncasd'"):
        train_run(Settings("bert-base-uncasd", profile="smoke"))
    assert list_runs() == []


def tiny_bert():
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=32, num_labels=2)
    return BertForSequenceClassification(config)


class TinyTokenizer:
    """Just enough of a tokenizer for the collator: pads with id 0."""

    model_input_names = ["input_ids", "attention_mask"]
    padding_side, pad_token_id, pad_token, name_or_path = "right", 0, "[PAD]", "tiny"

    def pad(self, features, **kwargs):
        width = max(len(f["input_ids"]) for f in features)
        batch = {
            "input_ids": torch.tensor([f["input_ids"] + [0] * (width - len(f["input_ids"])) for f in features]),
            "attention_mask": torch.tensor([[1] * len(f["input_ids"]) + [0] * (width - len(f["input_ids"])) for f in features]),
        }
        if "label" in features[0]:
            batch["labels"] = torch.tensor([f["label"] for f in features])
        return batch


def test_a_tiny_random_bert_overfits_one_batch():
    from datasets import Dataset, DatasetDict

    generator = torch.Generator().manual_seed(1)
    rows = {"input_ids": [torch.randint(1, 64, (int(n),), generator=generator).tolist() for n in torch.randint(5, 12, (8,), generator=generator)],
            "label": [0, 1, 1, 0, 1, 0, 0, 1]}
    one_batch = Dataset.from_dict(rows)
    settings = Settings("tiny", epochs=40, learning_rate=3e-3, batch_size=8)
    trainer = make_trainer(tiny_bert(), TinyTokenizer(), DatasetDict(train=one_batch, validation=one_batch), settings, new_run_dir(settings))
    trainer.args.eval_strategy = trainer.args.save_strategy = "no"
    trainer.args.logging_steps = 1
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert losses[0] > 0.5 and losses[-1] < 0.25 * losses[0], losses


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """Two smoke runs with the same seed, on the shipped sample."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("COURSE_OUTPUT", str(tmp_path_factory.mktemp("runs")))
        settings = course_defaults("sentence-transformers/all-MiniLM-L6-v2", "smoke", "sample")
        yield [train_run(settings), train_run(settings)]


@pytest.mark.slow
def test_same_seed_and_profile_give_the_same_metrics(smoke_runs):
    first, second = (load_run(path).metrics for path in smoke_runs)
    assert first["eval_accuracy"] == second["eval_accuracy"] and first["eval_f1"] == second["eval_f1"]
    assert first["eval_loss"] == pytest.approx(second["eval_loss"], abs=1e-6)


@pytest.mark.slow
def test_a_run_folder_holds_everything_and_its_last_checkpoint(smoke_runs):
    path = smoke_runs[0]
    assert all((path / name).is_file() for name in RUN_FILES)
    run = load_run(path)
    steps = -(-64 // run.settings["batch_size"]) * run.settings["epochs"]  # smoke: 64 training pairs
    assert [p.name for p in path.glob("checkpoint-*")] == [f"checkpoint-{steps}"]  # the last one, for --resume
    assert run.settings == course_defaults("sentence-transformers/all-MiniLM-L6-v2", "smoke", "sample").as_dict()
    assert sum("eval_f1" in entry for entry in run.history) == run.settings["epochs"]
    assert 0 <= run.metrics["eval_accuracy"] <= 1 and run.metrics["peak_rss_mb"] > 0
    assert smoke_runs[0] != smoke_runs[1] and "all-MiniLM-L6-v2-1ep-" in path.name


@pytest.mark.slow
def test_a_run_folder_with_files_missing_is_one_clear_sentence(smoke_runs, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "settings.json").write_text(json.dumps({"checkpoint": "x"}), encoding="utf-8")
    with pytest.raises(CourseError, match="lacks config.json, model.safetensors.*pick another run"):
        load_run(broken)


@pytest.mark.parametrize("hardware", [("cpu", 2.1, False), ("cpu", 16, True), ("cuda", 16, False), ("cuda", 80, True)], ids=str)
def test_lesson_5s_parameters_are_the_command_lines_defaults(hardware, monkeypatch):
    """Lesson 5's parameters cell is plain values; the command line's course_defaults must give the same ones."""
    import nbformat

    from helpers import checkpoints, hardware as hardware_module
    from helpers.hardware import Hardware

    machine = Hardware(hardware[0], "x", hardware[1], hardware[2])
    monkeypatch.setattr(hardware_module, "detect", lambda: machine)
    monkeypatch.setattr(checkpoints, "hub_status", lambda: (True, "it answered"))
    lesson = nbformat.read(Path(__file__).parent.parent / "notebooks" / "05_faster.ipynb", as_version=4)
    cell = next(c.source for c in lesson.cells if c.cell_type == "code" and "LEARNING_RATE =" in c.source)
    values = {}
    exec(cell, values)
    chosen = Settings(checkpoint=values["CHECKPOINT"], epochs=values["EPOCHS"], learning_rate=values["LEARNING_RATE"],
                      batch_size=values["BATCH_SIZE"], seed=values["SEED"], warmup=values["WARMUP"], precision=values["PRECISION"],
                      group_by_length=values["GROUP_BY_LENGTH"], pad_to_multiple_of=values["PAD_TO_MULTIPLE_OF"],
                      dropout=values["DROPOUT"], freeze_embeddings=values["FREEZE_EMBEDDINGS"],
                      profile=values["PROFILE"].name, source=values["SOURCE"])
    defaults = course_defaults(chosen.checkpoint, "smoke", None, hardware=machine)
    assert chosen == defaults
    monkeypatch.setenv("COURSE_PROFILE", "full")  # and the epochs of a full run: 2 on a CPU, 3 on a GPU
    exec(cell, values)
    assert values["EPOCHS"] == course_defaults(chosen.checkpoint, "full", None, hardware=machine).epochs == (3 if machine.gpu else 2) and chosen.checkpoint == ("bert-base-uncased" if machine.gpu else "sentence-transformers/all-MiniLM-L6-v2")


LIBRARY_STATE = """
import datasets, evaluate, transformers, transformers.trainer
from transformers.utils.notebook import NotebookProgressBar, NotebookProgressCallback
def state():
    return (transformers.logging.get_verbosity(), transformers.utils.logging.is_progress_bar_enabled(),
            datasets.logging.get_verbosity(), datasets.is_progress_bar_enabled(), evaluate.logging.get_verbosity(),
            transformers.trainer.DEFAULT_PROGRESS_CALLBACK.__qualname__, NotebookProgressBar.update_bar.__module__,
            NotebookProgressCallback.on_step_end.__module__, transformers.Trainer.__init__.__module__)
before = state()
import helpers
helpers.setup()
import helpers.live, helpers.recipe, helpers.runs, helpers.train, helpers.preflight, helpers.measure
print("BEFORE", before)
print("AFTER", state())
"""


def test_the_setup_cell_leaves_transformers_and_its_libraries_as_they_ship():
    """`helpers.setup()` (every lesson's first cell) changes no library's logging level or progress bars, and replaces no
    transformers class, method or module attribute: every Trainer a learner builds behaves as the documentation's."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", LIBRARY_STATE], capture_output=True, text=True, timeout=300)
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.startswith(("BEFORE", "AFTER")))
    assert done.returncode == 0 and "AFTER" in lines, done.stderr[-2000:]
    assert lines["AFTER"] == lines["BEFORE"]


def test_no_helper_changes_a_librarys_logging_or_replaces_its_attributes():
    """A parse of every helpers module: no call that sets a library's verbosity or switches its progress bars off for the
    kernel, and no assignment to an attribute of an imported library (a patched class, method or module attribute). The
    one place that turns 🤗 Datasets' bars off, for the timed turns of lesson 2, turns them back on (a `with`)."""
    import ast

    setters = ("set_verbosity", "disable_progress_bar", "disable_default_handler", "set_custom_exc_hook")
    found = []
    for path in sorted((Path(__file__).parent.parent / "helpers").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, (ast.Import, ast.ImportFrom)) and not (getattr(node, "module", "") or "").startswith("helpers")
                    for alias in node.names if not alias.name.startswith("helpers")}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.startswith(setters):
                found.append(f"{path.name}:{node.lineno} calls {node.func.attr}")
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
            for target in targets:
                root = target
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(target, ast.Attribute) and isinstance(root, ast.Name) and root.id in imported:
                    found.append(f"{path.name}:{node.lineno} assigns {ast.unparse(target)}")
    timed = [line for line in found if line.startswith("measure.py:") and line.endswith("calls disable_progress_bars")]
    assert len(timed) <= 1 and [line for line in found if line not in timed] == []  # timed: lesson 2's, in no_map_bars


def test_timing_in_turns_leaves_the_datasets_progress_bars_as_they_were():
    """Lesson 2's timed maps show no bar each, and the bars are back on after the timing (or still off, if they were)."""
    import datasets

    from helpers.measure import time_interleaved

    seen = []
    task = lambda: seen.append(datasets.is_progress_bar_enabled())  # noqa: E731
    assert datasets.is_progress_bar_enabled()
    time_interleaved({"a": task, "b": task}, 2)
    assert seen == [False] * 4 and datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        time_interleaved({"a": task}, 1)
        assert not datasets.is_progress_bar_enabled()
    finally:
        datasets.enable_progress_bars()
