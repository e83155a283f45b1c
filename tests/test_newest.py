"""The second CI run: the moving libraries unpinned and nothing else, and a summary that names what broke."""

import os
import subprocess
import sys
import warnings

import pytest

from tools import newest


def test_only_the_moving_libraries_are_unpinned():
    pinned = newest.pins()
    asked = newest.requirements(pinned)
    assert "transformers" in asked and "torch" in asked and "nbval" in asked and "tokenizers" in asked
    assert not any(spec.startswith(("transformers=", "torch=", "jupyterlab=")) for spec in asked)
    assert pinned["pandas"] in asked and pinned["pandas"].startswith("pandas==")  # the rest stays as pinned
    assert pinned["uv"] in asked  # the installer too, so that its test runs there as well
    assert len(asked) == len(pinned) + 1  # tokenizers, which the pins leave to transformers, is added


JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1"
tests="4" time="61.5"><testcase classname="tests.test_browser" name="test_every_lesson_runs_in_the_browser" time="1">
<failure message="AssertionError: (1542, 1200)">long traceback</failure></testcase>
<testcase classname="tests.test_data" name="test_ok" time="1"/><testcase classname="tests.test_data" name="test_skip" time="0">
<skipped message="no GPU"/></testcase><testcase classname="notebooks.04_train.ipynb" name="Cell 3" time="2">
<error message="FutureWarning: `foo` is deprecated">trace</error></testcase></testsuite></testsuites>"""


def test_the_summary_names_the_versions_that_moved_and_each_failure(tmp_path):
    (tmp_path / "junit.xml").write_text(JUNIT, encoding="utf-8")
    outcome = newest.results(tmp_path / "junit.xml")
    assert {k: outcome[k] for k in ("passed", "failed", "errors", "skipped", "seconds")} == {
        "passed": 1, "failed": 1, "errors": 1, "skipped": 1, "seconds": 61.5}
    pinned = {"transformers": "transformers==5.23.0", "torch": "torch==2.13.0"}
    text = newest.summary(pinned, {"transformers": "5.24.0", "torch": "2.13.0"}, outcome, "torch from PyPI", True)
    assert "| transformers | 5.23.0 | 5.24.0 (moved) |" in text and "| torch | 2.13.0 | 2.13.0 |" in text
    assert "1 passed, 1 failed, 1 errors, 1 skipped in 62 s: **something broke**" in text
    assert "- `tests.test_browser::test_every_lesson_runs_in_the_browser`: AssertionError: (1542, 1200)" in text
    assert "`notebooks.04_train.ipynb::Cell 3`: FutureWarning: `foo` is deprecated" in text


def test_a_failed_install_and_a_missing_report_are_said_not_hidden(tmp_path):
    outcome = newest.results(tmp_path / "none.xml")
    assert outcome["passed"] == outcome["failed"] == 0
    text = newest.summary(newest.pins(), {}, outcome, "torch from PyPI", False)
    assert "could not be installed together" in text and "did not run" in text
    assert "all pass" not in newest.summary(newest.pins(), {}, outcome, "torch from PyPI", True)  # no tests is no pass


def test_a_full_disk_is_said_as_the_machines_fault_not_the_releases(tmp_path):
    log = tmp_path / "install.log"
    log.write_text("WARNING: Location ignored\nERROR: Could not install packages due to an OSError: [Errno 28] No space left on device\n", encoding="utf-8")
    error = newest.pip_error(log)
    text = newest.summary(newest.pins(), {}, newest.results(tmp_path / "none.xml"), "torch from PyPI", False, error)
    assert "failed on this machine, not on the releases" in text and "No space left on device" in text
    assert "installed together" not in text
    conflict = "ERROR: ResolutionImpossible: transformers 9.0 needs torch>=3"
    log.write_text(conflict + "\n", encoding="utf-8")
    text = newest.summary(newest.pins(), {}, newest.results(tmp_path / "none.xml"), "torch from PyPI", False, newest.pip_error(log))
    assert "could not be installed together" in text and conflict in text
    assert newest.pip_error(tmp_path / "absent.log") == ""


def test_a_deprecation_from_the_course_fails_and_one_filtered_from_a_library_does_not(monkeypatch):
    """pyproject.toml turns deprecations into errors; helpers.session filters the listed third-party ones alone."""
    from helpers import session

    with pytest.raises(DeprecationWarning):
        warnings.warn("helpers would call something deprecated", DeprecationWarning)
    monkeypatch.setattr(session, "THIRD_PARTY_WARNINGS", (("a library's own", FutureWarning, "somelib", "why"),))
    session.library_warnings(strict=False)
    warnings.warn_explicit("a library's own internal notice", FutureWarning, "somelib/x.py", 1, module="somelib.x")
    with pytest.raises(FutureWarning):  # the same words from the course's module are still an error
        warnings.warn_explicit("a library's own internal notice", FutureWarning, "helpers/x.py", 1, module="helpers.x")


def test_a_lessons_kernel_and_the_command_line_turn_deprecations_into_errors():
    code = ("import warnings; from helpers.session import library_warnings; library_warnings(); "
            "warnings.warn('old', FutureWarning)")
    strict = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "COURSE_WARNINGS": "error"})
    assert strict.returncode == 1 and "FutureWarning: old" in strict.stderr
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "COURSE_WARNINGS": ""})
    assert shown.returncode == 0 and "FutureWarning: old" in shown.stderr  # a learner sees it, once


def test_the_newest_environment_is_installed_as_a_learners_with_widget_state_saved(tmp_path, monkeypatch):
    """As `make lab` leaves a learner's: the course, then JupyterLab's setting to save widget state (tests/test_saved.py)."""
    from tools.install import WIDGET_STATE

    ran = []
    monkeypatch.setattr(newest.subprocess, "run", lambda step, **kwargs: ran.append(step) or subprocess.CompletedProcess(step, 0, stdout="", stderr=""))
    monkeypatch.setattr(newest, "usable_torch_index", lambda machine: (None, "a test"))
    worked, _ = newest.install(tmp_path / "venv", open(os.devnull, "w", encoding="utf-8"))
    assert worked and "--editable" in ran[-2] and ran[-1] == [str(tmp_path / "venv" / "bin" / "python"), "-c", WIDGET_STATE]
