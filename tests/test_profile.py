import pytest

from helpers import CourseError
from helpers.profile import PROFILES, get_profile, output_dir


def test_profile_comes_from_the_environment(monkeypatch):
    assert get_profile().name == "smoke"
    monkeypatch.delenv("COURSE_PROFILE")
    assert get_profile() == PROFILES["full"]
    monkeypatch.setenv("COURSE_PROFILE", " Smoke ")
    assert get_profile() is PROFILES["smoke"]


def test_smoke_is_small_and_full_is_everything():
    smoke, full = PROFILES["smoke"], PROFILES["full"]
    assert smoke.train_rows <= 100 and smoke.eval_rows <= 50 and smoke.epochs == 1
    assert full.train_rows is None and full.eval_rows is None and full.epochs == 3


def test_unknown_profile_is_one_clear_sentence(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    with pytest.raises(CourseError, match="Unknown COURSE_PROFILE 'tiny': set it to one of smoke, full"):
        get_profile()


def test_outputs_go_under_course_output(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OUTPUT", str(tmp_path / "here"))
    assert output_dir("runs") == tmp_path / "here" / "runs" and (tmp_path / "here" / "runs").is_dir()


def test_a_relative_course_output_is_one_folder_from_any_working_directory(monkeypatch, tmp_path):
    """The command line runs in the course's folder, the lessons in notebooks/: a relative COURSE_OUTPUT means one folder."""
    import subprocess
    import sys
    from pathlib import Path

    from helpers.profile import CHECKOUT

    name = f"outputs/tests/relative-{tmp_path.name}"
    said = {}
    for where in (CHECKOUT, CHECKOUT / "notebooks", tmp_path):
        done = subprocess.run([sys.executable, "-c", "import os; from helpers.profile import output_dir; "
                               "print(output_dir('runs')); print(os.environ['COURSE_OUTPUT'])"],
                              cwd=where, env={**__import__("os").environ, "COURSE_OUTPUT": name, "PYTHONPATH": str(CHECKOUT)},
                              capture_output=True, text=True, timeout=60, check=True)
        said[where] = done.stdout.split()
    assert all(lines == [str(CHECKOUT / name / "runs"), str(CHECKOUT / name)] for lines in said.values()), said
    assert Path(said[tmp_path][1]).is_absolute()  # passed on, absolute, to every process started from there
