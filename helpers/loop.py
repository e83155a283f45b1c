"""python -m helpers.loop: lesson 7's hand-written training loop as one command, with the same options as helpers.train.

Lesson 7 writes the loop in its cells and shows Accelerate's changes to it; this is that loop with those changes (its
evaluation, `evaluate_model`, exported from the lesson), plus what a command needs around it: a run folder every process
agrees on, the Trainer's files at the end (`trainer_state.json`). Accelerate runs it unchanged on one device, under
`accelerate launch --num_processes N` and under `torchrun --nproc_per_node=N`; only the main process writes. Unlike the
Trainer, it saves no checkpoints on the way, so there is no --resume.
"""

import math
import sys
from time import perf_counter

from helpers.errors import CourseError


def make_loaders(tokenized, tokenizer, settings):
    """DataLoaders over tokenized splits: lesson 5's batches to train on, larger ones to evaluate (command line)."""
    from torch.utils.data import DataLoader
    from transformers import DataCollatorWithPadding

    from helpers import ShuffledLengthGroups

    ready = tokenized.rename_column("label", "labels").with_format("torch")  # the text columns are gone already
    collator = DataCollatorWithPadding(tokenizer=tokenizer, pad_to_multiple_of=settings.pad_to_multiple_of)
    lengths = [len(ids) for ids in ready["train"]["input_ids"]]
    sampler = ShuffledLengthGroups(lengths, settings.batch_size, settings.seed)
    train = DataLoader(ready["train"], batch_size=settings.batch_size, sampler=sampler, collate_fn=collator)
    return train, DataLoader(ready["validation"], batch_size=64, collate_fn=collator)


def loop_epochs(accelerator, model, optimizer, train_loader, eval_loader, settings):
    """Lesson 7's loop as its Accelerate cell changes it, for several processes; its history, logged as the Trainer logs
    (command line)."""
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    from helpers.recipe import evaluate_model

    steps = settings.epochs * len(train_loader)  # per process: each one takes its share of the batches
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(settings.warmup * steps), steps)
    log_every, history, losses, started = math.ceil(0.025 * steps), [], [], perf_counter()
    model.train()
    for epoch in range(settings.epochs):
        train_loader.set_epoch(epoch)  # changed: the prepared loader passes the epoch on to the sampler
        for batch in tqdm(train_loader, desc=f"epoch {epoch + 1} of {settings.epochs}",
                          disable=not accelerator.is_main_process):  # changed: one bar, not one per process
            loss = model(**batch).loss  # batches arrive on the right device: no .to(device)
            accelerator.backward(loss)  # changed: was loss.backward()
            accelerator.clip_grad_norm_(model.parameters(), 1.0)  # changed: was torch.nn.utils.clip_grad_norm_
            optimizer.step()
            if not accelerator.optimizer_step_was_skipped:  # changed: fp16 skips a step whose gradients overflowed
                scheduler.step()
            optimizer.zero_grad()
            losses.append(accelerator.reduce(loss.detach(), "mean").item())  # changed: the mean over processes
            if len(losses) % log_every == 0:
                history.append({"loss": sum(losses[-log_every:]) / log_every, "step": len(losses),
                                "epoch": len(losses) / len(train_loader)})
        scores = evaluate_model(model, eval_loader, accelerator)
        history.append({**scores, "step": len(losses), "epoch": epoch + 1})
    end = {"train_runtime": perf_counter() - started, "train_loss": sum(losses) / len(losses), "step": len(losses)}
    return history + [{**end, "epoch": settings.epochs}]


def accelerate_loop(settings, run_dir=None):
    """Train and save one run with lesson 7's loop, on one device or several processes, in a run folder as the Trainer
    leaves one (command line)."""
    import torch
    from accelerate import Accelerator
    from transformers import AutoTokenizer, set_seed

    from helpers import checkpoints, detect, runs
    from helpers.recipe import load_model, load_mrpc, tokenize_dataset

    settings = settings.check().resolved()
    precision = {"bf16": "bf16", "fp16": "fp16"}.get(settings.precision, "no")  # computed natively, or fp32
    accelerator = Accelerator(mixed_precision=precision, cpu=not detect().gpu)
    set_seed(settings.seed)
    with checkpoints.loading_errors(settings.checkpoint):  # a wrong name or a damaged folder: one sentence, said first
        tokenizer = AutoTokenizer.from_pretrained(checkpoints.checkpoint_path(settings.checkpoint))
    raw = load_mrpc(settings.source, settings.profile)
    model = load_model(settings.checkpoint, settings.dropout, settings.freeze_embeddings)
    run_dir, _ = runs.start_run(settings, raw, model, run_dir, label="loop")  # the folder every process agrees on
    loaders = make_loaders(tokenize_dataset(raw, tokenizer, settings.max_length), tokenizer, settings)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0.0)
    model, optimizer, *loaders = accelerator.prepare(model, optimizer, *loaders)
    history = loop_epochs(accelerator, model, optimizer, *loaders, settings)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(run_dir / runs.STAGING)
        tokenizer.save_pretrained(run_dir / runs.STAGING)
        runs.finish_run(run_dir, history)  # as the Trainer saves: trainer_state.json
    accelerator.wait_for_everyone()
    return run_dir


def run(args) -> None:
    """Check the options and the run folder, then train with the loop and save (command line)."""
    from helpers.train import check_folder, settings_from

    if args.resume:
        raise CourseError("The loop of lesson 7 saves no checkpoints, so it cannot resume: run it again, "
                          "or use python -m helpers.train, which can.")
    settings = settings_from(args).resolved()
    if args.output_dir:
        check_folder(args.output_dir, settings, resume=False)
    accelerate_loop(settings, run_dir=args.output_dir)


def main(argv=None) -> int:
    from helpers.train import handled, parse

    args = parse(argv, prog="python -m helpers.loop", description=__doc__.splitlines()[0])
    return handled(run, args, lambda: "Interrupted: the loop keeps no checkpoints, so its run folder holds no model; "
                                      "run the command again.")


if __name__ == "__main__":
    sys.exit(main())
