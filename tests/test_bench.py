"""The benchmark's arithmetic: runs of several seeds averaged, the spread shown, the speed-up from the means."""

import json
import math

import pytest

from tools import bench
from helpers.training import Settings


def result(seconds, accuracy, seed, gpu=None):
    return {"train_runtime": seconds, "eval_accuracy": accuracy, "eval_f1": accuracy + 0.05, "peak_rss_mb": 1000 + seed,
            "peak_gpu_mb": gpu, "settings": Settings("sentence-transformers/all-MiniLM-L6-v2", seed=seed).as_dict()}


def test_a_recipe_run_with_several_seeds_reports_means_and_spread():
    row = bench.row("course", [result(100, 0.80, 42), result(110, 0.82, 43), result(120, 0.84, 44)], train_pairs=3668)
    assert (row["runs"], row["train_s"], row["accuracy"], row["f1"]) == (3, 110, 0.82, 0.87)
    assert row["examples_per_s"] == round(3668 * 3 / 110, 1) and row["peak_rss_mb"] == 1044 and row["peak_gpu_mb"] is None
    assert row["settings"]["seed"] == [42, 43, 44] and row["accuracy_runs"] == [0.8, 0.82, 0.84]
    seed = bench.row("seed", [result(330, 0.81, 42)], train_pairs=3668)
    table = bench.table({"device": "CPU: x", "checkpoint": "sentence-transformers/all-MiniLM-L6-v2", "train_pairs": 3668, "date": "2026-11-26",
                         "rows": [{**seed, "runs": 3}, row], "speedup": 3.0, "note": "A note."})
    assert "3 seeds" in table and "| 0.820 ± 0.020 | 0.870 ± 0.020 |" in table and table.endswith("A note.")
    assert row["train_s_runs"] == [100, 110, 120] and "| 110 ± 10 s |" in table  # the times' spread, like the scores'
    assert "| 330 s |" in table  # a row of one run has no spread (the seed's, here)


def test_the_knob_table_gives_each_knobs_seconds_and_its_speed_against_the_seed(tmp_path):
    path = tmp_path / "knobs.json"
    knobs = [{**bench.KNOBS[0], "seconds": 40.0}, {**bench.KNOBS[-2], "seconds": 16.0}]
    path.write_text(json.dumps({"device": "CPU: x", "pairs": 640, "date": "2026-11-27", "knobs": knobs}), encoding="utf-8")
    lines = bench.knob_table(path).splitlines()
    assert lines[0] == "CPU: x, 640 pairs, one pass, 2026-11-27:" and len(lines) == 6
    assert lines[4].startswith("| the seed recipe | 8 | fp32 | random | 0.1 | trained | 40.0 | 1.00 |")
    assert lines[5].startswith("| embeddings frozen | 32 | fp32 | grouped | off | frozen | 16.0 | 2.50 | yes, on a CPU")


def test_each_knob_is_timed_with_its_own_batches_and_model(tiny_checkpoint, monkeypatch):
    """The knob table's rows differ by one knob each: the timed batches and model must really carry that knob."""
    from tools import levers

    seen = []

    def record(model, batches, bf16=False):
        rows = [int(n) for b in batches for n in b["attention_mask"].sum(dim=1)]  # each pair's real length, in order
        dropouts = {m.p for m in model.modules() if m.__class__.__name__ == "Dropout"}
        seen.append({"sizes": [len(b["input_ids"]) for b in batches], "grouped": rows == sorted(rows),
                     "padded": all(b["input_ids"].shape[1] % 8 == 0 for b in batches),
                     "dropout": dropouts, "frozen": not model.base_model.embeddings.word_embeddings.weight.requires_grad,
                     "training": model.training, "bf16": bf16})
        return {"total_s": 0.5 * len(seen)}

    monkeypatch.setattr(levers, "time_epoch", record)
    monkeypatch.setattr("helpers.hardware.detect", lambda: type("Found", (), {"bf16": False})())
    timings = bench.knob_seconds(tiny_checkpoint, "sample", pairs=24)
    assert [t["name"] for t in timings] == [k["name"] for k in bench.KNOBS]
    assert [t["seconds"] for t in timings] == [0.5, 1.0, 1.5, None, 2.0, 2.5, 3.0]  # bf16 skipped: no native bf16 here
    seed, b32, grouped, no_dropout, frozen, b64 = seen
    assert seed["sizes"] == [8, 8, 8] and b32["sizes"] == [24] and b64["sizes"] == [24]
    assert [s["grouped"] for s in seen] == [False, False, True, True, True, True] and all(s["padded"] for s in seen)
    assert (seed["dropout"], no_dropout["dropout"]) == ({0.1}, {0.0})
    assert (no_dropout["frozen"], frozen["frozen"], b64["frozen"]) == (False, True, True)
    assert all(s["training"] and not s["bf16"] for s in seen)


