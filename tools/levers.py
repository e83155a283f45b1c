"""python -m tools.levers: where a CPU epoch's time goes, and what each speed lever costs in accuracy.

`profile` times one epoch of length-grouped batches of 32 by hand, split into forward, backward and AdamW, for the
course's model as the seed loads it and with one lever changed at a time (no dropout; embeddings frozen; `torch.compile`,
run twice: its first pass pays for compiling), in fp32 or, with --bf16, under bf16 autocast. `ops` profiles some batches of
the course's CPU recipe with torch's profiler and sorts its time into kinds of operation (the matrix products the
ceiling measures, the rest of each layer, casts, AdamW). `accuracy` trains one run with lesson 5's `train_run` and chosen levers
and prints its validation accuracy and F1 after each epoch. Both append what they measured to a JSON file
(default: benchmarks/cpu-levers.json), which the README's account of the levers quotes.
"""

import argparse
import json
import time
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

from helpers.checkpoints import PACKAGED_CHECKPOINT
from helpers.hardware import describe_device

OUT = Path(__file__).resolve().parent.parent / "benchmarks" / "cpu-levers.json"
VARIANTS = {  # name: (dropout, freeze_embeddings, compiled)
    "as loaded": (None, False, False),
    "no dropout": (0.0, False, False),
    "embeddings frozen": (None, True, False),
    "no dropout, embeddings frozen": (0.0, True, False),
    "no dropout, embeddings frozen, torch.compile": (0.0, True, True),
}


def epoch_batches(source: str | None, batch_size: int = 32, pairs: int | None = None, grouped: bool = True,
                  checkpoint: str = PACKAGED_CHECKPOINT) -> list[dict]:
    """The first `pairs` training pairs (all by default) in batches padded to ×8, grouped by length as the course's
    Trainer forms them or in the split's order as the seed's does (benchmark)."""
    from transformers import AutoTokenizer, DataCollatorWithPadding

    from helpers.checkpoints import checkpoint_path
    from helpers.recipe import load_mrpc, tokenize_dataset
    from helpers.measure import batches, model_inputs

    tokenizer = AutoTokenizer.from_pretrained(checkpoint_path(checkpoint))
    train = tokenize_dataset(load_mrpc(source, "full"), tokenizer)["train"]
    examples = model_inputs(train.select(range(pairs)) if pairs else train, tokenizer)
    ordered = sorted(examples, key=lambda e: len(e["input_ids"])) if grouped else examples
    return batches(ordered, DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8), batch_size)


def time_epoch(model, batches: list[dict], bf16: bool = False) -> dict:
    """Seconds of one pass over `batches`: forward, backward and AdamW apart; the forward in bf16 autocast if asked
    (benchmark)."""
    import torch

    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6)
    spent = {"forward_s": 0.0, "backward_s": 0.0, "optimizer_s": 0.0}
    began = time.perf_counter()
    for batch in batches:
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(**batch).loss
        forward = time.perf_counter()
        loss.backward()
        backward = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad()
        spent["forward_s"] += forward - start
        spent["backward_s"] += backward - forward
        spent["optimizer_s"] += time.perf_counter() - backward
    return {"total_s": round(time.perf_counter() - began, 3), **{k: round(v, 3) for k, v in spent.items()}}


def profile(source: str | None, names: list[str], bf16: bool = False, attention: str = "sdpa") -> list[dict]:
    """Each variant's epoch, timed, in fp32 or under bf16 autocast, with torch's fused attention (sdpa) or BERT's own
    matrix products and softmax (eager); a compiled one twice (benchmark)."""
    import torch

    from helpers.recipe import load_model

    batches, found = epoch_batches(source), []
    for name in names:
        dropout, frozen, compiled = VARIANTS[name]
        model = load_model(PACKAGED_CHECKPOINT, dropout, frozen).train()
        model.set_attn_implementation(attention)
        runner = torch.compile(model) if compiled else model
        for attempt in (1, 2) if compiled else (1,):
            found.append({"variant": name, "pass": attempt, "bf16": bf16, "attention": attention,
                          **time_epoch(runner, batches, bf16)})
            print(json.dumps(found[-1]), flush=True)
    return found


# Kinds of operation, by the names torch's profiler gives them (first match wins; "the rest" takes what none matches)
KINDS = {
    "matrix products": ("aten::addmm", "aten::mm", "aten::bmm", "aten::baddbmm", "mkldnn", "onednn"),
    "attention": ("aten::_scaled_dot_product", "aten::_softmax", "aten::_softmax_backward"),
    "casts to and from bf16": ("aten::copy_", "aten::_to_copy", "aten::to"),
    "layer norm and GELU": ("aten::native_layer_norm", "aten::gelu", "layer_norm_backward", "gelu_backward"),
    "AdamW": ("aten::_foreach", "aten::_fused_adamw", "Optimizer."),
    "adds, multiplies and gradient sums": ("aten::add", "aten::mul", "aten::sum", "aten::div", "aten::fill_",
                                           "aten::zero_"),
}


def kind(name: str) -> str:
    """Which of KINDS an operation of torch's profiler belongs to (benchmark)."""
    return next((k for k, prefixes in KINDS.items() if name.startswith(prefixes)), "the rest")


