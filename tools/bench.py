"""python -m tools.bench: the seed recipe against the course's defaults, same checkpoint, same data, one table.

Each recipe trains in a process of its own, so that peak memory is its own. Results go to a JSON file, from which
`python -m tools.bench --readme` writes the README's results table.
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
from tools.readme import write_section
from helpers.training import Settings, course_defaults

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks"


def seed_recipe(checkpoint: str, source: str | None, profile: str) -> Settings:
    """The original lesson's recipe: TrainingArguments' defaults (batch 8, 5e-5, 3 epochs, fp32, random order) (benchmark)."""
    from helpers.profile import get_profile

    epochs = get_profile(profile).epochs  # 3, as the seed writes; 1 in the smoke profile, like the course's
    return Settings(checkpoint=checkpoint, epochs=epochs, learning_rate=5e-5, batch_size=8, profile=profile, source=source)


def train_in_child(settings: Settings) -> dict:
    """Train one recipe in a fresh Python process; return its saved metrics (benchmark)."""
    code = "import json,sys; from helpers.recipe import train_run; from helpers.training import Settings; print('RUN=' + str(train_run(Settings(**json.loads(sys.argv[1])))))"
    done = subprocess.run([sys.executable, "-c", code, json.dumps(settings.as_dict())], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"The {settings.checkpoint} run failed:\n{done.stderr[-3000:]}")
    run = Path(done.stdout.split("RUN=")[-1].strip())
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    return {"settings": settings.as_dict(), "run": str(run), **metrics}


def row(name: str, results: list[dict], train_pairs: int) -> dict:
    """The measured numbers of one recipe, averaged over its runs (one per seed), for the table (benchmark)."""
    from statistics import mean

    seconds = mean(r["train_runtime"] for r in results)
    settings = {**results[0]["settings"], "seed": [r["settings"]["seed"] for r in results]}
    gpu = [r["peak_gpu_mb"] for r in results if r.get("peak_gpu_mb")]
    return {"recipe": name, "runs": len(results), "train_s": round(seconds, 1),
            "examples_per_s": round(train_pairs * settings["epochs"] / seconds, 1),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results), "peak_gpu_mb": max(gpu) if gpu else None,
            "accuracy": round(mean(r["eval_accuracy"] for r in results), 4), "f1": round(mean(r["eval_f1"] for r in results), 4),
            "train_s_runs": [round(r["train_runtime"], 1) for r in results],
            "accuracy_runs": [round(r["eval_accuracy"], 4) for r in results], "f1_runs": [round(r["eval_f1"], 4) for r in results],
            "settings": settings}


def run_benchmark(checkpoint: str, source: str | None, profile: str, note: str = "", seeds: int = 1) -> dict:
    """Train the seed recipe and the course's defaults, in turns, once per seed; return both rows and the speed-up (benchmark)."""
    from dataclasses import replace

    from helpers.recipe import load_mrpc

    train_pairs = load_mrpc(source, profile)["train"].num_rows
    recipes = {"seed": seed_recipe(checkpoint, source, profile), "course": course_defaults(checkpoint, profile, source)}
    results = {name: [] for name in recipes}
    for seed in range(42, 42 + seeds):  # in turns, so that a machine slowing down weighs on both recipes alike
        for name, settings in recipes.items():
            results[name].append(train_in_child(replace(settings, seed=seed)))
            print(f"{name}, seed {seed}: {results[name][-1]['train_runtime']:.1f} s, accuracy {results[name][-1]['eval_accuracy']:.3f}", flush=True)
    rows = [row(name, runs, train_pairs) for name, runs in results.items()]
    return {"date": date.today().isoformat(), "device": describe_device(), "python": platform.python_version(),
            "checkpoint": Path(checkpoint).name, "note": note, "train_pairs": train_pairs, "rows": rows,
            "speedup": round(rows[0]["train_s"] / rows[1]["train_s"], 2)}


def spread(values: list[float]) -> str:
    """A mean, with the standard deviation where there are several runs (benchmark)."""
    from statistics import mean, stdev

    return f"{mean(values):.3f}" + (f" ± {stdev(values):.3f}" if len(values) > 1 else "")


