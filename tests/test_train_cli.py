"""The command line: same training as lesson 5, clear errors, distributed on two CPU processes, resumable after SIGKILL."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import train
from helpers.checkpoints import PACKAGED_CHECKPOINT, resolve
from helpers.folders import complete
from helpers.runs import load_run

SMOKE = ["--profile", "smoke", "--source", "sample", "--checkpoint", PACKAGED_CHECKPOINT]


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "helpers.train", *args]


def cli_env(tmp_path: Path) -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "COURSE_OUTPUT": str(tmp_path / "outputs"), "PYTHONUNBUFFERED": "1"}


def whole_checkpoint(folder: Path) -> Path:
    """A checkpoint folder with every file the Trainer reads to resume, each readable (tiny tensors, not a model)."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True)
    save_file({"weight": torch.zeros(4)}, folder / "model.safetensors")
    for name in ("optimizer.pt", "scheduler.pt"):
        torch.save({"state": {}}, folder / name)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": 4}), encoding="utf-8")
    assert complete(folder)
    return folder


@pytest.mark.parametrize("damage", ["model.safetensors", "optimizer.pt", "scheduler.pt", "trainer_state.json"])
def test_a_checkpoint_with_a_truncated_file_is_not_complete(tmp_path, damage):
    """Judged by reading each file's structure (safetensors header, torch's zip directory, the state), not by its size."""
    checkpoint = whole_checkpoint(tmp_path / "checkpoint-4")
    data = (checkpoint / damage).read_bytes()
    (checkpoint / damage).write_bytes(data[: len(data) * 2 // 3])
    assert not complete(checkpoint)


def test_a_folder_holding_another_run_is_refused(tmp_path, capsys):
    folder = tmp_path / "run"
    whole_checkpoint(folder / "checkpoint-4")
    (folder / "settings.json").write_text(json.dumps({"checkpoint": "bert-base-uncased", "epochs": 9}), encoding="utf-8")
    assert train.main([*SMOKE, "--output-dir", str(folder), "--resume"]) == 2
    assert f"{folder} holds a different run" in capsys.readouterr().err
    assert train.main([*SMOKE, "--output-dir", str(folder)]) == 2
    assert f"{folder} holds a started run: continue it with --resume" in capsys.readouterr().err


def test_dropout_and_frozen_embeddings_are_options(capsys, monkeypatch):
    from helpers import hardware
    from helpers.hardware import Hardware

    monkeypatch.setattr(hardware, "detect", lambda: Hardware("cpu", "x", 8, False))
    cpu = train.settings_from(train.parse(SMOKE))
    assert (cpu.dropout, cpu.freeze_embeddings) == (0.0, True)  # the course's CPU defaults
    chosen = train.settings_from(train.parse([*SMOKE, "--dropout", "checkpoint", "--no-freeze-embeddings"]))
    assert (chosen.dropout, chosen.freeze_embeddings) == (None, False)
    assert train.settings_from(train.parse([*SMOKE, "--dropout", "0.2"])).dropout == 0.2
    with pytest.raises(SystemExit) as stopped:
        train.parse([*SMOKE, "--dropout", "lots"])
    assert stopped.value.code == 2 and "'lots' is not a probability: give a number such as 0 or 0.1" in capsys.readouterr().err
    assert train.main([*SMOKE, "--dropout", "1.5"]) == 2
    assert "dropout must be None (the checkpoint's own) or a probability" in capsys.readouterr().err


def test_a_run_saved_before_a_setting_existed_resumes_with_that_settings_default(tmp_path, monkeypatch):
    from helpers import hardware
    from helpers.hardware import Hardware

    monkeypatch.setattr(hardware, "detect", lambda: Hardware("cpu", "x", 8, False))  # today's defaults: dropout 0, frozen
    folder = tmp_path / "old"
    whole_checkpoint(folder / "checkpoint-4")
    old = train.settings_from(train.parse(SMOKE)).as_dict()
    old.update(dropout=None, freeze_embeddings=False)
    (folder / "settings.json").write_text(json.dumps({k: v for k, v in old.items() if k not in ("dropout", "freeze_embeddings")}), encoding="utf-8")
    resumed = train.resumed_settings(folder, train.parse(["--output-dir", str(folder), "--resume"]))
    assert (resumed.dropout, resumed.freeze_embeddings) == (None, False)  # what the old run really had
    train.check_folder(folder, resumed, resume=True)  # the same run: no "holds a different run"
    with pytest.raises(train.CourseError, match="holds a different run"):
        train.check_folder(folder, train.settings_from(train.parse(SMOKE)), resume=True)  # today's defaults differ


def test_resume_with_nothing_to_resume_is_refused(tmp_path, capsys):
    assert train.main([*SMOKE, "--resume"]) == 2
    assert "--resume needs --output-dir" in capsys.readouterr().err
    assert train.main([*SMOKE, "--resume", "--output-dir", str(tmp_path / "empty")]) == 2
    assert "There is nothing to resume in" in capsys.readouterr().err


def test_a_missing_data_folder_is_refused(tmp_path, capsys):
    assert train.main(["--profile", "smoke", "--source", str(tmp_path / "no-such-folder")]) == 2
    assert "There is no folder" in capsys.readouterr().err


def test_a_checkpoint_that_cannot_classify_sentences_is_refused(tmp_path, capsys):
    folder = tmp_path / "vision"
    shutil.copytree(resolve(PACKAGED_CHECKPOINT)[0], folder, ignore=shutil.ignore_patterns("*.safetensors", "config.json"))
    (folder / "config.json").write_text(json.dumps({"model_type": "vit", "image_size": 32, "patch_size": 8}), encoding="utf-8")
    assert train.main(["--profile", "smoke", "--source", "sample", "--checkpoint", str(folder)]) == 2
    assert "cannot become a ModelForSequenceClassification" in capsys.readouterr().err


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_number_of_steps(tmp_path, tiny_checkpoint):
    env = cli_env(tmp_path)
    args = ["--profile", "smoke", "--source", "sample", "--checkpoint", tiny_checkpoint, "--epochs", "3", "--batch-size", "16"]
    whole = tmp_path / "whole"
    done = subprocess.run(command(*args, "--output-dir", str(whole)), env=env, check=True, capture_output=True, text=True)
    # Progress as the command line shows it: each epoch's steps, then transformers' bar of steps done of all, with times
    assert [line for line in done.stdout.splitlines() if line.startswith("Epoch ")] == \
        ["Epoch 1 of 3: steps 1 to 4 of 12", "Epoch 2 of 3: steps 5 to 8 of 12", "Epoch 3 of 3: steps 9 to 12 of 12"]
    assert re.search(r"100%\|█+\| 12/12 \[\d\d:\d\d<00:00", done.stderr), done.stderr[-2000:]

    broken = tmp_path / "broken"
    first = subprocess.Popen(command(*args, "--output-dir", str(broken)), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    # The Trainer writes trainer_state.json last but not atomically: wait until a checkpoint is whole, not merely begun.
    while not any(map(complete, broken.glob("checkpoint-*"))) and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not (broken / "trainer_state.json").exists(), "the run finished before it could be killed"
    before = digests(broken)

    resumed = subprocess.run(command("--resume", "--output-dir", str(broken)), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = digests(broken)
    kept = {name: digest for name, digest in before.items() if not name.startswith("checkpoint-")}
    assert all(after.get(name) == digest for name, digest in kept.items()), "a file of the first attempt changed"
    last_step = lambda run: max(entry["step"] for entry in load_run(run).history)  # noqa: E731
    assert last_step(broken) == last_step(whole) == 12  # 64 pairs / 16 per step × 3 epochs
    assert json.loads((broken / "settings.json").read_text(encoding="utf-8")) == json.loads((whole / "settings.json").read_text(encoding="utf-8"))


def two_processes(module: str, tmp_path: Path, checkpoint: str) -> subprocess.CompletedProcess:
    """`python -m module` under torchrun on two CPU processes: the smoke profile, the sample, 8 pairs per process and step."""
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone", "-m", module,
         "--profile", "smoke", "--source", "sample", "--checkpoint", checkpoint, "--batch-size", "8"],
        env=cli_env(tmp_path), capture_output=True, text=True, timeout=600,
    )


@pytest.mark.slow
def test_two_processes_train_one_run_and_only_the_main_one_writes(tmp_path, tiny_checkpoint):
    done = two_processes("helpers.train", tmp_path, tiny_checkpoint)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (done.stdout + done.stderr).count("Saved the run in") == 1
    folders = list((tmp_path / "outputs").glob("runs/*"))
    assert len(folders) == 1, f"the processes did not agree on one run folder: {folders}"
    run = load_run(folders[0])
    assert max(entry["step"] for entry in run.history) == 4  # 64 pairs / (2 processes × 8 per step)
    assert 0 <= run.metrics["eval_accuracy"] <= 1
