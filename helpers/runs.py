"""Saved runs: one folder each, holding the model, tokenizer, settings, log history, metrics and curves."""

import json
import resource
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from helpers.errors import CourseError
from helpers.profile import output_dir

RUN_FILES = ("config.json", "model.safetensors", "tokenizer_config.json", "settings.json", "log_history.json", "metrics.json")


@dataclass
class Run:
    """A saved run, read back from its folder (lesson 5)."""

    path: Path
    settings: dict
    history: list[dict]
    metrics: dict

    @property
    def name(self) -> str:
        return self.path.name


def new_run_dir(settings) -> Path:
    """A fresh folder for a run, named by checkpoint, epochs, date and time, its settings written first (lesson 4)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = output_dir("runs") / f"{Path(settings.checkpoint).name}-{settings.epochs}ep-{stamp}"
    path, n = base, 1
    while path.exists():
        path, n = base.with_name(f"{base.name}-{n}"), n + 1
    path.mkdir(parents=True)
    write_json(path / "settings.json", settings.as_dict())
    return path


def agreed_run_dir(settings, path: Path | None = None) -> Path:
    """The run folder, the same in every process of a distributed run: the main process makes it (command line)."""
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    from helpers.hardware import detect

    # The processes as the Trainer will see them (its use_cpu): on a CPU, torchrun's processes are ranks of one run.
    state = PartialState(cpu=not detect().gpu)
    chosen = [None]
    if state.is_main_process:
        folder = Path(path) if path else new_run_dir(settings)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "settings.json").exists():
            write_json(folder / "settings.json", settings.as_dict())
        chosen = [str(folder)]
    if state.num_processes > 1:
        broadcast_object_list(chosen)
    return Path(chosen[0])


def write_json(path: Path, value) -> None:
    """Write JSON through a temporary file, so a crash never leaves half a file (lesson 4)."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(value, indent=2))
    partial.replace(path)


def peak_memory_mb() -> float:
    """The peak resident memory of this process so far, in MB (lesson 4)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_gpu_mb() -> dict:
    """{"peak_gpu_mb": ...}, the most GPU memory torch has held, where there is a CUDA GPU (lesson 4)."""
    import torch

    return {"peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20)} if torch.cuda.is_available() else {}


def save_run(trainer, settings) -> Path:
    """Save model, tokenizer, log history, metrics and the loss curve into the run's folder (lesson 4)."""
    from helpers.plots import plot_history

    path = Path(trainer.args.output_dir)
    trainer.save_model(str(path))
    if trainer.is_world_process_zero():
        history = trainer.state.log_history
        final = [entry for entry in history if "eval_loss" in entry][-1]
        train = [entry for entry in history if "train_runtime" in entry][-1]
        metrics = {**final, "train_runtime": train["train_runtime"], "peak_rss_mb": round(peak_memory_mb()), **peak_gpu_mb()}
        write_json(path / "log_history.json", history)
        write_json(path / "metrics.json", metrics)
        plot_history(history, title=path.name).savefig(path / "loss_curve.png", dpi=120, bbox_inches="tight")
        print(f"Saved the run in {path}")
    return path


def list_runs(finished: bool = True) -> list[Path]:
    """Saved run folders, oldest first: the finished ones, or all, unfinished ones included (lesson 5)."""
    marker = "metrics.json" if finished else "settings.json"
    return sorted((p.parent for p in output_dir("runs").glob(f"*/{marker}")), key=lambda p: (p / "settings.json").stat().st_mtime)


def load_run(path: str | Path) -> Run:
    """Read a run's settings, history and metrics, after checking its folder is complete (lesson 5)."""
    path = Path(path)
    missing = [name for name in RUN_FILES if not (path / name).is_file()]
    if missing:
        raise CourseError(
            f"The run folder {path} lacks {', '.join(missing)}: pick another run, or train this one again in lesson 4."
        )
    read = lambda name: json.loads((path / name).read_text())  # noqa: E731
    return Run(path, read("settings.json"), read("log_history.json"), read("metrics.json"))
