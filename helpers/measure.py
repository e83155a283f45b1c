"""Measuring tokenizing and padding: examples as a collator takes them, batches, pad tokens, and timings that say
how sure they are (lessons 2 and 3)."""

import functools
import statistics
from dataclasses import dataclass
from time import perf_counter

MAX_LENGTH = 128  # MRPC pairs are short: at most 104 bert-base-uncased tokens (53 on average) in every split


def model_inputs(rows, tokenizer) -> list[dict]:
    """The rows of a tokenized split as the list of dicts a collator takes (lesson 3)."""
    names = [name for name in tokenizer.model_input_names if name in rows.column_names] + ["label"]
    return [{name: row[name] for name in names} for row in rows]


def batches(features: list[dict], collator, batch_size: int) -> list[dict]:
    """Cut a list of examples into padded batches with `collator` (lesson 3)."""
    return [collator(features[start : start + batch_size]) for start in range(0, len(features), batch_size)]


def pad_share(batch_list: list[dict]) -> float:
    """The share of pad tokens among all the tokens of these batches (lesson 3)."""
    total = sum(batch["attention_mask"].numel() for batch in batch_list)
    real = sum(int(batch["attention_mask"].sum()) for batch in batch_list)
    return 1 - real / total


def forward_steps(model, batch_list: list[dict]) -> list:
    """One function per batch, each a forward pass of `model` without gradients, warmed up on every shape (lesson 3)."""
    import torch

    model.eval()
    inputs = [{k: v for k, v in batch.items() if k != "labels"} for batch in batch_list]
    forward = torch.inference_mode()(lambda batch: model(**batch))
    for batch in {tuple(batch["input_ids"].shape): batch for batch in inputs}.values():
        forward(batch)  # untimed: the first pass over a new shape costs extra
    return [functools.partial(forward, batch) for batch in inputs]


@dataclass(frozen=True)
class Timing:
    """Seconds of repeated runs of one thing: their median and their spread, fastest to slowest (lessons 2 and 3)."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def low(self) -> float:
        return min(self.runs)

    @property
    def high(self) -> float:
        return max(self.runs)

    def __str__(self) -> str:
        return f"{self.median:.2f} s ({self.low:.2f}–{self.high:.2f})"


def time_interleaved(tasks: dict, repeats: int) -> dict[str, Timing]:
    """Time each task `repeats` times, taking turns (A, B, A, B...) so a busy moment slows them all (lessons 2 and 3)."""
    steps = {name: task if isinstance(task, list) else [task] for name, task in tasks.items()}  # a function, or steps
    if len({len(task_steps) for task_steps in steps.values()}) > 1:
        raise ValueError("Tasks taken in turns step by step need as many steps each.")
    runs = {name: [] for name in tasks}
    for _ in range(repeats):
        spent = dict.fromkeys(tasks, 0.0)
        for turn in zip(*steps.values()):  # the tasks' first steps, then their second steps...
            for name, step in zip(steps, turn):
                start = perf_counter()
                step()
                spent[name] += perf_counter() - start
        for name in tasks:
            runs[name].append(spent[name])
    return {name: Timing(tuple(seconds)) for name, seconds in runs.items()}


def difference(new: Timing, old: Timing) -> str:
    """"faster" or "slower" when the spreads do not overlap, else "no clear difference" (lessons 2 and 3)."""
    if min(len(new.runs), len(old.runs)) < 2:
        return "one run each"  # no spread: nothing to tell a difference from noise
    if new.high < old.low:
        return "faster"
    if new.low > old.high:
        return "slower"
    return "no clear difference"


def verdict(timings: dict[str, Timing], new: str, old: str) -> str:
    """Two lines: whether `new` beat `old`, worded from the numbers, then the medians and spreads (lessons 2 and 3)."""
    a, b = timings[new], timings[old]
    found = difference(a, b)
    said = {
        "faster": f"{b.median / a.median:.1f}× faster than {old}",
        "slower": f"{a.median / b.median:.1f}× slower than {old}",
        "no clear difference": f"no clear difference from {old} (within the spread)",
        "one run each": f"one run each, too few to tell it from {old} (COURSE_PROFILE=full repeats them)",
    }[found]
    runs = f"{len(a.runs)} run{'s' * (len(a.runs) > 1)} each, taking turns"
    return f"{new[0].upper() + new[1:]}: {said}.\n  median (fastest–slowest), {runs}: {new} {a} · {old} {b}"