def test_the_course_row_names_dropout_and_frozen_embeddings():
    settings = {**Settings("sentence-transformers/all-MiniLM-L6-v2", dropout=0.0, freeze_embeddings=True).as_dict(), "seed": [42]}
    course = {**bench.row("course", [result(100, 0.8, 42)], 3668), "settings": settings}
    table = bench.table({"device": "CPU: x", "checkpoint": "m", "train_pairs": 3668, "date": "d", "rows": [course], "speedup": 1})
    assert "fp32, no dropout, embeddings frozen |" in table
    plain = bench.table({"device": "CPU: x", "checkpoint": "m", "train_pairs": 3668, "date": "d", "speedup": 1,
                         "rows": [bench.row("seed", [result(100, 0.8, 42)], 3668)]})
    assert "dropout" not in plain and "frozen" not in plain


def test_the_seed_recipe_is_the_lessons_and_follows_the_profile():
    full, smoke = bench.seed_recipe("bert-base-uncased", None, "full"), bench.seed_recipe("bert-base-uncased", None, "smoke")
    assert (full.batch_size, full.learning_rate, full.epochs, full.precision, full.group_by_length) == (8, 5e-5, 3, "fp32", False)
    assert smoke.epochs == 1


def test_the_memory_measure_refuses_a_missing_folder_and_gives_the_kernels_an_absolute_one(tmp_path, monkeypatch, capsys):
    import pytest

    from tools import memory

    with pytest.raises(SystemExit) as refused:
        memory.main(["--mrpc-dir", str(tmp_path / "nowhere")])
    assert refused.value.code == 2 and "there is no folder" in capsys.readouterr().err
    seen = []
    monkeypatch.setattr(memory, "execute", lambda name, env: seen.append(env["MRPC_DIR"]) or ("", 100, 1.0))
    monkeypatch.setattr(memory, "RESULT", tmp_path / "memory.json")
    monkeypatch.setattr(memory, "write_section", lambda name, body: None)
    (tmp_path / "MRPC").mkdir()
    monkeypatch.chdir(tmp_path)
    memory.main(["--mrpc-dir", "MRPC"])
    assert seen and set(seen) == {str(tmp_path / "MRPC")}  # the lessons run in notebooks/, where "MRPC" would not be found


def tuned(seconds, accuracy, seed, validation):
    return {**result(seconds, accuracy, seed), "tuning_accuracy": accuracy, "tuning_f1": accuracy + 0.05,
            "validation_accuracy": validation, "validation_f1": validation + 0.05}


def test_runs_on_the_tuning_split_report_validation_and_pair_each_seed_with_its_twin():
    seed = [tuned(600, 0.80, 42, 0.80), tuned(620, 0.82, 43, 0.79), tuned(640, 0.81, 44, 0.81)]
    course = [tuned(120, 0.81, 42, 0.82), tuned(124, 0.82, 43, 0.80), tuned(128, 0.80, 44, 0.83)]
    row = bench.row("course", course, 3301)
    assert row["scored_on"] == "tuning" and row["accuracy_runs"] == [0.82, 0.80, 0.83]  # validation, looked at once a run
    assert row["tuning_accuracy_runs"] == [0.81, 0.82, 0.80] and row["accuracy"] == round((0.82 + 0.80 + 0.83) / 3, 4)
    paired = bench.compare(seed, course)
    assert paired["speedup"]["runs"] == [5.0, 5.0, 5.0] and paired["speedup"]["sd"] == 0
    assert paired["validation_accuracy"]["runs"] == [0.02, 0.01, 0.02]
    low, high = paired["validation_accuracy"]["interval"]  # t(0.975, 2) = 4.303; sd 0.00577; half-width 0.0143
    assert (low, high) == (round(0.01667 - 0.01434, 4), round(0.01667 + 0.01434, 4))
    assert all(math.isnan(end) for end in bench.interval([1.0]))  # one run: no interval, never a made-up one


