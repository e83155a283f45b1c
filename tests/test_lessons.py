"""Lessons 4 and 5 run as a learner would (fresh kernels, offline, smoke), and leave what they promise."""

import re

import pytest

from tools.memory import LIMIT_MB, execute


@pytest.fixture(scope="module")
def lessons(tmp_path_factory):
    outputs = tmp_path_factory.mktemp("outputs")
    # As on Binder: a 2 GiB cap that the course reads from MEM_LIMIT.
    env = {"HF_HUB_OFFLINE": "1", "COURSE_PROFILE": "smoke", "COURSE_OUTPUT": str(outputs), "MRPC_DIR": "", "MEM_LIMIT": str(2 * 1024**3)}
    return outputs, execute("04_train.ipynb", env, timeout=300), execute("05_evaluate.ipynb", env, timeout=300)


def test_lesson_4_saves_a_run_with_its_loss_curve(lessons):
    outputs, (printed, _, _), _ = lessons
    (run,) = (outputs / "runs").iterdir()
    assert f"Saved the run in {run}" in printed
    assert (run / "loss_curve.png").stat().st_size > 10_000 and (run / "model.safetensors").is_file()


def test_lesson_4_shows_progress_and_its_estimate_beside_the_real_time(lessons):
    printed = lessons[1][0]
    bars = re.findall(r"<progress value='(\d+)' max='(\d+)'", printed)
    assert bars and bars[-1][0] == bars[-1][1] and int(bars[-1][1]) > 1, bars  # transformers' notebook progress bar, filled
    assert re.search(r"\[\d+/\d+ [\d:]+, Epoch 1/1\]", printed), printed[-3000:]  # steps done of all, time, epoch
    assert re.search(r"training took \d+ s; estimated beforehand: about \d+ (s|min) \(between", printed), printed[-3000:]


def test_lesson_5_prints_accuracy_and_f1_of_that_run(lessons):
    printed = lessons[2][0]
    found = re.search(r"accuracy (\d\.\d+) · F1 (\d\.\d+) on (\d+) validation pairs", printed)
    assert found, printed[-2000:]
    accuracy, f1, pairs = float(found[1]), float(found[2]), int(found[3])
    assert 0 <= accuracy <= 1 and 0 <= f1 <= 1 and pairs == 32


def test_smoke_lessons_fit_in_binder(lessons):
    import torch

    if torch.version.cuda is not None:  # PyPI's Linux build loads CUDA's libraries: about 300 MB that Binder never has
        pytest.skip(f"torch {torch.__version__} is a CUDA build; Binder runs the CPU build, which this 1.5 GB limit is for")
    assert lessons[1][1] < LIMIT_MB and lessons[2][1] < LIMIT_MB, (lessons[1][1], lessons[2][1])
