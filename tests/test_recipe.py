"""The original BERT-on-MRPC recipe in its transformers 5 form, and the table of what moved (notebooks/what_moved.md)."""

import logging
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "notebooks" / "what_moved.md"
SAMPLE = ROOT / "helpers" / "sample"
HEADER = ["before", "now (transformers 5 / datasets 5)", "what a learner sees with the old form"]


def test_the_original_recipe_runs_in_its_modern_form(tiny_checkpoint, tmp_path):
    import evaluate
    from datasets import load_dataset
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    # The recipe reads load_dataset("nyu-mll/glue", "mrpc"); the Hub is out of reach here, so the shipped pairs stand in.
    raw_datasets = load_dataset("json", data_files={s: str(SAMPLE / f"{s}.jsonl") for s in ("train", "validation", "test")})
    checkpoint = tiny_checkpoint
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)

    def tokenize_function(example):
        return tokenizer(example["sentence1"], example["sentence2"], truncation=True)

    tokenized_datasets = raw_datasets.map(tokenize_function, batched=True)
    data_collator = DataCollatorWithPadding(tokenizer=tokenizer)
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)
    training_args = TrainingArguments(
        str(tmp_path / "test-trainer"),
        eval_strategy="epoch",
        num_train_epochs=1,
        per_device_train_batch_size=8,
        report_to="none",
        use_cpu=True,
    )

    def compute_metrics(eval_preds):
        metric = evaluate.load("glue", "mrpc")  # offline: the course's copy, which the cache holds
        logits, labels = eval_preds
        predictions = np.argmax(logits, axis=-1)
        return metric.compute(predictions=predictions, references=labels)

    train = tokenized_datasets["train"].select(range(48))  # a few dozen rows keep the test fast
    validation = tokenized_datasets["validation"]
    trainer = Trainer(
        model,
        training_args,
        train_dataset=train,
        eval_dataset=validation,
        data_collator=data_collator,
        processing_class=tokenizer,
        compute_metrics=compute_metrics,
    )
    trainer.train()
    predictions = trainer.predict(validation)
    preds = np.argmax(predictions.predictions, axis=-1)
    metric = evaluate.load("glue", "mrpc")
    scores = metric.compute(predictions=preds, references=predictions.label_ids)

    assert {"input_ids", "token_type_ids", "attention_mask"} <= set(train.column_names)
    assert len({len(ids) for ids in train["input_ids"]}) > 1, "map() must not pad: the collator pads each batch"
    assert trainer.state.global_step == math.ceil(48 / 8)
    evals = [entry for entry in trainer.state.log_history if "eval_accuracy" in entry]
    assert [entry["epoch"] for entry in evals] == [1.0]
    assert "eval_f1" in evals[0]
    assert predictions.predictions.shape == (validation.num_rows, 2)
    labels = np.asarray(list(validation["label"]))
    assert (predictions.label_ids == labels).all()
    assert scores["accuracy"] == pytest.approx(float(np.mean(preds == labels)))
    true_positives = int(np.sum((preds == 1) & (labels == 1)))
    positives = int(np.sum(preds == 1)) + int(np.sum(labels == 1))
    assert scores["f1"] == pytest.approx(2 * true_positives / positives if positives else 0.0)
    # The epoch's evaluation ran on the final weights, so it must agree with predict() on the same rows.
    assert evals[0]["eval_accuracy"] == pytest.approx(scores["accuracy"])
    assert evals[0]["eval_f1"] == pytest.approx(scores["f1"])
    assert predictions.metrics["test_accuracy"] == pytest.approx(scores["accuracy"])


# --- The table in notebooks/what_moved.md, row by row ----------------------------------------

SPAN = re.compile(r"(`+)(.+?)\1")  # a Markdown code span; ``double`` backticks may hold single ones
QUOTE = re.compile(r"(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Enabled)): (?P<message>.+)", re.S)


def spans(cell):
    """The code spans of a table cell, in order."""
    return [match.group(2).strip() for match in SPAN.finditer(cell)]


def cells(line):
    """The cells of one Markdown table line."""
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@dataclass
class Row:
    before: str
    now: str
    sees: str

    @property
    def old(self):
        """The old form: the first code span of the first column."""
        return spans(self.before)[0]

    @property
    def new(self):
        """The new form: the first code span of the second column."""
        return spans(self.now)[0]

    def claims(self):
        """(code, quote) pairs of the third column: the first quote is the old form's; a later one belongs to the
        code span just before it, or (code None) to what only the Hub can show."""
        pairs, previous = [], None
        for span in spans(self.sees):
            quote = QUOTE.fullmatch(span)
            if quote is None:
                previous = span
                continue
            pairs.append((self.old if not pairs else previous, quote))
            previous = None
        return pairs


def read_table():
    """The header and the rows of the table in notebooks/what_moved.md."""
    lines = [line for line in TABLE.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("|")]
    header, _rule, *body = lines
    return cells(header), [Row(*cells(line)) for line in body]


TABLE_HEADER, ROWS = read_table()


