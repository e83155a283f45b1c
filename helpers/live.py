"""Trainer callbacks that show training as it runs, beside transformers' own progress display: live curves in a notebook,
a line per epoch in a terminal. Passed to `Trainer(callbacks=[...])`, in sight; nothing of transformers is replaced."""

from transformers import TrainerCallback

from helpers.plots import plot_history


class LiveCurves(TrainerCallback):
    """The loss curves, drawn live above transformers' progress table: the training loss at every log, the validation
    scores after each epoch (lesson 4: `Trainer(..., callbacks=[LiveCurves()])`)."""

    def __init__(self):
        self.figure, self.handle, self.axes = None, None, {}

    def on_train_begin(self, args, state, control, **kwargs):
        from IPython import get_ipython

        if get_ipython() is not None and state.is_world_process_zero:
            self.axes = {"steps": state.max_steps, "epochs": args.num_train_epochs}  # the whole run, from the start

    def on_step_end(self, args, state, control, **kwargs):
        from IPython.display import display

        if self.axes and self.handle is None:  # after the first step: below the progress bar, which shows then
            self.figure = plot_history(state.log_history, title="Training (live)", **self.axes)
            self.handle = display(self.figure, display_id=True)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.handle is not None:
            plot_history(state.log_history, self.figure, title="Training (live)", **self.axes)
            self.handle.update(self.figure)


class EpochLines(TrainerCallback):
    """On the command line, a line as each epoch begins, above transformers' progress bar of the steps (command line)."""

    def on_epoch_begin(self, args, state, control, **kwargs):
        from tqdm import tqdm

        if state.is_world_process_zero:
            epochs = round(args.num_train_epochs)
            last = min(state.max_steps, state.global_step + -(-state.max_steps // epochs))
            tqdm.write(f"Epoch {round(state.epoch or 0) + 1} of {epochs}: steps {state.global_step + 1} to {last} of {state.max_steps}")
