"""Broken GLUE MRPC files end in one sentence that names the file and says what to do, in a lesson and on the command line."""

import os
import random
import re
import subprocess
import sys

import pytest
from datasets import Dataset, DatasetDict

from helpers import CourseError
from helpers.data import check_pairs
from helpers.recipe import load_mrpc

GLUE_HEADER = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
TEST_HEADER = "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
PAIR = "1\t41\t42\tA storm hit the coast .\tThe coast was hit by a storm .\n"
NOT_UTF8 = r"Line {line} of PATH is not UTF-8 text \(is it a binary file, or text saved as UTF-16 or Latin-1\?\): save it as UTF-8 text"
NO_LABELS = r"PATH has no labels \({why}\), but training and validation pairs must be labelled 0 or 1: restore {name} from the GLUE download\.$"
HEADER_ONLY = r"PATH holds only its header, no sentence pairs: restore the file from the GLUE download\.$"

# case: (the file that is broken, its content, the sentence that must say so; PATH stands for the file's path)
BAD_FILES = {
    "binary train": ("train.tsv", random.Random(0).randbytes(4000) + b"\x00\x00", NOT_UTF8.format(line=1)),
    "NUL bytes in train": ("train.tsv", (GLUE_HEADER + PAIR).encode() + b"\x00" * 64 + b"\n", NOT_UTF8.format(line=3)),
    "UTF-16 train": ("train.tsv", (GLUE_HEADER + PAIR).encode("utf-16"), NOT_UTF8.format(line=1)),
    "UTF-16 train without BOM": ("train.tsv", (GLUE_HEADER + PAIR).encode("utf-16-le"), NOT_UTF8.format(line=1)),
    "Latin-1 dev": ("dev.tsv", (GLUE_HEADER + "1\t1\t2\tUn café .\tUn thé .\n").encode("latin-1"), NOT_UTF8.format(line=2)),
    "label 2 in train": ("train.tsv", GLUE_HEADER + PAIR + "2\t43\t44\tIt rained .\tRain fell .\n",
                         r"Line 3 of PATH has the label '2', which is not 0 or 1: write 0 \(not equivalent\) or 1 \(equivalent\) there"),
    "label yes in dev": ("dev.tsv", GLUE_HEADER + "yes\t43\t44\tIt rained .\tRain fell .\n", r"Line 2 of PATH has the label 'yes', which is not 0 or 1"),
    "dev with test header": ("dev.tsv", TEST_HEADER + PAIR, NO_LABELS.format(why="its header starts with index, as the unlabelled test.tsv does", name="dev.tsv")),
    "train labels all -1": ("train.tsv", GLUE_HEADER + PAIR.replace("1\t", "-1\t", 1) * 2, NO_LABELS.format(why="every label is -1 or empty", name="train.tsv")),
    "dev labels all empty": ("dev.tsv", GLUE_HEADER + PAIR[1:], NO_LABELS.format(why="every label is -1 or empty", name="dev.tsv")),
    "one train label missing": ("train.tsv", GLUE_HEADER + PAIR + PAIR[1:], r"Line 3 of PATH has no label, but training and validation pairs must be labelled 0 or 1"),
    "header-only train": ("train.tsv", GLUE_HEADER, HEADER_ONLY),
    "header-only dev": ("dev.tsv", GLUE_HEADER, HEADER_ONLY),
    "header-only test": ("test.tsv", TEST_HEADER, HEADER_ONLY),
}
ON_THE_COMMAND_LINE = ["binary train", "label yes in dev", "dev with test header", "header-only dev"]  # one per kind, ~20 s each


def break_file(folder, case: str) -> tuple:
    """Write the broken file of `case` into a GLUE folder; returns its path and the sentence that must name it."""
    name, content, expected = BAD_FILES[case]
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path, expected.replace("PATH", re.escape(str(path)))


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_broken_file_is_one_sentence_that_names_it(glue_folder, case):
    path, expected = break_file(glue_folder, case)
    with pytest.raises(CourseError, match=expected) as error:
        load_mrpc(glue_folder, "full")
    assert "\n" not in str(error.value) and str(error.value).endswith(".")


def test_unlabelled_test_file_is_still_fine(glue_folder):
    (glue_folder / "test.tsv").write_text(GLUE_HEADER + PAIR.replace("1\t", "-1\t", 1) + PAIR[1:], encoding="utf-8")
    assert load_mrpc(glue_folder, "full")["test"]["label"] == [-1, -1]


@pytest.mark.slow
@pytest.mark.parametrize("case", ON_THE_COMMAND_LINE)
def test_the_command_line_says_one_line_and_exits_2(glue_folder, tmp_path, tiny_checkpoint, case):
    path, expected = break_file(glue_folder, case)
    done = subprocess.run(
        [sys.executable, "-m", "helpers.train", "--profile", "smoke", "--source", str(glue_folder),
         "--checkpoint", tiny_checkpoint, "--output-dir", str(tmp_path / "run")],
        env={**os.environ, "HF_HUB_OFFLINE": "1", "COURSE_OUTPUT": str(tmp_path / "out")},
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0], done.stderr
    assert re.search(expected, lines[0])


def pairs(*sentences: tuple[str, str]) -> Dataset:
    """A split of MRPC-shaped pairs, all labelled 1."""
    return Dataset.from_dict({"sentence1": [s[0] for s in sentences], "sentence2": [s[1] for s in sentences], "label": [1] * len(sentences)})


def test_check_pairs_counts_empty_sentences_in_one_line(capsys):
    full, empty = ("It rained .", "Rain fell ."), ("It rained .", "  ")
    check_pairs(DatasetDict(train=pairs(full, empty, full), validation=pairs(full, full)))
    assert capsys.readouterr().out == "1 of 3 training pairs has an empty sentence: training goes on, but check the data files if you did not expect that.\n"
    check_pairs(DatasetDict(train=pairs(full, empty, ("", "Rain fell .")), validation=pairs(full, ("", ""))))
    assert capsys.readouterr().out.startswith("2 of 3 training pairs and 1 of 2 validation pairs have an empty sentence: ")


def test_check_pairs_is_silent_on_the_sample(capsys):
    sample = load_mrpc("sample", "full")
    capsys.readouterr()
    check_pairs(sample)
    assert capsys.readouterr().out == ""


def test_check_pairs_refuses_training_pairs_that_are_all_empty(glue_folder):
    (glue_folder / "train.tsv").write_text(GLUE_HEADER + "1\t1\t2\t\tRain fell .\n0\t3\t4\tIt rained .\t \n", encoding="utf-8")
    with pytest.raises(CourseError, match=r"^Every training pair \(2 of 2\) has an empty sentence, so there is nothing to learn from: "):
        check_pairs(load_mrpc(glue_folder, "full"))
