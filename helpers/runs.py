"""Saved runs: one folder each, as the Trainer writes it (the model and tokenizer by `save_model`, the log history by
`save_state`, the metrics by `save_metrics`), plus the course's used.json: which data and checkpoint the run used."""

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from helpers.errors import CourseError
from helpers.folders import STAGING, busy, new_folder, new_run_dir, start_run, used_by, write_json  # noqa: F401 (runs.start_run)
from helpers.profile import output_dir

RUN_SETTINGS = ("checkpoint", "epochs", "max_length", "profile", "source")  # what lesson 6 reads from a run's settings
# A finished run: save_model's files and, written last, save_state's trainer_state.json (as plain Hugging Face code writes it)
RUN_FILES = ("config.json", "model.safetensors", "tokenizer_config.json", "trainer_state.json")


@dataclass
class Run:
    """A saved run, read back from its folder (lesson 6)."""

    path: Path
    settings: dict
    history: list[dict]
    metrics: dict
    used: dict  # used.json: the data source, its fingerprint and the checkpoint; {} for a run plain Hugging Face code saved

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def scored_on(self) -> str:
        """The split the Trainer scored after each epoch: "tuning" for a run with `tuning_split=True`, else "validation"."""
        return self.used.get("scored_on", "validation")


class UnreadableRun(CourseError):
    """A run folder that cannot be read: what is wrong (`what`) and what to do (`todo`) (lesson 6)."""

    def __init__(self, path: Path, what: str, todo: str = "train it again in lesson 4 and delete this folder", detail: str = ""):
        super().__init__(f"Cannot read the run in {path}: {what}{detail}: pick another run, or {todo}.")
        self.what, self.todo = what, todo


def scratch(name: str) -> str:
    """A folder of the course's outputs for a Trainer that writes nothing worth keeping, such as one that predicts (lesson 6)."""
    return str(output_dir("scratch", name))


def shareable(folder: Path) -> None:
    """Make a run's files readable by the group, as the umask allows: the Trainer writes some for the owner only (lesson 5)."""
    mask = os.umask(0)
    os.umask(mask)
    for path in folder.rglob("*"):
        if path.is_file() and path.name != ".lock":
            path.chmod((path.stat().st_mode | 0o444) & ~mask & 0o777)


def peak_memory_mb() -> float:
    """The peak resident memory of this process so far, in MB, on every OS (lesson 5)."""
    try:
        import resource
    except ImportError:  # Windows: psutil (accelerate's dependency) reads the peak working set
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # macOS counts bytes, Linux kilobytes


