import time
from pathlib import Path

import pytest
from datasets import ClassLabel, Features, Value

from helpers import CourseError, data
from helpers.data import FEATURES, choose_source, local_files, read_glue_folder, read_sample
from helpers.recipe import load_mrpc

# The features of nyu-mll/glue, config mrpc, as the Hub's dataset card declares them.
HUB_FEATURES = Features(
    {
        "sentence1": Value("string"),
        "sentence2": Value("string"),
        "label": ClassLabel(names=["not_equivalent", "equivalent"]),
        "idx": Value("int32"),
    }
)


def test_glue_folder_reads_bom_bare_quotes_and_hidden_test_labels(glue_folder):
    dataset = load_mrpc(glue_folder, "full")
    assert {split: rows.num_rows for split, rows in dataset.items()} == {"train": 3, "validation": 1, "test": 2}
    first = dataset["train"][0]
    assert first["sentence1"] == 'The mayor said " we will rebuild " on Monday .'
    assert first["label"] == 1 and first["idx"] == 0
    assert dataset["train"]["label"] == [1, 0, 1]
    assert dataset["test"]["label"] == [-1, -1]
    assert dataset["test"][1]["sentence1"] == 'It snowed " .'


def test_glue_folder_accepts_the_folder_above_mrpc(glue_folder):
    assert load_mrpc(glue_folder.parent, "full")["train"].num_rows == 3


@pytest.mark.parametrize("reader", ["glue", "sample"])
def test_every_source_has_the_hub_features(reader, glue_folder):
    dataset = load_mrpc(glue_folder if reader == "glue" else "sample", "full")
    assert list(dataset) == ["train", "validation", "test"]
    for rows in dataset.values():
        assert rows.features == HUB_FEATURES == FEATURES


def test_sample_is_large_enough_balanced_and_has_hidden_test_labels():
    sample = load_mrpc("sample", "full")
    sizes = {split: rows.num_rows for split, rows in sample.items()}
    assert sizes["train"] >= 120 and sizes["validation"] >= 40 and sizes["test"] >= 40 and sum(sizes.values()) >= 200
    for split in ("train", "validation"):
        share = sum(sample[split]["label"]) / sizes[split]
        assert 0.6 <= share <= 0.72, f"{split}: {share:.2f} paraphrases"
    assert set(sample["test"]["label"]) == {-1}
    sentences = [s for rows in sample.values() for s in list(rows["sentence1"]) + list(rows["sentence2"])]
    assert len(set(sentences)) == len(sentences), "a sentence appears twice in the sample"


def test_missing_folder_is_one_clear_sentence(tmp_path):
    with pytest.raises(CourseError, match="There is no folder .*MRPC_DIR"):
        read_glue_folder(tmp_path / "nowhere")


def test_folder_without_dev_file_names_it(glue_folder):
    (glue_folder / "dev.tsv").unlink()
    with pytest.raises(CourseError, match="lacks dev.tsv"):
        read_glue_folder(glue_folder)


def test_malformed_header_and_row_are_reported(glue_folder):
    (glue_folder / "dev.tsv").write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(CourseError, match="not a GLUE MRPC file"):
        read_glue_folder(glue_folder)
    (glue_folder / "dev.tsv").write_text("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t2\tonly three\n", encoding="utf-8")
    with pytest.raises(CourseError, match="Line 2 of .*dev.tsv"):
        read_glue_folder(glue_folder)


def test_source_order_argument_then_mrpc_dir_then_hub_then_sample(monkeypatch, glue_folder):
    assert choose_source("sample")[0] == "sample"
    assert choose_source()[0] == "sample"  # offline, no MRPC_DIR
    monkeypatch.setenv("MRPC_DIR", str(glue_folder))
    assert choose_source() == (str(glue_folder), "MRPC_DIR is set")
    monkeypatch.delenv("MRPC_DIR")
    monkeypatch.setattr(data, "hub_status", lambda: (True, "it answered"))
    assert choose_source()[0] == "hub"


def test_hub_source_makes_the_documented_call(monkeypatch):
    from helpers import recipe

    calls, sample = [], load_mrpc("sample", "full")

    def fake_load_dataset(*args, **kwargs):
        calls.append((args, kwargs))
        return sample

    monkeypatch.setattr(recipe, "load_dataset", fake_load_dataset)
    with pytest.raises(CourseError, match="The Hub is out of reach"):
        load_mrpc("hub", "full")  # offline: refused at once, no retries
    monkeypatch.setattr(data, "hub_status", lambda: (True, "it answered"))
    dataset = load_mrpc("hub", "full")
    assert calls == [(("nyu-mll/glue", "mrpc"), {})]
    assert dataset["train"].num_rows == sample["train"].num_rows


def test_local_files_are_written_once_and_again_when_the_source_changes(glue_folder):
    first = local_files(glue_folder)
    stamps = {split: Path(path).stat().st_mtime_ns for split, path in first.items()}
    assert local_files(glue_folder) == first and all(Path(p).stat().st_mtime_ns == stamps[s] for s, p in first.items())
    with open(glue_folder / "dev.tsv", "a", encoding="utf-8") as handle:
        handle.write("1\t23\t24\tIt is late .\tIt is not early .\n")
    local_files(glue_folder)
    assert load_mrpc(glue_folder, "full")["validation"]["sentence2"] == ["A storm missed the coast .", "It is not early ."]
    assert local_files("sample")["train"] != first["train"]


def test_offline_fallback_is_fast_and_says_why(monkeypatch, capsys):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens on loopback
    start = time.perf_counter()
    dataset = load_mrpc()
    assert time.perf_counter() - start < 2.5
    said = capsys.readouterr().out
    assert "sample" in said and "the Hub is out of reach" in said
    assert dataset["train"].num_rows == 64  # smoke profile


def test_smoke_profile_keeps_a_fixed_subset(glue_folder):
    first = load_mrpc("sample", "smoke")
    second = load_mrpc("sample", "smoke")
    assert {s: r.num_rows for s, r in first.items()} == {"train": 64, "validation": 32, "test": 32}
    assert first["train"]["idx"] == second["train"]["idx"]
    assert load_mrpc("sample", "full")["train"].num_rows == len(read_sample()["train"]["label"])
