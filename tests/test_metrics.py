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


def saved(checkpoint: str, origin: str | None, loaded_from: str = ""):
    """A run as lesson 6 reads it back, started from `checkpoint` loaded from `origin` (None: a run without the record)."""
    from pathlib import Path

    from helpers.runs import Run

    used = {"checkpoint": {"name": checkpoint, "from": loaded_from or checkpoint, "origin": origin}} if origin else {}
    return Run(Path("run"), {"checkpoint": checkpoint}, [], {}, used)


def test_published_comparison_explains_a_smaller_checkpoint():
    from helpers.evaluation import base_model, compare_with_published

    seed = compare_with_published(saved("bert-base-uncased", "hub"), 0.86, 0.9)
    small = compare_with_published(saved("sentence-transformers/all-MiniLM-L6-v2", "package"), 0.8, 0.86)
    assert "0.85 accuracy and 0.89–0.90 F1" in seed and "smaller" not in seed
    assert small.startswith("Your run: accuracy 0.800, F1 0.860.") and "all-MiniLM-L6-v2 is a smaller encoder" in small
    assert base_model(saved("bert-base-uncased", "bundle")) == "google-bert/bert-base-uncased"
    assert base_model(saved("google-bert/bert-base-uncased", "hub")) == "google-bert/bert-base-uncased"  # a Hub id as the name


def test_a_run_from_a_folder_is_never_compared_or_carded_as_a_published_checkpoint():
    """A folder named bert-base-uncased, or a run that did not record its checkpoint's origin, claims nothing."""
    from helpers.evaluation import base_model, compare_with_published

    for run in (saved("bert-base-uncased", "folder", "/home/me/bert-base-uncased"), saved("bert-base-uncased", None)):
        said = compare_with_published(run, 0.7, 0.8)
        assert "Published" not in said and "no published scores apply" in said, said
        assert base_model(run) is None
