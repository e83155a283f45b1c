"""python -m tools.bench: the seed recipe against the course's defaults, same checkpoint, same data, seed by seed.

Both train on MRPC's training split less lesson 5's tuning split, are scored there after each epoch, and on validation
once; each run trains in a process of its own, so that peak memory is its own. The CPU's class and each recipe's
matrix-product ceiling (tools/ceiling.py) are measured in the same run. `--candidate` re-checks the course's recipe with
a setting changed, on the tuning split only. Results go to a JSON file, from which `python -m tools.bench --readme`
writes the README's tables.
"""

import argparse
import json
import platform
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from helpers.checkpoints import default_checkpoint
from helpers.hardware import describe_device, has_gpu
from helpers.runs import load_run
from tools.readme import write_section
from helpers.training import Settings, course_defaults

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks"


def seed_recipe(checkpoint: str, source: str | None, profile: str) -> Settings:
    """The original lesson's recipe: TrainingArguments' defaults (batch 8, 5e-5, 3 epochs, fp32, random order) (benchmark)."""
    from helpers.profile import get_profile

    epochs = get_profile(profile).epochs  # 3, as the seed writes; 1 in the smoke profile, like the course's
    return Settings(checkpoint=checkpoint, epochs=epochs, learning_rate=5e-5, batch_size=8, profile=profile, source=source,
                    tuning_split=True)


CHILD = "import sys; from tools.bench import child; child(sys.argv[1], sys.argv[2] == 'validation')"


def child(settings_json: str, look: bool) -> None:
    """In a fresh process: train one run on the tuning split, score it on validation if `look`, print the run (benchmark)."""
    from helpers.hfcache import fill_cache
    from helpers.recipe import score_run, train_run

    fill_cache()
    run = train_run(Settings(**json.loads(settings_json)))
    scores = score_run(run) if look else {}
    print("RUN=" + json.dumps({"run": str(run), **scores}))


def train_in_child(settings: Settings, look: bool = True) -> dict:
    """Train one recipe in a fresh Python process (its peak memory its own), scored on the tuning split after each epoch
    and, if `look`, once on validation; return its metrics (benchmark)."""
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(settings.as_dict()), "validation" if look else "tuning"],
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"The {settings.checkpoint} run failed:\n{done.stderr[-3000:]}")
    found = json.loads(done.stdout.split("RUN=")[-1].strip())
    run = Path(found["run"])
    metrics = load_run(run).metrics  # the Trainer's log (trainer_state.json), its results and the course's used.json
    return {"settings": settings.as_dict(), "run": str(run), **metrics, "tuning_accuracy": metrics["eval_accuracy"],
            "tuning_f1": metrics["eval_f1"], "validation_accuracy": found.get("validation_accuracy"),
            "validation_f1": found.get("validation_f1")}


def training_tokens(checkpoint: str, source: str | None, profile: str) -> dict:
    """The training pairs the runs learn from (the training split less the tuning split): pairs, real tokens, mean length
    (benchmark)."""
    from transformers import AutoTokenizer

    from helpers.checkpoints import checkpoint_path
    from helpers.recipe import load_mrpc, tokenize_dataset, tuning_split

    tokenizer = AutoTokenizer.from_pretrained(checkpoint_path(checkpoint))
    train = tokenize_dataset(tuning_split(load_mrpc(source, profile)), tokenizer)["train"]
    lengths = [len(ids) for ids in train["input_ids"]]
    return {"pairs": len(lengths), "tokens": sum(lengths), "mean_length": sum(lengths) / len(lengths)}


