"""The lessons' exercise checks: `check.exercise_2_2(answer, ...)` says right, or what is wrong and a hint, never the answer.

Each check computes the right answer itself, from the data and objects the learner's own lesson holds, so it holds for the
shipped sample, the GLUE folder and the Hub alike. A check returns a `Verdict`: true when right; shown, it is one line.
"""

import json
from dataclasses import dataclass

TOLERANCE = 0.005  # shares and scores count as right within half a percentage point


@dataclass(frozen=True)
class Verdict:
    """A check's answer: right or not, and the line the learner reads (lessons 1 to 7)."""

    right: bool
    line: str

    def __bool__(self) -> bool:
        return self.right

    def __repr__(self) -> str:
        return self.line

    def must_be_right(self) -> "Verdict":
        """The verdict itself, or an AssertionError when it is wrong: the solutions notebooks fail the tests then (lessons 1 to 7)."""
        if not self.right:
            raise AssertionError(self.line)
        return self


def _right(line: str) -> Verdict:
    return Verdict(True, f"✓ Right: {line}")


def _wrong(problem: str, hint: str) -> Verdict:
    return Verdict(False, f"✗ Not yet: {problem} Hint: {hint}")


def _missing(*answers) -> Verdict | None:
    """A verdict asking for the answer when any of `answers` is still None, else None (lessons 1 to 7)."""
    if any(answer is None or answer is ... for answer in answers):
        return Verdict(False, "Write your answer in place of None in this cell, then run it again.")
    return None


def _first(*verdicts: Verdict | None) -> Verdict | None:
    """The first verdict that is not None (a wrong Verdict is false, so `or` would skip it) (lessons 1 to 7)."""
    return next((verdict for verdict in verdicts if verdict is not None), None)


def _shown(value) -> str:
    """A value as one short line: its repr, cut to 60 characters (lessons 1 to 7)."""
    text = " ".join(repr(value).split()) if not isinstance(value, int) or abs(value) < 10**30 else f"a {len(str(abs(value)))}-digit number"
    return text if len(text) <= 60 else text[:57] + "..."


def _not_a_number(answer, whole: bool = False) -> Verdict | None:
    """A verdict asking for a number when `answer` is not a finite one of a sensible size (a string, a list, NaN, a tensor,
    10**400), or not a whole one where `whole`; else None (lessons 1 to 7)."""
    import math
    import numbers

    real = isinstance(answer, numbers.Real) and not isinstance(answer, bool)  # NumPy's scalars too
    if not real and hasattr(answer, "shape") and hasattr(answer, "item"):  # a NumPy array or a tensor: its number, please
        hint = "give its value with `.item()`" if _size(answer) == 1 else "give one number"
        return Verdict(False, f"✗ Not yet: {_shown(answer)} is an array, not a number. Hint: {hint}.")
    if not real:
        return Verdict(False, f"✗ Not yet: {_shown(answer)} is not a number. Hint: write the number itself, such as 42, not text.")
    if isinstance(answer, numbers.Integral) and abs(int(answer)) > 10**15 or not math.isfinite(float(answer)):
        return Verdict(False, f"✗ Not yet: {_shown(answer)} is not a number this exercise can have. Hint: write a finite number, "
                              "such as 42.")
    if whole and float(answer) != int(answer):
        return Verdict(False, f"✗ Not yet: {_shown(answer)} is not a whole number. Hint: this exercise counts things, such as 42.")
    return None


def _size(value) -> int:
    """How many numbers an array or tensor holds (lessons 1 to 7)."""
    size = value.size() if callable(getattr(value, "size", None)) else value.size
    return int(size.numel() if hasattr(size, "numel") else size)


_STUB_CODE = (lambda *args: None).__code__.co_code  # what `...`, `pass` or `return None` compile to


