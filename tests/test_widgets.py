import pytest
from datasets import Dataset, DatasetDict

from helpers import CourseError, cost
from helpers.checkpoints import REGISTRY
from helpers.cost import estimate, padded_tokens
from helpers.training import Settings
from helpers.widgets import TrainingControls, run_picker

TRAIN = [40 + (7 * i) % 60 for i in range(400)]  # token lengths from 40 to 99
EVAL = TRAIN[:50]


@pytest.fixture
def fixed_speed(monkeypatch):
    """A training step takes 1 ms per token of the batch, whatever the machine: three steps, of which one is slow."""
    monkeypatch.setattr(cost, "step_seconds", lambda batch, tokens, precision, *knobs: (1e-3 * batch * tokens,) * 2 + (3e-3 * batch * tokens,))


def tiny_raw(pairs: int = 64) -> DatasetDict:
    rows = {"sentence1": ["The mayor said the city would hire more police officers."] * pairs,
            "sentence2": ["More officers will be hired, the mayor said."] * pairs, "label": [1] * pairs}
    return DatasetDict(train=Dataset.from_dict(rows), validation=Dataset.from_dict(rows))


def test_cost_grows_with_epochs_steps_and_model_size(fixed_speed):
    one = estimate(Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=1), TRAIN, EVAL)
    three = estimate(Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=3), TRAIN, EVAL)
    more_pairs = estimate(Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=1), TRAIN * 2, EVAL)
    assert one.minutes < three.minutes < 3.1 * one.minutes and one.minutes < more_pairs.minutes
    by_size = sorted(REGISTRY.values(), key=lambda c: c.params_m)
    minutes = [estimate(Settings(c.name, epochs=1), TRAIN, EVAL).minutes for c in by_size]
    assert minutes == sorted(minutes) and len(set(minutes)) == len(minutes), dict(zip([c.name for c in by_size], minutes))
    base = estimate(Settings("bert-base-uncased", epochs=1), TRAIN, EVAL)
    assert base.minutes > 4 * one.minutes  # 8 times the arithmetic per token


def test_cost_is_a_range_around_the_median_step(fixed_speed):
    found = estimate(Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=3), TRAIN, EVAL)
    assert found.low < found.minutes < found.high <= 1.5 * found.minutes + 1e-9
    assert "between" in str(found) and "GB" in str(found)


def test_cost_measured_here_grows_with_the_model():
    """No stand-in: a few real training steps of a small batch, then the scaled estimates."""
    short = [12] * 32
    small, base = (estimate(Settings(name, epochs=1, batch_size=8), short, short) for name in ("sentence-transformers/all-MiniLM-L6-v2", "bert-base-uncased"))
    assert 0 < small.low < small.minutes < small.high and small.minutes < base.minutes
    assert len(cost.step_seconds(8, 12, "fp32")) >= cost.TIMED_STEPS[0]


def test_the_estimate_never_times_more_steps_than_the_run_takes(monkeypatch):
    """A smoke-sized run of 2 steps is timed over 2 steps, not 6: measuring it must not take longer than running it."""
    asked = []
    monkeypatch.setattr(cost, "step_seconds", lambda *knobs: asked.append(knobs[-1]) or (0.01, 0.01))
    estimate(Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=1, batch_size=32), [20] * 64, EVAL)
    estimate(Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=2, batch_size=32), [20] * 33, EVAL)
    estimate(Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=3), TRAIN, EVAL)
    estimate(Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=1), TRAIN, EVAL)
    assert asked == [2, 4, cost.TIMED_STEPS[1], cost.TIMED_STEPS[1]]  # the same measurement (cached) for any epochs
    monkeypatch.undo()
    assert len(cost.step_seconds(8, 12, "fp32", None, False, 2)) == 2


def test_grouping_by_length_and_a_multiple_of_8_change_the_padded_tokens():
    grouped, shuffled = padded_tokens(TRAIN, 16, True, None, 128), padded_tokens(TRAIN, 16, False, None, 128)
    assert sum(TRAIN) <= grouped < shuffled
    assert padded_tokens(TRAIN, 16, True, 8, 128) % 8 == 0 and padded_tokens(TRAIN, 16, True, 8, 128) >= grouped
    assert padded_tokens([200, 10], 1, True, None, 128) == 138  # truncated at max_length


def test_memory_grows_with_the_batch(fixed_speed):
    gb = [estimate(Settings("sentence-transformers/all-MiniLM-L6-v2", batch_size=b), TRAIN, EVAL).gb for b in (8, 16, 32)]
    assert gb[0] < gb[1] < gb[2]