def ceilings(config, data: dict, recipes: dict) -> dict:
    """Each recipe's bare matrix-product ceiling in GFLOP/s: its precision, at its batch's mean shape (benchmark)."""
    from tools.ceiling import ceiling

    found = {}
    for name, settings in recipes.items():
        multiple = settings.pad_to_multiple_of or 1
        length = -(-round(data["mean_length"]) // multiple) * multiple
        found[name] = round(ceiling(config, settings.batch_size * length, settings.precision), 1)
    return found


def interval(values: list[float]) -> tuple[float, float]:
    """The 95 % t interval of the mean of paired differences or ratios (benchmark)."""
    from statistics import mean, stdev

    from scipy.stats import t

    if len(values) < 2:
        return (float("nan"), float("nan"))
    half = t.ppf(0.975, len(values) - 1) * stdev(values) / len(values) ** 0.5
    return (mean(values) - half, mean(values) + half)


def compare(seed: list[dict], course: list[dict]) -> dict:
    """Seed by seed, the course's run against the seed recipe's: speed-ups and score differences, with 95 % intervals
    (benchmark)."""
    from statistics import mean, stdev

    paired = {"speedup": [s["train_runtime"] / c["train_runtime"] for s, c in zip(seed, course)]}
    for key in ("validation_accuracy", "validation_f1", "tuning_accuracy", "tuning_f1"):
        if all(r.get(key) is not None for r in seed + course):
            paired[key] = [c[key] - s[key] for s, c in zip(seed, course)]
    return {key: {"mean": round(mean(v), 4), "sd": round(stdev(v), 4) if len(v) > 1 else None,
                  "interval": [round(x, 4) for x in interval(v)], "runs": [round(x, 4) for x in v]}
            for key, v in paired.items()}


def row(name: str, results: list[dict], train_pairs: int, data: dict | None = None, ceiling: float | None = None,
        config=None) -> dict:
    """The measured numbers of one recipe, averaged over its runs (one per seed), for the table (benchmark)."""
    from statistics import mean

    from tools.ceiling import achieved

    seconds = mean(r["train_runtime"] for r in results)
    settings = {**results[0]["settings"], "seed": [r["settings"]["seed"] for r in results]}
    gpu = [r["peak_gpu_mb"] for r in results if r.get("peak_gpu_mb")]
    tuned = all(r.get("validation_accuracy") is not None for r in results)  # tuning-split runs: validation looked at once each
    accuracy, f1 = ("validation_accuracy", "validation_f1") if tuned else ("eval_accuracy", "eval_f1")
    found = {"recipe": name, "runs": len(results), "train_s": round(seconds, 1),
             "examples_per_s": round(train_pairs * settings["epochs"] / seconds, 1),
             "peak_rss_mb": max(r["peak_rss_mb"] for r in results), "peak_gpu_mb": max(gpu) if gpu else None,
             "accuracy": round(mean(r[accuracy] for r in results), 4), "f1": round(mean(r[f1] for r in results), 4),
             "train_s_runs": [round(r["train_runtime"], 1) for r in results],
             "accuracy_runs": [round(r[accuracy], 4) for r in results], "f1_runs": [round(r[f1], 4) for r in results],
             "settings": settings}
    if tuned:
        found.update(scored_on="tuning", tuning_accuracy_runs=[round(r["tuning_accuracy"], 4) for r in results],
                     tuning_f1_runs=[round(r["tuning_f1"], 4) for r in results])
    if data and ceiling and config is not None:
        rates = [achieved(config, data["tokens"] * settings["epochs"], data["mean_length"], r["train_runtime"]) for r in results]
        found.update(ceiling_gflops=ceiling, achieved_gflops_runs=[round(x, 1) for x in rates],
                     ceiling_share_runs=[round(x / ceiling, 3) for x in rates])
    return found


def run_benchmark(checkpoint: str, source: str | None, profile: str, note: str = "", seeds: int = 1,
                  changes: list[dict] = (), out: Path | None = None) -> dict:
    """Train the seed recipe and the course's defaults, in turns, once per seed, on the training split less the tuning
    split; score each on validation once; then `recheck` the course's recipe with each of `changes`. The CPU's class and
    each recipe's matrix-product ceiling are measured in the same run. Saved to `out` after every run (benchmark)."""

    from transformers import AutoConfig

    from helpers.checkpoints import checkpoint_path
    from tools.ceiling import cpu_class

    data = training_tokens(checkpoint, source, profile)
    recipes = {"seed": seed_recipe(checkpoint, source, profile),
               "course": replace(course_defaults(checkpoint, profile, source), tuning_split=True)}
    config = AutoConfig.from_pretrained(checkpoint_path(checkpoint))
    result = {"date": date.today().isoformat(), "device": describe_device(), "cpu_class": cpu_class(),
              "python": platform.python_version(), "checkpoint": Path(checkpoint).name, "note": note,
              "train_pairs": data["pairs"], "data": data, "protocol": "tuning split", "ceilings_before": ceilings(config, data, recipes)}
    print(f"{result['cpu_class']}: matrix-product ceilings {result['ceilings_before']} GFLOP/s", flush=True)
    results, candidates = {name: [] for name in recipes}, []

    def save(more=()):
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            found = {**result, "raw": results, "candidates": [*candidates, *more]}
            out.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")

    for seed in range(42, 42 + seeds):  # in turns, so that a machine slowing down weighs on both recipes alike
        for name, settings in recipes.items():
            results[name].append(train_in_child(replace(settings, seed=seed)))
            r = results[name][-1]
            print(f"{name}, seed {seed}: {r['train_runtime']:.1f} s, tuning {r['tuning_accuracy']:.3f}, "
                  f"validation {r['validation_accuracy']:.3f}", flush=True)
            save()
    result["ceilings_after"] = ceilings(config, data, recipes)
    ceiling = {name: max(result["ceilings_before"][name], result["ceilings_after"][name]) for name in recipes}
    result["rows"] = [row(name, runs, data["pairs"], data, ceiling[name], config) for name, runs in results.items()]
    result["paired"] = compare(results["seed"], results["course"])
    result["speedup"] = round(result["paired"]["speedup"]["mean"], 2)
    save()
    candidates.extend(recheck(recipes["course"], changes, seeds, save))
    result["candidates"] = candidates
    return result


def parse_change(text: str) -> dict:
    """`learning_rate=5e-5,dropout=None` as the Settings fields it changes (command line)."""
    import ast

    fields, change = set(Settings.__dataclass_fields__), {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name.strip() not in fields or not value:
            raise SystemExit(f"--candidate {text!r}: write NAME=VALUE[,NAME=VALUE], NAME one of the settings ({', '.join(sorted(fields))}).")
        change[name.strip()] = ast.literal_eval(value.strip())
    return change


def recheck(course: Settings, changes: list[dict], seeds: int, save=lambda found: None) -> list[dict]:
    """The course's recipe with each change, once per seed, scored on the tuning split only: validation is never looked
    at for a candidate (benchmark)."""
    found = []
    for change in changes:
        for seed in range(42, 42 + seeds):
            r = train_in_child(replace(course, seed=seed, **change), look=False)
            found.append({"changes": change, "seed": seed, "tuning_accuracy": round(r["tuning_accuracy"], 4),
                          "tuning_f1": round(r["tuning_f1"], 4), "train_s": round(r["train_runtime"], 1)})
            print(f"course with {change}, seed {seed}: tuning {r['tuning_accuracy']:.3f}", flush=True)
            save(found)
    return found


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
    {"name": "batches of 64", "batch": 64, "grouped": True, "dropout": 0.0, "frozen": True, "kept": "no: no faster than batches of 32, and more memory"},
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
        knobs = describe(s)
        gpu = f"{r['peak_gpu_mb']:,} MB" if r.get("peak_gpu_mb") else "–"
        accuracy, f1 = spread(r.get("accuracy_runs", [r["accuracy"]])), spread(r.get("f1_runs", [r["f1"]]))
        times = r.get("train_s_runs", [r["train_s"]])
        took = f"{r['train_s']:.{0 if r['train_s'] >= 100 else 1}f}" + (f" ± {stdev(times):.0f}" if len(times) > 1 else "")
        lines.append(f"| {r['recipe']} | {knobs} | {took} s | {r['examples_per_s']:.1f} | {r['peak_rss_mb']:,} MB | {gpu} | {accuracy} | {f1} |")
    if result.get("note"):
        lines += ["", result["note"]]
    return "\n".join(lines)


def points(value: float) -> str:
    """A difference of two shares in percentage points, signed (benchmark)."""
    return f"{value * 100:+.1f}".replace("-", "−")


def claim(paired: dict, key: str, what: str) -> str:
    """What the paired 95 % interval of the course's difference from the seed recipe supports, in words (benchmark)."""
    found = paired[key]
    low, high = found["interval"]
    said = f"{points(found['mean'])} points (95 % interval {points(low)} to {points(high)})"
    if low > 0:
        return f"more accurate in {what}: {said}"
    if high < 0:
        return f"costs {abs(found['mean']) * 100:.1f} points of {what}: {said}"
    return f"as accurate in {what} as {len(found['runs'])} seeds can tell: {said}"


def describe(s: dict) -> str:
    """A recipe's settings in a few words (benchmark)."""
    return (f"batch {s['batch_size']}, lr {s['learning_rate']:g}, {s['epochs']} epochs, {s['precision']}"
            + (", grouped by length" if s["group_by_length"] else "") + (f", padded to ×{s['pad_to_multiple_of']}" if s.get("pad_to_multiple_of") else "")
            + (f", warm-up {s['warmup']:.0%}" if s.get("warmup") else "") + (", no dropout" if s.get("dropout") == 0 else "")
            + (", embeddings frozen" if s.get("freeze_embeddings") else ""))


def tuned_table(result: dict) -> str:
    """A Markdown table of a benchmark on the tuning split: times, speed-ups, ceiling shares, tuning and validation
    scores over the seeds, and what the paired intervals support (benchmark)."""
    from statistics import mean, stdev

    rows, paired = result["rows"], result["paired"]
    seeds = rows[0]["settings"]["seed"]
    lines = [f"**{result['cpu_class']}** ({result['device']}), `{result['checkpoint']}`, {result['train_pairs']:,} training "
             f"pairs (MRPC's training split less its tuning split), seeds {seeds[0]} to {seeds[-1]}, the two recipes in turns in "
             f"one run, {result['date']}:", "",
             "| recipe | machine | settings | training time | × seed recipe | share of the CPU's ceiling | tuning accuracy / F1 "
             "| validation accuracy / F1 | peak RSS |", "|---" * 9 + "|"]
    for r in rows:
        times = r["train_s_runs"]
        speed = "1×" if r["recipe"] == "seed" else \
            f"**{paired['speedup']['mean']:.2f}×** ± {paired['speedup']['sd']:.2f} ({min(paired['speedup']['runs']):.2f}–{max(paired['speedup']['runs']):.2f})"
        share = r["ceiling_share_runs"]
        lines.append(f"| {r['recipe']} | {result['cpu_class']} | {describe(r['settings'])} | {mean(times):.0f} ± {stdev(times):.0f} s | {speed} | "
                     f"{mean(share):.0%} ± {stdev(share):.0%} of {r['ceiling_gflops']:.0f} GFLOP/s ({r['settings']['precision']}) | "
                     f"{spread(r['tuning_accuracy_runs'])} / {spread(r['tuning_f1_runs'])} | "
                     f"{spread(r['accuracy_runs'])} / {spread(r['f1_runs'])} | {r['peak_rss_mb']:,} MB |")
    low, high = paired["speedup"]["interval"]
    lines += ["", f"The course's recipe against the seed recipe, seed by seed (95 % t intervals over the {len(seeds)} pairs): "
              f"{claim(paired, 'validation_accuracy', 'accuracy')}; {claim(paired, 'validation_f1', 'F1')}; "
              f"{paired['speedup']['mean']:.2f}× faster (95 % interval {low:.2f}–{high:.2f}×)."]
    if result.get("note"):
        lines += ["", result["note"]]
    return "\n".join(lines)


def recheck_table(result: dict) -> str:
    """A Markdown table of the re-check on the tuning split: the course's recipe, the seed's, and each candidate change,
    their tuning accuracy per seed, and whether the difference from the course's is within the seeds' spread (benchmark)."""
    from statistics import mean, stdev

    by_name = {r["recipe"]: r for r in result["rows"]}
    course = by_name["course"]["tuning_accuracy_runs"]
    tried = {"the course's recipe": course, "the seed recipe": by_name["seed"]["tuning_accuracy_runs"]}
    for c in result.get("candidates", []):
        name = "the course's, with " + ", ".join(f"{k} {v!r}" if not isinstance(v, float) else f"{k} {v:g}" for k, v in c["changes"].items())
        tried.setdefault(name, []).append(c["tuning_accuracy"])
    seeds = by_name["course"]["settings"]["seed"]
    lines = ["| recipe | " + " | ".join(f"seed {s}" for s in seeds) + " | mean ± sd | against the course's |", "|---" * (len(seeds) + 3) + "|"]
    spread_ = stdev(course)
    for name, found in tried.items():
        diff = mean(found) - mean(course)
        wide = max(spread_, stdev(found) if len(found) > 1 else 0)
        verdict = "–" if found is course else f"{points(diff)} points: " + (
            "within the seeds' spread" if abs(diff) <= wide else "above the spread" if diff > 0 else "below the spread")
        lines.append(f"| {name} | " + " | ".join(f"{a:.3f}" for a in found) + f" | {spread(found)} | {verdict} |")
    return "\n".join(lines)


def readme_section(results_dir: Path = RESULTS) -> str:
    """The README's results section, made from every JSON file in benchmarks/ (benchmark): the benchmarks on the tuning
    split first, then the earlier ones, whose recipes were chosen and scored on validation."""
    results = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(results_dir.glob("train-*.json"))]
    tuned = [r for r in results if r.get("protocol") == "tuning split" and "paired" in r]
    earlier = [r for r in results if r not in tuned]
    parts = [tuned_table(r) for r in tuned]
    if earlier:
        parts.append("Earlier benchmarks, before the tuning split: their recipes were chosen on validation and scored there "
                     "(\"accuracy\" is validation's), so their accuracy flatters them; their times stand.")
        parts += [table(r) for r in earlier]
    return "\n\n".join(parts) or "No results yet: run `python -m tools.bench`."


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="registry name (default: the course's training default here)")
    parser.add_argument("--source", default=None, help="hub, sample or a GLUE MRPC folder (default: automatic)")
    parser.add_argument("--profile", default="full", help="full (default) or smoke")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the results (default: benchmarks/<device>.json)")
    parser.add_argument("--seeds", type=int, default=1, help="runs of each recipe, with seeds 42, 43, ... (default: 1)")
    parser.add_argument("--candidate", action="append", default=[], metavar="NAME=VALUE[,NAME=VALUE]",
                        help="the course's recipe with these settings changed, re-checked on the tuning split only (repeatable)")
    parser.add_argument("--candidates-only", action="store_true", help="only train the candidates, adding them to --out's benchmark")
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
        out = args.out or RESULTS / f"train-{'gpu' if has_gpu() else 'cpu'}-{Path(checkpoint).name}.json"
        changes = [parse_change(text) for text in args.candidate]
        if args.candidates_only:  # more candidates for a benchmark already made: added to its file
            result = json.loads(out.read_text(encoding="utf-8"))
            course = replace(course_defaults(checkpoint, args.profile, args.source), tuning_split=True)
            kept = result.get("candidates", [])

            def save(found):  # after every run: a run stopped midway keeps the candidates trained before it
                out.write_text(json.dumps({**result, "candidates": kept + found}, indent=2) + "\n", encoding="utf-8")

            result["candidates"] = kept + recheck(course, changes, args.seeds, save)
        else:
            result = run_benchmark(checkpoint, args.source, args.profile, args.note, args.seeds, changes, out)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(table(result))
        print(f"Results written to {out}")
    write_section("bench", readme_section())
    tuned = [p for p in sorted(RESULTS.glob("train-*.json")) if "paired" in json.loads(p.read_text(encoding="utf-8"))]
    if tuned:
        write_section("recheck", recheck_table(json.loads(tuned[-1].read_text(encoding="utf-8"))))
    if (RESULTS / "knobs-cpu.json").exists():
        write_section("knobs", knob_table())


if __name__ == "__main__":
    main()
