"""The settings of a training run: what the lessons and the command line choose, and what the run folder records."""

from dataclasses import asdict, dataclass

from helpers.errors import CourseError
from helpers.profile import get_profile
from helpers.tokens import MAX_LENGTH

PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass
class Settings:
    """Everything that decides a training run; saved with the run (lesson 4)."""

    checkpoint: str  # a name from helpers.checkpoints.REGISTRY, or a saved model folder
    epochs: int = 3  # passes over the training split
    learning_rate: float = 5e-5  # peak learning rate of AdamW, reached after the warm-up, then decayed linearly to 0
    batch_size: int = 32  # pairs per training step
    seed: int = 42  # same seed, same data, same result
    max_length: int = MAX_LENGTH  # tokens kept per pair
    profile: str = "full"  # COURSE_PROFILE the data was cut to
    source: str | None = None  # data source given to load_mrpc (None: automatic)
    precision: str = "fp32"  # "fp32", "bf16" or "fp16": the arithmetic of the forward and backward passes
    group_by_length: bool = False  # batch pairs of similar length together, so batches need less padding
    pad_to_multiple_of: int | None = None  # pad each batch's length up to a multiple of this: fewer shapes, less memory
    warmup: float = 0.0  # share of the steps over which the learning rate first climbs from 0 to its peak

    def check(self) -> "Settings":
        """Refuse settings no run can use, in one sentence each (lesson 4)."""
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise CourseError(f"epochs must be a whole number of at least 1, not {self.epochs!r}: pick 1 to 10.")
        if not self.learning_rate > 0:
            raise CourseError(f"learning_rate must be above 0, not {self.learning_rate!r}: 2e-5 to 1e-4 suits fine-tuning.")
        if not 0 <= self.warmup < 1:
            raise CourseError(f"warmup must be a share of the steps, at least 0 and below 1, not {self.warmup!r}: try 0.1.")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise CourseError(f"batch_size must be a whole number of at least 1, not {self.batch_size!r}: try 16 or 32.")
        if self.pad_to_multiple_of is not None and (not isinstance(self.pad_to_multiple_of, int) or self.pad_to_multiple_of < 1):
            raise CourseError(f"pad_to_multiple_of must be None or a whole number of at least 1, not {self.pad_to_multiple_of!r}: try 8.")
        if self.precision not in PRECISIONS:
            raise CourseError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}.")
        get_profile(self.profile)
        return self

    def as_dict(self) -> dict:
        return asdict(self)


def course_defaults(checkpoint: str, profile: str | None = None, source: str | None = None, hardware=None) -> Settings:
    """The course's settings for a checkpoint, a profile, a data source and this machine: lesson 4's parameters (command line)."""
    from helpers.hardware import detect

    profile, hardware = get_profile(profile), hardware or detect()
    return Settings(checkpoint=checkpoint, epochs=profile.epochs, learning_rate=1e-4 if "MiniLM" in checkpoint else 5e-5,
                    batch_size=16 if hardware.small else 32, profile=profile.name, source=source,
                    precision=hardware.precision, group_by_length=True, pad_to_multiple_of=8, warmup=0.1)
