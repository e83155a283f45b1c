"""python -m helpers.train (or mrpc-train): lesson 5's training as one command, on the very same helpers.

Runs unchanged on one device, under `torchrun --nproc_per_node=N` and under `accelerate launch`: the Trainer does the
data-parallel work, and only the main process writes the run folder. `--resume` continues a run from its last checkpoint.
"""

import argparse
import os
import signal
import sys
import threading
from dataclasses import fields
from pathlib import Path

from helpers.errors import CourseError

OPTIONS = ("checkpoint", "epochs", "learning_rate", "batch_size", "dropout", "freeze_embeddings", "profile", "source")


def parse(argv=None, prog: str = "python -m helpers.train", description: str = __doc__.splitlines()[0]) -> argparse.Namespace:
    """The command line: lesson 5's widgets as options, plus the run folder and --resume (command line)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--checkpoint", help="a name from the registry, or a saved model folder (default: the course's, for this machine)")
    parser.add_argument("--epochs", type=int, help="passes over the training split (default: 3 on a GPU, 2 on a CPU; 1 in the smoke profile)")
    parser.add_argument("--learning-rate", type=float, help="peak learning rate (default: the course's for the checkpoint)")
    parser.add_argument("--batch-size", type=int, help="pairs per step and per process (default: 32; 16 on a small CPU machine)")
    parser.add_argument("--dropout", type=dropout_option, metavar="P|checkpoint",
                        help="every dropout probability of the model; checkpoint keeps its own (default: 0 on a CPU, checkpoint on a GPU)")
    parser.add_argument("--freeze-embeddings", action=argparse.BooleanOptionalAction,
                        help="keep the pretrained token embeddings as they are (default: on a CPU yes, on a GPU no)")
    parser.add_argument("--profile", help="full or smoke (default: COURSE_PROFILE, else full)")
    parser.add_argument("--source", help="hub, sample or a GLUE MRPC folder (default: COURSE_BUNDLE, else MRPC_DIR, else the Hub, else the sample)")
    parser.add_argument("--output-dir", type=Path, help="the run folder (default: a new one under outputs/runs/)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --output-dir from its last checkpoint, with its settings (and --source, if its data moved)")
    return parser.parse_args(argv)


def dropout_option(text: str) -> float | str:
    """--dropout's value: a probability, or "checkpoint" for the checkpoint's own (command line)."""
    if text == "checkpoint":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability: give a number such as 0 or 0.1, or checkpoint") from None


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
    if settings.dropout == "checkpoint":
        settings.dropout = None
    return settings.check()


def check_folder(run_dir: Path, settings, resume: bool) -> None:
    """Refuse a run folder that is a file, holds another or a finished run, or has nothing to resume (command line)."""
    from helpers.folders import complete, not_a_file, read_json

    not_a_file(run_dir)  # said now, before any loading
    not_a_model(run_dir, settings, resume)
    finished, started = (run_dir / "trainer_state.json").is_file(), any(complete(p) for p in run_dir.glob("checkpoint-*"))
    if finished:
        raise CourseError(f"{run_dir} holds a finished run{': there is nothing to resume' if resume else ''}: "
                          "evaluate it in lesson 6, or choose another --output-dir.")
    if resume and not started:
        raise CourseError(f"There is nothing to resume in {run_dir} (no complete checkpoint-* folder): run the same command "
                          "without --resume to start it again.")
    if started and not resume:
        raise CourseError(f"{run_dir} holds a started run: continue it with --resume, or choose another --output-dir.")
    saved = read_json(run_dir / "settings.json")
    same = {**field_defaults(), **saved, "source": settings.source}  # a setting added since has its default; the data is
    if started and saved and same != settings.as_dict():  # compared by its fingerprint when the run starts (used.json)
        raise CourseError(f"{run_dir} holds a different run (see its settings.json): choose another --output-dir, or run with the same options.")


MODEL_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5")  # what save_pretrained writes


def not_a_model(run_dir: Path, settings, resume: bool) -> None:
    """Refuse, before anything is written, an --output-dir that holds a saved model and is not a run to go on with, or that
    is the checkpoint the run starts from (command line)."""
    if Path(settings.checkpoint).is_dir() and Path(settings.checkpoint).resolve() == run_dir.resolve():
        raise CourseError(f"{run_dir} is the checkpoint this run starts from, and the run would overwrite it: "
                          "choose another --output-dir.")
    saved = [name for name in MODEL_FILES if (run_dir / name).is_file()]
    ours = (run_dir / "settings.json").is_file() and (run_dir / "used.json").is_file()  # a course run, cut short at its end
    if saved and not (resume and ours):
        raise CourseError(f"{run_dir} holds a saved model ({', '.join(saved)}) that a run there would overwrite: "
                          "choose a new or empty --output-dir.")


def field_defaults() -> dict:
    """Each setting's default: what a run saved before that setting existed used (command line)."""
    from dataclasses import MISSING

    from helpers.training import Settings

    return {f.name: f.default for f in fields(Settings) if f.default is not MISSING}