KNOBS = [  # one knob changed at a time, each row from the one it names; "kept" says what the course does with it
    {"name": "the seed recipe", "batch": 8, "kept": "the seed recipe"},
    {"name": "batches of 32", "batch": 32, "kept": "yes: fewer, fuller steps (learning rate doubled to 1e-4)"},
    {"name": "grouped by length", "batch": 32, "grouped": True, "kept": "yes: less padding"},
    {"name": "bf16", "batch": 32, "grouped": True, "bf16": True, "kept": "where the CPU has `avx512_bf16` or AMX, else fp32"},
    {"name": "no dropout", "batch": 32, "grouped": True, "dropout": 0.0, "kept": "yes, on a CPU: no random zeros to draw"},
    {"name": "embeddings frozen", "batch": 32, "grouped": True, "dropout": 0.0, "frozen": True,
     "kept": "yes, on a CPU: half of MiniLM's weights left out of AdamW"},
    {"name": "batches of 64", "batch": 64, "grouped": True, "dropout": 0.0, "frozen": True, "kept": "no: costs accuracy and memory"},
]


def knob_seconds(checkpoint: str, source: str | None, pairs: int = 640) -> list[dict]:
    """Seconds of one training pass over `pairs` training pairs for each row of KNOBS, padded to ×8 (benchmark)."""
    from helpers.hardware import detect
    from helpers.recipe import load_model
    from tools.levers import epoch_batches, time_epoch

    native_bf16, timings, formed = detect().bf16, [], {}
    for knob in KNOBS:
        if knob.get("bf16") and not native_bf16:  # emulated, bf16 takes many times longer: nothing to learn from it here
            timings.append({**knob, "seconds": None})
            print(f"{knob['name']:>18}: not timed, this CPU has no native bf16", flush=True)
            continue
        shape = (knob["batch"], knob.get("grouped", False))  # batches formed before the clock starts, once per shape
        if shape not in formed:
            formed[shape] = epoch_batches(source, knob["batch"], pairs, knob.get("grouped", False), checkpoint)
        model = load_model(checkpoint, knob.get("dropout"), knob.get("frozen", False)).train()
        spent = time_epoch(model, formed[shape], knob.get("bf16", False))
        timings.append({**knob, "seconds": round(spent["total_s"], 1)})
        print(f"{knob['name']:>18}: {timings[-1]['seconds']:6.1f} s", flush=True)
    return timings


def knob_table(path: Path = RESULTS / "knobs-cpu.json") -> str:
    """A Markdown table of `--knobs`' measurements: each knob's seconds and its ratio to the seed recipe (benchmark)."""
    found = json.loads(path.read_text(encoding="utf-8"))
    rows, seed = found["knobs"], found["knobs"][0]["seconds"]
    lines = [f"{found['device']}, {found['pairs']} pairs, one pass, {found['date']}:", "",
             "| knob | batch | precision | order | dropout | embeddings | seconds | × seed | kept? |", "|---" * 9 + "|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['batch']} | {'bf16' if r.get('bf16') else 'fp32'} | "
                     f"{'grouped' if r.get('grouped') else 'random'} | {'off' if r.get('dropout') == 0 else '0.1'} | "
                     f"{'frozen' if r.get('frozen') else 'trained'} | "
                     + (f"{r['seconds']:.1f} | {seed / r['seconds']:.2f}" if r["seconds"] else "not timed: no native bf16 here | –")
                     + f" | {r['kept']} |")
    return "\n".join(lines)