def _unwritten(function) -> Verdict | None:
    """A verdict asking for the function's body when it is still the cell's placeholder, else None (lessons 2, 7)."""
    code = getattr(function, "__code__", None)
    if code is not None and code.co_name != "<lambda>" and code.co_code == _STUB_CODE:  # a `def` whose body is still `...`
        return Verdict(False, f"Write the body of {function.__name__} in this cell (it does nothing yet), then run it again.")
    if not callable(function):
        return Verdict(False, f"✗ Not yet: {_shown(function)} is not a function. Hint: keep the cell's `def` and write its body.")
    return None


def _raised(error: Exception) -> str:
    """What the learner's function raised, in a few words on one line (lessons 2, 7)."""
    said = " ".join(str(error).split())
    return f"{type(error).__name__}: {said[:100]}" if said else type(error).__name__


def _checked(check):
    """The check itself, made one sentence for any answer: whatever it cannot use is said, never a traceback (lessons 1 to 7)."""
    import functools

    @functools.wraps(check)
    def checked(*args):
        try:
            return check(*args)
        except Exception as error:  # any answer of any type: one line saying what was expected
            return Verdict(False, f"✗ Not yet: this check cannot use your answer ({_raised(error)}). Hint: give what the "
                                  "cell's comment asks for, of that kind (a number, a name, a shape or a function).")
    return checked


def _share(value) -> float:
    """A share given as 0.42 or as 42 (percent) (lesson 3)."""
    value = float(value)
    return value / 100 if value > 1 else value


@_checked
def exercise_1_1(raw, answer) -> Verdict:
    """How many training pairs are labelled `equivalent`? (lesson 1)"""
    if (missing := _first(_missing(answer), _not_a_number(answer, whole=True))) is not None:
        return missing
    labels = list(raw["train"]["label"])
    right, other = labels.count(1), labels.count(0)
    if answer == right:
        return _right(f"{right:,} of the {len(labels):,} training pairs are paraphrases.")
    if answer == other:
        return _wrong("that is how many pairs are *not* paraphrases.", "label 1 is `equivalent`: look at `label_names`.")
    if answer == len(labels):
        return _wrong("that counts every training pair.", "keep only the pairs whose label is 1.")
    if answer in (sum(list(split["label"]).count(1) for split in raw.values()), list(raw["validation"]["label"]).count(1)):
        return _wrong("that counts another split too, or instead.", 'count in `raw["train"]` only.')
    return _wrong(f"that is too {'high' if answer > right else 'low'}.", 'count the 1s in `raw["train"]["label"]`.')


@_checked
def exercise_1_2(raw, words, split) -> Verdict:
    """How many words has the longest pair, both sentences together, and which split holds it? (lesson 1)"""
    from helpers.plots import pair_lengths

    if (missing := _first(_missing(words, split), _not_a_number(words, whole=True))) is not None:
        return missing
    if not isinstance(split, str) or split not in raw:
        return _wrong(f"{_shown(split)} is not the name of a split.", f"give one of {', '.join(map(repr, raw))}, as a string.")
    longest = {name: max(pair_lengths(raw, name)) for name in raw}
    right = max(longest.values())
    if words == right and longest.get(split) == right:
        return _right(f"{right} words, in {split}.")
    if words == right:
        return _wrong(f"{right} words is right, but {split!r} does not hold a pair that long.", "look at every split: "
                      "`pair_lengths(raw, name)` for each name in `raw`.")
    if split in longest and words == longest[split]:
        return _wrong(f"that is the longest pair of {split}, but another split holds a longer one.", "look at all three splits.")
    singles = max(max(len(s.split()) for s in raw[name][column]) for name in raw for column in ("sentence1", "sentence2"))
    if words == singles:
        return _wrong("that is the longest single sentence.", "count the words of both sentences of a pair together.")
    return _wrong(f"the longest pair has {'fewer' if words > right else 'more'} words than that.",
                  "split each sentence on spaces, add both sentences' counts, and take the largest over every split.")