def peak_gpu_mb() -> dict:
    """{"peak_gpu_mb": ...}, the most GPU memory torch has held, where there is a CUDA GPU (lesson 5)."""
    import torch

    return {"peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20)} if torch.cuda.is_available() else {}


def save_run(trainer, settings) -> Path:
    """Save the model and tokenizer, the metrics and, last, the Trainer's state with the whole log history: all staged,
    then moved in with trainer_state.json last, so that a kill never leaves half a run that looks finished (lesson 5)."""
    path = Path(trainer.args.output_dir)
    trainer.save_model(str(path / STAGING))  # a kill now leaves the last checkpoint and no half-written model
    if trainer.is_world_process_zero():
        trainer.save_metrics("train", memory_used())  # train_results.json and all_results.json
        trainer.state.save_to_json(str(path / STAGING / "trainer_state.json"))  # what trainer.save_state() writes
        unstage(path)
        said_saved(path, trainer.state.log_history)
    return path


def record(output_dir, raw, model, source=None, profile=None) -> Path:
    """used.json in the run's folder: the data the run uses and the checkpoint it starts from, all that the Trainer's own
    files do not say; lesson 6 checks the data against it (lesson 4)."""
    from helpers.profile import get_profile
    from helpers.training import Settings

    path = Path(output_dir)
    settings = Settings(checkpoint=model.name_or_path, profile=get_profile(profile).name, source=source).resolved()
    write_json(path / "used.json", used_by(settings, raw, model))
    return path


def memory_used() -> dict:
    """The peak memory of this process (and of the GPU), for the run's metrics (lesson 5)."""
    return {"peak_rss_mb": round(peak_memory_mb()), **peak_gpu_mb()}


def unstage(path: Path) -> None:
    """Move a staged run into its folder, trainer_state.json last (a run that holds it is finished), its files readable by
    the group (lessons 5, 7)."""
    if (path / STAGING).is_dir():
        for saved in sorted((path / STAGING).iterdir(), key=lambda p: (p.name == "trainer_state.json", p.name)):
            saved.replace(path / saved.name)
        (path / STAGING).rmdir()
    shareable(path)


def finish_run(path: Path, history: list[dict]) -> None:
    """A run trained without the Trainer (lesson 7's loop), finished as the Trainer finishes one: the staged model moved
    in, the metrics, and last the log history in a trainer_state.json (lesson 7)."""
    from transformers import TrainerState

    end = [entry for entry in history if "train_runtime" in entry][-1]
    write_json(path / "all_results.json", {**{k: v for k, v in end.items() if k.startswith("train_")}, **memory_used()})
    state = TrainerState(log_history=history, global_step=end["step"], max_steps=end["step"], num_train_epochs=end["epoch"])
    state.save_to_json(str(path / STAGING / "trainer_state.json"))  # moved in last: a run that holds it is finished
    unstage(path)
    said_saved(path, history)


def said_saved(path: Path, history: list[dict]) -> None:
    """One line: where the run is, and its last scores (lessons 5, 7)."""
    final = ([entry for entry in history if "eval_loss" in entry] or [{}])[-1]
    print(f"Saved the run in {path}: accuracy {final.get('eval_accuracy', float('nan')):.3f} · "
          f"F1 {final.get('eval_f1', float('nan')):.3f}")


def list_runs() -> list[Path]:
    """The run folders under outputs/runs that can be read, oldest first; one line for each one skipped, and why (lesson 6)."""
    runs = []
    for folder in sorted(p for p in output_dir("runs").iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            runs.append(load_run(folder).path)
        except UnreadableRun as error:
            print(f"Skipped {folder.name}: {error.what}: {error.todo}.")
    return sorted(runs, key=lambda p: (p / "trainer_state.json").stat().st_mtime)  # in the order they finished


def load_run(path: str | Path) -> Run:
    """Read a run folder as the Trainer wrote it (any `save_model()` and `save_state()`), and what it used, after checking
    every file can be read (lesson 6)."""
    path = Path(path)
    if not path.is_dir():
        raise CourseError(f"There is no folder {path}: give the path of a run folder, as lesson 4 printed it.")
    missing = [name for name in RUN_FILES if not (path / name).is_file()]
    if missing and busy(path):  # its lock is held: never advise deleting or resuming a run that is training now
        raise UnreadableRun(path, "it is training now (another process holds it)", "wait until that run ends")
    started = any((path / name).is_file() for name in ("used.json", "settings.json")) or any(path.glob("checkpoint-*"))
    if "trainer_state.json" in missing and (started or len(missing) == 1):  # trainer_state.json is written last
        raise UnreadableRun(path, "it is not finished (still training, or stopped early)", resume_advice(path), f" and lacks {', '.join(missing)}")
    if missing:
        raise UnreadableRun(path, f"it lacks {', '.join(missing)}")
    history = read_run_json(path, "trainer_state.json", dict).get("log_history")
    if not isinstance(history, list) or not all(isinstance(entry, dict) for entry in history):
        raise UnreadableRun(path, "its trainer_state.json holds no log history", "train it again in lesson 4 and delete this folder")
    used = read_run_json(path, "used.json", dict, "delete that file to read the run without it") if (path / "used.json").exists() else {}
    results = read_run_json(path, "all_results.json", dict) if (path / "all_results.json").exists() else {}
    settings = read_run_json(path, "settings.json", dict) if (path / "settings.json").exists() else plain_settings(path, used, history)
    lacking = [name for name in RUN_SETTINGS if name not in settings]
    if lacking:
        raise UnreadableRun(path, f"its settings.json lacks {', '.join(lacking)}")
    readable_weights(path)
    final = ([entry for entry in history if "eval_loss" in entry] or [{}])[-1]
    end = ([entry for entry in history if "train_runtime" in entry] or [{}])[-1]
    metrics = {**final, **{k: v for k, v in end.items() if k.startswith("train_")}, **results,
               "trained_by": used.get("trained_by", "Trainer"), "scored_on": used.get("scored_on", "validation")}
    return Run(path, settings, history, metrics, used)


def plain_settings(path: Path, used: dict, history: list[dict]) -> dict:
    """What lesson 6 needs of a run that has no settings.json (lesson 4's, or plain Hugging Face code's): the checkpoint
    and data from used.json where the course wrote one, else this session's defaults (lesson 6)."""
    from helpers.measure import MAX_LENGTH
    from helpers.profile import get_profile

    config = read_run_json(path, "config.json", dict)
    epochs = max([entry.get("epoch", 0) for entry in history] or [0])
    return {"checkpoint": used.get("checkpoint", {}).get("name") or config.get("_name_or_path") or path.name,
            "epochs": round(epochs), "max_length": used.get("max_length", MAX_LENGTH),
            "profile": used.get("profile", get_profile().name), "source": used.get("source")}


def resume_advice(path: Path) -> str:
    """What to do with an unfinished run: continue it where it holds a checkpoint, else train it again (lesson 6)."""
    if any(path.glob("checkpoint-*/trainer_state.json")):
        return f"continue it with python -m helpers.train --resume --output-dir {path}"
    return "train it again in lesson 4 and delete this folder"


def read_run_json(path: Path, name: str, kind: type, todo: str = "train it again in lesson 4 and delete this folder"):
    """One JSON file of a run folder, or UnreadableRun saying why not (lesson 6)."""
    try:
        value = json.loads((path / name).read_text(encoding="utf-8"))
    except OSError as error:
        raise UnreadableRun(path, f"its {name} cannot be read ({error.strerror})", todo) from None
    except ValueError:  # invalid JSON, or bytes that are not text
        raise UnreadableRun(path, f"its {name} is not valid JSON (a kill or a full disk cut it short)", todo) from None
    if not isinstance(value, kind):
        raise UnreadableRun(path, f"its {name} does not hold what lesson 4 writes there", todo)
    return value


def readable_weights(path: Path) -> None:
    """Check that model.safetensors's header can be read and covers the file, reading no weights (lesson 6)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path / "model.safetensors"), "pt"):
            pass
    except (SafetensorError, OSError):
        raise UnreadableRun(path, "its model.safetensors cannot be read (a kill or a full disk cut it short)") from None


def check_same_data(run: Run, raw, other_data: bool = False) -> None:
    """Refuse to score a run on data other than the data it was trained and validated on, unless other_data is True (lesson 6)."""
    from helpers.data import fingerprint

    then, now = run.used.get("data"), fingerprint(raw)
    if not then or then.get("sha256") == now["sha256"]:
        return  # the same data, or a run saved before used.json
    source = run.used.get("source", run.settings.get("source"))
    where = {"hub": "the Hub", "sample": "the course's sample"}.get(source, source)
    same_size = (then.get("train"), then.get("validation")) == (now["train"], now["validation"])
    change = "as many pairs, but other sentences or labels" if same_size else \
        f"{now['train']} training and {now['validation']} validation pairs, not {then.get('train')} and {then.get('validation')}"
    if not other_data:
        raise CourseError(f"The data from {where} is not the data run {run.name} was trained and validated on ({change}): "
                          "restore it, or set OTHER_DATA = True to evaluate on it anyway.")
    print(f"OTHER_DATA is True: the scores below are on other data than run {run.name} was trained and validated on ({change}).")


def trainer_run_like(settings) -> Path | None:
    """The newest finished run the Trainer trained with exactly these settings, if there is one (lesson 7)."""
    wanted = settings.resolved().as_dict()
    for path in reversed(list_runs()):
        run = load_run(path)
        if run.settings == wanted and run.metrics.get("trained_by", "Trainer") == "Trainer":
            return path
    return None
