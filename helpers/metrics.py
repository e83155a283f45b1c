"""The GLUE MRPC metric, from the Hub when it answers, else from the module the course ships."""

from pathlib import Path

import numpy as np

from helpers.hub import hub_status

LOCAL_METRIC = Path(__file__).resolve().parent / "mrpc_metric" / "mrpc_metric.py"


def load_metric():
    """`evaluate.load("glue", "mrpc")`, or the same metric from the shipped module when offline (lesson 5)."""
    import evaluate

    reachable, why = hub_status()
    if reachable:
        print('Metric: evaluate.load("glue", "mrpc") from the Hub.')
        return evaluate.load("glue", "mrpc")
    print(f"Metric: GLUE MRPC accuracy and F1 from the course's own module, because {why}.")
    return evaluate.load(str(LOCAL_METRIC))


def metrics_function(metric=None):
    """A `compute_metrics` for the Trainer: logits to labels, then accuracy and F1 (lesson 4)."""
    metric = metric or load_metric()

    def compute_metrics(eval_pred):
        logits, labels = eval_pred
        return metric.compute(predictions=np.argmax(logits, axis=-1), references=labels)

    return compute_metrics
