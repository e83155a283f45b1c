"""Lessons 2 and 3 measure honestly: timings taken in turns, wording chosen from the numbers, padding as the lessons say."""

from pathlib import Path

import nbformat
import pytest

from helpers import measure
from helpers.measure import Timing, difference, time_interleaved, verdict

LESSONS = Path(__file__).parent.parent / "notebooks"


def lesson_cell(name: str, marker: str) -> str:
    """The source of the one code cell of a lesson that contains `marker`."""
    cells = [cell.source for cell in nbformat.read(LESSONS / name, as_version=4).cells if cell.cell_type == "code"]
    (source,) = [source for source in cells if marker in source]
    return source


def test_overlapping_spreads_are_no_clear_difference():
    new, old = Timing((1.0, 1.5, 2.0)), Timing((1.9, 2.2, 2.6))  # medians 1.5 and 2.2, but 2.0 > 1.9
    assert difference(new, old) == difference(old, new) == "no clear difference"
    line = verdict({"batched": new, "one row": old}, "batched", "one row")
    assert line.startswith("Batched: no clear difference from one row (within the spread).")
    assert "faster" not in line and "slower" not in line


def test_spreads_apart_give_the_direction_and_the_ratio_of_medians():
    quick, slow = Timing((1.2, 1.0, 1.1)), Timing((2.2, 2.0, 2.1))
    assert difference(quick, slow) == "faster" and difference(slow, quick) == "slower"
    assert verdict({"a": quick, "b": slow}, "a", "b").startswith("A: 1.9× faster than b.")
    assert verdict({"a": quick, "b": slow}, "b", "a").startswith("B: 1.9× slower than a.")
    assert difference(Timing((1.0, 2.0)), Timing((2.0, 3.0))) == "no clear difference"  # touching is overlapping


def test_one_run_each_claims_nothing():
    assert difference(Timing((1.0,)), Timing((5.0,))) == "one run each"
    line = verdict({"a": Timing((1.0,)), "b": Timing((5.0,))}, "a", "b")
    assert "too few to tell" in line and "faster" not in line and "1 run each" in line


def fake_clock(monkeypatch, durations: dict):
    """A clock that each task's step moves on by its next duration; returns the log of steps taken, in order."""
    clock, log = [0.0], []
    monkeypatch.setattr(measure, "perf_counter", lambda: clock[0])
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
    assert log == ["a", "b", "a", "b", "a", "b"]
    assert timings["a"].runs == (3.0, 1.0, 2.0) and (timings["a"].median, timings["a"].low, timings["a"].high) == (2.0, 1.0, 3.0)
    assert (timings["b"].median, timings["b"].low, timings["b"].high) == (20.0, 10.0, 30.0)
    assert str(timings["a"]) == "2.00 s (1.00–3.00)"


def test_steps_take_turns_one_by_one_and_add_up(monkeypatch):
    step, log = fake_clock(monkeypatch, {"a1": [1.0, 2.0], "a2": [4.0, 4.0], "b1": [10.0, 10.0], "b2": [5.0, 1.0]})
    timings = time_interleaved({"a": [step("a1"), step("a2")], "b": [step("b1"), step("b2")]}, repeats=2)
    assert log == ["a1", "b1", "a2", "b2"] * 2
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

    results = {"fixed": {"pad_share": 0.6, "seconds": Timing((2.0, 2.5, 3.0))},
               "dynamic": {"pad_share": 0.2, "seconds": Timing((1.0, 1.2, 1.1))}}
    right = plot_padding(results).axes[1]
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


def test_lesson_2_times_a_real_tokenization_each_run(glue_folder, tokenizer):
    from helpers.recipe import load_mrpc, tokenize_function

    raw = load_mrpc(str(glue_folder), "smoke")
    space = {"raw": raw, "tokenize_function": tokenize_function, "arguments": {"tokenizer": tokenizer, "max_length": 128}}
    exec(lesson_cell("02_tokenize.ipynb", "def tokenize_train("), space)
    batched, one_by_one = space["ways"]["batched"](), space["ways"]["one row at a time"]()
    assert raw["train"].cache_files and batched.cache_files == [] and one_by_one.cache_files == []  # nothing read back
    assert batched["input_ids"] == one_by_one["input_ids"] and len(batched) == 3
