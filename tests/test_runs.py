"""Run folders read back in lesson 6: broken ones skipped in one line each, any folder pickable, the data checked."""

import json
import re
import shutil
from pathlib import Path

import pytest

from helpers import CourseError
from helpers.data import fingerprint
from helpers.profile import output_dir
from helpers.recipe import load_mrpc
from helpers.runs import check_same_data, list_runs, load_run
from helpers.widgets import run_picker


@pytest.fixture(scope="module")
def trained(tiny_checkpoint, tmp_path_factory) -> tuple[Path, dict]:
    """One real smoke run of the tiny BERT on the shipped sample, made once for the module, and its data's fingerprint."""
    from helpers.recipe import train_run
    from helpers.training import course_defaults

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("COURSE_OUTPUT", str(tmp_path_factory.mktemp("trained")))
        yield train_run(course_defaults(tiny_checkpoint, "smoke", "sample")), fingerprint(load_mrpc("sample", "smoke"))


@pytest.fixture
def good_run(trained, capsys) -> Path:
    """A copy of the trained run in this test's outputs/runs, its used.json written as the training code writes it."""
    trained_run, data = trained
    path = output_dir("runs") / trained_run.name
    shutil.copytree(trained_run, path)
    used = {"source": "sample", "data": data, "checkpoint": {"name": "tiny", "from": "tiny", "parameters": 1}}
    (path / "used.json").write_text(json.dumps(used), encoding="utf-8")
    capsys.readouterr()  # what training printed is not what the tests look at
    return path