def ops(source: str | None, batches: int, bf16: bool, checkpoint: str = PACKAGED_CHECKPOINT, batch_size: int = 32,
        attention: str = "sdpa") -> dict:
    """Self CPU time of `batches` training steps of the course's CPU recipe (no dropout, embeddings frozen, batches of
    32 grouped by length, or `batch_size`), after 5 warm-up steps, by kind of operation; the ten costliest operations
    (benchmark)."""
    from torch import profiler

    from helpers.recipe import load_model

    chosen = epoch_batches(source, batch_size, checkpoint=checkpoint)
    step = max(1, len(chosen) // (batches + 5))
    chosen = chosen[::step][: batches + 5]  # short and long pairs alike, as an epoch has them
    model = load_model(checkpoint, 0.0, True).train()
    model.set_attn_implementation(attention)
    time_epoch(model, chosen[:5], bf16)  # warm-up: oneDNN builds its kernels for the first shapes
    with profiler.profile(activities=[profiler.ProfilerActivity.CPU]) as traced:  # not this module's profile()
        spent = time_epoch(model, chosen[5:], bf16)
    by_op = {e.key: e.self_cpu_time_total / 1e6 for e in traced.key_averages()}
    total = sum(by_op.values())
    by_kind = Counter()
    for name, seconds in by_op.items():
        by_kind[kind(name)] += seconds
    return {"batches": len(chosen) - 5, "bf16": bf16, "attention": attention, **spent, "profiled_s": round(total, 3),
            "share_by_kind": {k: round(v / total, 3) for k, v in by_kind.most_common()},
            "costliest_ops": {name: round(seconds / total, 3) for name, seconds in Counter(by_op).most_common(10)}}


def accuracy(source: str | None, epochs: int, learning_rate: float, dropout: float | None, frozen: bool,
             frozen_layers: int, seed: int) -> dict:
    """One run of lesson 5's `train_run` with these levers; its accuracy and F1 after each epoch (benchmark)."""
    from helpers import recipe
    from helpers.runs import load_run
    from helpers.training import course_defaults

    if frozen_layers:  # the lowest encoder layers kept as pretrained too: not a course setting, measured here only
        load_model = recipe.load_model

        def with_layers_frozen(*args, **kwargs):
            model = load_model(*args, **kwargs)
            for layer in model.base_model.encoder.layer[:frozen_layers]:
                layer.requires_grad_(False)
            return model

        recipe.load_model = with_layers_frozen
    settings = replace(course_defaults(PACKAGED_CHECKPOINT, "full", source), epochs=epochs, learning_rate=learning_rate,
                       dropout=dropout, freeze_embeddings=frozen, seed=seed)
    run = load_run(recipe.train_run(settings))
    evaluations = [h for h in run.history if "eval_accuracy" in h]
    return {"epochs": epochs, "learning_rate": learning_rate, "dropout": dropout, "freeze_embeddings": frozen,
            "frozen_layers": frozen_layers, "seed": seed, "train_s": round(run.metrics["train_runtime"], 1),
            "accuracy_by_epoch": [round(h["eval_accuracy"], 4) for h in evaluations],
            "f1_by_epoch": [round(h["eval_f1"], 4) for h in evaluations]}


def append(out: Path, key: str, rows: list[dict], threads: int) -> None:
    """Add measured rows to the JSON file, with the machine and the date (benchmark)."""
    kept = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    kept.setdefault(key, []).extend({**row, "threads": threads, "date": date.today().isoformat(), "device": describe_device()}
                                    for row in rows)
    out.write_text(json.dumps(kept, indent=2) + "\n", encoding="utf-8")
    print(f"Written to {out}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.levers", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["profile", "ops", "accuracy"])
    parser.add_argument("--source", default=None, help="a GLUE MRPC folder (the real data: benchmarks need it), hub or sample")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS), help="profile: which to time")
    parser.add_argument("--bf16", action="store_true", help="profile, ops: the forward pass under bf16 autocast")
    parser.add_argument("--attention", default="sdpa", choices=["sdpa", "eager"],
                        help="profile, ops: torch's fused attention (default) or BERT's own matrix products and softmax")
    parser.add_argument("--batches", type=int, default=40, help="ops: training steps profiled (default: 40)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--dropout", type=float, default=None, help="accuracy: every dropout probability (default: the checkpoint's)")
    parser.add_argument("--freeze-embeddings", action="store_true")
    parser.add_argument("--frozen-layers", type=int, default=0, help="accuracy: the lowest encoder layers frozen too")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=None, help="torch's threads (default: one per core)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    if args.what == "profile":
        append(args.out, "profile", profile(args.source, args.variants, args.bf16, args.attention), threads)
    elif args.what == "ops":
        found = ops(args.source, args.batches, args.bf16, attention=args.attention)
        print(json.dumps(found, indent=2))
        append(args.out, "ops", [found], threads)
    else:
        found = accuracy(args.source, args.epochs, args.learning_rate, args.dropout, args.freeze_embeddings,
                         args.frozen_layers, args.seed)
        print(json.dumps(found))
        append(args.out, "accuracy", [found], threads)


if __name__ == "__main__":
    main()
