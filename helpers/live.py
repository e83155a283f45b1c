"""Trainer callbacks that show training as it runs: live curves and a progress bar in a notebook, a line per epoch in a terminal."""

from transformers import TrainerCallback
from transformers.utils.notebook import NotebookProgressCallback

from helpers.plots import plot_history


class LiveCurves(TrainerCallback):
    """Update one figure with training loss every few steps and validation scores every epoch (lesson 4)."""

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


class StepProgress(NotebookProgressCallback):
    """transformers' notebook progress bar and table, counting the steps done (lesson 4).

    In transformers 5.23 the bar shows `global_step + 1` after each step, but `global_step` already counts the step just
    done: after the first of two steps the bar is full. tests/test_training.py fails once transformers fixes it.
    """

    def on_step_end(self, args, state, control, **kwargs):
        epoch = int(state.epoch) if int(state.epoch) == state.epoch else f"{state.epoch:.2f}"
        self.training_tracker.update(state.global_step, comment=f"Epoch {epoch}/{state.num_train_epochs}",
                                     force_update=self._force_next_update)
        self._force_next_update = False


def steps_counted() -> None:
    """In a notebook every `Trainer` shows transformers' NotebookProgressCallback, one step ahead (StepProgress says how);
    make StepProgress the default, so that every bar counts the steps done, lesson 5's `train_run` and exercise 5.4
    included (`helpers.setup()` calls it)."""
    import transformers.trainer

    if transformers.trainer.DEFAULT_PROGRESS_CALLBACK is NotebookProgressCallback:
        transformers.trainer.DEFAULT_PROGRESS_CALLBACK = StepProgress


def first_frames_timed() -> None:
    """transformers' notebook progress bars label their first frame `[1/2 : < :, Epoch 0.50/1]`, a placeholder for times
    not measured yet (NotebookProgressBar.update_bar, 5.23); label it `[1/2 00:00, Epoch 0.50/1]` instead, in every bar
    of every lesson (`helpers.setup()` calls it). tests/test_training.py fails once transformers fixes it."""
    from transformers.utils.notebook import NotebookProgressBar

    update_bar = NotebookProgressBar.update_bar
    if getattr(update_bar, "course", False):
        return

    def timed_update_bar(self, value, comment=None):
        if self.elapsed_time is None:  # the first frame: no time has passed yet
            self.elapsed_time = 0.0
        return update_bar(self, value, comment)

    timed_update_bar.course = True
    NotebookProgressBar.update_bar = timed_update_bar


def show_training(trainer) -> None:
    """A progress bar counting the steps done (the course quiets transformers' logs, which would print dicts instead), and
    in a notebook the loss curves drawn live (lessons 4 and 5)."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from transformers.utils.import_utils import is_in_notebook

    for callback in (PrinterCallback, ProgressCallback, NotebookProgressCallback):
        trainer.pop_callback(callback)
    trainer.add_callback(StepProgress if is_in_notebook() else ProgressCallback)
    trainer.add_callback(LiveCurves())