def table(result: dict) -> str:
    """A Markdown table of one benchmark result (benchmark)."""
    from statistics import stdev

    runs = result["rows"][0].get("runs", 1)
    lines = [f"**{result['device']}**, `{result['checkpoint']}`, {result['train_pairs']:,} training pairs, {result['date']}"
             + (f", each recipe run with {runs} seeds (means, ± standard deviation)" if runs > 1 else "") + ": "
             f"the course's defaults train **{result['speedup']}×** faster than the seed recipe.", "",
             "| recipe | settings | training time | examples/s | peak RSS | peak GPU memory | accuracy | F1 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        s = r["settings"]
        knobs = f"batch {s['batch_size']}, lr {s['learning_rate']:g}, {s['epochs']} epochs, {s['precision']}" + (", grouped by length" if s["group_by_length"] else "") + (f", padded to ×{s['pad_to_multiple_of']}" if s.get("pad_to_multiple_of") else "") + (f", warm-up {s['warmup']:.0%}" if s.get("warmup") else "") + (", no dropout" if s.get("dropout") == 0 else "") + (", embeddings frozen" if s.get("freeze_embeddings") else "")
        gpu = f"{r['peak_gpu_mb']:,} MB" if r.get("peak_gpu_mb") else "–"
        accuracy, f1 = spread(r.get("accuracy_runs", [r["accuracy"]])), spread(r.get("f1_runs", [r["f1"]]))
        times = r.get("train_s_runs", [r["train_s"]])
        took = f"{r['train_s']:.{0 if r['train_s'] >= 100 else 1}f}" + (f" ± {stdev(times):.0f}" if len(times) > 1 else "")
        lines.append(f"| {r['recipe']} | {knobs} | {took} s | {r['examples_per_s']:.1f} | {r['peak_rss_mb']:,} MB | {gpu} | {accuracy} | {f1} |")
    if result.get("note"):
        lines += ["", result["note"]]
    return "\n".join(lines)


ORDERS = {"transformers": "grouped, transformers' order", "shuffled": "grouped, shuffled", "random": "random, not grouped"}


def search_table(path: Path = RESULTS / "cpu-recipe-search.json") -> str:
    """A Markdown table of the CPU recipe search: final accuracy / F1 for each recipe and seed, and their means (benchmark)."""
    from statistics import mean

    runs = json.loads(path.read_text(encoding="utf-8"))["runs"]
    seeds, recipes = sorted({run["seed"] for run in runs}), {}
    for run in runs:
        recipes.setdefault((run["batch_order"], run["learning_rate"], run["warmup"]), {})[run["seed"]] = (run["accuracy_by_epoch"][-1], run["f1_by_epoch"][-1])
    lines = ["| batches | learning rate | warm-up | " + " | ".join(f"seed {seed}" for seed in seeds) + " | mean |", "|---" * (len(seeds) + 4) + "|"]
    for (order, learning_rate, warmup), found in recipes.items():
        cells = [f"{found[seed][0]:.3f} / {found[seed][1]:.3f}" if seed in found else "–" for seed in seeds]
        means = f"{mean(a for a, _ in found.values()):.3f} / {mean(f for _, f in found.values()):.3f}"
        rate = f"{learning_rate:.1e}".replace("e-0", "e-")
        lines.append(f"| {ORDERS.get(order, order)} | {rate} | {warmup:.0%} | {' | '.join(cells)} | {means} |")
    return "\n".join(lines)


def readme_section(results_dir: Path = RESULTS) -> str:
    """The README's results section, made from every JSON file in benchmarks/ (benchmark)."""
    results = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(results_dir.glob("train-*.json"))]
    return "\n\n".join(table(r) for r in results) or "No results yet: run `python -m tools.bench`."


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="registry name (default: the course's training default here)")
    parser.add_argument("--source", default=None, help="hub, sample or a GLUE MRPC folder (default: automatic)")
    parser.add_argument("--profile", default="full", help="full (default) or smoke")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the results (default: benchmarks/<device>.json)")
    parser.add_argument("--seeds", type=int, default=1, help="runs of each recipe, with seeds 42, 43, ... (default: 1)")
    parser.add_argument("--note", default="", help="a sentence printed under the results table (for example, how the checkpoint was made)")
    parser.add_argument("--readme", action="store_true", help="only regenerate the README's results table")
    parser.add_argument("--knobs", action="store_true", help="only time one pass over 640 pairs for each speed knob, on the CPU")
    args = parser.parse_args(argv)
    if args.knobs:
        pairs = 640
        timings = knob_seconds(args.checkpoint or default_checkpoint(for_training=True), args.source, pairs)
        out = args.out or RESULTS / "knobs-cpu.json"
        out.write_text(json.dumps({"date": date.today().isoformat(), "device": describe_device(), "pairs": pairs, "knobs": timings}, indent=2) + "\n", encoding="utf-8")
        print(f"Results written to {out}")
    if not args.readme and not args.knobs:
        checkpoint = args.checkpoint or default_checkpoint(for_training=True, gpu=has_gpu())
        result = run_benchmark(checkpoint, args.source, args.profile, args.note, args.seeds)
        print(table(result))
        out = args.out or RESULTS / f"train-{'gpu' if has_gpu() else 'cpu'}-{Path(checkpoint).name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"Results written to {out}")
    write_section("bench", readme_section())
    write_section("search", search_table())
    if (RESULTS / "knobs-cpu.json").exists():
        write_section("knobs", knob_table())


if __name__ == "__main__":
    main()
