"""Fine-tuning: the settings of a run, the Trainer that runs it, and one call that does it all."""

import inspect
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
    """The course's settings for a checkpoint, a profile, a data source and this machine (lesson 4)."""
    from helpers.hardware import detect

    profile, hardware = get_profile(profile), hardware or detect()
    return Settings(checkpoint=checkpoint, epochs=profile.epochs, learning_rate=1e-4 if "MiniLM" in checkpoint else 5e-5,
                    batch_size=16 if hardware.small else 32, profile=profile.name, source=source,
                    precision=hardware.precision, group_by_length=True, pad_to_multiple_of=8, warmup=0.1)


def device_options(settings: Settings, hardware) -> dict:
    """The TrainingArguments that depend on the hardware: precision, TF32, optimizer, device (lesson 4)."""
    cuda = hardware.kind == "cuda"
    return dict(
        bf16=settings.precision == "bf16",
        fp16=settings.precision == "fp16",
        tf32=True if cuda and hardware.bf16 and settings.precision != "fp32" else None,  # Ampere and later; the seed stays fp32
        optim="adamw_torch_fused" if cuda else "adamw_torch",
        use_cpu=not hardware.gpu,
        dataloader_pin_memory=hardware.gpu,
    )


def training_arguments(settings: Settings, run_dir, steps_per_epoch: int):
    """TrainingArguments for a run: evaluate and save every epoch, log about 40 times (lesson 4)."""
    from transformers import TrainingArguments

    from helpers.hardware import detect

    return TrainingArguments(
        output_dir=str(run_dir),
        num_train_epochs=settings.epochs,
        learning_rate=settings.learning_rate,
        warmup_steps=settings.warmup,  # below 1, transformers reads it as a share of all the steps
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=64,
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=1,
        logging_steps=max(1, steps_per_epoch * settings.epochs // 40),
        seed=settings.seed,
        train_sampling_strategy="group_by_length" if settings.group_by_length else "random",
        report_to="none",
        **device_options(settings, detect()),
    )


def build_trainer(model, tokenizer, tokenized, settings: Settings, run_dir, callbacks=()):
    """A Trainer with dynamic padding and GLUE MRPC metrics after every epoch (lesson 4)."""
    from transformers import DataCollatorWithPadding, PrinterCallback

    from helpers.batching import CourseTrainer
    from helpers.live import LiveCurves
    from helpers.metrics import metrics_function

    steps_per_epoch = -(-len(tokenized["train"]) // settings.batch_size)
    trainer = CourseTrainer(
        model=model,
        args=training_arguments(settings, run_dir, steps_per_epoch),
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"],
        data_collator=DataCollatorWithPadding(tokenizer=tokenizer, pad_to_multiple_of=settings.pad_to_multiple_of),
        processing_class=tokenizer,
        compute_metrics=metrics_function(),
        callbacks=list(callbacks),
    )
    if any(isinstance(callback, LiveCurves) for callback in callbacks):
        trainer.remove_callback(PrinterCallback)  # the live figure shows what it would print
    return trainer


def train_run(settings: Settings, callbacks=(), run_dir=None, resume: bool = False):
    """Load, tokenize, train, evaluate and save one run, or resume one; returns its folder (lessons 4 and 5)."""
    from transformers import set_seed

    from helpers.checkpoints import load_model, load_tokenizer
    from helpers.data import load_mrpc
    from helpers.runs import new_run_dir, save_run
    from helpers.tokens import tokenize_dataset

    settings.check()
    set_seed(settings.seed)
    tokenizer = load_tokenizer(settings.checkpoint)
    tokenized = tokenize_dataset(load_mrpc(settings.source, settings.profile), tokenizer, settings.max_length)
    model = load_model(settings.checkpoint)
    run_dir = run_dir or new_run_dir(settings)
    trainer = build_trainer(model, tokenizer, tokenized, settings, run_dir, callbacks)
    trainer.train(resume_from_checkpoint=resume or None)
    return save_run(trainer, settings)


def show_source(function):
    """Show a helper's code, highlighted, so a lesson can teach what it does (lesson 4)."""
    from IPython.display import Code

    return Code(inspect.getsource(function), language="python")
