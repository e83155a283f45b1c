import pytest

from helpers import CourseError, widgets
from helpers.training import Settings
from helpers.widgets import TrainingControls, estimate_cost, pair_checker, run_picker


@pytest.fixture
def fixed_speed(monkeypatch):
    """One layer's step takes 0.01 s per pair in the batch, whatever the machine."""
    monkeypatch.setattr(widgets, "layer_step_seconds", lambda hidden, batch, tokens, precision: 0.01 * batch * hidden / 384)


def test_cost_grows_with_epochs_and_model_size(fixed_speed):
    small = Settings("all-MiniLM-L6-v2", epochs=1, batch_size=32)
    one, _ = estimate_cost(small, 3668, 408, 57)
    three, _ = estimate_cost(Settings("all-MiniLM-L6-v2", epochs=3, batch_size=32), 3668, 408, 57)
    base, base_gb = estimate_cost(Settings("bert-base-uncased", epochs=1, batch_size=32), 3668, 408, 57)
    assert three == pytest.approx(3 * one) and base > 3 * one
    assert base_gb > estimate_cost(small, 3668, 408, 57)[1] > 1


def test_memory_grows_with_the_batch(fixed_speed):
    gb = [estimate_cost(Settings("all-MiniLM-L6-v2", batch_size=b), 100, 10, 50)[1] for b in (8, 16, 32)]
    assert gb[0] < gb[1] < gb[2]


def test_training_uses_what_the_widgets_hold(fixed_speed):
    controls = TrainingControls(Settings("all-MiniLM-L6-v2", epochs=3, profile="smoke"), 64, 32, 50)
    assert controls.settings() == Settings("all-MiniLM-L6-v2", epochs=3, profile="smoke")
    controls.checkpoint.value, controls.epochs.value, controls.batch_size.value = "bert-base-uncased", 5, 16
    chosen = controls.settings()
    assert (chosen.checkpoint, chosen.epochs, chosen.batch_size, chosen.profile) == ("bert-base-uncased", 5, 16, "smoke")
    assert "min" in controls.cost.value and "GB" in controls.cost.value


def test_zero_epochs_cannot_be_chosen(fixed_speed):
    controls = TrainingControls(Settings("all-MiniLM-L6-v2"), 64, 32, 50)
    controls.epochs.min = 0
    controls.epochs.value = 0
    with pytest.raises(CourseError, match="epochs must be a whole number from 1 to 100"):
        controls.settings()


def test_run_picker_selects_the_latest(tmp_path):
    runs = [tmp_path / "a", tmp_path / "b"]
    assert run_picker(runs).value == runs[-1] and run_picker(runs, runs[0]).value == runs[0]


def test_pair_checker_shows_the_verdict_as_you_type():
    checker = pair_checker(lambda a, b: ("equivalent" if a == b else "not_equivalent", 0.75), "same", "same")
    first, second, verdict = checker.children
    assert "equivalent" in verdict.value and "0.75" in verdict.value
    second.value = "different"
    assert "not_equivalent" in verdict.value
