"""Saved notebooks reopen cleanly: the server saves each widget as its line of text (helpers/saved.py), and every widget
the course shows has a line saying which cell to run (helpers/widgets.py)."""

import json
import urllib.request

import pytest

from helpers.saved import FALLBACK, STATE, WIDGET, without_widgets


def widget_output(model_id: str, text: str) -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/plain": text, WIDGET: {"version_major": 2, "version_minor": 0, "model_id": model_id}}}


def notebook(*outputs, state=None) -> dict:
    metadata = {"widgets": {STATE: {"state": state, "version_major": 2, "version_minor": 0}}} if state else {}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata,
            "cells": [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": "text"},
                      {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": 1, "source": "x", "outputs": list(outputs)}]}


def test_a_widget_no_kernel_can_draw_is_saved_as_its_line_of_text():
    picker = widget_output("aaa", "The run picker: run this cell to show it (it needs a running kernel).")
    bare = widget_output("bbb", "VBox(children=(Dropdown(description='run', options=(('run-1', PosixPath('/x')),),…")
    plain = {"output_type": "stream", "name": "stdout", "text": "hello\n"}
    saved = notebook(picker, bare, plain)
    assert without_widgets(saved) == 2
    first, second, third = saved["cells"][1]["outputs"]
    assert first["data"] == {"text/plain": "The run picker: run this cell to show it (it needs a running kernel)."}
    assert second["data"] == {"text/plain": FALLBACK}  # a container's bare repr says nothing to a reader
    assert third == plain


def test_a_widget_whose_state_the_notebook_saved_is_kept():
    saved = notebook(widget_output("kept", "x"), widget_output("gone", "y"), state={"kept": {"model_name": "VBoxModel"}})
    assert without_widgets(saved) == 1
    kept, gone = saved["cells"][1]["outputs"]
    assert WIDGET in kept["data"] and WIDGET not in gone["data"]


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
def test_jupyterlab_as_installed_saves_widgets_as_their_text(tmp_path):
    """The server `make lab` starts: the course's extension enabled by tools.install, a notebook saved through its API."""
    from tests.browser_lab import start_lab, stop_lab

    (tmp_path / "root").mkdir()
    lab = start_lab(tmp_path / "root", tmp_path / "output", tmp_path)
    try:
        content = notebook(widget_output("aaa", "The run picker: run this cell to show it (it needs a running kernel)."))
        body = json.dumps({"type": "notebook", "format": "json", "content": content}).encode()
        request = urllib.request.Request(f"{lab.url}/api/contents/saved.ipynb", data=body, method="PUT",
                                         headers={"Authorization": f"token {lab.token}", "Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=30).read()
    finally:
        stop_lab(lab)
    (output,) = json.loads((tmp_path / "root" / "saved.ipynb").read_text(encoding="utf-8"))["cells"][1]["outputs"]
    assert list(output["data"]) == ["text/plain"]  # nbformat writes text as a list of lines
    assert "".join(output["data"]["text/plain"]) == "The run picker: run this cell to show it (it needs a running kernel)."