@_checked
def exercise_2_2(second_length, tokenizer) -> Verdict:
    """A function that says how many tokens of an encoded pair belong to its second sentence, `[SEP]` included (lesson 2)."""
    if (missing := _first(_missing(second_length), _unwritten(second_length))) is not None:
        return missing
    pairs = [("The mayor resigned.", "He quit on Monday after a long dispute."), ("Rates rose.", "Rates went up."),
             ("It rained all day in the north of the country.", "Rain.")]
    for first, second in pairs:
        encoding = tokenizer(first, second)
        right, first_part = sum(encoding["token_type_ids"]), encoding["token_type_ids"].count(0)
        try:
            given = second_length(encoding)
        except Exception as error:  # the learner's function may fail in any way; say how, in one line
            return _wrong(f"your function raised {_raised(error)}.", "it gets what `tokenizer(first, second)` returns.")
        if hasattr(given, "item") and _size(given) == 1:  # a NumPy or torch number counts as its value
            given = given.item()
        if _not_a_number(given, whole=True) is not None:
            return _wrong(f"your function returned {_shown(given)}, not a count.", "return one whole number, such as `sum(...)`.")
        if given != right:
            if given == first_part:
                problem = "that counts the first sentence's tokens, with [CLS] and the first [SEP]."
            elif given == right - 1:
                problem = "that leaves out the [SEP] that closes the second sentence."
            else:
                problem = f"for ({first!r}, {second!r}) it gives {given!r}."
            return _wrong(problem, "`encoding[\"token_type_ids\"]` marks the second sentence's tokens with 1.")
    return _right(f"it counts the second sentence on {len(pairs)} different pairs.")


@_checked
def exercise_3_1(examples, collator, batch_size, share) -> Verdict:
    """The share of padding when the examples are sorted by length before they are cut into batches (lesson 3)."""
    from helpers.measure import batches, pad_share

    if (missing := _first(_missing(share), _not_a_number(share))) is not None:
        return missing
    ordered = sorted(examples, key=lambda example: len(example["input_ids"]))
    right, unsorted = pad_share(batches(ordered, collator, batch_size)), pad_share(batches(examples, collator, batch_size))
    if abs(_share(share) - right) <= TOLERANCE:
        return _right(f"{right:.1%} padding, against {unsorted:.1%} unsorted.")
    if abs(_share(share) - unsorted) <= TOLERANCE:
        return _wrong("that is the share without sorting.", "sort `examples` by `len(example[\"input_ids\"])` first.")
    return _wrong(f"that is too {'high' if _share(share) > right else 'low'}.",
                  "cut the sorted examples with `batches(sorted_examples, collator, BATCH_SIZE)`, then `pad_share`.")


@_checked
def exercise_3_3(examples, tokenizer, shape) -> Verdict:
    """The shape of `input_ids` when the collator pads `examples` to a multiple of 8 tokens (lesson 3)."""
    from transformers import DataCollatorWithPadding

    if (missing := _missing(shape)) is not None:
        return missing
    if hasattr(shape, "dim"):  # a tensor, not its shape
        return _wrong("that is the tensor itself.", "give its shape: `tensor.shape`, or a tuple such as (2, 16).")
    right = tuple(DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8)(examples)["input_ids"].shape)
    plain = tuple(DataCollatorWithPadding(tokenizer)(examples)["input_ids"].shape)
    if isinstance(shape, (str, bytes, dict)) or not hasattr(shape, "__iter__") or \
            any(_not_a_number(size, whole=True) for size in shape):
        return _wrong(f"{_shown(shape)} is not a shape.", "a shape is (pairs, tokens): a tuple of two whole numbers, such as (2, 16).")
    shape = tuple(int(size) for size in shape)
    if shape == right:
        return _right(f"{right}: {plain[1]} tokens rounded up to {right[1]}.")
    if shape == plain:
        return _wrong("that is the shape without `pad_to_multiple_of`.", "the length is rounded *up* to a multiple of 8.")
    if len(shape) != 2 or shape[0] != right[0]:
        return _wrong("the shape is (pairs, tokens): one row per pair.", f"the batch holds {len(examples)} pairs.")
    return _wrong(f"{shape[1]} tokens is not the length it pads to.", "the longest pair's tokens, rounded up to a multiple of 8.")


