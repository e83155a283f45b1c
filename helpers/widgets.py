"""Widgets of lessons 4 and 5: pick a checkpoint and epochs, see the cost; pick a run; try your own pair."""

import time

import ipywidgets as w

from helpers.checkpoints import REGISTRY
from helpers.training import Settings, course_defaults

BASE_MEMORY_GB = 1.0  # Python, torch, the libraries and the data, before the model
CPU_EFFICIENCY = 0.25  # share of the measured matmul speed that fine-tuning reaches on a CPU (measured on MRPC)


def matmul_gflops(size: int = 512, repeats: int = 5) -> float:
    """This machine's speed at float32 matrix products, in GFLOP/s (lesson 4)."""
    import torch

    a = torch.randn(size, size)
    a @ a
    start = time.perf_counter()
    for _ in range(repeats):
        a @ a
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def estimate_cost(settings: Settings, train_pairs: int, eval_pairs: int, tokens_per_pair: float, gflops: float) -> tuple[float, float]:
    """Rough minutes and GB of memory a run will take here: 6 FLOPs per parameter and token to train (lesson 4)."""
    params = REGISTRY[settings.checkpoint].params_m * 1e6 if settings.checkpoint in REGISTRY else 110e6
    flops = settings.epochs * (6 * train_pairs + 2 * eval_pairs) * tokens_per_pair * params
    minutes = flops / (gflops * 1e9 * CPU_EFFICIENCY) / 60
    activations = settings.batch_size * tokens_per_pair * 2 * params ** 0.5 * 4 * 60  # a rough, generous bound
    return minutes, BASE_MEMORY_GB + (16 * params + activations) / 1e9


class TrainingControls:
    """A checkpoint dropdown, sliders for epochs, learning rate and batch size, and the cost here (lesson 4)."""

    def __init__(self, defaults: Settings, train_pairs: int, eval_pairs: int, tokens_per_pair: float):
        self.defaults, self.sizes, self.gflops = defaults, (train_pairs, eval_pairs, tokens_per_pair), matmul_gflops()
        self.checkpoint = w.Dropdown(options=list(REGISTRY), value=defaults.checkpoint, description="checkpoint")
        self.epochs = w.IntSlider(value=defaults.epochs, min=1, max=10, description="epochs")
        self.learning_rate = w.FloatLogSlider(value=defaults.learning_rate, base=10, min=-6, max=-3, step=0.1,
                                              readout_format=".0e", description="learning rate")
        self.batch_size = w.Dropdown(options=[8, 16, 32, 64], value=defaults.batch_size, description="batch size")
        self.cost = w.HTML()
        for control in (self.checkpoint, self.epochs, self.learning_rate, self.batch_size):
            control.observe(lambda change: self.update(), names="value")
        self.update()

    def settings(self) -> Settings:
        """The settings the widgets hold now (lesson 4)."""
        values = {"checkpoint": self.checkpoint.value, "epochs": self.epochs.value,
                  "learning_rate": float(self.learning_rate.value), "batch_size": self.batch_size.value}
        return Settings(**{**self.defaults.as_dict(), **values}).check()

    def update(self) -> None:
        minutes, gb = estimate_cost(self.settings(), *self.sizes, self.gflops)
        self.cost.value = f"Estimated on this machine: about <b>{minutes:.0f} min</b> ({minutes * 60:.0f} s) and <b>{gb:.1f} GB</b> of memory."

    def _ipython_display_(self):
        from IPython.display import display

        display(w.VBox([self.checkpoint, self.epochs, self.learning_rate, self.batch_size, self.cost]))


def run_picker(runs, value=None) -> w.Dropdown:
    """A dropdown of saved runs, the latest selected (lesson 5)."""
    return w.Dropdown(options=[(p.name, p) for p in reversed(runs)], value=value or runs[-1], description="run",
                      layout=w.Layout(width="90%"))


def pair_checker(judge, first: str, second: str) -> w.VBox:
    """Two text boxes and the model's verdict on them, updated as you type (lesson 5)."""
    boxes = [w.Textarea(value=text, layout=w.Layout(width="95%")) for text in (first, second)]
    verdict = w.HTML()

    def update(change=None):
        label, probability = judge(boxes[0].value, boxes[1].value)
        verdict.value = f"<b>{label}</b> (probability {probability:.2f})"

    for box in boxes:
        box.observe(update, names="value")
    update()
    return w.VBox([*boxes, verdict])
