"""GLUE's metric for MRPC (accuracy, and F1 of `equivalent`), as `evaluate.load("glue", "mrpc")` computes it, for use offline."""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = "Accuracy and F1 (positive class: 1, `equivalent`) as GLUE reports them for MRPC."
_KWARGS_DESCRIPTION = """
Args:
    predictions: predicted labels, 0 or 1.
    references: true labels, 0 or 1.
Returns:
    accuracy: share of predictions equal to their reference.
    f1: harmonic mean of precision and recall of label 1 (0.0 when both are undefined).
"""
_CITATION = "Wang et al., GLUE: A Multi-Task Benchmark and Analysis Platform for Natural Language Understanding, ICLR 2019."


class Glue(evaluate.Metric):
    def _info(self):
        if self.config_name != "mrpc":  # the Hub's module computes every GLUE task; the course ships MRPC's only
            raise KeyError(f"The course's offline copy of the GLUE metric has the configuration 'mrpc' only, not {self.config_name!r}.")
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references):
        predictions, references = np.asarray(predictions), np.asarray(references)
        true_positives = int(np.sum((predictions == 1) & (references == 1)))
        predicted, actual = int(np.sum(predictions == 1)), int(np.sum(references == 1))
        f1 = 2 * true_positives / (predicted + actual) if predicted + actual else 0.0
        return {"accuracy": float(np.mean(predictions == references)), "f1": float(f1)}
