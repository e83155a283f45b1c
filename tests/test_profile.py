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
