"""The command line under faults: kills, interrupts, full disks, locked and finished folders, bad options, moved data.

Each test reproduces the fault, then asserts the one-line error, the exit status, and that earlier complete state is intact.
"""

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

from helpers.folders import complete
from helpers.runs import load_run

pytestmark = pytest.mark.slow  # subprocesses and whole trainings: `make slow`

SMALL = ["--profile", "smoke", "--source", "sample", "--batch-size", "16"]


def env(tmp_path: Path, **extra) -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "COURSE_OUTPUT": str(tmp_path / "outputs"), "PYTHONUNBUFFERED": "1", "MRPC_DIR": "", **extra}


def train(tmp_path: Path, *args: str, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers.train", *args], env=env(tmp_path, **extra), capture_output=True, text=True, timeout=600)


def shown(stderr: str) -> list[str]:
    """stderr's lines as a terminal shows them: progress bars' cursor moves gone, blank lines dropped."""
    return [line.strip() for line in re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", stderr).replace("\r", "\n").splitlines() if line.strip()]


def one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> str:
    """Assert exit status 2 and one line on stderr starting with `error: ` that holds every fragment."""
    lines = [line for line in shown(done.stderr) if "Generating" not in line and "LOAD REPORT" not in line
             and "%|" not in line and not line.startswith(("Key ", "---", "classifier.", "Notes:", "- MISSING", "[transformers]"))]
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert all(fragment in lines[0] for fragment in fragments), lines[0]
    return lines[0]


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def kill_after_first_checkpoint(tmp_path: Path, folder: Path, tiny: str, sig=signal.SIGKILL) -> subprocess.Popen:
    started = subprocess.Popen([sys.executable, "-m", "helpers.train", *SMALL, "--checkpoint", tiny, "--epochs", "3",
                                "--output-dir", str(folder)], env=env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    # The Trainer writes trainer_state.json last but not atomically: wait until a checkpoint is whole, not merely begun.
    while not any(complete(c) for c in folder.glob("checkpoint-*")) and time.monotonic() < deadline and started.poll() is None:
        time.sleep(0.05)
    started.send_signal(sig)
    started.wait(timeout=120)
    assert not (folder / "trainer_state.json").exists(), "the run finished before it could be stopped"
    return started


def test_resume_sets_a_partial_checkpoint_aside_and_continues_from_the_last_whole_one(tmp_path, tiny_checkpoint):
    folder = tmp_path / "run"
    kill_after_first_checkpoint(tmp_path, folder, tiny_checkpoint)
    (whole,) = folder.glob("checkpoint-*")
    partial = folder / f"checkpoint-{int(whole.name.split('-')[1]) + 4}"  # as a kill leaves one: the model written, no state yet
    shutil.copytree(whole, partial)
    (partial / "trainer_state.json").unlink()
    before = {name: digest for name, digest in digests(folder).items() if name.startswith(whole.name)}
    (folder / ".final.partial").mkdir()  # as a kill during the final save leaves it
    (folder / ".final.partial" / "model.safetensors").write_bytes(b"\0" * 1000)
    done = train(tmp_path, "--resume", "--output-dir", str(folder))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "the final save of an earlier attempt was cut short" in done.stdout and not (folder / ".final.partial").exists()
    assert f"Set {partial.name} aside as incomplete-{partial.name}: it is incomplete" in done.stdout
    assert (folder / f"incomplete-{partial.name}" / "model.safetensors").is_file()  # set aside, never deleted
    assert max(entry["step"] for entry in load_run(folder).history) == 12  # 64 pairs / 16 × 3 epochs: resumed at step 4
    assert before and all(digests(tmp_path / "run").get(name, digest) == digest or name.startswith(whole.name) for name, digest in before.items())


def test_resume_of_a_finished_run_is_refused_and_changes_nothing(tmp_path, tiny_checkpoint):
    folder = tmp_path / "run"
    assert train(tmp_path, *SMALL, "--checkpoint", tiny_checkpoint, "--output-dir", str(folder)).returncode == 0
    before = digests(folder)
    one_line_error(train(tmp_path, "--resume", "--output-dir", str(folder)), "holds a finished run: there is nothing to resume")
    assert digests(folder) == before


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_runs(tmp_path, tiny_checkpoint):
    folder = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "helpers.train", *SMALL, "--checkpoint", tiny_checkpoint, "--epochs", "100",
                              "--output-dir", str(folder)], env=env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (folder / "used.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = train(tmp_path, *SMALL, "--checkpoint", tiny_checkpoint, "--epochs", "100", "--output-dir", str(folder), "--resume")
    still_running = first.poll() is None
    first.kill()
    first.wait()
    assert still_running, "the first run ended before the second one started"
    one_line_error(second, f"Another run is writing {folder.resolve()} now")


def test_a_failed_start_leaves_nothing_that_blocks_the_corrected_command(tmp_path, tiny_checkpoint):
    folder = tmp_path / "run"
    one_line_error(train(tmp_path, *SMALL, "--checkpoint", "bert-bsae-uncased", "--output-dir", str(folder)), "Unknown checkpoint")
    folder.mkdir()
    (folder / "settings.json").write_text(json.dumps({"checkpoint": "bert-bsae-uncased"}), encoding="utf-8")  # a start that failed before any checkpoint
    assert train(tmp_path, *SMALL, "--checkpoint", tiny_checkpoint, "--output-dir", str(folder)).returncode == 0


def test_a_run_records_the_data_and_checkpoint_it_used_and_resumes_on_them(tmp_path, tiny_checkpoint, glue_folder):
    for name in ("train.tsv", "dev.tsv"):  # enough pairs for a few steps
        lines = (glue_folder / name).read_text(encoding="utf-8-sig").splitlines(keepends=True)
        (glue_folder / name).write_text(lines[0] + "".join(lines[1:]) * 8, encoding="utf-8")
    folder = tmp_path / "run"
    kill = subprocess.Popen([sys.executable, "-m", "helpers.train", "--profile", "smoke", "--checkpoint", tiny_checkpoint, "--epochs", "3",
                             "--batch-size", "4", "--output-dir", str(folder)], env=env(tmp_path, MRPC_DIR=str(glue_folder)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list(folder.glob("checkpoint-*/trainer_state.json")) and time.monotonic() < deadline and kill.poll() is None:
        time.sleep(0.05)
    kill.kill()
    kill.wait()
    used = json.loads((folder / "used.json").read_text(encoding="utf-8"))
    assert json.loads((folder / "settings.json").read_text(encoding="utf-8"))["source"] == used["source"] == str(glue_folder.resolve())
    assert used["data"]["train"] == 24 and len(used["data"]["sha256"]) == 64
    assert used["checkpoint"] == {"name": tiny_checkpoint, "from": tiny_checkpoint, "origin": "folder",
                                  "parameters": used["checkpoint"]["parameters"]} and used["checkpoint"]["parameters"] > 0
    with open(glue_folder / "train.tsv", "a", encoding="utf-8") as handle:
        handle.write("1\t91\t92\tA new pair .\tA fresh pair .\n")
    one_line_error(train(tmp_path, "--resume", "--output-dir", str(folder)), "is not what", "trained on so far", "restore that data")
    (glue_folder / "train.tsv").write_text("".join((glue_folder / "train.tsv").read_text(encoding="utf-8").splitlines(keepends=True)[:-1]), encoding="utf-8")
    resumed = train(tmp_path, "--resume", "--output-dir", str(folder))  # MRPC_DIR is no longer set: the recorded folder is used
    assert resumed.returncode == 0 and f"Data: the GLUE MRPC files in {glue_folder.resolve()}" in resumed.stdout, resumed.stderr[-2000:]


def test_offline_a_checkpoint_that_needs_the_hub_is_refused_in_one_line(tmp_path):
    one_line_error(train(tmp_path, *SMALL, "--checkpoint", "bert-base-uncased", "--output-dir", str(tmp_path / "run")),
                   "bert-base-uncased needs the Hub", "pick sentence-transformers/all-MiniLM-L6-v2")
    assert not (tmp_path / "outputs" / "runs").exists() or not any((tmp_path / "outputs" / "runs").iterdir())


def test_two_processes_report_the_numbers_one_process_measures(tmp_path, tiny_checkpoint):
    """The same weights evaluated by one process give the loss and scores that the two-process run saved."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from helpers.recipe import load_mrpc, make_trainer, tokenize_dataset
    from helpers.training import Settings

    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone", "-m", "helpers.train",
                           *SMALL, "--checkpoint", tiny_checkpoint, "--output-dir", str(tmp_path / "run")],
                          env=env(tmp_path), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    saved = load_run(tmp_path / "run")
    tokenizer = AutoTokenizer.from_pretrained(saved.path)
    tokenized = tokenize_dataset(load_mrpc("sample", "smoke"), tokenizer)
    settings = Settings(**{k: v for k, v in saved.settings.items()})
    again = make_trainer(AutoModelForSequenceClassification.from_pretrained(saved.path), tokenizer, tokenized, settings, tmp_path / "eval")
    measured = again.evaluate()
    assert measured["eval_loss"] == pytest.approx(saved.metrics["eval_loss"], rel=1e-4)
    assert (measured["eval_accuracy"], measured["eval_f1"]) == (saved.metrics["eval_accuracy"], saved.metrics["eval_f1"])


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_and_sigterm_end_in_one_line_naming_the_last_complete_checkpoint(tmp_path, tiny_checkpoint, sig, status):
    """Ctrl-C, or what a scheduler, `docker stop` or a closing terminal sends: one line, the shell's status, advice that works."""
    folder = tmp_path / "run"
    stopped = kill_after_first_checkpoint(tmp_path, folder, tiny_checkpoint, sig=sig)
    said = [line for line in shown(stopped.stderr.read()) if line.startswith("Interrupted")]
    assert stopped.returncode == status and len(said) == 1, said
    assert said[0].startswith(f"Interrupted: the last complete checkpoint is {folder.resolve()}/checkpoint-")
    assert said[0].endswith(f"continue with --resume --output-dir {folder.resolve()}.")
    resumed = train(tmp_path, "--resume", "--output-dir", str(folder))  # the advice works
    assert resumed.returncode == 0 and (folder / "trainer_state.json").is_file(), resumed.stderr[-2000:]


@pytest.mark.parametrize("damage", ["model.safetensors", "optimizer.pt"])
def test_resume_sets_a_checkpoint_with_a_damaged_file_aside(tmp_path, tiny_checkpoint, damage):
    """Its trainer_state.json intact, a truncated weights or optimizer file: set aside in one line, the run starts over."""
    folder = tmp_path / "run"
    kill_after_first_checkpoint(tmp_path, folder, tiny_checkpoint)
    (checkpoint,) = [p for p in folder.glob("checkpoint-*") if complete(p)]
    data = (checkpoint / damage).read_bytes()
    (checkpoint / damage).write_bytes(data[: len(data) // 2])
    one_line_error(train(tmp_path, "--resume", "--output-dir", str(folder)),
                   f"There is nothing to resume in {folder} (no complete checkpoint-* folder): run the same command without --resume")
    again = train(tmp_path, *SMALL, "--checkpoint", tiny_checkpoint, "--epochs", "3", "--output-dir", str(folder))  # as advised
    assert again.returncode == 0 and (folder / "trainer_state.json").is_file(), again.stderr[-2000:]
    assert f"Set {checkpoint.name} aside as incomplete-{checkpoint.name}: it is incomplete or damaged" in again.stdout
    assert (folder / f"incomplete-{checkpoint.name}" / damage).is_file()  # kept, never deleted


def test_a_moved_data_folder_is_resumed_with_the_advice_given(tmp_path, tiny_checkpoint, glue_folder):
    for name in ("train.tsv", "dev.tsv"):  # enough pairs for a few steps
        lines = (glue_folder / name).read_text(encoding="utf-8-sig").splitlines(keepends=True)
        (glue_folder / name).write_text(lines[0] + "".join(lines[1:]) * 8, encoding="utf-8")
    folder = tmp_path / "run"
    started = subprocess.Popen([sys.executable, "-m", "helpers.train", "--profile", "smoke", "--source", str(glue_folder),
                                "--checkpoint", tiny_checkpoint, "--epochs", "3", "--batch-size", "4", "--output-dir", str(folder)],
                               env=env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not any(complete(c) for c in folder.glob("checkpoint-*")) and time.monotonic() < deadline and started.poll() is None:
        time.sleep(0.05)
    started.kill()
    started.wait()
    moved = glue_folder.parent / "moved" / "MRPC"
    moved.parent.mkdir()
    glue_folder.rename(moved)
    said = one_line_error(train(tmp_path, "--resume", "--output-dir", str(folder)),
                          f"The data folder {glue_folder.resolve()} that {folder} trained on is gone", "add --source")
    resumed = train(tmp_path, "--resume", "--output-dir", str(folder), "--source", str(moved))  # as the line says
    assert resumed.returncode == 0, (said, resumed.stderr[-2000:])
    assert f"Data: the GLUE MRPC files in {moved}" in resumed.stdout
    assert json.loads((folder / "used.json").read_text(encoding="utf-8"))["source"] == str(moved)


@pytest.mark.parametrize("case", ["a saved model", "the checkpoint itself", "a run given as checkpoint"])
def test_no_model_is_overwritten_by_output_dir(tmp_path, tiny_checkpoint, case):
    """A folder holding a saved model that is not a run to go on with, or the --checkpoint folder: refused, unchanged."""
    target = tmp_path / "model"
    shutil.copytree(tiny_checkpoint, target)
    checkpoint = tiny_checkpoint if case == "a saved model" else str(target)
    if case == "a run given as checkpoint":
        target = tmp_path / "run"
        assert train(tmp_path, *SMALL, "--checkpoint", tiny_checkpoint, "--output-dir", str(target)).returncode == 0
        checkpoint = str(target)
    before = digests(target)
    said = one_line_error(train(tmp_path, *SMALL, "--checkpoint", checkpoint, "--output-dir", str(target)), str(target))
    assert ("is the checkpoint this run starts from" in said) == (case != "a saved model"), said
    assert digests(target) == before


def test_offline_because_the_hub_failed_the_real_reason_is_said(tmp_path, tiny_checkpoint):
    """The Hub answered 503: the data line names that, never "you asked for it" (the run decided the source itself)."""
    import http.server
    import threading

    class Busy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_error(503)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        done = train(tmp_path, "--profile", "smoke", "--checkpoint", tiny_checkpoint, "--batch-size", "16",
                     "--output-dir", str(tmp_path / "run"), HF_HUB_OFFLINE="", HF_ENDPOINT=endpoint)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"because the Hub is out of reach: {endpoint} answered HTTP 503." in done.stdout, done.stdout
    assert "you asked for it" not in done.stdout and "HF_HUB_OFFLINE is set" not in done.stdout


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB file system: room for the run's first files, not for a checkpoint (skipped where mounting is not allowed)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a small file system here")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_ends_in_one_line_whose_advice_works(tmp_path, tiny_checkpoint, small_disk):
    run = [*SMALL, "--checkpoint", tiny_checkpoint, "--output-dir", str(small_disk / "run")]
    said = one_line_error(train(tmp_path, *run), "The disk is full in", "then run the same command again (no checkpoint was saved)")
    assert "incomplete" in said and "delete it first" in said
    for partial in (small_disk / "run").glob("checkpoint-*"):  # as the line says: free some space, delete it
        shutil.rmtree(partial)
    subprocess.run(["mount", "-o", "remount,size=200m", str(small_disk)], check=True)
    again = train(tmp_path, *run)  # then the same command
    assert again.returncode == 0 and (small_disk / "run" / "trainer_state.json").is_file(), again.stderr[-2000:]


def test_a_disk_full_before_the_run_starts_is_one_line(tmp_path, tiny_checkpoint, small_disk):
    (small_disk / "filler").write_bytes(b"\0" * 4096)
    while True:  # fill what is left, to the last block
        try:
            with open(small_disk / "filler", "ab") as handle:
                handle.write(b"\0" * 4096)
        except OSError:
            break
    one_line_error(train(tmp_path, *SMALL, "--checkpoint", tiny_checkpoint, "--output-dir", str(small_disk / "run")),
                   "No space left on device")


@pytest.mark.parametrize("case", ["file", "read-only", "course-output-file"])
def test_a_folder_that_cannot_be_written_is_one_line(tmp_path, tiny_checkpoint, case):
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    if case == "file":
        one_line_error(train(tmp_path, *SMALL, "--checkpoint", tiny_checkpoint, "--output-dir", str(tmp_path / "a-file")), "is a file")
    elif case == "read-only":
        one_line_error(train(tmp_path, *SMALL, "--checkpoint", tiny_checkpoint, "--output-dir", "/proc/mrpc-run"), "/proc/mrpc-run")
    else:
        one_line_error(train(tmp_path, *SMALL, "--checkpoint", tiny_checkpoint, COURSE_OUTPUT=str(tmp_path / "a-file")),
                       "set COURSE_OUTPUT to a folder you can write to")


@pytest.mark.parametrize("content", ["", "{not json", "[]", '{"epochs": 3}'])
def test_a_damaged_settings_file_on_resume_is_one_line(tmp_path, content):
    folder = tmp_path / "run"
    (folder / "checkpoint-4").mkdir(parents=True)
    (folder / "settings.json").write_text(content, encoding="utf-8")
    one_line_error(train(tmp_path, "--resume", "--output-dir", str(folder)), str(folder / "settings.json"))


@pytest.mark.parametrize("option, fragment", [(["--learning-rate", "inf"], "learning_rate must be a number above 0 and below 1"),
                                              (["--learning-rate", "nan"], "learning_rate must be"),
                                              (["--epochs", "100000"], "epochs must be a whole number from 1 to 100"),
                                              (["--batch-size", "64"], "leaves none at a non-zero learning rate")])
def test_options_that_can_only_make_garbage_are_refused(tmp_path, tiny_checkpoint, option, fragment):
    one_line_error(train(tmp_path, "--profile", "smoke", "--source", "sample", "--checkpoint", tiny_checkpoint, *option), fragment)


@pytest.mark.parametrize("damage", ["truncated weights", "t5"])
def test_a_damaged_or_foreign_model_folder_is_one_line(tmp_path, tiny_checkpoint, damage):
    folder = tmp_path / "model"
    shutil.copytree(tiny_checkpoint, folder)
    if damage == "truncated weights":
        weights = (folder / "model.safetensors").read_bytes()
        (folder / "model.safetensors").write_bytes(weights[: len(weights) // 2])
        one_line_error(train(tmp_path, *SMALL, "--checkpoint", str(folder)), f"Could not load '{folder}'")
    else:
        (folder / "config.json").write_text(json.dumps({"model_type": "t5", "d_model": 32}), encoding="utf-8")
        one_line_error(train(tmp_path, *SMALL, "--checkpoint", str(folder)), "holds a t5 model")


def test_saved_model_files_are_readable_by_the_group(tmp_path, tiny_checkpoint):
    folder = tmp_path / "run"
    assert train(tmp_path, *SMALL, "--checkpoint", tiny_checkpoint, "--output-dir", str(folder)).returncode == 0
    modes = {p.name: p.stat().st_mode & 0o777 for p in folder.rglob("*") if p.is_file() and p.name != ".lock"}
    assert modes["model.safetensors"] & 0o040 and all(mode & 0o040 for mode in modes.values()), modes
    assert not (folder / ".final.partial").exists()
