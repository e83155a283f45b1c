"""The pre-flight check: passes here, and fails with the right line on a machine made wrong on purpose."""

import importlib.metadata
import os
import subprocess
import sys

import pytest

from helpers import preflight


def preflight_here(tmp_path, **extra) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MRPC_DIR": "", "COURSE_OUTPUT": str(tmp_path / "outputs"), **extra}
    return subprocess.run([sys.executable, "-m", "helpers.preflight"], env=env, capture_output=True, text=True, timeout=300)


def line(done: subprocess.CompletedProcess, name: str) -> str:
    (found,) = [text for text in done.stdout.splitlines() if text[2:].startswith(f"{name}:")]
    return found


@pytest.mark.slow
def test_this_machine_is_ready(tmp_path):
    done = preflight_here(tmp_path)
    assert done.returncode == 0 and "Ready for the course" in done.stdout, done.stdout + done.stderr[-2000:]
    assert line(done, "data").startswith("✓ data: the course's own sample") and "because" in line(done, "checkpoint")
    assert "lesson 5 (sentence-transformers/all-MiniLM-L6-v2, 1 epoch, batches of" in line(done, "speed") and "profile smoke" in line(done, "speed")


@pytest.mark.slow
def test_an_output_folder_that_cannot_be_written_fails_in_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    done = preflight_here(tmp_path, COURSE_OUTPUT=str(blocker))
    assert done.returncode == 1 and "Not ready" in done.stdout
    assert line(done, "outputs").startswith("✗ outputs: Cannot write the course's outputs in") and "set COURSE_OUTPUT" in line(done, "outputs")


@pytest.mark.slow
def test_too_little_memory_fails_in_one_line(tmp_path):
    done = preflight_here(tmp_path, MEM_LIMIT=str(500 * 10**6))
    assert done.returncode == 1
    assert line(done, "memory").startswith("✗ memory: 0.5 GB, but lesson 5 needs about") and "close other programs" in line(done, "memory")


def test_a_missing_library_fails_and_another_version_warns():
    pinned = {"transformers": "5.23.0", "evaluate": "0.4.6"}

    def version_of(name):
        if name == "evaluate":
            raise importlib.metadata.PackageNotFoundError(name)
        return "5.23.0"

    missing = preflight.check_libraries(pinned, version_of)
    assert missing.status == "fail" and "missing evaluate: run `make install`" in missing.line
    other = preflight.check_libraries({"transformers": "5.23.0"}, lambda name: "4.57.1")
    assert other.status == "warn" and "transformers 4.57.1 (pinned 5.23.0)" in other.line
    assert preflight.check_libraries({"transformers": "5.23.0"}, lambda name: "5.23.0").status == "ok"


def test_an_old_python_fails():
    assert preflight.check_python((3, 10, 4)).status == "fail" and preflight.check_python((3, 12, 1)).status == "ok"
