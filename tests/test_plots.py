"""What the learner sees in figures and tables: axes that hold still, whole numbers, text shown as written."""

import pandas as pd

from helpers.plots import pairs_table, plot_history

HISTORY = [{"step": 5, "loss": 0.7, "epoch": 0.25}, {"step": 10, "loss": 0.6, "epoch": 0.5},
           {"step": 20, "eval_loss": 0.55, "eval_accuracy": 0.7, "eval_f1": 0.8, "epoch": 1.0}]


def visible_ticks(axis) -> list[float]:
    low, high = axis.get_view_interval()
    return [tick for tick in axis.get_majorticklocs() if low <= tick <= high]


def test_the_live_figure_spans_the_whole_run_from_its_first_step():
    empty = plot_history([], steps=120, epochs=3)
    loss, scores = empty.axes
    assert loss.get_xlim() == (0, 120 * 1.03) and scores.get_xlim() == (0.5, 3.5)  # room for the last point's marker
    assert plot_history(HISTORY, steps=120, epochs=3).axes[0].get_xlim() == (0, 120 * 1.03)  # the same frame as points arrive


def test_epochs_and_steps_are_whole_numbers_on_the_axes():
    for epochs in (1, 2, 3, 10):
        loss, scores = plot_history(HISTORY, steps=7 * epochs, epochs=epochs).axes
        assert visible_ticks(scores.xaxis) and all(tick == int(tick) for tick in visible_ticks(scores.xaxis)), epochs
        assert all(tick == int(tick) for tick in visible_ticks(loss.xaxis)), epochs


def test_a_table_of_pairs_shows_dollar_amounts_as_text_aligned_left():
    frame = pd.DataFrame({"sentence1": ["It paid $ 1.2 million."], "sentence2": ["It got $ 2 million."], "label": [1]})
    html = pairs_table(frame).to_html()
    assert 'class="tex2jax_ignore mathjax_ignore"' in html  # JupyterLab's MathJax skips the table
    assert "It paid $ 1.2 million." in html and "text-align: left" in html
    assert "word-break: normal" in html and "overflow-wrap: normal" in html  # a long word is never cut in two
