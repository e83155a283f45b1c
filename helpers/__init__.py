"""What the lessons import: `from helpers import load_mrpc, plots, ...`. Each name loads its module when first used, so
`import helpers; helpers.setup()` imports no library that the setup cell may still have to install (Colab)."""

import importlib

# name: the module that defines it. Modules the lessons use whole (`from helpers import check, checkpoints, data, evaluation,
# measure, plots, runs, training, widgets`) need no entry: Python imports a package's submodule by name.
NAMES = {
    "setup": "helpers.session",
    "CourseError": "helpers.errors",
    "get_profile": "helpers.profile",
    "detect": "helpers.hardware",
    "default_checkpoint": "helpers.checkpoints",
    "ShuffledLengthGroups": "helpers.batching",
    "LiveCurves": "helpers.live",
    "run_checks": "helpers.preflight",
    # exported from the lessons into helpers/recipe.py (python -m tools.export): the lesson named there teaches each
    "load_mrpc": "helpers.recipe",
    "tokenize_function": "helpers.recipe",
    "tokenize_dataset": "helpers.recipe",
    "compute_metrics": "helpers.recipe",
    "load_model": "helpers.recipe",
    "tuning_split": "helpers.recipe",
    "train_run": "helpers.recipe",
    "score_run": "helpers.recipe",
}
__all__ = list(NAMES)


def __getattr__(name: str):
    if name not in NAMES:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    return getattr(importlib.import_module(NAMES[name]), name)
