"""Widgets of lessons 4 to 6: pick a checkpoint and epochs (and see the cost, lesson 5); pick a run; try your own pair."""

import ipywidgets as w

from helpers.checkpoints import REGISTRY
from helpers.errors import CourseError
from helpers.training import Settings

LEARNING_RATES = (1e-5, 2e-5, 3e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3)  # fine-tuning's usual range, and beyond it
WIDE = {"description_width": "8em"}  # room for the longest label, "learning rate"


class Panel(w.VBox):
    """A column of widgets whose text, where a front end cannot draw it (a notebook viewer, a notebook saved without its
    widget state), says which cell to run."""

    text = "Widgets: run this cell to show them (they need a running kernel)."

    def __init__(self, children, text: str | None = None):
        super().__init__(children=children)
        if text:
            self.text = text

    def __repr__(self) -> str:  # ipywidgets keeps 110 characters of it as the output's text/plain
        return self.text


class TrainingControls:
    """A checkpoint dropdown, sliders for epochs, learning rate and batch size, the cost here, and what is not used yet (lesson 5)."""

    def __init__(self, defaults: Settings, raw):
        from helpers.cost import pair_tokens

        self.defaults, self.used = defaults, None
        self.lengths = pair_tokens(raw, "train"), pair_tokens(raw, "validation")
        from helpers.checkpoints import available

        names = [name for name in REGISTRY if available(name)]  # offline: what the bundle, the package or the cache holds
        self.checkpoint = w.Dropdown(options=sorted({*names, defaults.checkpoint}), value=defaults.checkpoint,
                                     description="checkpoint", style=WIDE, layout=w.Layout(width="36em"))  # room for a Hub id
        self.missing = w.HTML(not_offered([name for name in REGISTRY if name not in self.checkpoint.options]))
        self.epochs = w.IntSlider(value=defaults.epochs, min=1, max=10, description="epochs", style=WIDE)
        rates = sorted({*LEARNING_RATES, defaults.learning_rate})  # the parameters cell's value, whatever it is
        self.learning_rate = w.SelectionSlider(options=[(f"{r:.0e}", r) for r in rates], value=defaults.learning_rate,
                                               description="learning rate", style=WIDE)
        self.batch_size = w.Dropdown(options=sorted({8, 16, 32, 64, defaults.batch_size}), value=defaults.batch_size,
                                     description="batch size", style=WIDE)
        self.cost, self.notice = w.HTML(), w.HTML()
        for control in (self.checkpoint, self.epochs, self.learning_rate, self.batch_size):
            control.observe(lambda change: self.update(), names="value")
        self.update()

    def settings(self) -> Settings:
        """The settings the widgets hold now; the cells below use them, and the notice tracks changes from here (lesson 5)."""
        self.used = self.held()
        self.notice.value = ""
        return self.used

    def held(self) -> Settings:
        values = {"checkpoint": self.checkpoint.value, "epochs": self.epochs.value,
                  "learning_rate": self.learning_rate.value, "batch_size": self.batch_size.value}
        return Settings(**{**self.defaults.as_dict(), **values}).check()

    def changed(self) -> list[str]:
        """Each setting the widgets changed since `settings()` last read them, as "epochs 1 → 3" (lesson 5)."""
        if self.used is None:
            return []
        now = self.held()
        return [f"{name.replace('_', ' ')} {getattr(self.used, name)} → {getattr(now, name)}"
                for name in ("checkpoint", "epochs", "learning_rate", "batch_size") if getattr(now, name) != getattr(self.used, name)]

    def check_unchanged(self) -> None:
        """Refuse to train on settings the widgets no longer show, in one sentence that says which cells to run (lesson 5)."""
        changes = self.changed()
        if changes:
            raise CourseError(f"The widgets changed ({', '.join(changes)}) after the settings were read: "
                              "run the cells from `settings = controls.settings()` down to train with them.")

    def estimate(self):
        """What the settings last read (or, before that, those the widgets hold) cost here (lesson 5)."""
        from helpers.cost import estimate

        return estimate(self.used or self.held(), *self.lengths)

    def update(self) -> None:
        try:
            held = self.held()
        except CourseError as error:
            self.cost.value = f"<b>{error}</b>"
            return
        from helpers.cost import estimate

        self.cost.value = "Estimating the cost: a few training steps on this machine…"
        self.cost.value = f"Estimated on this machine: <b>{estimate(held, *self.lengths)}</b>."
        changes = self.changed()
        self.notice.value = (f"⚠ Changed, and <b>not used yet</b>: {', '.join(changes)}. To train with it, run the cells "
                             "from <code>settings = controls.settings()</code> down (Run → Run Selected Cell and All Below)."
                             if changes else "")

    def _ipython_display_(self):
        from IPython.display import display

        display(Panel([self.checkpoint, self.missing, self.epochs, self.learning_rate, self.batch_size, self.cost, self.notice],
                      "The training settings' widgets: run this cell to show them (they need a running kernel)."))


