import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from helpers import metrics


@pytest.fixture(scope="module")
def local_metric():
    import evaluate

    return evaluate.load(*metrics.metric_source())  # offline: the shipped module


@pytest.mark.parametrize("seed", range(5))
def test_local_metric_matches_scikit_learn(local_metric, seed):
    rng = np.random.default_rng(seed)
    references = rng.integers(0, 2, size=200)
    predictions = rng.integers(0, 2, size=200)
    scores = local_metric.compute(predictions=predictions, references=references)
    assert scores["accuracy"] == pytest.approx(accuracy_score(references, predictions))
    assert scores["f1"] == pytest.approx(f1_score(references, predictions))


def test_no_positive_anywhere_gives_f1_zero_as_scikit_learn(local_metric):
    scores = local_metric.compute(predictions=[0, 0, 0], references=[0, 0, 0])
    assert scores == {"accuracy": 1.0, "f1": f1_score([0, 0, 0], [0, 0, 0], zero_division=0.0)}


def test_offline_uses_the_local_module_and_says_so(capsys):
    assert metrics.metric_source() == (str(metrics.LOCAL_METRIC), "mrpc")
    assert "course's own module" in capsys.readouterr().out


def test_online_makes_the_documented_call(monkeypatch):
    monkeypatch.setattr(metrics, "hub_status", lambda: (True, "it answered"))
    assert metrics.metric_source() == ("glue", "mrpc")


def test_compute_metrics_takes_logits():
    from helpers.recipe import compute_metrics

    logits = np.array([[2.0, -1.0], [0.1, 0.3], [-1.0, 1.0], [3.0, 0.0]])
    assert compute_metrics((logits, np.array([0, 1, 0, 1]))) == {"accuracy": 0.5, "f1": 0.5}


def test_published_comparison_explains_a_smaller_checkpoint():
    from helpers.evaluation import compare_with_published

    seed = compare_with_published("bert-base-uncased", 0.86, 0.9)
    small = compare_with_published("all-MiniLM-L6-v2", 0.8, 0.86)
    assert "0.85 accuracy and 0.89–0.90 F1" in seed and "smaller" not in seed
    assert small.startswith("Your run: accuracy 0.800, F1 0.860.") and "all-MiniLM-L6-v2 is a smaller encoder" in small