def run(code, namespace):
    """Evaluate an expression (its value) or execute a statement (None) from the table."""
    try:
        compiled, is_expression = compile(code, "<what_moved.md>", "eval"), True
    except SyntaxError:
        compiled, is_expression = compile(code, "<what_moved.md>", "exec"), False
    value = eval(compiled, namespace)  # eval runs compiled statements too, and gives None for them
    return value if is_expression else None


def assert_fails_as_quoted(code, quote, namespace):
    """Running `code` raises the quoted exception type, with a message that starts as quoted (… matches anything)."""
    with pytest.raises(Exception) as caught:
        run(code, namespace)
    error = caught.value
    assert quote["type"] in (type(error).__name__, f"{type(error).__module__}.{type(error).__name__}"), (
        f"{code} raised {type(error).__name__}: {error}"
    )
    pattern = ".*?".join(re.escape(piece) for piece in quote["message"].split("…"))
    assert re.match(pattern, str(error), re.S), f"{code} said {error!s}, the table quotes {quote['message']!r}"


def hub_step(name):
    """What load_dataset does online once it has read a dataset's card: open its .huggingface.yaml by hf:// address."""
    from datasets import config
    from datasets.load import hf_dataset_url
    from datasets.utils.file_utils import cached_path

    cached_path(hf_dataset_url(name, config.REPOYAML_FILENAME, revision="0" * 40))


# Rows whose online behaviour cannot be run here: the step of it that can, with the old and the new id.
ONLINE_STEPS = {'load_dataset("glue", "mrpc")': (hub_step, "glue", "nyu-mll/glue")}


@pytest.fixture
def namespace(tiny_checkpoint, tmp_path, monkeypatch):
    """What a learner has defined when they reach a row: the libraries, a tokenizer, a model, datasets, arguments."""
    import datasets
    import evaluate
    import huggingface_hub.constants
    import transformers
    from datasets import load_dataset

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", str(tmp_path / "logs"))  # restored after the test
    # Offline for every library, with empty caches, so the Hub rows fail the same way on every machine.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")
    monkeypatch.setattr(datasets.config, "HF_MODULES_CACHE", tmp_path / "modules")
    monkeypatch.setattr(evaluate.config, "HF_EVALUATE_OFFLINE", True)
    monkeypatch.setattr(evaluate.config, "HF_MODULES_CACHE", tmp_path / "modules")
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_checkpoint)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(tiny_checkpoint, num_labels=2)
    return {
        "datasets": datasets,
        "evaluate": evaluate,
        "load_dataset": load_dataset,
        "raw_datasets": load_dataset("json", data_files={"train": str(SAMPLE / "train.jsonl")}),
        "tokenizer": tokenizer,
        "model": model,
        "TrainingArguments": transformers.TrainingArguments,
        "Trainer": transformers.Trainer,
        "training_args": transformers.TrainingArguments("test-trainer", report_to="none", use_cpu=True),
    }


def transformers_warnings():
    """A handler that keeps the transformers logger's warnings (that logger does not propagate to the root)."""
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    return handler, records


@pytest.mark.parametrize("row", ROWS, ids=[row.old[:60] for row in ROWS])
def test_every_old_form_in_what_moved_fails_as_the_table_says(row, namespace):
    assert TABLE_HEADER == HEADER
    claims = row.claims()
    not_measured = "not measured here" in row.sees.lower()
    if row.sees.startswith("No error"):
        # A silent move: the old form runs without error or warning, and does something else than the new form.
        handler, records = transformers_warnings()
        logging.getLogger("transformers").addHandler(handler)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                old_value = run(row.old, dict(namespace))
        finally:
            logging.getLogger("transformers").removeHandler(handler)
        assert not caught and not records, [str(w.message) for w in caught] + [r.getMessage() for r in records]
        new_value = run(row.new, dict(namespace))
        assert old_value != new_value
        counts = re.search(r"\((\d+) ids instead of (\d+)\)", row.sees)
        if counts:
            assert (len(old_value["input_ids"]), len(new_value["input_ids"])) == tuple(map(int, counts.groups()))
        return
    assert claims, f"the row for {row.old} quotes no error"
    for code, quote in claims:
        if code is None:
            assert not_measured and row.old in ONLINE_STEPS, f"nothing here can show {quote.group(0)!r}"
            step, old_id, new_id = ONLINE_STEPS[row.old]
            assert_fails_as_quoted(f"step({old_id!r})", quote, {"step": step})
            with pytest.raises(ConnectionError):  # the new id gets past that step, to where offline mode stops it
                step(new_id)
        else:
            assert_fails_as_quoted(code, quote, dict(namespace))
    if "needs the Hub" in row.now:
        # Offline, the new form fails too: with the error quoted beside it, or else the old form's.
        quoted_here = [QUOTE.fullmatch(span) for span in spans(row.now)]
        quote = next((q for q in quoted_here if q), claims[0][1])
        assert_fails_as_quoted(row.new, quote, dict(namespace))
    else:
        run(row.new, dict(namespace))
