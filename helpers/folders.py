"""A run folder kept safe: one run at a time, what the run really used, and resuming from a whole checkpoint only."""

import json
import os
from datetime import datetime
from pathlib import Path

from helpers.errors import CourseError
from helpers.profile import output_dir, write_text

STAGING = ".final.partial"  # where the final model is written before it moves into the run folder

CHECKPOINT_FILES = ("trainer_state.json", "model.safetensors", "optimizer.pt", "scheduler.pt")  # trainer_state.json comes last
_LOCKS: dict = {}  # folders this process holds, and the lock held on each (filelock.FileLock)


def new_folder(checkpoint: str, epochs: int, label: str = "") -> Path:
    """A fresh folder under outputs/runs, named by checkpoint, epochs, `label`, date and time (lesson 4)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = output_dir("runs") / f"{Path(checkpoint).name}-{epochs}ep{'-' + label if label else ''}-{stamp}"
    path, n = base, 1
    while path.exists():
        path, n = base.with_name(f"{base.name}-{n}"), n + 1
    path.mkdir(parents=True)
    return path


def new_run_dir(settings, label: str = "") -> Path:
    """A fresh run folder for these settings, written into it first (lesson 5)."""
    path = new_folder(settings.checkpoint, settings.epochs, label)
    write_json(path / "settings.json", settings.as_dict())
    return path


def write_json(path: Path, value) -> None:
    """Write JSON through a temporary file, so a crash never leaves half a file (lesson 5)."""
    write_text(path, json.dumps(value, indent=2))


def used_by(settings, raw, model, trained_by: str = "Trainer") -> dict:
    """What a run really uses, for used.json: its data (source, profile, a fingerprint of its pairs, the split scored after
    each epoch), the checkpoint loaded, and what trained it; all that the Trainer's own files do not say (lesson 4)."""
    from helpers.checkpoints import resolve
    from helpers.data import fingerprint

    origin = resolve(settings.checkpoint)[2]  # "folder", "bundle", "package", "hub" or "cache": what lesson 6 may claim
    if model.name_or_path == settings.checkpoint and Path(settings.checkpoint).is_dir():  # from_pretrained's own pick:
        origin = "folder"  # transformers loads a folder of the checkpoint's name in the working directory, if there is one
    return {"source": settings.source, "profile": settings.profile, "max_length": settings.max_length,
            "scored_on": "tuning" if settings.tuning_split else "validation", "trained_by": trained_by,
            "data": fingerprint(raw), "checkpoint": {"name": settings.checkpoint, "from": model.name_or_path,
                                                     "origin": origin, "parameters": model.num_parameters()}}


def start_run(settings, raw, model, run_dir=None, resume: bool = False, label: str = "") -> tuple[Path, str | None]:
    """The run's folder, agreed by every process, locked, with what the run uses; and the checkpoint to resume from (lesson 5)."""
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    from helpers.data import check_pairs
    from helpers.hardware import detect

    settings = settings.resolved()  # the data source recorded: "hub", "sample" or a folder's absolute path
    state = PartialState(cpu=not detect().gpu)  # the processes as the Trainer will see them (its use_cpu)
    chosen = [None, None, None]  # folder, checkpoint to resume from, the error that stops every process
    if state.is_main_process:
        try:
            check_pairs(raw)
            settings.check_steps(raw["train"].num_rows, state.num_processes)
            trained_by = "lesson 7's loop" if label == "loop" else "Trainer"
            chosen[:2] = prepare(settings, used_by(settings, raw, model, trained_by), run_dir, resume, label)
        except CourseError as error:
            chosen[2] = str(error)
        except OSError as error:  # said to every process, so that none waits for the main one forever
            where = run_dir or "the runs folder"
            chosen[2] = f"Cannot write in {where} ({error.strerror}): free some space, or choose a folder you can write to."
    if state.num_processes > 1:
        broadcast_object_list(chosen)
    if chosen[2]:
        raise CourseError(chosen[2])
    return Path(chosen[0]), chosen[1]


def prepare(settings, used: dict, run_dir, resume: bool, label: str = "") -> tuple[str, str | None]:
    """Make or check the folder, lock it, record settings and what is used; find where to resume (lesson 5)."""
    folder = Path(run_dir) if run_dir else new_run_dir(settings, label)
    writable_folder(folder)
    lock(folder)
    leftover(folder)
    if resume:
        same_data(folder, used)
    checkpoint = last_complete_checkpoint(folder, needed=resume)  # a fresh start sets aside what a cut-short one left
    write_json(folder / "settings.json", settings.as_dict())
    write_json(folder / "used.json", used)
    return str(folder), checkpoint


def not_a_file(folder: Path) -> None:
    """Refuse a run folder's path that names a file (lesson 5)."""
    if folder.exists() and not folder.is_dir():
        raise CourseError(f"{folder} is a file, not a folder: choose another --output-dir.")


