"""python -m helpers.bench: the seed recipe against the course's defaults, same checkpoint, same data, one table.

Each recipe trains in a process of its own, so that peak memory is its own. Results go to a JSON file, from which
`python -m helpers.bench --readme` writes the README's results table.
"""

import argparse
import json
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

from helpers.checkpoints import default_checkpoint
from helpers.hardware import describe_device, has_gpu
from helpers.readme import write_section
from helpers.training import Settings, course_defaults

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks"


def seed_recipe(checkpoint: str, source: str | None, profile: str) -> Settings:
    """The original lesson's recipe: TrainingArguments' defaults (batch 8, 5e-5, 3 epochs, fp32, random order) (benchmark)."""
    return Settings(checkpoint=checkpoint, epochs=3, learning_rate=5e-5, batch_size=8, profile=profile, source=source)


def train_in_child(settings: Settings) -> dict:
    """Train one recipe in a fresh Python process; return its saved metrics (benchmark)."""
    code = "import json,sys; from helpers.training import Settings, train_run; print('RUN=' + str(train_run(Settings(**json.loads(sys.argv[1])))))"
    done = subprocess.run([sys.executable, "-c", code, json.dumps(settings.as_dict())], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"The {settings.checkpoint} run failed:\n{done.stderr[-3000:]}")
    run = Path(done.stdout.split("RUN=")[-1].strip())
    metrics = json.loads((run / "metrics.json").read_text())
    return {"settings": settings.as_dict(), "run": str(run), **metrics}


def row(name: str, result: dict, train_pairs: int) -> dict:
    """The measured numbers of one recipe, for the table (benchmark)."""
    seconds = result["train_runtime"]
    return {"recipe": name, "train_s": round(seconds, 1), "examples_per_s": round(train_pairs * result["settings"]["epochs"] / seconds, 1),
            "peak_rss_mb": result["peak_rss_mb"], "peak_gpu_mb": result.get("peak_gpu_mb"),
            "accuracy": round(result["eval_accuracy"], 4), "f1": round(result["eval_f1"], 4), "settings": result["settings"]}


def run_benchmark(checkpoint: str, source: str | None, profile: str) -> dict:
    """Train the seed recipe, then the course's defaults; return both rows and the speed-up (benchmark)."""
    from helpers.data import load_mrpc

    train_pairs = load_mrpc(source, profile)["train"].num_rows
    recipes = {"seed": seed_recipe(checkpoint, source, profile), "course": course_defaults(checkpoint, profile, source)}
    rows = [row(name, train_in_child(settings), train_pairs) for name, settings in recipes.items()]
    return {"date": date.today().isoformat(), "device": describe_device(), "python": platform.python_version(),
            "checkpoint": checkpoint, "train_pairs": train_pairs, "rows": rows,
            "speedup": round(rows[0]["train_s"] / rows[1]["train_s"], 2)}


KNOBS = [  # (batch size, bf16, grouped by length): one knob changed at a time from the seed recipe
    (8, False, False), (32, False, False), (32, True, False), (32, False, True), (32, True, True), (64, True, True)]


def knob_seconds(checkpoint: str, source: str | None, pairs: int = 640) -> list[tuple[tuple, float]]:
    """Seconds of one training pass over `pairs` training pairs for each combination of KNOBS (benchmark)."""
    import time

    import torch
    from transformers import DataCollatorWithPadding

    from helpers.checkpoints import load_model, load_tokenizer
    from helpers.data import load_mrpc
    from helpers.tokens import batches, model_inputs, tokenize_dataset

    tokenizer = load_tokenizer(checkpoint)
    examples = model_inputs(tokenize_dataset(load_mrpc(source, "full"), tokenizer)["train"].select(range(pairs)), tokenizer)
    model, collator, timings = load_model(checkpoint).train(), DataCollatorWithPadding(tokenizer), []
    for batch_size, bf16, grouped in KNOBS:
        ordered = sorted(examples, key=lambda e: len(e["input_ids"])) if grouped else examples
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
        start = time.perf_counter()
        for batch in batches(ordered, collator, batch_size):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        timings.append(((batch_size, bf16, grouped), time.perf_counter() - start))
        print(f"batch {batch_size:>2}, {'bf16' if bf16 else 'fp32'}, {'grouped by length' if grouped else 'random order':17}: {timings[-1][1]:6.1f} s", flush=True)
    return timings


def table(result: dict) -> str:
    """A Markdown table of one benchmark result (benchmark)."""
    lines = [f"**{result['device']}**, `{result['checkpoint']}`, {result['train_pairs']:,} training pairs, {result['date']}: "
             f"the course's defaults train **{result['speedup']}×** faster than the seed recipe.", "",
             "| recipe | settings | training time | examples/s | peak RSS | peak GPU memory | accuracy | F1 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        s = r["settings"]
        knobs = f"batch {s['batch_size']}, lr {s['learning_rate']:g}, {s['epochs']} epochs, {s['precision']}" + (", grouped by length" if s["group_by_length"] else "")
        gpu = f"{r['peak_gpu_mb']:,} MB" if r.get("peak_gpu_mb") else "–"
        lines.append(f"| {r['recipe']} | {knobs} | {r['train_s']:.0f} s | {r['examples_per_s']:.1f} | {r['peak_rss_mb']:,} MB | {gpu} | {r['accuracy']:.3f} | {r['f1']:.3f} |")
    return "\n".join(lines)


def readme_section(results_dir: Path = RESULTS) -> str:
    """The README's results section, made from every JSON file in benchmarks/ (benchmark)."""
    results = [json.loads(p.read_text()) for p in sorted(results_dir.glob("train-*.json"))]
    return "\n\n".join(table(r) for r in results) or "No results yet: run `python -m helpers.bench`."


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="registry name (default: the course's training default here)")
    parser.add_argument("--source", default=None, help="hub, sample or a GLUE MRPC folder (default: automatic)")
    parser.add_argument("--profile", default="full", help="full (default) or smoke")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the results (default: benchmarks/<device>.json)")
    parser.add_argument("--readme", action="store_true", help="only regenerate the README's results table")
    parser.add_argument("--knobs", action="store_true", help="only time one pass over 640 pairs for each speed knob, on the CPU")
    args = parser.parse_args(argv)
    if args.knobs:
        knob_seconds(args.checkpoint or default_checkpoint(for_training=True), args.source)
        return
    if not args.readme:
        checkpoint = args.checkpoint or default_checkpoint(for_training=True, gpu=has_gpu())
        result = run_benchmark(checkpoint, args.source, args.profile)
        print(table(result))
        out = args.out or RESULTS / f"train-{'gpu' if has_gpu() else 'cpu'}-{checkpoint}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"Results written to {out}")
    write_section("bench", readme_section())


if __name__ == "__main__":
    main()
