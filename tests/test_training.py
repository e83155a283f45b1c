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
    assert all((path / name).is_file() for name in RUN_FILES) and (path / "loss_curve.png").stat().st_size > 10_000
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


def test_the_notebook_progress_bar_counts_the_steps_done(tmp_path):
    """After the first of two steps, StepProgress shows 1 of 2; transformers' own bar shows 2 of 2 (5.23)."""
    from transformers import TrainerControl, TrainerState, TrainingArguments
    from transformers.utils.notebook import NotebookProgressCallback

    from helpers.live import StepProgress

    args = TrainingArguments(output_dir=str(tmp_path), eval_strategy="epoch", report_to="none", use_cpu=True)
    state = TrainerState(max_steps=2, num_train_epochs=1)
    shown = {}
    for callback in (NotebookProgressCallback(), StepProgress()):
        callback.on_train_begin(args, state, TrainerControl())
        state.global_step, state.epoch = 1, 0.5  # as the Trainer leaves them when it calls on_step_end after step 1
        callback.on_step_end(args, state, TrainerControl())
        shown[type(callback).__name__] = callback.training_tracker.value
    assert shown["StepProgress"] == 1
    assert shown["NotebookProgressCallback"] == 2, "transformers fixed its notebook bar: drop StepProgress from lesson 4"



def test_progress_bars_first_frame_shows_the_time_spent_not_a_placeholder():
    """transformers 5.23 labels a bar's first frame `[1/2 : < :, Epoch 0.50/1]`; after `first_frames_timed` (which
    `helpers.setup()` runs) it reads `[1/2 00:00, Epoch 0.50/1]`, for the training bar and the evaluation bar."""
    import subprocess
    import sys

    code = """
from transformers.utils.notebook import NotebookProgressBar, NotebookTrainingTracker
def first(bar, **kwargs):
    bar.display = lambda: None
    bar.update(1, **kwargs)
    return bar.label
before = first(NotebookTrainingTracker(2), comment="Epoch 0.50/1")
from helpers.live import first_frames_timed
first_frames_timed(); first_frames_timed()  # twice: still one patch
tracker = NotebookTrainingTracker(2)
print(before, first(tracker, comment="Epoch 0.50/1"), first(tracker.add_child(1)), first(NotebookProgressBar(1)), sep="|")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    before, training, child, alone = done.stdout.strip().split("|")
    assert before == "[1/2 : < :, Epoch 0.50/1]", f"transformers fixed its first frame ({before!r}): drop first_frames_timed"
    assert (training, child, alone) == ("[1/2 00:00, Epoch 0.50/1]", "[1/1 00:00]", "[1/1 00:00]")


def test_every_trainer_in_a_notebook_counts_the_steps_done_once_the_setup_ran(tiny_checkpoint, tmp_path, monkeypatch):
    """Lesson 5's `train_run` (exercise 5.4, lesson 6's fallback) makes its Trainer without `show_training`: after
    `steps_counted` (which `helpers.setup()` runs) its default bar in a notebook is StepProgress, not transformers' own."""
    import transformers.trainer
    from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments
    from transformers.utils.notebook import NotebookProgressCallback

    from helpers.live import StepProgress, steps_counted

    monkeypatch.setattr(transformers.trainer, "DEFAULT_PROGRESS_CALLBACK", NotebookProgressCallback)  # as in a notebook
    model = AutoModelForSequenceClassification.from_pretrained(tiny_checkpoint)
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True, disable_tqdm=False)  # as lessons run
    kinds = lambda trainer: {type(c) for c in trainer.callback_handler.callbacks}  # noqa: E731
    assert NotebookProgressCallback in kinds(Trainer(model=model, args=args))
    steps_counted()
    steps_counted()  # twice: still StepProgress
    after = kinds(Trainer(model=model, args=args))
    assert StepProgress in after and NotebookProgressCallback not in after
