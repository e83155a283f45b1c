"""Widgets of lessons 4 and 5: pick a checkpoint and epochs, see the cost; pick a run; try your own pair."""

import functools
import time

import ipywidgets as w

from helpers.checkpoints import REGISTRY
from helpers.errors import CourseError
from helpers.training import Settings, course_defaults

BASE_MEMORY_GB = 0.6  # Python, torch, the libraries and the data, before the model
ACTIVATION_BYTES = 120  # bytes kept for the backward pass per token, layer and unit of width (measured on MiniLM)
LONGEST_BATCH_TOKENS = 100  # MRPC's longest pairs, which batches grouped by length reach once per epoch
OVERHEAD = 1.3  # embeddings, optimizer, data loading and checkpoints on top of the layers' own work


@functools.cache
def layer_step_seconds(hidden: int, batch_size: int, tokens: int, precision: str) -> float:
    """Seconds for a forward and backward pass of one Transformer layer of this width, measured here (lesson 4)."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=256, hidden_size=hidden, num_hidden_layers=1, num_attention_heads=max(1, hidden // 64),
                        intermediate_size=4 * hidden)
    layer, ids = BertModel(config), torch.randint(0, 256, (batch_size, tokens))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    layer, ids = layer.to(device), ids.to(device)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16

    def step():
        with torch.autocast(device, dtype=dtype, enabled=precision != "fp32"):
            layer(ids).last_hidden_state.float().sum().backward()

    step()  # warm-up
    start = time.perf_counter()
    step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def estimate_cost(settings: Settings, train_pairs: int, eval_pairs: int, tokens_per_pair: float) -> tuple[float, float]:
    """Rough minutes and GB a run takes here, from one layer's measured step and the checkpoint's size (lesson 4)."""
    checkpoint = REGISTRY.get(settings.checkpoint, REGISTRY["bert-base-uncased"])
    step = layer_step_seconds(checkpoint.hidden, settings.batch_size, round(tokens_per_pair), settings.precision) * checkpoint.layers
    steps = -(-train_pairs // settings.batch_size) + eval_pairs / settings.batch_size / 3  # evaluation: forward only
    minutes = OVERHEAD * settings.epochs * steps * step / 60
    activations = ACTIVATION_BYTES * checkpoint.hidden * checkpoint.layers * settings.batch_size * LONGEST_BATCH_TOKENS
    return minutes, BASE_MEMORY_GB + (16 * checkpoint.params_m * 1e6 + activations) / 1e9


class TrainingControls:
    """A checkpoint dropdown, sliders for epochs, learning rate and batch size, and the cost here (lesson 4)."""

    def __init__(self, defaults: Settings, train_pairs: int, eval_pairs: int, tokens_per_pair: float):
        self.defaults, self.sizes = defaults, (train_pairs, eval_pairs, tokens_per_pair)
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
        try:
            minutes, gb = estimate_cost(self.settings(), *self.sizes)
        except CourseError as error:
            self.cost.value = f"<b>{error}</b>"
            return
        self.cost.value = f"Estimated on this machine: about <b>{minutes:.0f} min</b> ({minutes * 60:.0f} s) and <b>{gb:.1f} GB</b> of memory."

    def _ipython_display_(self):
        from IPython.display import display

        display(w.VBox([self.checkpoint, self.epochs, self.learning_rate, self.batch_size, self.cost]))


def run_picker(runs, value=None) -> w.Dropdown:
    """A dropdown of saved runs, the latest selected, or `value`: any run folder's path, added when not listed (lesson 5)."""
    from pathlib import Path

    from helpers.runs import load_run

    options = [(p.name, p) for p in reversed(runs)]
    if value is not None:
        chosen = Path(value).expanduser().resolve()
        value = next((p for p in runs if Path(p).resolve() == chosen), None)
        if value is None:  # a folder elsewhere: checked here, so that a wrong path is one sentence
            value = load_run(chosen).path
            options.insert(0, (str(value), value))
    if not options:
        raise CourseError("There is no saved run yet: train one in lesson 4, or set RUN to the path of a run folder.")
    return w.Dropdown(options=options, value=value or runs[-1], description="run", layout=w.Layout(width="90%"))


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