def cut_short(path: Path) -> None:
    """Keep the first half of a file, as a kill or a full disk would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def broken_copy(good_run: Path, name: str, change) -> Path:
    """A copy of the good run under another name, broken by `change`."""
    path = good_run.with_name(name)
    shutil.copytree(good_run, path)
    change(path)
    return path


TRAIN_AGAIN = "train it again in lesson 4 and delete this folder"
BROKEN = {  # folder name: (what breaks it, what the one line says)
    "no-config": (lambda p: (p / "config.json").unlink(), f"it lacks config.json: {TRAIN_AGAIN}."),
    "cut-state": (lambda p: cut_short(p / "trainer_state.json"),
                  f"its trainer_state.json is not valid JSON (a kill or a full disk cut it short): {TRAIN_AGAIN}."),
    "no-history": (lambda p: (p / "trainer_state.json").write_text('{"global_step": 3}', encoding="utf-8"),
                   f"its trainer_state.json holds no log history: {TRAIN_AGAIN}."),
    "cut-results": (lambda p: cut_short(p / "all_results.json"),
                    f"its all_results.json is not valid JSON (a kill or a full disk cut it short): {TRAIN_AGAIN}."),
    "cut-model": (lambda p: cut_short(p / "model.safetensors"),
                  f"its model.safetensors cannot be read (a kill or a full disk cut it short): {TRAIN_AGAIN}."),
    "cut-used": (lambda p: cut_short(p / "used.json"),
                 "its used.json is not valid JSON (a kill or a full disk cut it short): delete that file to read the run without it."),
    "settings-only": (lambda p: [f.unlink() if f.is_file() else shutil.rmtree(f) for f in p.iterdir() if f.name != "settings.json"],
                      f"it is not finished (still training, or stopped early): {TRAIN_AGAIN}."),
    "empty-settings": (lambda p: (p / "settings.json").write_text("{}", encoding="utf-8"),
                       f"its settings.json lacks checkpoint, epochs, max_length, profile, source: {TRAIN_AGAIN}."),
    "unfinished": (lambda p: (p / "trainer_state.json").unlink(),
                   "it is not finished (still training, or stopped early): continue it with python -m helpers.train --resume --output-dir "),
}


def test_list_runs_keeps_the_good_run_and_says_why_each_other_folder_is_skipped(good_run, capsys):
    for name, (change, _) in BROKEN.items():
        broken_copy(good_run, name, change)
    (output_dir("runs") / ".ipynb_checkpoints").mkdir()  # Jupyter's own folder: no run, no line
    assert list_runs() == [good_run]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(BROKEN), lines
    for line, (name, (_, said)) in zip(lines, sorted(BROKEN.items())):
        assert line.startswith(f"Skipped {name}: {said}"), line


def test_list_runs_lists_oldest_first(good_run, capsys):
    import os

    newer = broken_copy(good_run, "newer", lambda p: None)
    os.utime(good_run / "trainer_state.json", (1, 1))
    os.utime(newer / "trainer_state.json", (2, 2))
    older = broken_copy(good_run, "a-older", lambda p: os.utime(p / "trainer_state.json", (0, 0)))
    assert list_runs() == [older, good_run, newer] and capsys.readouterr().out == ""


@pytest.mark.parametrize("name", BROKEN)
def test_load_run_says_what_is_wrong_in_one_sentence(good_run, name):
    change, said = BROKEN[name]
    path = broken_copy(good_run, name, change)
    with pytest.raises(CourseError) as caught:
        load_run(path)
    message = str(caught.value)
    assert message.startswith(f"Cannot read the run in {path}: {said.split(':')[0]}") and "pick another run, or " in message
    assert said.split(": ", 1)[1].rstrip(".") in message and message.endswith(".") and "\n" not in message


def test_a_run_training_now_is_never_advised_deleted_or_resumed(good_run, capsys):
    """Its lock is held by the run writing it: lesson 6 says to wait, not to delete the folder or resume it."""
    from filelock import FileLock

    training = broken_copy(good_run, "training", BROKEN["unfinished"][0])
    holder = FileLock(training / ".lock", timeout=0, thread_local=False)  # as the training process holds it
    holder.acquire()
    try:
        with pytest.raises(CourseError, match=r"it is training now \(another process holds it\): pick another run, or wait until"):
            load_run(training)
        assert list_runs() == [good_run]
        assert capsys.readouterr().out.startswith("Skipped training: it is training now")
    finally:
        holder.release()
    with pytest.raises(CourseError, match="continue it with python -m helpers.train --resume"):  # stopped: resumable
        load_run(training)


def test_load_run_reads_used_json_and_runs_saved_before_it(good_run):
    assert load_run(good_run).used["source"] == "sample"
    (good_run / "used.json").unlink()
    assert load_run(good_run).used == {}


def test_load_run_of_no_folder_is_one_sentence(tmp_path):
    with pytest.raises(CourseError, match=f"There is no folder {tmp_path / 'nowhere'}: give the path of a run folder"):
        load_run(tmp_path / "nowhere")


def test_run_picker_takes_a_path_string_inside_or_outside_the_runs_folder(good_run, tmp_path, monkeypatch):
    runs = [good_run]
    inside = run_picker(runs, str(good_run))
    assert inside.value == good_run and len(inside.dropdown.options) == 1
    elsewhere = shutil.copytree(good_run, tmp_path / "kept" / "my-run").resolve()
    monkeypatch.chdir(tmp_path)
    outside = run_picker(runs, "kept/my-run")  # relative to where the notebook runs
    assert outside.value == elsewhere and outside.dropdown.options == ((str(elsewhere), elsewhere), (good_run.name, good_run))
    assert run_picker(runs).value == good_run


def test_run_picker_refuses_a_bad_path_or_no_run_in_one_sentence(good_run, tmp_path):
    with pytest.raises(CourseError, match="There is no folder .*nowhere: give the path of a run folder"):
        run_picker([good_run], str(tmp_path / "nowhere"))
    broken = broken_copy(good_run, "cut-model", BROKEN["cut-model"][0])
    with pytest.raises(CourseError, match="its model.safetensors cannot be read"):
        run_picker([good_run], str(broken))
    with pytest.raises(CourseError, match="There is no saved run yet: train one in lesson 4, or set RUN"):
        run_picker([])


def test_after_a_failed_pick_the_older_picker_is_never_read_silently(good_run, tmp_path):
    """Lesson 6: RUN set to a folder that cannot be read; the next cell must not go on with the previous picker's run."""
    picker = run_picker([good_run])
    assert picker.value == good_run
    with pytest.raises(CourseError, match="There is no folder"):
        picker = run_picker([good_run], str(tmp_path / "nowhere"))  # the notebook's `picker` stays the older one
    with pytest.raises(CourseError, match=r"^This picker is out of date: the last pick failed \(There is no folder .*nowhere: give the "
                                          r"path of a run folder, as lesson 4 printed it\): fix RUN, then run the cells from"):
        runs_load = picker.value  # noqa: F841
    assert run_picker([good_run]).value == good_run  # fixed: the new picker reads


@pytest.fixture
def raw(capsys):
    """The data the trained run used, as lesson 6 loads it."""
    dataset = load_mrpc("sample", "smoke")
    capsys.readouterr()  # its one line on the data source
    return dataset


def one_label_flipped(raw):
    raw["validation"] = raw["validation"].map(lambda row, i: {"label": 1 - row["label"] if i == 0 else row["label"]}, with_indices=True)
    return raw


def test_check_same_data_accepts_the_data_the_run_used(good_run, raw, capsys):
    check_same_data(load_run(good_run), raw)
    assert capsys.readouterr().out == ""


