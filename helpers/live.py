"""A Trainer callback that redraws the loss and score curves in place while training runs."""

from transformers import TrainerCallback

from helpers.plots import plot_history


class LiveCurves(TrainerCallback):
    """Update one figure with training loss every few steps and validation scores every epoch (lesson 4)."""

    def __init__(self):
        self.figure, self.handle, self.axes = None, None, {}

    def on_train_begin(self, args, state, control, **kwargs):
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None and state.is_world_process_zero:
            self.axes = {"steps": state.max_steps, "epochs": args.num_train_epochs}  # the whole run, from the start
            self.figure = plot_history([], title="Training (live)", **self.axes)
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
