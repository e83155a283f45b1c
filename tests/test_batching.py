"""Length-grouped batches: the same batches as transformers' grouping, every pair once, served in a shuffled order."""

import random

import torch
from torch.utils.data import RandomSampler
from transformers.trainer_pt_utils import get_length_grouped_indices

from helpers.batching import ShuffledLengthGroups

RNG = random.Random(0)
LENGTHS = [RNG.randint(20, 104) for _ in range(3668)]  # as many pairs as MRPC's training split
BATCH = 32


def cut(indices: list[int]) -> list[list[int]]:
    return [indices[start : start + BATCH] for start in range(0, len(indices), BATCH)]


def descents(batches: list[list[int]]) -> float:
    """The share of batches whose pairs are shorter on average than the previous batch's."""
    means = [sum(LENGTHS[i] for i in batch) / len(batch) for batch in batches]
    return sum(b < a for a, b in zip(means, means[1:])) / (len(means) - 1)


def test_each_epoch_serves_every_pair_once_in_transformers_batches_shuffled():
    ours = cut(list(ShuffledLengthGroups(LENGTHS, BATCH, seed=42)))
    theirs = cut(get_length_grouped_indices(LENGTHS, BATCH, generator=torch.Generator().manual_seed(42)))
    assert sorted(i for batch in ours for i in batch) == list(range(len(LENGTHS)))
    assert sorted(map(sorted, ours)) == sorted(map(sorted, theirs))  # the same batches, so the same padding
    assert len(ours[-1]) == len(LENGTHS) % BATCH  # the one short batch comes last, so the data loader cuts the others whole
    assert descents(theirs) > 0.9 and descents(ours) < 0.7  # transformers sweeps long to short; ours jumps about


def test_a_new_order_each_epoch_and_the_same_one_again_after_resuming():
    sampler = ShuffledLengthGroups(LENGTHS, BATCH, seed=42)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    resumed = ShuffledLengthGroups(LENGTHS, BATCH, seed=42)
    resumed.set_epoch(1)
    assert first != second and list(resumed) == second and len(sampler) == len(LENGTHS)


def test_the_course_trainer_uses_it_only_for_length_grouping(tiny_checkpoint, tmp_path):
    from dataclasses import replace

    from transformers import AutoTokenizer

    from helpers.recipe import load_model, load_mrpc, make_trainer, tokenize_dataset
    from helpers.training import course_defaults

    settings = course_defaults(tiny_checkpoint, "smoke", "sample")
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    tokenized = tokenize_dataset(load_mrpc("sample", "smoke"), tokenizer)
    grouped = make_trainer(load_model(tiny_checkpoint), tokenizer, tokenized, settings, tmp_path / "a")
    plain = make_trainer(load_model(tiny_checkpoint), tokenizer, tokenized, replace(settings, group_by_length=False), tmp_path / "b")
    sampler = grouped._get_train_sampler()
    assert isinstance(sampler, ShuffledLengthGroups) and sampler.lengths == [len(ids) for ids in tokenized["train"]["input_ids"]]
    assert isinstance(plain._get_train_sampler(), RandomSampler)
    served = [int(n) for batch in grouped.get_train_dataloader() for n in batch["attention_mask"].sum(dim=1)]
    assert served == [sampler.lengths[i] for i in sampler]  # the real data loader serves pairs in this sampler's order


def test_transformers_still_asks_the_trainer_for_its_sampler(tiny_checkpoint, tmp_path, monkeypatch):
    """CourseTrainer overrides a private method: this fails the day transformers stops calling it."""
    from transformers import AutoTokenizer

    from helpers.recipe import CourseTrainer, load_model, load_mrpc, make_trainer, tokenize_dataset
    from helpers.training import course_defaults

    asked = []
    original = CourseTrainer._get_train_sampler
    monkeypatch.setattr(CourseTrainer, "_get_train_sampler", lambda self, *args, **kwargs: asked.append(1) or original(self, *args, **kwargs))
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    trainer = make_trainer(load_model(tiny_checkpoint), tokenizer, tokenize_dataset(load_mrpc("sample", "smoke"), tokenizer),
                           course_defaults(tiny_checkpoint, "smoke", "sample"), tmp_path)
    trainer.get_train_dataloader()
    assert asked, "transformers no longer calls Trainer._get_train_sampler: CourseTrainer's batch order is lost"
