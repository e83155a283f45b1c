"""Length-grouped batches in a random order: the sampler of lesson 5's `CourseTrainer`."""

import torch
from transformers.trainer_pt_utils import get_length_grouped_indices


class ShuffledLengthGroups(torch.utils.data.Sampler):
    """Batches of pairs of similar length, grouped as transformers groups them, in a new random order each epoch (lesson 5).

    transformers' own `group_by_length` sorts each block of about 900 pairs from the longest to the shortest, so the
    model sweeps from long pairs to short ones four times an epoch; on MRPC that ordering made fine-tuning unsteady.
    """

    def __init__(self, lengths: list[int], batch_size: int, seed: int):
        self.lengths, self.batch_size, self.seed, self.epoch = lengths, batch_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch  # the Trainer calls this each epoch, so a resumed run gets the order an unbroken one had

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        grouped = get_length_grouped_indices(self.lengths, self.batch_size, generator=generator)
        whole = len(grouped) // self.batch_size  # only the last batch can be short: it stays last, so the loader cuts the others whole
        order = torch.randperm(whole, generator=generator).tolist()
        return iter([i for k in order for i in grouped[k * self.batch_size : (k + 1) * self.batch_size]] + grouped[whole * self.batch_size :])
