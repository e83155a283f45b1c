"""python -m helpers.train (or mrpc-train): lesson 4's training as one command, on the very same helpers.

Runs unchanged on one device, under `torchrun --nproc_per_node=N` and under `accelerate launch`: the Trainer does the
data-parallel work, and only the main process writes the run folder. `--resume` continues a run from its last checkpoint.
"""

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from helpers.errors import CourseError

OPTIONS = ("checkpoint", "epochs", "learning_rate", "batch_size", "profile", "source")


def parse(argv=None) -> argparse.Namespace:
    """The command line: lesson 4's widgets as options, plus the run folder and --resume (command line)."""
    parser = argparse.ArgumentParser(prog="python -m helpers.train", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="a name from the registry, or a saved model folder (default: the course's, for this machine)")
    parser.add_argument("--epochs", type=int, help="passes over the training split (default: 3; 1 in the smoke profile)")
    parser.add_argument("--learning-rate", type=float, help="peak learning rate (default: the course's for the checkpoint)")
    parser.add_argument("--batch-size", type=int, help="pairs per step and per process (default: 32; 16 on a small CPU machine)")
    parser.add_argument("--profile", help="full or smoke (default: COURSE_PROFILE, else full)")
    parser.add_argument("--source", help="hub, sample or a GLUE MRPC folder (default: MRPC_DIR, else the Hub, else the sample)")
    parser.add_argument("--output-dir", type=Path, help="the run folder (default: a new one under outputs/runs/)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --output-dir from its last checkpoint")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace):
    """The run's settings: the course's defaults, with each option given on the command line (command line)."""
    from helpers.checkpoints import default_checkpoint
    from helpers.hardware import has_gpu
    from helpers.profile import get_profile
    from helpers.training import course_defaults

    profile = get_profile(args.profile).name
    settings = course_defaults(args.checkpoint or default_checkpoint(for_training=True, gpu=has_gpu()), profile, args.source)
    for name in OPTIONS:
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    return settings.check()


def check_folder(run_dir: Path, settings, resume: bool) -> None:
    """Refuse a run folder that holds a different run, or nothing to resume (command line)."""
    saved = run_dir / "settings.json"
    if resume and not list(run_dir.glob("checkpoint-*/trainer_state.json")):
        raise CourseError(f"There is nothing to resume in {run_dir}: give --output-dir a run folder that holds a checkpoint-* folder.")
    if saved.is_file() and json.loads(saved.read_text()) != settings.as_dict():
        raise CourseError(f"{run_dir} holds a different run (see its settings.json): choose another --output-dir, or run with the same options.")
    if not resume and (run_dir / "metrics.json").is_file():
        raise CourseError(f"{run_dir} holds a finished run: choose another --output-dir.")


def resumed_settings(run_dir: Path, args: argparse.Namespace):
    """With --resume and no other option, the settings saved in the run folder (command line)."""
    from helpers.training import Settings

    saved = run_dir / "settings.json"
    if args.resume and saved.is_file() and all(getattr(args, name) is None for name in OPTIONS):
        known = {f.name for f in fields(Settings)}
        return Settings(**{k: v for k, v in json.loads(saved.read_text()).items() if k in known}).check()
    return settings_from(args)


def run(args: argparse.Namespace) -> Path:
    """Check everything that can be checked, then train and save (command line)."""
    from helpers.data import choose_source, glue_folder
    from helpers.runs import agreed_run_dir
    from helpers.recipe import train_run

    if args.resume and args.output_dir is None:
        raise CourseError("--resume needs --output-dir: the run folder to continue.")
    settings = resumed_settings(args.output_dir, args) if args.output_dir else settings_from(args)
    source = choose_source(settings.source)[0]
    if source not in ("hub", "sample"):
        glue_folder(source)  # a data folder that does not exist fails now, not after the model loads
    if args.output_dir:
        check_folder(args.output_dir, settings, args.resume)
    run_dir = agreed_run_dir(settings, args.output_dir)
    return train_run(settings, run_dir=run_dir, resume=args.resume)


def main(argv=None) -> int:
    from helpers.session import quiet_libraries

    args = parse(argv)
    quiet_libraries()
    try:
        run(args)
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
