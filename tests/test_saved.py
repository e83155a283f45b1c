"""Saved notebooks reopen cleanly: JupyterLab's own setting saves each widget's state in the notebook (`saveState`, set by
tools/install.py in the environment's overrides.json), and every widget the course shows has a line of text saying which
cell to run, for the front ends that cannot draw it (a notebook viewer, a reopened notebook elsewhere)."""

import json
import sys
import urllib.request

import pytest

from tools.install import LAB_SETTINGS, save_widget_state

PLUGIN = "@jupyter-widgets/jupyterlab-manager:plugin"


def test_the_setting_is_written_beside_other_overrides_and_the_old_extension_removed(tmp_path):
    settings = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
                                    PLUGIN: {"other": 1}}), encoding="utf-8")
    old = tmp_path / "etc" / "jupyter" / "jupyter_server_config.d" / "mrpc-course.json"  # helpers/saved.py's, before
    old.parent.mkdir(parents=True)
    old.write_text("{}", encoding="utf-8")
    assert save_widget_state(str(tmp_path)) == str(settings) == save_widget_state(str(tmp_path))  # twice: the same file
    assert json.loads(settings.read_text(encoding="utf-8")) == {
        "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}, PLUGIN: {"other": 1, "saveState": True}}
    assert not old.exists()


def test_a_broken_overrides_file_is_one_sentence(tmp_path):
    settings = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings.parent.mkdir(parents=True)
    settings.write_text("{not json", encoding="utf-8")
    with pytest.raises(SystemExit, match=f"error: {settings} is not valid JSON: fix it or delete it, then install again."):
        save_widget_state(str(tmp_path))


def course_widgets():
    """Each widget the lessons show, as the lessons make it (lessons 0, 4, 5 and 6)."""
    from helpers import widgets
    from helpers.checkpoints import PACKAGED_CHECKPOINT

    yield "lesson 0", widgets.widget_round_trip()
    yield "lesson 4", widgets.choose(PACKAGED_CHECKPOINT, 2)
    yield "lesson 6 picker", widgets.RunPicker([("run-1", "/tmp/run-1")], "/tmp/run-1")


@pytest.mark.parametrize("name", ["lesson 0", "lesson 4", "lesson 6 picker"])
def test_every_course_widget_says_which_cell_to_run_where_it_cannot_be_drawn(name):
    widget = dict(course_widgets())[name]
    text = widget._repr_mimebundle_()["text/plain"]
    assert "run this cell" in text and len(text) <= 110 and "…" not in text  # ipywidgets cuts text/plain at 110


def test_lesson_5_controls_say_which_cell_to_run(monkeypatch):
    from IPython import display as ipython_display

    from helpers import widgets

    shown = []
    monkeypatch.setattr(ipython_display, "display", lambda *objects, **kwargs: shown.extend(objects))
    controls = widgets.TrainingControls.__new__(widgets.TrainingControls)  # the widgets alone, without estimating costs
    for name in ("checkpoint", "missing", "epochs", "learning_rate", "batch_size", "cost", "notice"):
        setattr(controls, name, widgets.w.HTML())
    controls._ipython_display_()
    (panel,) = shown
    assert "run this cell" in panel._repr_mimebundle_()["text/plain"]


@pytest.mark.slow
def test_jupyterlab_as_installed_saves_widget_state(tmp_path):
    """The server `make lab` starts, with no user settings: its widget manager's `saveState` is on, by the environment's
    overrides.json that tools.install wrote (off without it: JupyterLab's default)."""
    from tests.browser_lab import start_lab, stop_lab

    (tmp_path / "root").mkdir()
    lab = start_lab(tmp_path / "root", tmp_path / "output", tmp_path)
    try:
        request = urllib.request.Request(f"{lab.url}/lab/api/settings/{PLUGIN}", headers={"Authorization": f"token {lab.token}"})
        served = json.loads(urllib.request.urlopen(request, timeout=30).read())
    finally:
        stop_lab(lab)
    assert served["schema"]["properties"]["saveState"]["default"] is LAB_SETTINGS[PLUGIN]["saveState"] is True, sys.prefix