@_checked
def exercise_4_1(trainer, answer) -> Verdict:
    """How many optimizer steps `trainer.train()` takes for these settings, before training (lesson 4)."""
    import math

    if (missing := _first(_missing(answer), _not_a_number(answer, whole=True))) is not None:
        return missing
    per_epoch = len(trainer.get_train_dataloader())
    epochs = math.ceil(trainer.args.num_train_epochs)
    right = per_epoch * epochs
    if answer == right:
        return _right(f"{per_epoch} steps per epoch, {right} in all: the progress bar will count to {right}.")
    rows, size = len(trainer.train_dataset), trainer.args.per_device_train_batch_size
    if answer == per_epoch and epochs > 1:
        return _wrong("that is one epoch's steps.", "the Trainer takes that many steps in every epoch.")
    if answer == rows // size * epochs and rows % size:
        return _wrong("the last, smaller batch of each epoch is a step too.", "round the division up.")
    if answer in (rows, rows * epochs):
        return _wrong("that counts pairs, not steps.", "each step takes one batch of BATCH_SIZE pairs.")
    return _wrong(f"that is too {'high' if answer > right else 'low'}.", "training pairs ÷ BATCH_SIZE, rounded up, × EPOCHS.")


@_checked
def exercise_5_4(candidates, chosen) -> Verdict:
    """One learning rate kept: chosen on the tuning split, then validation looked at once, for that run only (lesson 5)."""
    from pathlib import Path

    from helpers.runs import load_run

    if (missing := _missing(chosen)) is not None:
        return missing
    tried = [load_run(path) for path in candidates]
    kept = load_run(chosen)
    scored = [run.name for run in tried if not run.settings.get("tuning_split")]
    if scored:
        return _wrong(f"run {scored[0]} was scored on validation while it trained.",
                      "train each candidate with tuning_split=True, as the cell does.")
    if len(tried) < 2:
        return _wrong("there are fewer than two candidates: there is nothing to choose.", "put two or more rates in RATES.")
    if len({run.settings["learning_rate"] for run in tried}) < 2:
        return _wrong("the candidates share one learning rate: there is nothing to choose.", "train one run per rate in RATES.")
    if kept.path.resolve() not in [run.path.resolve() for run in tried]:
        return _wrong(f"{_shown(str(Path(chosen).name))} is not one of the candidates.", "keep one of the paths in `candidates`.")
    best = max(run.metrics["eval_accuracy"] for run in tried)
    if kept.metrics["eval_accuracy"] < best:
        return _wrong("another candidate scored higher on the tuning split.",
                      "compare runs.load_run(path).metrics[\"eval_accuracy\"]: the Trainer scored the tuning pairs.")
    looked = [run.name for run in tried if (run.path / "validation_results.json").exists() and run.path.resolve() != kept.path.resolve()]
    if looked:
        return _wrong(f"validation was looked at for {len(looked)} other candidate(s) too.",
                      "a choice made after seeing several validation scores is made on validation: look only at the run you keep.")
    if not (kept.path / "validation_results.json").is_file():
        return _wrong("you have chosen, but not looked at validation yet.", "call score_run(chosen), once.")
    validation = json.loads((kept.path / "validation_results.json").read_text(encoding="utf-8"))
    return _right(f"learning rate {kept.settings['learning_rate']:g}, best on the tuning split ({best:.3f} accuracy); "
                  f"on validation, looked at once: {validation['validation_accuracy']:.3f}.")


