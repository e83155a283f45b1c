"""Unit tests run offline, on tiny data they write themselves, with the smoke profile."""

import os

import pytest

from helpers import hub
from helpers.session import library_warnings

# Kernels and command lines started by the tests turn deprecations into errors too (helpers.session.library_warnings).
os.environ.setdefault("COURSE_WARNINGS", "error")


def pytest_collection_modifyitems(items):
    """The solutions notebooks are run by `make slow`: each repeats its lesson's setup before its answers."""
    for item in items:
        if "solutions" in item.path.parts:
            item.add_marker(pytest.mark.slow)


# pyproject.toml makes deprecations errors; pytest sets its filters anew for the collection and for each test, so the
# third-party warnings filtered one by one (helpers.session) are added inside each: for imports, fixtures and the test.
@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    library_warnings(strict=False)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    library_warnings(strict=False)  # lasts until the test's teardown, when pytest puts its filters back
    return (yield)


@pytest.fixture(scope="session", autouse=True)
def filled_cache():
    """The Hugging Face cache holds what the course ships, as helpers.setup() leaves it in every lesson."""
    from helpers.hfcache import fill_cache

    return fill_cache()


@pytest.fixture(autouse=True)
def offline_course(monkeypatch, tmp_path):
    """Every test starts offline, in the smoke profile, writing under its own folder."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setenv("COURSE_OUTPUT", str(tmp_path / "outputs"))
    monkeypatch.delenv("MRPC_DIR", raising=False)
    monkeypatch.delenv("COURSE_BUNDLE", raising=False)  # a bundle set in the shell would replace the tests' data
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    hub._status.cache_clear()
    yield
    hub._status.cache_clear()


GLUE_HEADER = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
TEST_HEADER = "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n"


@pytest.fixture
def glue_folder(tmp_path):
    """A tiny GLUE MRPC folder: a byte-order mark, bare quotes, an unlabelled test file."""
    folder = tmp_path / "glue_data" / "MRPC"
    folder.mkdir(parents=True)
    (folder / "train.tsv").write_text(
        "\ufeff" + GLUE_HEADER
        + '1\t11\t12\tThe mayor said " we will rebuild " on Monday .\tOn Monday the mayor said " we will rebuild " .\n'
        + "0\t13\t14\tShares rose 3 percent .\tShares fell 3 percent .\n"
        + "1\t15\t16\tThe court met today .\tToday the court met .\n",
        encoding="utf-8",
    )
    (folder / "dev.tsv").write_text(GLUE_HEADER + "0\t21\t22\tA storm hit the coast .\tA storm missed the coast .\n", encoding="utf-8")
    (folder / "test.tsv").write_text(TEST_HEADER + "0\t31\t32\tIt rained .\tThere was rain .\n1\t33\t34\tIt snowed \" .\tSnow fell .\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A small, randomly initialised BERT with the packaged checkpoint's tokenizer: trains and saves in moments."""
    import shutil

    from transformers import BertConfig, BertForSequenceClassification

    from helpers.checkpoints import PACKAGED_CHECKPOINT, resolve

    folder = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, num_labels=2)
    BertForSequenceClassification(config).save_pretrained(folder)
    packaged = resolve(PACKAGED_CHECKPOINT)[0]
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(f"{packaged}/{name}", folder / name)
    return str(folder)


SAMPLE_SIZES = {"train": 60, "validation": 20, "test": 10}  # unlike the shipped sample's, cut to 64 and 32 in the smoke profile


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """A bundle a lesson can train on: 60, 20 and 10 pairs of the shipped sample as a GLUE folder, and the packaged checkpoint."""
    from tools import bundle
    from helpers.checkpoints import PACKAGED_CHECKPOINT
    from helpers.data import read_sample

    folder = tmp_path_factory.mktemp("glue") / "MRPC"
    folder.mkdir()
    for (split, columns), name in zip(read_sample().items(), ("train.tsv", "dev.tsv", "test.tsv")):
        rows = list(zip(columns["label"], columns["sentence1"], columns["sentence2"]))[: SAMPLE_SIZES[split]]
        lines = [("index" if split == "test" else "Quality") + "\t#1 ID\t#2 ID\t#1 String\t#2 String"]
        lines += [f"{n if split == 'test' else label}\t{2 * n}\t{2 * n + 1}\t{one}\t{two}"
                  for n, (label, one, two) in enumerate(rows)]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return bundle.build(tmp_path_factory.mktemp("room") / "bundle", mrpc_dir=str(folder), names=[PACKAGED_CHECKPOINT])