def not_offered(missing: list[str]) -> str:
    """The line under a checkpoint dropdown naming the checkpoints it leaves out, and why (lessons 4, 5)."""
    from helpers.hub import hub_status

    return (f"Not offered here: {', '.join(missing)} (not in the Hugging Face cache or the course bundle, and "
            f"{hub_status()[1]})." if missing else "")


class Choice(Panel):
    """A checkpoint dropdown and an epochs slider; `value` reads them, and a notice shows a change not used yet (lesson 4)."""

    def __init__(self, checkpoint: str, epochs: int):
        from helpers.checkpoints import loadable

        names = [name for name in REGISTRY if loadable(name)] or [checkpoint]
        self.checkpoint = w.Dropdown(options=sorted({*names, checkpoint}), value=checkpoint, description="checkpoint", style=WIDE,
                                     layout=w.Layout(width="36em"))  # room for a Hub id
        self.epochs = w.IntSlider(value=epochs, min=1, max=10, description="epochs", style=WIDE)
        why = w.HTML(not_offered([name for name in REGISTRY if name not in self.checkpoint.options]))
        self.notice, self.read = w.HTML(), None
        super().__init__([self.checkpoint, self.epochs, why, self.notice],
                         "The checkpoint and epochs pickers: run this cell to show them (they need a running kernel).")
        for control in (self.checkpoint, self.epochs):
            control.observe(self._changed, names="value")

    @property
    def value(self) -> tuple[str, int]:
        """(checkpoint, epochs) as the widgets show them now; the cells below use these (lesson 4)."""
        self.read, self.notice.value = (self.checkpoint.value, self.epochs.value), ""
        return self.read

    def _changed(self, change) -> None:
        now = (self.checkpoint.value, self.epochs.value)
        self.notice.value = "" if self.read is None or now == self.read else (
            "⚠ Changed, and <b>not used yet</b>: run the cells from <code>checkpoint, epochs = choice.value</code> down "
            "(Run → Run Selected Cell and All Below).")


def choose(checkpoint: str, epochs: int) -> Choice:
    """Widgets to pick the checkpoint and the epochs, starting from the parameters (lesson 4)."""
    return Choice(checkpoint, epochs)


class RunPicker(Panel):
    """A dropdown of saved runs, and a notice while the run picked is not the one the cells below use (lesson 6)."""

    latest = None  # the picker the last run_picker made; None after it failed, so that no older one is read silently
    failure = ""  # why the last run_picker failed

    def __init__(self, options, value):
        self.dropdown = w.Dropdown(options=options, value=value, description="run", layout=w.Layout(width="90%"))
        self.notice, self.read = w.HTML(), None
        super().__init__([self.dropdown, self.notice], "The run picker: run this cell to show it (it needs a running kernel).")
        self.dropdown.observe(self._picked, names="value")

    @property
    def value(self):
        """The run picked; reading it (`load_run(picker.value)`) makes it the one in use (lesson 6)."""
        if self is not RunPicker.latest:  # the cell that makes the picker failed, or made a newer one, since this one
            said = f"the last pick failed ({RunPicker.failure.rstrip('.')})" if RunPicker.failure else "a newer picker replaced it"
            raise CourseError(f"This picker is out of date: {said}: fix RUN, then run the cells from `picker = ...` down.")
        self.read, self.notice.value = self.dropdown.value, ""
        return self.read

    def _picked(self, change) -> None:
        self.notice.value = "" if change.new == self.read else (
            f"⚠ {change.new.name} is picked but <b>not used yet</b>: run the cells from "
            "<code>run = load_run(picker.value)</code> down (Run → Run Selected Cell and All Below).")


def run_picker(runs, value=None) -> RunPicker:
    """A picker of saved runs, the latest selected, or `value`: any run folder's path, added when not listed; after a failed
    pick, no older picker can be read (lesson 6)."""
    RunPicker.latest, RunPicker.failure = None, ""
    try:
        RunPicker.latest = _picker(runs, value)
    except CourseError as error:
        RunPicker.failure = str(error)
        raise
    return RunPicker.latest


def _picker(runs, value) -> RunPicker:
    """The picker run_picker makes, or the sentence saying why it cannot (lesson 6)."""
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
    return RunPicker(options, value or runs[-1])


WAITING = "… waiting for this front end to answer the kernel."
WORKING = "✓ Widgets work here: this front end drew this line, and answered the kernel."


def widget_round_trip():
    """A line that turns to ✓ once the front end has drawn it and sent a value back to the kernel (lesson 0)."""
    import random

    token = random.randint(1, 2**30)
    sent, echo = w.IntText(value=token), w.IntText(value=0)
    line = w.HTML(WAITING)

    def answered(change):
        if change["new"] == token:
            line.value = WORKING

    echo.observe(answered, names="value")
    link = w.jsdlink((sent, "value"), (echo, "value"))  # runs in the front end: it copies the value, and sends it back
    box = Panel([line], "The widget check: run this cell to test that widgets work here.")
    box.round_trip = (sent, echo, link)  # the models the front end answers through, kept alive with the box
    return box
