"""The settings of a training run: what the lessons and the command line choose, and what the run folder records."""

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from helpers.errors import CourseError
from helpers.profile import get_profile
from helpers.measure import MAX_LENGTH

PRECISIONS = ("fp32", "bf16", "fp16")
MAX_EPOCHS = 100  # beyond this a run only overfits, for hours


@dataclass
class Settings:
    """Everything that decides a training run; saved with the run (lesson 5)."""

    checkpoint: str  # a name from helpers.checkpoints.REGISTRY, or a saved model folder
    epochs: int = 3  # passes over the training split
    learning_rate: float = 5e-5  # peak learning rate of AdamW, reached after the warm-up, then decayed linearly to 0
    batch_size: int = 32  # pairs per training step
    seed: int = 42  # same seed, same data, same result
    max_length: int = MAX_LENGTH  # tokens kept per pair
    profile: str = "full"  # COURSE_PROFILE the data was cut to
    source: str | None = None  # "hub", "sample" or a GLUE folder's absolute path (None: decided when the run starts)
    precision: str = "fp32"  # "fp32", "bf16" or "fp16": the arithmetic of the forward and backward passes
    group_by_length: bool = False  # batch pairs of similar length together, so batches need less padding
    pad_to_multiple_of: int | None = None  # pad each batch's length up to a multiple of this: fewer shapes, less memory
    warmup: float = 0.0  # share of the steps over which the learning rate first climbs from 0 to its peak
    dropout: float | None = None  # every dropout probability of the model (None: the checkpoint's own, 0.1 in BERT; 0: off)
    freeze_embeddings: bool = False  # keep the pretrained token embeddings as they are: no gradients, no optimizer state
    tuning_split: bool = False  # train on 90 % of the training pairs, score the other 10 % after each epoch: validation unseen

    def check(self) -> "Settings":
        """Refuse settings no run can use, in one sentence each (lesson 5)."""
        if not isinstance(self.epochs, int) or not 1 <= self.epochs <= MAX_EPOCHS:
            raise CourseError(f"epochs must be a whole number from 1 to {MAX_EPOCHS}, not {self.epochs!r}: pick 1 to 10.")
        if not (isinstance(self.learning_rate, (int, float)) and math.isfinite(self.learning_rate) and 0 < self.learning_rate < 1):
            raise CourseError(f"learning_rate must be a number above 0 and below 1, not {self.learning_rate!r}: 2e-5 to 1e-4 suits fine-tuning.")
        if not 0 <= self.warmup < 1:
            raise CourseError(f"warmup must be a share of the steps, at least 0 and below 1, not {self.warmup!r}: try 0.1.")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise CourseError(f"batch_size must be a whole number of at least 1, not {self.batch_size!r}: try 16 or 32.")
        if self.pad_to_multiple_of is not None and (not isinstance(self.pad_to_multiple_of, int) or self.pad_to_multiple_of < 1):
            raise CourseError(f"pad_to_multiple_of must be None or a whole number of at least 1, not {self.pad_to_multiple_of!r}: try 8.")
        if self.dropout is not None and not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            raise CourseError(f"dropout must be None (the checkpoint's own) or a probability from 0 to below 1, not {self.dropout!r}: try 0 or 0.1.")
        if not isinstance(self.freeze_embeddings, bool):
            raise CourseError(f"freeze_embeddings must be True or False, not {self.freeze_embeddings!r}.")
        if not isinstance(self.tuning_split, bool):
            raise CourseError(f"tuning_split must be True or False, not {self.tuning_split!r}.")
        if self.precision not in PRECISIONS:
            raise CourseError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}.")
        get_profile(self.profile)
        return self

    def as_dict(self) -> dict:
        return asdict(self)

    def resolved(self) -> "Settings":
        """These settings with the data source decided ("hub", "sample" or a GLUE folder's absolute path), and a checkpoint
        folder's absolute path (lesson 5)."""
        from helpers.checkpoints import registered
        from helpers.data import choose_source, glue_folder

        source = choose_source(self.source)[0]
        folder = not registered(self.checkpoint) and Path(self.checkpoint).expanduser().is_dir()  # recorded as the folder's absolute path, never as a registry name
        return replace(self, source=source if source in ("hub", "sample") else str(glue_folder(source).resolve()),
                       checkpoint=str(Path(self.checkpoint).expanduser().resolve()) if folder else self.checkpoint)

    def check_steps(self, train_pairs: int, processes: int = 1) -> int:
        """The optimizer steps of the run, refused when the warm-up would leave none at a non-zero rate (lesson 5)."""
        steps = math.ceil(train_pairs / (self.batch_size * processes)) * self.epochs
        if train_pairs < 1 or math.ceil(steps * self.warmup) >= steps:
            raise CourseError(f"{train_pairs} training pairs in batches of {self.batch_size} make {steps} optimizer steps, and a "
                              f"warm-up of {self.warmup:.0%} leaves none at a non-zero learning rate: set warmup to 0, or train more epochs.")
        return steps


def course_defaults(checkpoint: str, profile: str | None = None, source: str | None = None, hardware=None) -> Settings:
    """The course's settings for a checkpoint, a profile, a data source and this machine: lesson 5's parameters (command line)."""
    from helpers.hardware import detect

    profile, hardware = get_profile(profile), hardware or detect()
    cpu = not hardware.gpu  # on a CPU: 2 epochs without dropout, embeddings frozen, as accurate as 3 with (README, benchmarks)
    return Settings(checkpoint=checkpoint, epochs=min(profile.epochs, 2) if cpu else profile.epochs,
                    learning_rate=1e-4 if "MiniLM" in checkpoint else 5e-5, batch_size=16 if hardware.small else 32,
                    profile=profile.name, source=source, precision=hardware.precision, group_by_length=True,
                    pad_to_multiple_of=8, warmup=0.1, dropout=0.0 if cpu else None, freeze_embeddings=cpu)
