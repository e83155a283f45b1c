"""Choices on a tuning split (lesson 5): a fixed, stratified tenth of the training pairs, scored instead of validation;
validation looked at once, by `score_run`; exercise 5.4's check of that protocol."""

import json
from dataclasses import replace

import pytest

from helpers import CourseError, check
from helpers.recipe import load_mrpc, score_run, train_run, tuning_split
from helpers.runs import check_same_data, load_run
from helpers.training import Settings, course_defaults


def pairs(rows) -> set[tuple[str, str]]:
    return set(zip(rows["sentence1"], rows["sentence2"]))


def test_the_tuning_split_is_a_fixed_stratified_tenth_of_the_training_pairs_and_leaves_the_rest_alone():
    raw = load_mrpc("sample", "full")
    tuned = tuning_split(raw)
    assert list(tuned) == ["train", "tuning", "validation", "test"]
    train, tuning = tuned["train"], tuned["tuning"]
    assert (train.num_rows, tuning.num_rows) == (135, 15)  # 150 pairs: a tenth set aside
    assert not pairs(train) & pairs(tuning) and pairs(train) | pairs(tuning) == pairs(raw["train"])
    share = sum(raw["train"]["label"]) / raw["train"].num_rows
    assert abs(sum(tuning["label"]) - share * tuning.num_rows) <= 1  # stratified: the paraphrases' share kept
    assert tuning.features == raw["train"].features  # the Hub's features, label names included
    assert tuned["validation"]["idx"] == raw["validation"]["idx"] and tuned["test"]["idx"] == raw["test"]["idx"]
    assert tuning_split(raw)["tuning"]["idx"] == tuning["idx"]  # fixed: the same pairs every time
    assert tuning_split(raw, seed=7)["tuning"]["idx"] != tuning["idx"]  # ... because of the seed


def test_a_setting_that_is_not_true_or_false_is_refused():
    with pytest.raises(CourseError, match="tuning_split must be True or False"):
        Settings("bert-base-uncased", tuning_split="yes").check()


@pytest.fixture(scope="module")
def tuned_runs(tiny_checkpoint, tmp_path_factory):
    """Three tiny smoke runs on the tuning split, at three learning rates, and what each run's Trainer was given."""
    from helpers import recipe

    given = []
    make_trainer = recipe.make_trainer

    def spy(model, tokenizer, tokenized, settings, run_dir, callbacks=()):
        trainer = make_trainer(model, tokenizer, tokenized, settings, run_dir, callbacks)
        given.append((trainer.train_dataset, trainer.eval_dataset))
        return trainer

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("COURSE_OUTPUT", str(tmp_path_factory.mktemp("tuned")))
        patch.setattr(recipe, "make_trainer", spy)
        settings = replace(course_defaults(tiny_checkpoint, "smoke", "sample"), tuning_split=True)
        yield [train_run(replace(settings, learning_rate=rate)) for rate in (1e-5, 1e-3, 5e-2)], given


def test_a_run_on_the_tuning_split_trains_without_those_pairs_and_scores_them_instead_of_validation(tuned_runs):
    paths, given = tuned_runs
    raw = load_mrpc("sample", "smoke")
    tuning = tuning_split(raw)["tuning"]
    train, scored = given[0]
    assert (train.num_rows, scored.num_rows) == (raw["train"].num_rows - tuning.num_rows, tuning.num_rows)
    assert scored["input_ids"] != [] and not {tuple(ids) for ids in train["input_ids"]} & {tuple(ids) for ids in scored["input_ids"]}
    run = load_run(paths[0])
    assert run.settings["tuning_split"] is True and run.metrics["scored_on"] == run.scored_on == "tuning"
    check_same_data(run, raw)  # recorded on the data as loaded: lesson 6 evaluates it without OTHER_DATA
    assert not (run.path / "validation_results.json").exists()  # validation unseen until asked
    assert json.loads((run.path / "used.json").read_text(encoding="utf-8"))["scored_on"] == "tuning"


def test_score_run_scores_a_saved_run_on_validation_once_and_keeps_the_scores(tuned_runs):
    path = tuned_runs[0][1]
    scores = score_run(path)
    raw = load_mrpc("sample", "smoke")
    kept = json.loads((path / "validation_results.json").read_text(encoding="utf-8"))
    assert kept == scores and 0 <= scores["validation_accuracy"] <= 1
    right = scores["validation_accuracy"] * raw["validation"].num_rows
    assert abs(right - round(right)) < 1e-6  # a share of the 32 validation pairs, not of the tuning split's


def test_exercise_5_4_wants_the_best_on_the_tuning_split_and_one_look_at_validation(tuned_runs, tmp_path):
    import shutil

    paths = []
    for path, accuracy in zip(tuned_runs[0], (0.6, 0.8, 0.7)):  # copies, their tuning scores set apart (tiny runs may tie)
        paths.append(shutil.copytree(path, tmp_path / path.name))
        (paths[-1] / "validation_results.json").unlink(missing_ok=True)
        state = json.loads((paths[-1] / "trainer_state.json").read_text(encoding="utf-8"))
        [e for e in state["log_history"] if "eval_accuracy" in e][-1]["eval_accuracy"] = accuracy  # the last epoch's score
        (paths[-1] / "trainer_state.json").write_text(json.dumps(state), encoding="utf-8")
    best, worst = paths[1], paths[0]

    def says(verdict, right, words):
        assert bool(verdict) is right and words in repr(verdict), repr(verdict)

    says(check.exercise_5_4(paths, None), False, "in place of None")
    says(check.exercise_5_4(paths, worst), False, "scored higher on the tuning split")
    says(check.exercise_5_4(paths, best), False, "not looked at validation yet")
    score_run(worst)
    says(check.exercise_5_4(paths, best), False, "looked at for 1 other")
    (worst / "validation_results.json").unlink()
    score_run(best)
    says(check.exercise_5_4(paths, best), True, "looked at once")
    says(check.exercise_5_4([paths[0]] * 2, paths[0]), False, "share one learning rate")
    says(check.exercise_5_4([], paths[0]), False, "fewer than two candidates")
    says(check.exercise_5_4(paths, str(tmp_path)), False, "cannot use your answer")
    plain = tmp_path / "plain"
    settings = json.loads((best / "settings.json").read_text(encoding="utf-8"))
    shutil.copytree(best, plain)
    (plain / "settings.json").write_text(json.dumps({**settings, "tuning_split": False}), encoding="utf-8")
    says(check.exercise_5_4([*paths, plain], best), False, "scored on validation while it trained")


def test_the_figure_names_the_split_it_scored():
    from helpers.plots import plot_history

    history = [{"loss": 0.7, "step": 1}, {"eval_loss": 0.6, "eval_accuracy": 0.7, "eval_f1": 0.8, "epoch": 1.0, "step": 2}]
    loss, scores = plot_history(history, scored_on="tuning").axes
    assert [line.get_label() for line in loss.lines] == ["training loss", "tuning loss"]
    assert scores.get_title() == "Tuning accuracy and F1" and scores.get_ylabel() == "tuning score"
    assert plot_history(history).axes[1].get_title() == "Validation accuracy and F1"
