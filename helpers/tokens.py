"""Measuring padding: tokenized rows as a collator takes them, batches, pad tokens and the time of a forward pass."""

import time

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


def time_forward(model, batch_list: list[dict], repeats: int = 1) -> float:
    """Seconds for one forward pass over all the batches, the best of `repeats` (lesson 3)."""
    import torch

    model.eval()
    inputs = [{k: v for k, v in batch.items() if k != "labels"} for batch in batch_list]
    best = float("inf")
    with torch.inference_mode():
        model(**inputs[0])  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            for batch in inputs:
                model(**batch)
            best = min(best, time.perf_counter() - start)
    return best
