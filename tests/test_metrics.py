import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score



@pytest.fixture(scope="module")
def local_metric():
    import evaluate

    return evaluate.load("glue", "mrpc")  # offline (the tests' HF_HUB_OFFLINE=1): the course's copy, from the cache


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


def test_the_cached_copy_is_the_course_module_and_knows_only_mrpc():
    import evaluate

    from helpers.hfcache import METRIC_FILE

    assert type(evaluate.load("glue", "mrpc")).__module__.endswith(".glue")
    with pytest.raises(KeyError, match="configuration 'mrpc' only, not 'sst2'"):
        evaluate.load("glue", "sst2")
    assert METRIC_FILE.name == "glue.py"  # evaluate imports the module by the name it was asked for


def test_compute_metrics_takes_logits():
    from helpers.recipe import compute_metrics

    logits = np.array([[2.0, -1.0], [0.1, 0.3], [-1.0, 1.0], [3.0, 0.0]])
    assert compute_metrics((logits, np.array([0, 1, 0, 1]))) == {"accuracy": 0.5, "f1": 0.5}


def test_published_comparison_explains_a_smaller_checkpoint():
    from helpers.evaluation import compare_with_published

    seed = compare_with_published("bert-base-uncased", 0.86, 0.9)
    small = compare_with_published("sentence-transformers/all-MiniLM-L6-v2", 0.8, 0.86)
    assert "0.85 accuracy and 0.89–0.90 F1" in seed and "smaller" not in seed
    assert small.startswith("Your run: accuracy 0.800, F1 0.860.") and "all-MiniLM-L6-v2 is a smaller encoder" in small