def writable_folder(folder: Path) -> None:
    """Make the folder, or say in one sentence why it cannot be (lesson 5)."""
    not_a_file(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".writable"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as error:
        raise CourseError(f"Cannot write in {folder} ({error.strerror}): choose a folder you can write to.") from None


def lock(folder: Path) -> None:
    """Hold the folder for this process, or refuse when another run holds it (lesson 5)."""
    from filelock import FileLock, Timeout  # fcntl on Linux and macOS, msvcrt on Windows

    key = str(folder.resolve())
    if key in _LOCKS:
        return
    held = FileLock(folder / ".lock", timeout=0, mode=0o644, thread_local=False)
    try:
        held.acquire()
    except Timeout:
        raise CourseError(f"Another run is writing {folder} now: wait for it to end, or choose another --output-dir.") from None
    _LOCKS[key] = held  # held until this process ends


def busy(folder: Path) -> bool:
    """Whether another process holds the folder's lock now: a run is writing it (lesson 6)."""
    from filelock import FileLock, Timeout

    if not (folder / ".lock").is_file() or str(folder.resolve()) in _LOCKS:
        return False
    probe = FileLock(folder / ".lock", timeout=0, thread_local=False)
    try:
        probe.acquire()
    except Timeout:
        return True
    except OSError:  # a folder this user may not lock: no run of theirs is writing it
        return False
    probe.release()
    return False


def held() -> list[Path]:
    """The run folders this process holds (command line)."""
    return [Path(key) for key in _LOCKS]


def leftover(folder: Path) -> None:
    """Remove a final save that a kill cut short: the course's own temporary files, never a checkpoint (lesson 5)."""
    import shutil

    staging = folder / STAGING
    if staging.exists():
        shutil.rmtree(staging)
        print(f"Removed {staging}: the final save of an earlier attempt was cut short; the run will save again.")


def same_data(folder: Path, used: dict) -> None:
    """Refuse to resume on data other than the run's so far (lesson 5)."""
    recorded = read_json(folder / "used.json")
    before = recorded.get("data", {}).get("sha256")
    if before and before != used["data"]["sha256"]:
        raise CourseError(f"The data at {used['source']} is not what {folder} trained on so far (recorded: {recorded.get('source')}): "
                          "restore that data, or start a new run.")


def complete(checkpoint: Path) -> bool:
    """Whether a checkpoint folder holds every file the Trainer needs to resume, each readable: its state, the safetensors
    headers covering their files, torch's archives whole to their central directory; no weight is loaded (lesson 5)."""
    import zipfile

    from safetensors import SafetensorError, safe_open

    try:
        if not all((checkpoint / name).stat().st_size > 0 for name in CHECKPOINT_FILES) or \
                "global_step" not in json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8")):
            return False
        for weights in checkpoint.glob("*.safetensors"):
            with safe_open(str(weights), "pt"):
                pass
        for saved in (*checkpoint.glob("*.pt"), *checkpoint.glob("*.pth")):  # torch.save writes a zip archive
            with zipfile.ZipFile(saved) as archive:
                archive.namelist()
    except (OSError, ValueError, SafetensorError, zipfile.BadZipFile):
        return False
    return True


def last_complete_checkpoint(folder: Path, needed: bool = True) -> str | None:
    """The newest whole checkpoint (None, unless `needed`, when there is none); newer partial ones are set aside, each said
    in one line (lesson 5)."""
    found = sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]) if p.name.split("-")[1].isdigit() else -1)
    for checkpoint in reversed(found):
        if complete(checkpoint):
            return str(checkpoint)
        aside = set_aside(checkpoint)
        print(f"Set {checkpoint.name} aside as {aside.name}: it is incomplete or damaged (a kill or a full disk cut its "
              "writing short).")
    if not needed:
        return None
    raise CourseError(f"There is no complete checkpoint in {folder} to resume from: start the run again without --resume.")


def set_aside(checkpoint: Path) -> Path:
    """Rename a partial checkpoint so that the Trainer never picks it, keeping its files (lesson 5)."""
    target, n = checkpoint.with_name(f"incomplete-{checkpoint.name}"), 1
    while target.exists():
        target, n = checkpoint.with_name(f"incomplete-{checkpoint.name}-{n}"), n + 1
    checkpoint.rename(target)
    return target


def read_json(path: Path) -> dict:
    """A small JSON file of a run folder, {} when it is absent, one sentence when it is damaged (lesson 5)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError) as error:
        raise CourseError(f"{path} is damaged ({type(error).__name__}): restore it, or start a new run in another folder.") from None
    if not isinstance(value, dict):
        raise CourseError(f"{path} is damaged (not a JSON object): restore it, or start a new run in another folder.")
    return value