@_checked
def exercise_6_3(references, predictions, precision, recall) -> Verdict:
    """Precision and recall of `equivalent` (label 1), from the labels and the model's predictions (lesson 6)."""
    if (missing := _first(_missing(precision, recall), _not_a_number(precision), _not_a_number(recall))) is not None:
        return missing
    pairs = list(zip(map(int, references), map(int, predictions)))
    scores = {}
    for label in (0, 1):
        hits = sum(truth == label and guess == label for truth, guess in pairs)
        called, present = sum(guess == label for _, guess in pairs), sum(truth == label for truth, _ in pairs)
        scores[label] = (hits / called if called else 0.0, hits / present if present else 0.0)
    right, given = scores[1], (float(precision), float(recall))

    def near(a, b):
        return all(abs(x - y) <= TOLERANCE for x, y in zip(a, b))

    if near(given, right):
        lower = "precision" if right[0] < right[1] else "recall"
        return _right(f"precision {right[0]:.3f}, recall {right[1]:.3f}: {lower} pulls F1 down.")
    if near(given, right[::-1]):
        return _wrong("precision and recall are swapped.", "precision divides by the pairs the model *called* equivalent.")
    if near(given, scores[0]):
        return _wrong("those are the scores of `not_equivalent`.", "score label 1, `equivalent`.")
    wrong = [name for name, a, b in zip(("precision", "recall"), given, right) if abs(a - b) > TOLERANCE]
    return _wrong(f"{' and '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} off.",
                  "precision = right `equivalent` calls ÷ all `equivalent` calls; recall = ÷ all pairs that are `equivalent`.")


def _tiny_classifier():
    """A tiny BERT without dropout, the same weights every call: gradients that depend only on the batches (lesson 7)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, num_labels=2)
    with torch.random.fork_rng():  # the same weights every call, and the learner's own random numbers left alone
        torch.manual_seed(0)
        return BertForSequenceClassification(config)


def _weights_after(step, batch_groups) -> "torch.Tensor":
    """The classifier's weights after `step(model, optimizer, batches)` ran on each group of batches, with plain SGD."""
    import torch

    model = _tiny_classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for batches in batch_groups:
        step(model, optimizer, batches)
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@_checked
def exercise_7_1(accumulated_step) -> Verdict:
    """A step over several batches that moves the weights as one step over all their pairs at once would (lesson 7)."""
    import torch

    if (missing := _first(_missing(accumulated_step), _unwritten(accumulated_step))) is not None:
        return missing
    generator = torch.Generator().manual_seed(1)

    def batch():
        return {"input_ids": torch.randint(0, 50, (4, 6), generator=generator),
                "labels": torch.randint(0, 2, (4,), generator=generator)}

    groups = [[batch(), batch()], [batch(), batch()]]  # two steps, each over two batches of 4 pairs

    def one_big_batch(model, optimizer, batches, scale=1.0, clear=False):
        for part in batches:
            if clear:
                optimizer.zero_grad()
            (model(**part).loss * scale).backward()
        optimizer.step()
        optimizer.zero_grad()

    try:
        given = _weights_after(accumulated_step, groups)
    except Exception as error:  # the learner's function may fail in any way; say how, in one line
        return _wrong(f"your function raised {_raised(error)}.", "it gets a model, an optimizer and a list of batches.")
    right = _weights_after(lambda m, o, b: one_big_batch(m, o, b, 1 / len(b)), groups)
    if torch.allclose(given, right, atol=1e-6):
        return _right("two batches, one step, the same weights as one batch of all their pairs.")
    start = _weights_after(lambda m, o, b: None, groups)
    if torch.allclose(given, start):
        return _wrong("the weights did not move.", "call `optimizer.step()` once, after the backward pass of every batch.")
    if torch.allclose(given, _weights_after(lambda m, o, b: one_big_batch(m, o, b), groups), atol=1e-6):
        return _wrong("the step is as large as two batches' steps.", "divide each batch's loss by the number of batches.")
    if torch.allclose(given, _weights_after(lambda m, o, b: one_big_batch(m, o, b, 1 / len(b), clear=True), groups), atol=1e-6):
        return _wrong("only the last batch counts.", "clear the gradients after the step, not between the batches.")
    return _wrong("the weights end elsewhere than one step over all the pairs would take them.",
                  "for each batch: loss ÷ number of batches, backward; then one step, then clear the gradients.")
