"""python -m tools.estimate: lesson 5's cost estimate against the time a real run takes, on this machine.

Estimates as lesson 5's widgets do (a measured warm-up, helpers/cost.py), then trains the same settings in a fresh
process with lesson 5's `train_run`, and prints both with their ratio. Results go to benchmarks/estimate-<device>.json.
"""

import argparse
import json
import platform
import time
from datetime import date

from helpers.checkpoints import default_checkpoint
from helpers.hardware import describe_device, has_gpu
from helpers.training import course_defaults
from tools.bench import RESULTS, train_in_child


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.estimate", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="full", help="full (default) or smoke")
    parser.add_argument("--source", help="hub, sample or a GLUE MRPC folder (default: MRPC_DIR, else the Hub, else the sample)")
    parser.add_argument("--checkpoint", help="default: lesson 5's for this machine")
    parser.add_argument("--batch-size", type=int, help="default: lesson 5's for this machine")
    args = parser.parse_args(argv)

    from helpers.cost import estimate, pair_tokens
    from helpers.recipe import load_mrpc

    settings = course_defaults(args.checkpoint or default_checkpoint(for_training=True, gpu=has_gpu()), args.profile, args.source)
    settings.batch_size = args.batch_size or settings.batch_size
    settings = settings.check().resolved()
    raw = load_mrpc(settings.source, settings.profile)
    started = time.perf_counter()
    cost = estimate(settings, pair_tokens(raw, "train"), pair_tokens(raw, "validation"))
    measuring = time.perf_counter() - started
    print(f"Estimate ({measuring:.1f} s to measure): {cost}")
    started = time.perf_counter()
    metrics = train_in_child(settings)
    wall = time.perf_counter() - started
    actual = metrics["train_runtime"] / 60
    print(f"Real: trainer.train() took {actual:.1f} min ({wall / 60:.1f} min with loading and saving); "
          f"estimate / real = {cost.minutes / actual:.2f}; inside the range: {cost.low <= actual <= cost.high}")
    device = describe_device()
    result = {"date": str(date.today()), "device": device, "python": platform.python_version(), "settings": settings.as_dict(),
              "estimate_minutes": cost.minutes, "estimate_low": cost.low, "estimate_high": cost.high, "measuring_seconds": measuring,
              "train_minutes": actual, "wall_minutes": wall / 60, "ratio": cost.minutes / actual,
              "eval_accuracy": metrics.get("eval_accuracy"), "eval_f1": metrics.get("eval_f1")}
    name = "gpu" if has_gpu() else "cpu"
    path = RESULTS / f"estimate-{name}-{settings.checkpoint}-{settings.profile}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {path.relative_to(RESULTS.parent)}")


if __name__ == "__main__":
    main()
