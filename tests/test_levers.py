"""tools.levers: an epoch's time split into its parts, and measurements appended, never overwritten."""

import json

import pytest

from tools import levers


def test_an_epoch_is_split_into_forward_backward_and_optimizer(tiny_checkpoint):
    import torch

    from helpers.recipe import load_model

    model = load_model(tiny_checkpoint, 0.0, True).train()
    batch = {"input_ids": torch.randint(1000, 2000, (4, 16)), "attention_mask": torch.ones(4, 16, dtype=torch.long),
             "labels": torch.tensor([0, 1, 0, 1])}
    before = model.classifier.weight.detach().clone()
    spent = levers.time_epoch(model, [batch, batch])
    parts = spent["forward_s"] + spent["backward_s"] + spent["optimizer_s"]
    assert 0 < parts <= spent["total_s"] + 0.002  # each part rounded to a millisecond
    assert not torch.equal(model.classifier.weight, before)  # it trained: the optimizer stepped


def test_an_op_profile_sorts_the_time_into_kinds(tiny_checkpoint):
    """Matrix products, AdamW and the rest each get their share of the profiled steps; the shares add up to the whole."""
    found = levers.ops("sample", batches=2, bf16=False, checkpoint=str(tiny_checkpoint), batch_size=8)
    shares = found["share_by_kind"]
    assert found["batches"] == 2 and sum(shares.values()) == pytest.approx(1, abs=0.01)
    assert shares["matrix products"] > 0.05 and shares["AdamW"] > 0
    assert levers.kind("aten::addmm") == "matrix products" and levers.kind("aten::embedding") == "the rest"
    assert levers.kind("aten::native_layer_norm") == "layer norm and GELU" and levers.kind("aten::_to_copy") == "casts to and from bf16"


def test_measurements_are_appended_with_the_machine_and_date(tmp_path):
    out = tmp_path / "levers.json"
    levers.append(out, "profile", [{"variant": "as loaded", "total_s": 1.0}], threads=2)
    levers.append(out, "profile", [{"variant": "no dropout", "total_s": 0.8}], threads=1)
    kept = json.loads(out.read_text(encoding="utf-8"))["profile"]
    assert [(r["variant"], r["threads"]) for r in kept] == [("as loaded", 2), ("no dropout", 1)]
    assert all(r["device"].startswith(("CPU", "CUDA", "MPS")) and r["date"] for r in kept)


def test_the_committed_levers_show_what_the_course_kept():
    """The README quotes these: two epochs without dropout, embeddings frozen, held the accuracy of the 3-epoch seed."""
    kept = json.loads((levers.OUT).read_text(encoding="utf-8"))
    chosen = [r for r in kept["accuracy"] if (r["epochs"], r["learning_rate"], r["dropout"], r["freeze_embeddings"],
                                                r["frozen_layers"]) == (2, 1e-4, 0.0, True, 0)]
    assert len(chosen) >= 2 and all(len(r["accuracy_by_epoch"]) == 2 for r in chosen)
    profiled = {r["variant"]: r["total_s"] for r in kept["profile"] if r["pass"] == 1}
    assert profiled["no dropout"] < profiled["as loaded"]
