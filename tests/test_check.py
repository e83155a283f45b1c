"""The exercise checks: each says right to the right answer, and names the mistake of a typical wrong one without the answer."""

import math

import pytest

from helpers import check
from helpers.plots import pair_lengths
from helpers.recipe import load_mrpc


@pytest.fixture(scope="module")
def raw():
    return load_mrpc("sample", "full")


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from helpers.checkpoints import PACKAGED_CHECKPOINT, resolve

    return AutoTokenizer.from_pretrained(resolve(PACKAGED_CHECKPOINT)[0])


def says(verdict, right, *words):
    """The verdict is right or not as expected, and its line holds each of `words`."""
    assert bool(verdict) is right and all(word in repr(verdict) for word in words), repr(verdict)


def hides(verdict, answer):
    assert str(answer) not in repr(verdict).split("Hint:")[0].replace(",", ""), repr(verdict)


def test_no_answer_yet_asks_for_one(raw):
    says(check.exercise_1_1(raw, None), False, "in place of None")


def test_exercise_1_1_counts_equivalent_training_pairs(raw):
    labels = list(raw["train"]["label"])
    says(check.exercise_1_1(raw, labels.count(1)), True, "✓ Right")
    says(check.exercise_1_1(raw, labels.count(0)), False, "*not* paraphrases")
    says(check.exercise_1_1(raw, len(labels)), False, "every training pair")
    wrong = check.exercise_1_1(raw, labels.count(1) + 1)
    says(wrong, False, "too high", "Hint:")
    hides(wrong, labels.count(1))


def test_exercise_1_2_wants_the_longest_pair_and_its_split(raw):
    longest = {name: max(pair_lengths(raw, name)) for name in raw}
    split = max(longest, key=longest.get)
    other = next(name for name in raw if longest[name] < longest[split])
    says(check.exercise_1_2(raw, longest[split], split), True, f"{longest[split]} words, in {split}")
    says(check.exercise_1_2(raw, longest[split], other), False, "does not hold")
    says(check.exercise_1_2(raw, longest[other], other), False, "another split holds a longer one")
    says(check.exercise_1_2(raw, longest[split] + 5, split), False, "fewer words")


def test_exercise_2_2_runs_the_learners_function(tokenizer):
    says(check.exercise_2_2(lambda encoding: sum(encoding["token_type_ids"]), tokenizer), True, "3 different pairs")
    says(check.exercise_2_2(lambda encoding: sum(encoding["token_type_ids"]) - 1, tokenizer), False, "leaves out the [SEP]")
    says(check.exercise_2_2(lambda encoding: encoding["token_type_ids"].count(0), tokenizer), False, "first sentence")
    says(check.exercise_2_2(lambda encoding: encoding["nope"], tokenizer), False, "raised KeyError")
    says(check.exercise_2_2(lambda encoding: 7, tokenizer), False, "it gives 7")


@pytest.fixture(scope="module")
def examples(raw, tokenizer):
    from helpers.recipe import tokenize_dataset
    from helpers.measure import model_inputs

    return model_inputs(tokenize_dataset(raw, tokenizer)["validation"], tokenizer)


def test_exercise_3_1_wants_the_pad_share_of_sorted_batches(examples, tokenizer):
    from transformers import DataCollatorWithPadding

    from helpers.measure import batches, pad_share

    collator = DataCollatorWithPadding(tokenizer=tokenizer)
    ordered = sorted(examples, key=lambda example: len(example["input_ids"]))
    right, unsorted = pad_share(batches(ordered, collator, 16)), pad_share(batches(examples, collator, 16))
    assert right < unsorted - 0.05  # sorting must matter, or the check could not tell the two apart
    says(check.exercise_3_1(examples, collator, 16, right), True, "✓ Right")
    says(check.exercise_3_1(examples, collator, 16, round(right * 100, 2)), True, "✓ Right")  # given in percent
    says(check.exercise_3_1(examples, collator, 16, unsorted), False, "without sorting")
    says(check.exercise_3_1(examples, collator, 16, right + 0.02), False, "too high")


