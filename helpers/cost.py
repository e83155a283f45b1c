"""What a training run costs on this machine: minutes, as a range, from a short measured warm-up, and memory (lesson 5).

The warm-up trains a model of the packaged checkpoint's shape (random weights: nothing to download) for a few steps at
the chosen batch size, length and precision. Other checkpoints are scaled from it by their arithmetic per token, so a
larger model never comes out cheaper, and the minutes grow with the steps and the epochs by construction.
"""

import functools
import math
import random
import statistics
import time
from dataclasses import dataclass

from helpers.checkpoints import PACKAGED_CHECKPOINT, REGISTRY, Checkpoint

TIMED_STEPS = (3, 6)  # measured training steps, at least and at most, after one untimed step that allocates memory
TIMING_BUDGET = 5.0  # seconds of measuring, past the least number of steps
TOKENS_PER_WORD = 1.2  # WordPiece tokens per word in MRPC's news sentences
SPECIAL_TOKENS = 3  # [CLS] first [SEP] second [SEP]
EVAL_BATCH_SIZE = 64  # lesson 5's per_device_eval_batch_size
FORWARD_SHARE = 1 / 3  # a forward pass (evaluation) costs about a third of a forward and backward pass
SAVE_BYTES_PER_PARAMETER = 12  # each epoch's checkpoint: the weights and AdamW's two moments, 4 bytes each
SAVE_BYTES_PER_SECOND = 200e6  # a laptop disk, with the serialisation on top
START_SECONDS = 5.0  # loading the model, the metric and the first batches
BASE_MEMORY_GB = 0.6  # Python, torch, the libraries and the data, before the model
ACTIVATION_BYTES = 120  # bytes kept for the backward pass per token, layer and unit of width (measured on MiniLM)


@dataclass(frozen=True)
class Cost:
    """A run's estimated minutes (most likely, and a range) and peak memory in GB (lesson 5)."""

    minutes: float
    low: float
    high: float
    gb: float

    def __str__(self) -> str:
        return f"about {minutes(self.minutes)} (between {minutes(self.low)} and {minutes(self.high)}) and {self.gb:.1f} GB of memory"


def minutes(value: float) -> str:
    """Minutes as a person says them: "40 s" below one minute, "12 min" above (lesson 5)."""
    return f"{value * 60:.0f} s" if value < 1 else f"{value:.0f} min"


def arithmetic_per_token(checkpoint: Checkpoint) -> float:
    """Multiply-adds per token of one pass through the layers: 4·hidden² for attention and 8·hidden² for the MLP (lesson 5)."""
    return 12 * checkpoint.layers * checkpoint.hidden ** 2


def pair_tokens(raw, split: str) -> list[int]:
    """About how many tokens each pair of a split becomes, from its words: nothing to load (lesson 5)."""
    from helpers.plots import pair_lengths

    return [SPECIAL_TOKENS + round(TOKENS_PER_WORD * words) for words in pair_lengths(raw, split)]


def padded_tokens(lengths: list[int], batch_size: int, grouped: bool, multiple: int | None, max_length: int) -> int:
    """The tokens an epoch's batches hold once padded, pad tokens included: what the model computes on (lesson 5)."""
    lengths = [min(n, max_length) for n in lengths]
    order = sorted(lengths, reverse=True) if grouped else random.Random(42).sample(lengths, len(lengths))
    total = 0
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        longest = max(batch)
        if multiple:
            longest = multiple * math.ceil(longest / multiple)
        total += longest * len(batch)
    return total


@functools.cache
def step_seconds(batch_size: int, tokens: int, precision: str, dropout: float | None = None,
                 freeze_embeddings: bool = False, most: int = TIMED_STEPS[1]) -> tuple[float, ...]:
    """Seconds of each of 3 to 6 training steps (forward, backward, AdamW), never more than `most` (a run's own steps), of a
    packaged-checkpoint-shaped model (lesson 5)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    shape = REGISTRY[PACKAGED_CHECKPOINT]
    config = BertConfig(hidden_size=shape.hidden, num_hidden_layers=shape.layers, num_attention_heads=shape.hidden // 64,
                        intermediate_size=4 * shape.hidden, num_labels=2)
    if dropout is not None:  # as lesson 5's load_model sets it
        config.hidden_dropout_prob = config.attention_probs_dropout_prob = dropout
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = BertForSequenceClassification(config).to(device).train()
    model.bert.embeddings.requires_grad_(not freeze_embeddings)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    ids = torch.randint(1000, config.vocab_size, (batch_size, tokens), device=device)
    labels = torch.randint(0, 2, (batch_size,), device=device)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16

    def step():
        with torch.autocast(device, dtype=dtype, enabled=precision != "fp32"):
            loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if device == "cuda":
            torch.cuda.synchronize()

    step()
    timed, began = [], time.perf_counter()
    least, most = min(TIMED_STEPS[0], most), min(TIMED_STEPS[1], most)
    while len(timed) < least or (len(timed) < most and time.perf_counter() - began < TIMING_BUDGET):
        start = time.perf_counter()
        step()
        timed.append(time.perf_counter() - start)
    return tuple(timed)


def estimate(settings, train_lengths: list[int], eval_lengths: list[int]) -> Cost:
    """Minutes and memory of a run of these settings on pairs of these token lengths, measured here (lesson 5)."""
    checkpoint = REGISTRY.get(settings.checkpoint, REGISTRY["bert-base-uncased"])  # a saved folder: priced as BERT base
    group, multiple, longest = settings.group_by_length, settings.pad_to_multiple_of, settings.max_length
    train_tokens = padded_tokens(train_lengths, settings.batch_size, group, multiple, longest)
    eval_tokens = padded_tokens(eval_lengths, EVAL_BATCH_SIZE, False, multiple, longest)
    length = max(8, round(train_tokens / len(train_lengths)))  # the average padded length of a training batch
    steps = settings.epochs * math.ceil(len(train_lengths) / settings.batch_size)  # timing more than the run takes: waste
    timed = step_seconds(settings.batch_size, length, settings.precision, settings.dropout, settings.freeze_embeddings,
                         min(max(1, steps), TIMED_STEPS[1]))  # capped: runs of 6 steps or more share one measurement
    scale = arithmetic_per_token(checkpoint) / arithmetic_per_token(REGISTRY[PACKAGED_CHECKPOINT])
    per_token = [seconds * scale / (settings.batch_size * length) for seconds in timed]
    fixed = START_SECONDS + settings.epochs * SAVE_BYTES_PER_PARAMETER * checkpoint.params_m * 1e6 / SAVE_BYTES_PER_SECOND
    work = settings.epochs * (train_tokens + FORWARD_SHARE * eval_tokens)

    def run_minutes(seconds_per_token: float) -> float:
        return (fixed + work * seconds_per_token) / 60

    activations = ACTIVATION_BYTES * checkpoint.hidden * checkpoint.layers * settings.batch_size * max(train_lengths)
    gb = BASE_MEMORY_GB + (16 * checkpoint.params_m * 1e6 + activations) / 1e9
    typical = statistics.median(per_token)  # one slow step, when another program wakes up, moves it little
    # The range: the fastest step measured, and half as much again as the median, for a machine that gets busier
    return Cost(run_minutes(typical), run_minutes(min(per_token)) * 0.85, run_minutes(typical) * 1.5, gb)
