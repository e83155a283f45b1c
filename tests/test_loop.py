"""Lesson 7's hand-written loop: it trains as the Trainer does, runs on two processes, and its command line refuses mistakes."""

import subprocess
import sys
from dataclasses import replace

import pytest

from helpers.loop import accelerate_loop
from helpers.recipe import train_run
from helpers.runs import load_run, trainer_run_like
from helpers.training import course_defaults
from test_train_cli import cli_env, two_processes

# The loop and the Trainer see the same head, batches, optimizer and schedule; dropout draws its random numbers in another
# order, so they end close, not equal. Two seeds of the same recipe differ by more than this on the same data.
TOLERANCE = {"eval_loss": 0.01, "eval_accuracy": 0.05, "eval_f1": 0.05, "train_loss": 0.01}
pytestmark = pytest.mark.slow  # subprocesses and whole trainings: `make slow`


def final(history: list[dict]) -> dict:
    scores = [entry for entry in history if "eval_loss" in entry][-1]
    return {**scores, "train_loss": [entry for entry in history if "train_loss" in entry][-1]["train_loss"]}


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory):
    """The course's checkpoint on the shipped sample, 2 epochs of 16 steps: by the Trainer and by lesson 7's loop."""
    outputs = tmp_path_factory.mktemp("outputs")
    with pytest.MonkeyPatch.context() as patch:  # the module's runs, in a folder of their own
        patch.setenv("COURSE_OUTPUT", str(outputs))
        patch.setenv("HF_HUB_OFFLINE", "1")
        settings = replace(course_defaults("sentence-transformers/all-MiniLM-L6-v2", "full", "sample"), epochs=2, batch_size=8)
        return outputs, settings, train_run(settings), accelerate_loop(settings)


def test_the_loop_and_the_trainer_end_within_the_tolerance(both_runs):
    _, _, by_trainer, by_loop = both_runs
    trainer, loop = load_run(by_trainer), load_run(by_loop)
    assert trainer.metrics["trained_by"] == "Trainer" and loop.metrics["trained_by"] == "lesson 7's loop"
    steps = [max(e["step"] for e in run.history if "step" in e) for run in (trainer, loop)]
    assert steps[0] == steps[1] > 10, steps  # the same number of optimizer steps
    a, b = final(trainer.history), final(loop.history)
    apart = {name: abs(a[name] - b[name]) for name in TOLERANCE}
    print(f"the loop and the Trainer, apart by: {apart}")
    assert all(apart[name] <= TOLERANCE[name] for name in TOLERANCE), f"apart: {apart}, allowed: {TOLERANCE}"
    first = [e["eval_loss"] for e in loop.history if "eval_loss" in e]
    assert a["train_loss"] < 0.69 and b["train_loss"] < 0.69 and first[-1] <= first[0] + 0.02  # both learned something


def test_lesson_6_finds_the_trainers_run_and_not_its_own(both_runs, monkeypatch):
    outputs, settings, by_trainer, _ = both_runs
    monkeypatch.setenv("COURSE_OUTPUT", str(outputs))
    assert trainer_run_like(settings) == by_trainer  # the loop's run is newer and has the same settings: it is skipped
    assert trainer_run_like(replace(settings, seed=7)) is None


def test_two_processes_run_the_loop_and_only_the_main_one_writes(tmp_path, tiny_checkpoint):
    done = two_processes("helpers.loop", tmp_path, tiny_checkpoint)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (done.stdout + done.stderr).count("Saved the run in") == 1
    (folder,) = (tmp_path / "outputs").glob("runs/*")
    assert "-loop-" in folder.name
    run = load_run(folder)
    assert max(entry["step"] for entry in run.history if "step" in entry) == 4  # 64 pairs / (2 processes × 8 per step)
    evaluated = [entry for entry in run.history if "eval_loss" in entry][-1]
    assert 0 <= evaluated["eval_accuracy"] <= 1 and run.metrics["trained_by"] == "lesson 7's loop"


@pytest.mark.parametrize("options, said", [
    (["--resume"], "cannot resume"),
    (["--epochs", "0"], "epochs"),
    (["--checkpoint", "no-such-model"], "Unknown checkpoint 'no-such-model'"),
])
def test_the_loops_command_line_refuses_mistakes_in_one_line(tmp_path, options, said):
    done = subprocess.run([sys.executable, "-m", "helpers.loop", "--profile", "smoke", "--source", "sample", *options],
                          env=cli_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and said in done.stderr, done.stderr[-2000:]
    assert done.stderr.strip().count("\n") == 0 and done.stderr.startswith("error: "), done.stderr