def test_exercise_3_3_wants_the_shape_padded_to_a_multiple_of_8(tokenizer):
    three = [tokenizer("Rates rose.", "Rates went up."), tokenizer("The court met on Monday.", "On Monday the court met."),
             tokenizer("It rained all day in the north.", "Rain fell in the north all day long.")]
    longest = max(len(example["input_ids"]) for example in three)
    rounded = -(-longest // 8) * 8
    assert rounded != longest and rounded % 16, longest  # neither unpadded, nor a multiple of 16
    says(check.exercise_3_3(three, tokenizer, (3, rounded)), True, f"rounded up to {rounded}")
    says(check.exercise_3_3(three, tokenizer, (3, longest)), False, "without `pad_to_multiple_of`")
    says(check.exercise_3_3(three, tokenizer, (rounded, 3)), False, "one row per pair")
    says(check.exercise_3_3(three, tokenizer, (3, rounded + 8)), False, "is not the length")


def test_exercise_4_1_counts_the_optimizer_steps_of_lesson_4s_plain_trainer(tiny_checkpoint, tmp_path):
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                              TrainingArguments)

    from helpers.recipe import tokenize_dataset

    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    tokenized = tokenize_dataset(load_mrpc("sample", "smoke"), tokenizer)
    train = tokenized["train"].select(range(60))  # a last, smaller batch, so that rounding down is a different answer
    args = TrainingArguments(output_dir=str(tmp_path), num_train_epochs=3, report_to="none")  # the default batch: 8 pairs
    model = AutoModelForSequenceClassification.from_pretrained(tiny_checkpoint, num_labels=2)
    trainer = Trainer(model=model, args=args, train_dataset=train, data_collator=DataCollatorWithPadding(tokenizer=tokenizer),
                      processing_class=tokenizer)
    assert args.per_device_train_batch_size == 8, args.per_device_train_batch_size
    steps = -(-60 // 8)
    says(check.exercise_4_1(trainer, steps * 3), True, f"{steps} steps per epoch")
    says(check.exercise_4_1(trainer, steps), False, "one epoch's steps")
    says(check.exercise_4_1(trainer, 60 // 8 * 3), False, "smaller batch")
    says(check.exercise_4_1(trainer, 60 * 3), False, "counts pairs")
    says(check.exercise_4_1(trainer, steps * 3 + 5), False, "too high")


def test_exercise_6_3_wants_precision_and_recall_of_equivalent():
    references = [1, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    predictions = [1, 1, 1, 0, 1, 0, 0, 0, 1, 0]
    precision, recall = 3 / 5, 3 / 6  # 3 right of the 5 called equivalent; 3 found of the 6 equivalent
    says(check.exercise_6_3(references, predictions, precision, recall), True, "recall pulls F1 down")
    says(check.exercise_6_3(references, predictions, recall, precision), False, "swapped")
    says(check.exercise_6_3(references, predictions, precision, 4 / 6), False, "recall is off")
    says(check.exercise_6_3(references, predictions, 2 / 5, 2 / 4), False, "scores of `not_equivalent`")  # 2 of 5, 2 of 4


def test_exercise_7_1_runs_the_learners_accumulation_against_one_large_batch():
    def right(model, optimizer, batches):
        for batch in batches:
            (model(**batch).loss / len(batches)).backward()
        optimizer.step()
        optimizer.zero_grad()

    def undivided(model, optimizer, batches):
        for batch in batches:
            model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    def cleared(model, optimizer, batches):
        for batch in batches:
            optimizer.zero_grad()
            (model(**batch).loss / len(batches)).backward()
        optimizer.step()

    def never_cleared(model, optimizer, batches):  # the second step adds the first one's gradients
        for batch in batches:
            (model(**batch).loss / len(batches)).backward()
        optimizer.step()

    says(check.exercise_7_1(right), True, "✓ Right")
    says(check.exercise_7_1(lambda model, optimizer, batches: None), False, "did not move")
    says(check.exercise_7_1(undivided), False, "divide each batch's loss")
    says(check.exercise_7_1(cleared), False, "only the last batch counts")
    says(check.exercise_7_1(never_cleared), False, "end elsewhere")
    says(check.exercise_7_1(lambda model, optimizer: None), False, "raised TypeError")


def test_half_an_answer_or_text_asks_for_the_rest_without_crashing(raw):
    says(check.exercise_1_2(raw, None, "train"), False, "in place of None")
    says(check.exercise_1_2(raw, 30, None), False, "in place of None")
    says(check.exercise_6_3([1, 0], [1, 1], None, 0.5), False, "in place of None")
    says(check.exercise_1_1(raw, "1234"), False, "is not a number")
    says(check.exercise_6_3([1, 0], [1, 1], "0.5", 1.0), False, "is not a number")


def placeholder(notebook: str, name: str):
    """The function `name` exactly as the lesson's exercise cell ships it (its placeholder body), parsed from the notebook."""
    import ast
    import json
    from pathlib import Path

    cells = json.loads((Path(__file__).resolve().parent.parent / "notebooks" / notebook).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        tree = ast.parse("".join(cell["source"])) if cell["cell_type"] == "code" else None
        for node in (tree.body if tree else []):
            if isinstance(node, ast.FunctionDef) and node.name == name:
                scope: dict = {}
                exec(compile(ast.Module([node], []), notebook, "exec"), scope)
                return scope[name]
    raise AssertionError(f"{notebook} has no def {name}")


def test_before_an_attempt_every_check_says_what_to_do_and_never_scolds(raw, tokenizer):
    """Run All on a fresh lesson: the placeholders as shipped get "write ...", never "✗ Not yet"."""
    for verdict in (check.exercise_2_2(placeholder("02_tokenize.ipynb", "second_length"), tokenizer),
                    check.exercise_7_1(placeholder("07_loop.ipynb", "accumulated_step")), check.exercise_1_1(raw, None)):
        assert not verdict and not repr(verdict).startswith("✗") and "then run it again" in repr(verdict), repr(verdict)


class Odd(Exception):
    pass


def raises(*args):
    raise Odd("a learner's own error\nover two lines")


def odd_values():
    """Answers a learner could type: numbers of every kind, NaN, inf, huge ints, text, containers, arrays, tensors."""
    import numpy as np
    import torch

    return [0, -1, 1.5, 10**400, -10**400, float("nan"), float("inf"), -float("inf"), 1e308, 2 + 3j, True, "3", "", b"3",
            [3], [], (3,), {"a": 1}, {3}, object(), Odd("x"), np.int64(3), np.float32(0.5), np.float64("nan"),
            np.array(3), np.array([1, 2]), np.zeros((2, 2)), torch.tensor(3), torch.tensor([1.0, 2.0]), torch.tensor(float("nan")),
            3, 16, (3, 16), (3.0, 16.0), (3, "16"), ("a", "b"), [3, 16, 1]]


def test_any_answer_of_any_type_gets_one_sentence_never_a_traceback(raw, tokenizer, examples):
    """A property of every check: for each odd answer, a Verdict of one line; NaN and inf never "too high" or "too low"."""
    from helpers.recipe import DataCollatorWithPadding

    collator = DataCollatorWithPadding(tokenizer)
    three = [tokenizer("Rates rose.", "Rates went up."), tokenizer("The court met on Monday.", "On Monday the court met.")]
    references, predictions = [1, 0, 1, 1], [1, 1, 0, 1]
    for value in odd_values():
        verdicts = {
            "1.1": check.exercise_1_1(raw, value), "1.2 words": check.exercise_1_2(raw, value, "train"),
            "1.2 split": check.exercise_1_2(raw, 30, value), "3.1": check.exercise_3_1(examples, collator, 16, value),
            "3.3": check.exercise_3_3(three, tokenizer, value), "6.3 precision": check.exercise_6_3(references, predictions, value, 0.5),
            "6.3 recall": check.exercise_6_3(references, predictions, 0.5, value),
            "2.2 returns": check.exercise_2_2(lambda encoding, v=value: v, tokenizer), "2.2 given": check.exercise_2_2(value, tokenizer),
            "7.1 given": check.exercise_7_1(value),
        }
        for name, verdict in verdicts.items():
            line = repr(verdict)
            assert isinstance(verdict, check.Verdict) and "\n" not in line and line.strip(), (name, value, line)
            if isinstance(value, float) and not math.isfinite(value):  # NumPy's float64 too
                assert not verdict and "too" not in line, (name, value, line)
    for function in (raises, lambda *args: np_array_of(2), lambda *args: "text", lambda *args: None, lambda *args: [1]):
        for verdict in (check.exercise_2_2(function, tokenizer), check.exercise_7_1(function)):
            assert not verdict and "\n" not in repr(verdict) and repr(verdict).strip(), repr(verdict)
    said = repr(check.exercise_2_2(raises, tokenizer))
    assert "raised Odd: a learner's own error over two lines" in said, said


def np_array_of(n):
    import numpy as np

    return np.arange(n)


def test_a_number_in_an_array_or_tensor_counts_as_that_number(tokenizer):
    import numpy as np
    import torch

    says(check.exercise_2_2(lambda encoding: torch.tensor(encoding["token_type_ids"]).sum(), tokenizer), True, "✓ Right")
    says(check.exercise_2_2(lambda encoding: np.sum(encoding["token_type_ids"]), tokenizer), True, "✓ Right")
    says(check.exercise_1_1(load_mrpc("sample", "full"), np.array(3)), False, "is an array, not a number", "`.item()`")