def resumed_settings(run_dir: Path, args: argparse.Namespace):
    """With --resume and no other option, the settings saved in the run folder (command line)."""
    from helpers.folders import read_json
    from helpers.training import Settings

    saved = read_json(run_dir / "settings.json")
    if args.resume and not saved and any(run_dir.glob("checkpoint-*")):
        raise CourseError(f"{run_dir} lacks its settings.json: restore it, or start a new run in another folder.")
    if args.resume and saved and all(getattr(args, name) is None for name in OPTIONS if name != "source"):
        known = {f.name for f in fields(Settings)}
        try:
            settings = Settings(**{k: v for k, v in saved.items() if k in known}).check()
        except TypeError:
            raise CourseError(f"{run_dir / 'settings.json'} lacks some settings: restore it, or start a new run in another folder.") from None
        if args.source is not None:  # the same data, moved: start_run checks its fingerprint against used.json
            settings.source = args.source
        elif settings.source not in (None, "hub", "sample") and not Path(settings.source).is_dir():
            raise CourseError(f"The data folder {settings.source} that {run_dir} trained on is gone: put it back, or add "
                              "--source with the folder that holds the same files now.")
        return settings
    return settings_from(args)


def run(args: argparse.Namespace) -> Path:
    """Check everything that can be checked, then train and save (command line)."""
    from helpers.folders import lock
    from helpers.live import EpochLines
    from helpers.recipe import train_run

    if args.resume and args.output_dir is None:
        raise CourseError("--resume needs --output-dir: the run folder to continue.")
    if args.output_dir and args.output_dir.is_dir() and os.environ.get("RANK", "0") == "0":
        lock(args.output_dir)  # first: while another run writes the folder, nothing in it can be trusted
    settings = (resumed_settings(args.output_dir, args) if args.output_dir else settings_from(args)).resolved()
    if args.output_dir:
        check_folder(args.output_dir, settings, args.resume)
    return train_run(settings, run_dir=args.output_dir, callbacks=[EpochLines()], resume=args.resume)


def interrupted() -> str:
    """One line after Ctrl-C: where the last complete checkpoint is, and how to go on (command line)."""
    from helpers.folders import complete, held

    for folder in held():
        whole = sorted((p for p in folder.glob("checkpoint-*") if complete(p)), key=lambda p: p.stat().st_mtime)
        if whole:
            return f"Interrupted: the last complete checkpoint is {whole[-1]}; continue with --resume --output-dir {folder}."
        return f"Interrupted before the first checkpoint of {folder}: there is nothing to resume; run the command again."
    return "Interrupted before the run started: nothing was written."


def write_failure(error: Exception) -> str | None:
    """One line for a failed write (a full disk, a read-only or forbidden folder), or None for other errors (command line)."""
    import errno

    from helpers.folders import complete, held

    text, folders = str(error), held()
    if getattr(error, "errno", None) == errno.ENOSPC or any(s in text for s in ("No space left", "os error 28", "failed writing file", "unexpected pos")):
        partial = [p for f in folders for p in f.glob("checkpoint-*") if not complete(p)]
        size = sum(f.stat().st_size for p in partial for f in p.rglob("*") if f.is_file()) / 1e6
        where = f" in {folders[0]}" if folders else ""
        extra = f" ({', '.join(p.name for p in partial)}, incomplete, holds {size:.0f} MB: delete it first)" if partial else ""
        if not any(complete(p) for f in folders for p in f.glob("checkpoint-*")):  # nothing to resume: start again
            return f"The disk is full{where}: free some space{extra}, then run the same command again (no checkpoint was saved)."
        return f"The disk is full{where}: free some space{extra}, then continue with --resume --output-dir {folders[0]}."
    if isinstance(error, OSError) and error.errno in (errno.EACCES, errno.EROFS, errno.EPERM, errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return f"Cannot write {error.filename or 'the run folder'} ({error.strerror}): choose a folder you can write to."
    return None


def say(line: str) -> None:
    """One line on stderr, below the progress bars that the failure left open, not appended to one (command line)."""
    from tqdm import tqdm

    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()
    print(line, file=sys.stderr)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it ends as Ctrl-C ends it (command line)."""


def terminated(signum, frame):
    raise Terminated


def main(argv=None) -> int:
    return handled(run, parse(argv), interrupted)


def handled(work, args: argparse.Namespace, stopped) -> int:
    """Run `work(args)`; a mistake, a failed write, Ctrl-C or SIGTERM (`stopped()` says what is left) ends in one line
    (command line)."""
    from helpers.session import library_warnings, offline_unless_reachable

    offline_unless_reachable()
    library_warnings()
    if threading.current_thread() is threading.main_thread():  # a scheduler, `docker stop` or a closed terminal: as Ctrl-C
        signal.signal(signal.SIGTERM, terminated)
    try:
        from helpers.hfcache import fill_cache

        fill_cache()  # lesson 4's compute_metrics calls evaluate.load("glue", "mrpc"): offline, the cache answers
        work(args)
    except CourseError as error:
        say(f"error: {error}")
        return 2
    except KeyboardInterrupt as stop:
        say(stopped())
        return 128 + (signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT)  # 143 or 130, as the shell reports
    except Exception as error:  # a failed write surfaces as OSError, RuntimeError (torch) or SafetensorError
        said = write_failure(error)
        if said is None:
            raise
        say(f"error: {said}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