def test_check_same_data_refuses_changed_data_in_one_sentence(good_run, raw):
    run = load_run(good_run)
    with pytest.raises(CourseError, match=rf"^The data from the course's sample is not the data run {run.name} was trained and validated on "
                                          r"\(as many pairs, but other sentences or labels\): restore it, or set OTHER_DATA = True"):
        check_same_data(run, one_label_flipped(raw))
    raw["train"] = raw["train"].select(range(10))
    with pytest.raises(CourseError, match=r"\(10 training and \d+ validation pairs, not 64 and \d+\)"):
        check_same_data(run, raw)


def test_check_same_data_goes_on_with_other_data_when_asked(good_run, raw, capsys):
    check_same_data(load_run(good_run), one_label_flipped(raw), other_data=True)
    assert capsys.readouterr().out.startswith(f"OTHER_DATA is True: the scores below are on other data than run {good_run.name}")


def test_check_same_data_skips_runs_saved_before_used_json(good_run, raw, capsys):
    (good_run / "used.json").unlink()
    check_same_data(load_run(good_run), one_label_flipped(raw))
    assert capsys.readouterr().out == ""


def _write_many(path: str, start: float) -> None:
    import time

    from helpers.profile import write_text

    time.sleep(max(0.0, start - time.time()))  # every process begins at once
    for _ in range(2000):
        write_text(Path(path), "the same text from every process\n" * 50)


@pytest.mark.slow
def test_processes_writing_one_file_at_once_never_trip_over_each_other(tmp_path):
    """Two torchrun processes both write the sample's JSON Lines files: neither may lose the other's temporary file."""
    import multiprocessing
    import time

    target = tmp_path / "train.jsonl"
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        pool.starmap(_write_many, [(str(target), time.time() + 4)] * 3)  # raises here if a rename found its temporary file gone
    assert target.read_text(encoding="utf-8") == "the same text from every process\n" * 50
    assert [p.name for p in tmp_path.iterdir()] == ["train.jsonl"]  # no temporary file left behind


def plain_run(checkpoint: str, output_dir: str, raw) -> None:
    """Lesson 4's recipe as Hugging Face's documentation types it, and its run kept with the Trainer's own calls:
    `save_model()`, `save_metrics(...)`, `save_state()`; nothing from the course."""
    import evaluate
    import numpy as np
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments

    def compute_metrics(eval_preds):
        logits, labels = eval_preds
        return evaluate.load("glue", "mrpc").compute(predictions=np.argmax(logits, axis=-1), references=labels)

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    tokenized = raw.map(lambda batch: tokenizer(batch["sentence1"], batch["sentence2"], truncation=True), batched=True)
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2, id2label={0: "no", 1: "yes"},
                                                               label2id={"no": 0, "yes": 1})
    args = TrainingArguments(output_dir=output_dir, eval_strategy="epoch", save_strategy="no", num_train_epochs=1,
                             per_device_train_batch_size=8, logging_steps=0.25, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=tokenized["train"], eval_dataset=tokenized["validation"],
                      data_collator=DataCollatorWithPadding(tokenizer=tokenizer), processing_class=tokenizer,
                      compute_metrics=compute_metrics)
    train_result = trainer.train()
    trainer.save_model()
    trainer.save_metrics("train", train_result.metrics)
    trainer.save_state()


def test_a_run_folder_written_by_plain_hugging_face_code_is_read_as_a_course_run(tiny_checkpoint, capsys):
    """No used.json, no settings.json: lesson 6 still finds it, reads its log history and scores from the Trainer's own
    files, takes its label names from its config, and claims nothing about its data or checkpoint."""
    raw = load_mrpc("sample", "smoke")
    path = output_dir("runs") / "plain"
    plain_run(tiny_checkpoint, str(path), raw)
    capsys.readouterr()
    assert list_runs() == [path] and capsys.readouterr().out == ""
    run = load_run(path)
    evals = [entry for entry in run.history if "eval_accuracy" in entry]
    assert len(evals) == 1 and run.metrics["eval_accuracy"] == evals[0]["eval_accuracy"] and run.metrics["train_runtime"] > 0
    assert run.used == {} and run.scored_on == "validation" and run.metrics["trained_by"] == "Trainer"
    assert (run.settings["epochs"], run.settings["profile"], run.settings["source"], run.settings["max_length"]) == (1, "smoke", None, 128)
    check_same_data(run, raw)  # nothing recorded: nothing to refuse
    from helpers.evaluation import base_model, compare_with_published

    assert base_model(run) is None and "no published scores apply" in compare_with_published(run, 0.7, 0.8)
    (path / "trainer_state.json").unlink()  # save_model() without save_state(): not a finished run
    with pytest.raises(CourseError, match="it is not finished"):
        load_run(path)


