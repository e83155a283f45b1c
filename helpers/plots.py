"""Every figure of the course, in one style."""

import matplotlib.pyplot as plt

STYLE = {"figure.figsize": (7, 3.2), "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3}
plt.rcParams.update(STYLE)


def pair_lengths(dataset, split: str = "train") -> list[int]:
    """Words in each pair of a split (both sentences, split on spaces) (lesson 1)."""
    rows = dataset[split]
    return [len(a.split()) + len(b.split()) for a, b in zip(rows["sentence1"], rows["sentence2"])]


def plot_pair_lengths(dataset, split: str = "train"):
    """Histogram of the words per pair, by label (lesson 1)."""
    rows = dataset[split]
    lengths = pair_lengths(dataset, split)
    names = rows.features["label"].names
    fig, ax = plt.subplots()
    for label, name in enumerate(names):
        ax.hist([n for n, y in zip(lengths, rows["label"]) if y == label], bins=30, alpha=0.6, label=name)
    ax.set(xlabel="words in the pair", ylabel="pairs", title=f"Pair lengths in {split}")
    ax.legend()
    return fig


def plot_padding(results: dict[str, dict], verdict=None):
    """Pad-token share and forward time (median, error bars fastest to slowest), for each padding; the forward times
    titled with `verdict`'s words, so the figure says what the printed line says (lesson 3)."""
    names = list(results)
    fig, (left, right) = plt.subplots(1, 2)
    left.bar(names, [100 * results[n]["pad_share"] for n in names], color=["tab:gray", "tab:green"])
    left.set(ylabel="% of tokens that are padding", title="Wasted tokens")
    times = [results[n]["seconds"] for n in names]  # a Timing each: median, low, high
    spread = [[t.median - t.low for t in times], [t.high - t.median for t in times]]
    right.bar(names, [t.median for t in times], yerr=spread, capsize=6, color=["tab:gray", "tab:green"])
    turns = f"median of {len(times[0].runs)} turns"
    right.set(ylabel="CPU seconds", title=f"Forward pass, {turns}" if verdict is None else f"Forward pass, {turns}\n{verdict.new}: {verdict.headline}")
    fig.tight_layout()
    return fig


def pairs_table(frame):
    """A table of sentences as they are written: whole, aligned left, and a `$` never read as mathematics (lessons 1 and 6)."""
    text = [name for name in frame.columns if frame[name].dtype == object or str(frame[name].dtype).startswith("str")]
    whole_words = {"white-space": "normal", "word-break": "normal", "overflow-wrap": "normal"}  # lines break between words only
    styler = frame.style.set_properties(subset=text, **{"text-align": "left", **whole_words})
    styler.set_table_styles([{"selector": "th", "props": [("text-align", "left")]}])
    styler.format(precision=3)
    styler.set_table_attributes('class="tex2jax_ignore mathjax_ignore"')  # "$ 1.2 million ... $ 2 million": no formula
    return styler


def plot_history(history: list[dict], fig=None, title: str = "Training", steps: int | None = None, epochs: float | None = None,
                 scored_on: str = "validation"):
    """Training and validation loss by step, and validation accuracy and F1 by epoch (lessons 4 to 6).

    `steps` and `epochs` fix the axes to the whole run, so that a live figure does not rescale as it grows; `scored_on`
    names the split the Trainer scored ("tuning" for a run trained with `tuning_split=True`).
    """
    from matplotlib.ticker import MaxNLocator

    if fig is None:
        fig = plt.figure(figsize=(9, 3.4))
        plt.close(fig)  # drawn where the caller shows it, not twice
    fig.clear()
    loss_ax, score_ax = fig.subplots(1, 2)
    train = [(e["step"], e["loss"]) for e in history if "loss" in e]
    evals = [e for e in history if "eval_loss" in e]
    if train:
        loss_ax.plot(*zip(*train), label="training loss", color="tab:blue")
    if evals:
        loss_ax.plot([e["step"] for e in evals], [e["eval_loss"] for e in evals], "o-", label=f"{scored_on} loss", color="tab:orange")
        for name in ("accuracy", "f1"):
            score_ax.plot([e["epoch"] for e in evals], [e[f"eval_{name}"] for e in evals], "o-", label=name)
    loss_ax.set(xlabel="step", ylabel="loss", title=title)
    score_ax.set(xlabel="epoch", ylabel=f"{scored_on} score", ylim=(0, 1.05), title=f"{scored_on.capitalize()} accuracy and F1")
    if steps:  # the last validation point lies at `steps`: a little room past it, so that its marker is whole
        loss_ax.set_xlim(0, steps * 1.03)
    last_epoch = max(1, round(epochs or max([e["epoch"] for e in evals], default=1)))
    score_ax.set_xlim(0.5, last_epoch + 0.5)
    loss_ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # step 10, never step 12.5
    score_ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # epoch 1, 2, 3, never epoch 1.25
    for ax in (loss_ax, score_ax):
        if ax.lines:
            ax.legend(loc="best", fontsize="small", framealpha=0.8)
    fig.tight_layout()
    return fig


def plot_side_by_side(histories: dict[str, list[dict]], title: str = "Two runs, the same settings"):
    """The training and validation loss of several runs on one pair of axes, and their validation F1 by epoch (lesson 7)."""
    from matplotlib.ticker import MaxNLocator

    fig, (loss_ax, score_ax) = plt.subplots(1, 2, figsize=(9, 3.4))
    plt.close(fig)  # drawn where the caller shows it, not twice
    for (name, history), color in zip(histories.items(), ("tab:blue", "tab:orange", "tab:green")):
        train = [(e["step"], e["loss"]) for e in history if "loss" in e]
        evals = [e for e in history if "eval_loss" in e]
        loss_ax.plot(*zip(*train), color=color, alpha=0.6, label=f"{name}: training")
        loss_ax.plot([e["step"] for e in evals], [e["eval_loss"] for e in evals], "o--", color=color, label=f"{name}: validation")
        score_ax.plot([e["epoch"] for e in evals], [e["eval_f1"] for e in evals], "o-", color=color, label=name)
    loss_ax.set(xlabel="step", ylabel="loss", title=title)
    score_ax.set(xlabel="epoch", ylabel="validation F1", ylim=(0, 1.05), title="Validation F1")
    for ax in (loss_ax, score_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.legend(loc="best", fontsize="small", framealpha=0.8)
    fig.tight_layout()
    return fig


def plot_confusion(references, predictions, names):
    """The confusion matrix of a run's validation predictions (lesson 6)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(4, 3.5))
    ConfusionMatrixDisplay.from_predictions(references, predictions, display_labels=names, ax=ax, colorbar=False)
    ax.grid(False)
    ax.set_title("Validation: true label (rows) against prediction")
    return fig
