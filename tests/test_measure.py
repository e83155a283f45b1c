"""Lessons 2 and 3 measure honestly: timings taken in turns, wording chosen from the numbers, padding as the lessons say."""

from pathlib import Path

import nbformat
import pytest

from helpers import measure
from helpers.measure import Timing, median_interval, time_interleaved, verdict

LESSONS = Path(__file__).parent.parent / "notebooks"


def lesson_cell(name: str, marker: str) -> str:
    """The source of the one code cell of a lesson that contains `marker`."""
    cells = [cell.source for cell in nbformat.read(LESSONS / name, as_version=4).cells if cell.cell_type == "code"]
    (source,) = [source for source in cells if marker in source]
    return source


def test_the_interval_runs_from_the_kth_lowest_to_the_kth_highest_turn_as_the_sign_test_allows():
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0]) is None  # 5 turns: even the lowest to the highest holds 94% only
    assert median_interval([6.0, 1.0, 5.0, 2.0, 4.0, 3.0]) == (3.5, 1.0, 6.0)  # 97% from the lowest to the highest
    assert median_interval([float(v) for v in range(12, 0, -1)]) == (6.5, 3.0, 10.0)  # 12: the third lowest to the third highest
    assert median_interval([float(v) for v in range(1, 21)]) == (10.5, 6.0, 15.0)


def test_each_turn_is_one_speed_up_and_the_verdict_follows_their_95_percent_interval():
    quick = Timing((1.0, 1.1, 0.9, 1.0, 1.05, 1.0, 1.0, 0.95, 1.0, 1.1, 1.0, 1.0))
    slow = Timing((2.0, 2.3, 1.7, 2.1, 2.0, 2.2, 1.9, 2.0, 2.1, 2.0, 1.8, 2.0))  # each turn about 2×
    found = verdict({"a": quick, "b": slow}, "a", "b")
    speedup, low, high = found.interval
    assert found.speedups[:3] == pytest.approx([2.0, 2.3 / 1.1, 1.7 / 0.9])
    assert low < speedup < high and 1.8 < low and high < 2.2 and found.found == "faster"
    assert str(found).startswith(f"A: {speedup:.1f}× faster than b (median of 12 turns; 95% interval {low:.1f}–{high:.1f}×).")
    slower = verdict({"a": quick, "b": slow}, "b", "a")
    assert slower.found == "slower"
    assert str(slower).startswith(f"B: {speedup:.1f}× slower than a (median of 12 turns; 95% interval {low:.1f}–{high:.1f}×).")


def test_turns_a_busy_moment_spoiled_do_not_hide_a_clear_speed_up():
    # two turns of twelve spoiled (the batched way slowed 4×): the old rule (the slowest new run beat the fastest old
    # run) said "no clear difference", and so did an interval from the mean and spread of the turns
    new = Timing((1.0, 4.0, 1.1, 1.0, 1.2, 1.0, 4.2, 1.1, 1.0, 0.9, 1.0, 1.1))
    old = Timing((3.0, 3.1, 3.1, 3.2, 3.0, 2.9, 3.0, 3.3, 3.0, 3.1, 2.8, 3.0))
    found = verdict({"batched": new, "one row": old}, "batched", "one row")
    assert found.found == "faster" and found.interval[1] >= 2.5


def test_speed_ups_on_both_sides_of_one_are_no_clear_difference():
    new = Timing((1.0, 1.5, 2.0, 1.2, 1.0, 1.5, 2.0, 1.2, 1.0, 1.5, 2.0, 1.2))
    old = Timing((1.9, 1.2, 2.2, 1.1, 1.9, 1.2, 2.2, 1.1, 1.9, 1.2, 2.2, 1.1))  # faster in half the turns, slower in half
    found = verdict({"batched": new, "one row": old}, "batched", "one row")
    _, low, high = found.interval
    assert found.found == "no clear difference" and low < 1 < high
    line = str(found)
    assert line.startswith(f"Batched: no clear difference from one row (95% interval {low:.2f}–{high:.2f}×, which holds 1×).")
    assert "faster" not in line and "slower" not in line


def test_counted_work_is_said_beside_the_seconds():
    found = verdict({"a": Timing((1.0,) * 6), "b": Timing((1.8,) * 6)}, "a", "b", work={"a": 1000, "b": 1900})
    assert "; it computes 1.9× fewer tokens." in str(found).splitlines()[0]


def test_too_few_turns_claim_nothing():
    found = verdict({"a": Timing((1.0, 1.0)), "b": Timing((5.0, 5.0))}, "a", "b")
    assert found.interval is None and found.found == "too few turns"
    assert "too few to tell" in str(found) and "faster" not in str(found) and "2 turns," in str(found)


def fake_clock(monkeypatch, durations: dict):
    """A clock that each task's step moves on by its next duration; returns the log of steps taken, in order."""
    clock, log = [0.0], []
    monkeypatch.setattr(measure, "process_time", lambda: clock[0])
    durations = {name: iter(seconds) for name, seconds in durations.items()}

    def step(name):
        def run():
            log.append(name)
            clock[0] += next(durations[name])
        return run

    return step, log


def test_timings_interleave_and_report_median_and_spread(monkeypatch):
    step, log = fake_clock(monkeypatch, {"a": [3.0, 1.0, 2.0], "b": [10.0, 30.0, 20.0]})
    timings = time_interleaved({"a": step("a"), "b": step("b")}, repeats=3)
    assert log == ["a", "b", "b", "a", "a", "b"]  # neither always first
    assert timings["a"].runs == (3.0, 1.0, 2.0) and (timings["a"].median, timings["a"].low, timings["a"].high) == (2.0, 1.0, 3.0)
    assert (timings["b"].median, timings["b"].low, timings["b"].high) == (20.0, 10.0, 30.0)
    assert str(timings["a"]) == "2.00 s (1.00–3.00)"


