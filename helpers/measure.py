"""Measuring tokenizing and padding: examples as a collator takes them, batches, pad tokens, and timings that say
how sure they are (lessons 2 and 3)."""

import functools
import math
import statistics
from contextlib import contextmanager
from dataclasses import dataclass
from time import process_time

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
    """Time each task `repeats` times in turns: each turn runs every task once, back to back (A, B; then B, A...), so a
    busy moment slows the tasks of that turn alike (lessons 2 and 3). The clock is this process's CPU time (all its
    threads' seconds on a core, added up): time spent waiting while other programs have the cores is not counted.
    A task is a function, or a list of steps: then the tasks take turns step by step (A's first step, B's first step,
    A's second step...) and each turn adds them up."""
    steps = {name: task if isinstance(task, list) else [task] for name, task in tasks.items()}  # a function, or steps
    if len({len(task_steps) for task_steps in steps.values()}) > 1:
        raise ValueError("Tasks taken in turns step by step need as many steps each.")
    runs = {name: [] for name in tasks}
    with no_map_bars():
        for turn in range(repeats):
            spent = dict.fromkeys(tasks, 0.0)
            order = list(steps) if turn % 2 == 0 else list(steps)[::-1]  # neither task always goes first
            for index in range(len(next(iter(steps.values())))):
                for name in order:
                    start = process_time()
                    steps[name][index]()
                    spent[name] += process_time() - start
            for name in tasks:
                runs[name].append(spent[name])
    return {name: Timing(tuple(seconds)) for name, seconds in runs.items()}


@contextmanager
def no_map_bars():
    """🤗 Datasets' progress bars off while the turns are timed (two dozen bars would fill the lesson and their drawing be
    timed too), then back as they were: nothing changed for the rest of the kernel (lesson 2)."""
    import datasets

    was_off = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was_off:
            datasets.enable_progress_bars()


def median_interval(values: list[float], level: float = 0.95) -> tuple[float, float, float] | None:
    """(median, low, high): the median of `values` and the interval from the k-th lowest to the k-th highest, with k as
    large as keeps the chance that the true median lies inside at `level` or more (the sign test's interval: it assumes
    nothing of the noise, and a few wild values do not move it); None with too few values for `level` (under 6)."""
    n, ordered = len(values), sorted(values)
    below = 0.0  # the chance that fewer than k values fall below the true median, for k = 1, 2, ...
    k = 0
    while True:
        below += math.comb(n, k) / 2**n
        if 1 - 2 * below < level:
            break
        k += 1
    if k == 0:
        return None
    return statistics.median(ordered), ordered[k - 1], ordered[n - k]


@dataclass(frozen=True)
class Verdict:
    """How many times faster `new` ran than `old`, turn by turn, with a 95% interval, and what that says (lessons 2 and 3).

    Each turn timed both ways back to back, so each turn gives one speed-up, old's seconds over new's. The speed-up
    reported is their median; its 95% interval runs from the k-th lowest to the k-th highest of them (`median_interval`),
    so a turn or two that a busy moment spoiled does not move it."""

    new: str
    old: str
    timings: tuple[Timing, Timing]  # new's, old's
    work: tuple[float, float] | None = None  # how much each way computes (tokens), where that differs

    @property
    def speedups(self) -> list[float]:
        new, old = self.timings
        return [before / after for after, before in zip(new.runs, old.runs)]

    @functools.cached_property
    def interval(self) -> tuple[float, float, float] | None:
        """(speed-up, low, high); None with too few turns (under 6) for a 95% interval."""
        return median_interval(self.speedups)

    @property
    def found(self) -> str:
        """"faster" or "slower" when the whole interval is on one side of 1×, else "no clear difference"."""
        if self.interval is None:
            return "too few turns"
        _, low, high = self.interval
        return "faster" if low > 1 else "slower" if high < 1 else "no clear difference"

    def _said(self) -> tuple[str, str]:
        """("1.8× faster" or "no clear difference", "1.7–1.9×"): the speed-up, said the way it goes, and its interval."""
        speedup, low, high = self.interval
        if self.found == "slower":  # said the other way round: how many times slower, and its interval
            speedup, low, high = 1 / speedup, 1 / high, 1 / low
        digits = 2 if low < 1.1 else 1  # an interval near 1× shows which side it is on: 0.95–1.20×, 1.02–1.40×
        words = "no clear difference" if self.found == "no clear difference" else f"{speedup:.1f}× {self.found}"
        return words, f"{low:.{digits}f}–{high:.{digits}f}×"

    @property
    def headline(self) -> str:
        """The verdict in a few words, for a figure's title: "1.8× faster (95% interval 1.7–1.9×)"."""
        if self.interval is None:
            return f"{len(self.speedups)} turns: too few to compare"
        words, interval = self._said()
        return f"{words} (95% interval {interval})"

    def __str__(self) -> str:
        new, old = self.timings
        turns = f"{len(new.runs)} turn{'s' * (len(new.runs) > 1)}"
        if self.interval is None:
            said = f"{turns}, too few to tell it from {self.old} (6 at least; COURSE_PROFILE=full takes 12)"
        else:
            words, interval = self._said()
            if self.found == "no clear difference":
                said = f"no clear difference from {self.old} (95% interval {interval}, which holds 1×)"
            else:
                said = f"{words} than {self.old} (median of {len(new.runs)} turns; 95% interval {interval})"
        if self.work:
            fewer = self.work[1] / self.work[0]
            said += f"; it computes {fewer:.1f}× fewer tokens" if fewer >= 1 else f"; it computes {1 / fewer:.1f}× more tokens"
        return (f"{self.new[0].upper() + self.new[1:]}: {said}.\n  CPU time, median (fastest–slowest) of {turns}, both ways "
                f"back to back in each: {self.new} {new} · {self.old} {old}")


def verdict(timings: dict[str, Timing], new: str, old: str, work: dict[str, float] | None = None) -> Verdict:
    """Whether `new` beat `old` in the turns timed, worded from the numbers; print it (lessons 2 and 3).
    `work`, where the ways compute different amounts: each way's count (tokens), shown beside the seconds."""
    return Verdict(new, old, (timings[new], timings[old]), (work[new], work[old]) if work else None)