def test_lesson_4s_plain_trainer_is_saved_as_a_run_that_lesson_6_reads(tiny_checkpoint, capsys):
    """Lesson 4's calls as it types them: label names given to `from_pretrained`, `runs.record` writing used.json (the
    data and the checkpoint), then the Trainer's own `save_model`, `save_metrics` and `save_state`."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments

    from helpers import runs
    from helpers.recipe import compute_metrics, tokenize_dataset

    raw = load_mrpc("sample", "smoke")
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    tokenized = tokenize_dataset(raw, tokenizer)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_checkpoint, num_labels=2, id2label={0: "not_equivalent", 1: "equivalent"},
                                                               label2id={"not_equivalent": 0, "equivalent": 1})
    args = TrainingArguments(output_dir=runs.new_folder(tiny_checkpoint, 1), eval_strategy="epoch", save_strategy="no",
                             num_train_epochs=1, learning_rate=5e-5, per_device_train_batch_size=8, logging_steps=0.025)
    path = runs.record(args.output_dir, raw, model, None, "smoke")
    trainer = Trainer(model=model, args=args, train_dataset=tokenized["train"], eval_dataset=tokenized["validation"],
                      data_collator=DataCollatorWithPadding(tokenizer=tokenizer), processing_class=tokenizer,
                      compute_metrics=compute_metrics)
    with pytest.raises(CourseError, match="it is not finished"):  # recorded, not trained yet
        load_run(path)
    train_result = trainer.train()
    trainer.save_model()
    trainer.save_metrics("train", train_result.metrics)
    trainer.save_state()
    run = load_run(path)
    assert list_runs() == [path]
    assert {k: run.settings[k] for k in ("checkpoint", "epochs", "max_length", "profile", "source")} == {
        "checkpoint": tiny_checkpoint, "epochs": 1, "max_length": 128, "profile": "smoke", "source": "sample"}
    assert run.used["data"] == fingerprint(raw) and run.used["checkpoint"]["from"] == tiny_checkpoint
    assert json.loads((path / "config.json").read_text(encoding="utf-8"))["id2label"] == {"0": "not_equivalent", "1": "equivalent"}
    assert run.metrics["eval_accuracy"] == [e for e in run.history if "eval_accuracy" in e][-1]["eval_accuracy"]
    check_same_data(run, load_mrpc("sample", "smoke"))  # lesson 6 reloads the same pairs


@pytest.mark.slow
def test_lesson_6_evaluates_a_folder_plain_hugging_face_code_wrote_as_it_evaluates_a_course_run(tiny_checkpoint, tmp_path):
    """Lesson 6, every cell in a fresh kernel, with RUN naming a folder written by `plain_run` (no used.json): the scores,
    the curves, the pipeline answering with the label names typed in `from_pretrained`, the model card without a base."""
    import os

    import nbformat

    from tools.memory import run_notebook

    path = tmp_path / "plain-run"
    plain_run(tiny_checkpoint, str(path), load_mrpc("sample", "smoke"))
    lesson = nbformat.read(Path(__file__).parent.parent / "notebooks" / "06_evaluate.ipynb", as_version=4)
    parameters = next(cell for cell in lesson.cells if cell.cell_type == "code" and cell.source.startswith("from helpers import get_profile"))
    parameters.source = parameters.source.replace("RUN = None", f"RUN = {str(path)!r}", 1)
    assert repr(str(path)) in parameters.source
    run_notebook(lesson, Path(__file__).parent.parent / "notebooks", {"COURSE_OUTPUT": str(tmp_path / "outputs")}, 600)
    printed = "\n".join(output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
                        for cell in lesson.cells if cell.cell_type == "code" for output in cell.get("outputs", []))
    assert re.search(r"accuracy \d\.\d{3} · F1 \d\.\d{3} on 32 validation pairs", printed), printed[-3000:]
    assert "'label': 'yes'" in printed or "'label': 'no'" in printed  # the pipeline answers with the names given
    assert "no published scores apply" in printed and "base_model:" not in printed  # a card that claims no base
    assert not (tmp_path / "outputs" / "runs").exists() or not os.listdir(tmp_path / "outputs" / "runs")  # nothing trained


def test_a_staged_run_moves_in_with_trainer_state_json_last(tmp_path, monkeypatch):
    """A kill while the final save moves in must never leave a folder that holds trainer_state.json (finished, to lesson
    6 and the command line) without its tokenizer's files: those sort after it by name."""
    from helpers.runs import STAGING, unstage

    staged = tmp_path / STAGING
    staged.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer_config.json", "trainer_state.json", "training_args.bin", "vocab.txt"):
        (staged / name).write_text("{}", encoding="utf-8")
    moved = []
    original = Path.replace
    monkeypatch.setattr(Path, "replace", lambda self, target: moved.append(self.name) or original(self, target))
    unstage(tmp_path)
    assert moved[-1] == "trainer_state.json" and sorted(moved) == sorted(p.name for p in tmp_path.iterdir())