def test_offline_the_controls_offer_only_what_can_be_loaded_and_say_why_not_the_rest(fixed_speed, monkeypatch):
    from helpers import checkpoints

    monkeypatch.setattr(checkpoints, "_in_hub_cache", lambda hub_id: False)
    controls = TrainingControls(Settings("sentence-transformers/all-MiniLM-L6-v2"), tiny_raw())
    assert controls.checkpoint.options == ("sentence-transformers/all-MiniLM-L6-v2",)
    assert controls.missing.value == ("Not offered here: bert-base-uncased, distilbert-base-uncased, bert-large-uncased (not in the "
                                      "Hugging Face cache or the course bundle, and HF_HUB_OFFLINE is set).")
    monkeypatch.setattr(checkpoints, "_in_hub_cache", lambda hub_id: "bert-base" in hub_id)  # once the cache holds it
    assert "bert-base-uncased" in TrainingControls(Settings("sentence-transformers/all-MiniLM-L6-v2"), tiny_raw()).checkpoint.options


def test_training_uses_what_the_widgets_hold(fixed_speed, monkeypatch):
    from helpers import checkpoints

    monkeypatch.setattr(checkpoints, "_in_hub_cache", lambda hub_id: True)  # every checkpoint can be had here
    controls = TrainingControls(Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=3, profile="smoke"), tiny_raw())
    assert controls.settings() == Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=3, profile="smoke")
    controls.checkpoint.value, controls.epochs.value, controls.batch_size.value = "bert-base-uncased", 5, 16
    chosen = controls.settings()
    assert (chosen.checkpoint, chosen.epochs, chosen.batch_size, chosen.profile) == ("bert-base-uncased", 5, 16, "smoke")
    assert "min" in controls.cost.value or " s " in controls.cost.value
    assert "GB" in controls.cost.value


def test_a_widget_changed_after_the_settings_were_read_is_said_and_refused(fixed_speed):
    controls = TrainingControls(Settings("sentence-transformers/all-MiniLM-L6-v2", epochs=1), tiny_raw())
    before = controls.cost.value
    controls.settings()
    controls.check_unchanged()  # nothing changed: trains
    controls.epochs.value = 3
    assert controls.cost.value != before
    assert "not used yet" in controls.notice.value and "epochs 1 → 3" in controls.notice.value
    with pytest.raises(CourseError, match=r"epochs 1 → 3.*run the cells from `settings = controls.settings\(\)` down"):
        controls.check_unchanged()
    controls.settings()
    assert controls.notice.value == "" and controls.check_unchanged() is None


def test_the_learning_rate_is_the_value_shown(fixed_speed):
    controls = TrainingControls(Settings("sentence-transformers/all-MiniLM-L6-v2", learning_rate=4e-5), tiny_raw())
    assert controls.settings().learning_rate == 4e-5  # the parameters cell's value is offered as it is
    controls.learning_rate.value = 2e-4
    assert controls.settings().learning_rate == 2e-4 and controls.learning_rate.label == "2e-04"
    assert all(c.style.description_width == "8em" for c in (controls.learning_rate, controls.checkpoint))


def test_zero_epochs_cannot_be_chosen(fixed_speed):
    controls = TrainingControls(Settings("sentence-transformers/all-MiniLM-L6-v2"), tiny_raw())
    controls.epochs.min = 0
    controls.epochs.value = 0
    with pytest.raises(CourseError, match="epochs must be a whole number from 1 to 100"):
        controls.settings()
    assert "epochs must be" in controls.cost.value


def test_run_picker_selects_the_latest_and_says_when_a_pick_is_not_used_yet(tmp_path):
    runs = [tmp_path / "a", tmp_path / "b"]
    assert run_picker(runs, runs[0]).value == runs[0]
    picker = run_picker(runs)
    assert picker.value == runs[-1] and picker.notice.value == ""
    picker.dropdown.value = runs[0]
    assert "a is picked but <b>not used yet</b>" in picker.notice.value
    assert picker.value == runs[0] and picker.notice.value == ""


def test_the_round_trip_line_turns_only_when_the_front_end_sends_the_value_back():
    from helpers.widgets import WAITING, WORKING, widget_round_trip

    box = widget_round_trip()
    (line,) = box.children
    sent, echo, link = box.round_trip
    assert line.value == WAITING and link.source == (sent, "value") and link.target == (echo, "value")
    echo.set_state({"value": sent.value + 1})  # a message from a front end that copied something else
    assert line.value == WAITING
    echo.set_state({"value": sent.value})  # what the front end's link sends back, as a comm message does
    assert line.value == WORKING


def test_the_estimate_times_steps_with_the_runs_dropout_and_frozen_embeddings(monkeypatch):
    """A run without dropout, its embeddings frozen, is timed as such: the lesson's estimate then matches its speed."""
    asked = []
    monkeypatch.setattr(cost, "step_seconds", lambda *knobs: asked.append(knobs) or (0.01, 0.01, 0.01))
    estimate(Settings("sentence-transformers/all-MiniLM-L6-v2", dropout=0.0, freeze_embeddings=True), TRAIN, EVAL)
    estimate(Settings("sentence-transformers/all-MiniLM-L6-v2"), TRAIN, EVAL)
    assert [knobs[2:5] for knobs in asked] == [("fp32", 0.0, True), ("fp32", None, False)]