def test_steps_take_turns_one_by_one_and_add_up(monkeypatch):
    step, log = fake_clock(monkeypatch, {"a1": [1.0, 2.0], "a2": [4.0, 4.0], "b1": [10.0, 10.0], "b2": [5.0, 1.0]})
    timings = time_interleaved({"a": [step("a1"), step("a2")], "b": [step("b1"), step("b2")]}, repeats=2)
    assert log == ["a1", "b1", "a2", "b2", "b1", "a1", "b2", "a2"]
    assert timings["a"].runs == (5.0, 6.0) and timings["b"].runs == (15.0, 11.0)
    with pytest.raises(ValueError):  # steps that cannot pair up are a mistake, not a silent cut
        time_interleaved({"a": [step("a1")], "b": [step("b1"), step("b2")]}, repeats=1)


def test_forward_steps_warm_up_each_shape_then_run_one_batch_each():
    import torch

    from helpers.measure import forward_steps

    class Model:  # records the shapes it is given, and whether gradients were on
        seen, grad = [], []

        def eval(self):
            return self

        def __call__(self, **inputs):
            assert "labels" not in inputs
            self.seen.append(tuple(inputs["input_ids"].shape))
            self.grad.append(torch.is_grad_enabled())

    shapes = [(16, 40), (16, 52), (16, 40), (8, 33)]
    batch_list = [{"input_ids": torch.ones(shape), "labels": torch.ones(shape[0])} for shape in shapes]
    model = Model()
    steps = forward_steps(model, batch_list)
    assert model.seen == [(16, 40), (16, 52), (8, 33)] and len(steps) == 4  # warmed up once per shape
    for step in steps:
        step()
    assert model.seen[3:] == shapes and not any(model.grad)


def test_the_chart_shows_the_medians_and_the_spreads():
    from matplotlib.container import BarContainer

    from helpers.plots import plot_padding

    results = {"fixed": {"pad_share": 0.6, "seconds": Timing((2.0, 2.5, 3.0, 2.5, 2.5, 2.5))},
               "dynamic": {"pad_share": 0.2, "seconds": Timing((1.0, 1.2, 1.1, 1.1, 1.1, 1.1))}}
    found = verdict({name: result["seconds"] for name, result in results.items()}, "dynamic", "fixed")
    right = plot_padding(results, found).axes[1]
    assert right.get_title().endswith(f"dynamic: {found.headline}") and "faster" in right.get_title()
    (bars,) = [container for container in right.containers if isinstance(container, BarContainer)]
    assert [bar.get_height() for bar in bars.patches] == [2.5, 1.1]
    (segments,) = bars.errorbar.lines[2]
    assert [end for (_, low), (_, high) in segments.get_segments() for end in (low, high)] == pytest.approx([2.0, 3.0, 1.0, 1.2])


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from helpers.checkpoints import PACKAGED_CHECKPOINT, checkpoint_path

    return AutoTokenizer.from_pretrained(checkpoint_path(PACKAGED_CHECKPOINT))


def test_lesson_3_fixed_padding_pads_every_pair_to_128(tokenizer):
    from transformers import DataCollatorWithPadding

    from helpers.measure import batches, pad_share

    space = {}
    exec(lesson_cell("03_pad.ipynb", "PROFILE = get_profile()"), space)  # the lesson's parameters
    pairs = [("Rates rose.", "Rates went up."), ("The court met on Monday.", "On Monday the court met."), ("It rained.", "Rain fell.")]
    examples = [{**tokenizer(a, b), "label": 1} for a, b in pairs]
    space.update(examples=examples, tokenizer=tokenizer, DataCollatorWithPadding=DataCollatorWithPadding, measure=measure)
    exec(lesson_cell("03_pad.ipynb", 'padding="max_length"'), space)
    assert space["MAX_LENGTH"] == 128
    assert [tuple(batch["input_ids"].shape) for batch in space["fixed"]] == [(3, 128)]
    real = sum(len(example["input_ids"]) for example in examples)
    assert pad_share(space["fixed"]) == pytest.approx(1 - real / (3 * 128))
    assert all(int(batch["input_ids"][batch["attention_mask"] == 0].ne(tokenizer.pad_token_id).sum()) == 0 for batch in space["fixed"])


def test_lesson_2_times_a_real_tokenization_each_run(glue_folder, tokenizer, monkeypatch):
    """Each timed run tokenizes (no cache read back), and hashes nothing: hashing the tokenizer to name the result costs
    the same both ways (0.09 s of 0.12 s on the sample), enough to hide the difference on an AMD EPYC."""
    from datasets import arrow_dataset

    from helpers.recipe import load_mrpc, tokenize_function

    raw = load_mrpc(str(glue_folder), "smoke")
    space = {"raw": raw, "tokenize_function": tokenize_function, "arguments": {"tokenizer": tokenizer, "max_length": 128}}
    exec(lesson_cell("02_tokenize.ipynb", "def tokenize_train("), space)
    hashed = []
    monkeypatch.setattr(arrow_dataset, "update_fingerprint", lambda *args: hashed.append(args) or "hashed")
    batched, one_by_one = space["ways"]["batched"](), space["ways"]["one row at a time"]()
    assert hashed == [], "the timed map hashed its function and the tokenizer"
    assert raw["train"].cache_files and batched.cache_files == [] and one_by_one.cache_files == []  # nothing read back
    assert batched["input_ids"] == one_by_one["input_ids"] and len(batched) == 3