def test_each_run_is_measured_against_the_ceiling_of_its_own_precision_and_shape():
    from types import SimpleNamespace

    from tools.ceiling import achieved, train_flops

    config = SimpleNamespace(hidden_size=384, intermediate_size=1536, num_hidden_layers=6)
    per_token_layer = 6 * (4 * 384 * 384 + 2 * 384 * 1536) + 12 * 50 * 384  # 6 per weight, the attention's products
    assert train_flops(config, 1000, 50) == 1000 * 6 * per_token_layer
    assert achieved(config, 1000, 50, 2.0) == pytest.approx(1000 * 6 * per_token_layer / 2 / 1e9)
    course = [tuned(100, 0.8, 42, 0.8), tuned(200, 0.8, 43, 0.8)]
    data = {"tokens": 1_000_000, "mean_length": 50}
    row = bench.row("course", course, 3301, data, ceiling=400.0, config=config)
    settings_epochs = course[0]["settings"]["epochs"]
    expected = [achieved(config, 1_000_000 * settings_epochs, 50, s) / 400 for s in (100, 200)]
    assert row["ceiling_share_runs"] == [round(x, 3) for x in expected] and row["ceiling_gflops"] == 400.0


def test_the_ceiling_is_measured_in_the_precision_asked():
    import torch
    from types import SimpleNamespace

    from tools import ceiling

    seen = []
    linear = torch.nn.functional.linear

    def spy(x, w, *rest):
        seen.append((x.dtype, tuple(x.shape)))
        return linear(x, w, *rest)

    config = SimpleNamespace(hidden_size=16, intermediate_size=32, num_hidden_layers=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.nn.functional, "linear", spy)
        fp32 = ceiling.ceiling(config, 24, "fp32")
        bf16 = ceiling.ceiling(config, 24, "bf16")
    assert fp32 > 0 and bf16 > 0
    assert {dtype for dtype, _ in seen} == {torch.float32, torch.bfloat16} and {shape for _, shape in seen} == {(24, 16), (24, 32)}


def test_the_readme_says_as_accurate_only_where_the_interval_allows_it_and_otherwise_the_cost_in_points():
    def paired(*differences):
        return {"d": {"mean": sum(differences) / len(differences), "runs": list(differences),
                      "interval": list(bench.interval(list(differences)))}}

    assert bench.claim(paired(0.01, -0.005, 0.02, 0.0, 0.004), "d", "accuracy").startswith("as accurate in accuracy as 5 seeds can tell: +0.6 points")
    assert bench.claim(paired(-0.02, -0.025, -0.03, -0.02, -0.022), "d", "F1").startswith("costs 2.3 points of F1: −2.3 points (95 % interval −2.9 to −1.8)")
    assert bench.claim(paired(0.02, 0.025, 0.03, 0.02, 0.022), "d", "accuracy").startswith("more accurate in accuracy: +2.3 points")


def test_the_recheck_table_sets_each_candidate_against_the_course_and_the_seeds_spread():
    course = {**bench.row("course", [tuned(100, a, s, 0.8) for a, s in ((0.80, 42), (0.82, 43), (0.81, 44))], 3301)}
    seed = {**bench.row("seed", [tuned(500, a, s, 0.8) for a, s in ((0.79, 42), (0.80, 43), (0.81, 44))], 3301)}
    candidates = [{"changes": {"learning_rate": 2e-4}, "seed": s, "tuning_accuracy": a} for a, s in ((0.70, 42), (0.71, 43), (0.72, 44))]
    candidates += [{"changes": {"dropout": None, "freeze_embeddings": False}, "seed": s, "tuning_accuracy": a}
                   for a, s in ((0.815, 42), (0.825, 43), (0.82, 44))]
    lines = bench.recheck_table({"rows": [seed, course], "candidates": candidates}).splitlines()
    assert lines[0] == "| recipe | seed 42 | seed 43 | seed 44 | mean ± sd | against the course's |"
    assert lines[2] == "| the course's recipe | 0.800 | 0.820 | 0.810 | 0.810 ± 0.010 | – |"
    assert lines[3].endswith("| 0.800 ± 0.010 | −1.0 points: within the seeds' spread |")
    assert lines[4].startswith("| the course's, with learning_rate 0.0002 |") and lines[4].endswith("−10.0 points: below the spread |")
    assert lines[5].startswith("| the course's, with dropout None, freeze_embeddings False |") and "+1.0 points: within" in lines[5]
