"""Lesson 6's analyses: confident mistakes, and the published scores a run may be compared with."""

import numpy as np

PUBLISHED = {"checkpoint": "bert-base-uncased", "accuracy": 0.85, "f1": (0.89, 0.90)}


def confident_mistakes(raw_split, probabilities: np.ndarray, count: int = 5):
    """The pairs the model gets wrong with the highest probability, as a table (lesson 6)."""
    frame = raw_split.to_pandas()[["sentence1", "sentence2", "label"]]
    frame["predicted"], frame["probability"] = probabilities.argmax(-1), probabilities.max(-1).round(3)
    wrong = frame[frame["predicted"] != frame["label"]].sort_values("probability", ascending=False)
    names = dict(enumerate(raw_split.features["label"].names))
    return wrong.head(count).assign(label=lambda f: f["label"].map(names), predicted=lambda f: f["predicted"].map(names))


def compare_with_published(run, accuracy: float, f1: float) -> str:
    """One sentence that sets a run's scores beside the published ones for the seed recipe, where they apply (lesson 6)."""
    from helpers.checkpoints import published

    low, high = PUBLISHED["f1"]
    said = f"Your run: accuracy {accuracy:.3f}, F1 {f1:.3f}."
    used = run.used.get("checkpoint", {})
    entry = published(run.settings["checkpoint"], used.get("origin"))
    if entry is None:
        return said + (f" It started from {used.get('from', run.settings['checkpoint'])}, not from a checkpoint as published, "
                       "so no published scores apply.")
    said += (f" Published for {PUBLISHED['checkpoint']} on MRPC validation: about {PUBLISHED['accuracy']:.2f} accuracy and "
             f"{low:.2f}–{high:.2f} F1.")
    if entry.name != PUBLISHED["checkpoint"]:
        said += (f" The gap is expected: {entry.name} is a smaller encoder than {PUBLISHED['checkpoint']}, with fewer layers and"
                 " narrower vectors to learn MRPC's 3,668 training pairs (and a smoke run sees only a few of them).")
    return said


def base_model(run) -> str | None:
    """The Hub id a run started from, for its model card; None for a folder or a checkpoint of unknown origin (lesson 6)."""
    from helpers.checkpoints import published

    entry = published(run.settings["checkpoint"], run.used.get("checkpoint", {}).get("origin"))
    return entry.hub_id if entry else None
