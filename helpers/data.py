"""Where MRPC comes from (the Hub, a GLUE folder, the shipped sample), and local files in the Hub's shape for `load_dataset`."""

import csv
import hashlib
import io
import json
import os
from pathlib import Path

from datasets import ClassLabel, DatasetDict, Features, Value

from helpers.bundled import bundled_data
from helpers.errors import CourseError
from helpers.hub import hub_status
from helpers.profile import Profile, get_profile, output_dir, write_text

HUB_ID, HUB_CONFIG = "nyu-mll/glue", "mrpc"
FEATURES = Features(
    {
        "sentence1": Value("string"),
        "sentence2": Value("string"),
        "label": ClassLabel(names=["not_equivalent", "equivalent"]),
        "idx": Value("int32"),
    }
)
GLUE_FILES = {"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv"}
SAMPLE_DIR = Path(__file__).resolve().parent / "sample"


def choose_source(source: str | os.PathLike | None = None) -> tuple[str, str]:
    """(source, why): `hub`, `sample` or a GLUE folder: the argument, COURSE_BUNDLE, MRPC_DIR, the Hub, the sample (lesson 1)."""
    if source is not None:
        return str(source), _CHOSEN.get(_key(source), "you asked for it")
    bundled = bundled_data()  # a workshop room's bundle, checked once: it wins over MRPC_DIR and the Hub
    if bundled is not None:
        chosen = str(bundled), "COURSE_BUNDLE is set"
    elif os.environ.get("MRPC_DIR"):
        chosen = os.environ["MRPC_DIR"], "MRPC_DIR is set"
    else:
        reachable, why = hub_status()
        chosen = ("hub", "the Hub answers") if reachable else ("sample", f"the Hub is out of reach: {why}")
    _CHOSEN[_key(chosen[0])] = chosen[1]  # a run records the source it chose: loading it later keeps the reason
    return chosen


_CHOSEN: dict[str, str] = {}  # sources chosen in this process, and why


def _key(source: str | os.PathLike) -> str:
    """One name for a source however it is written: `hub`, `sample`, or a folder's absolute path (lesson 1)."""
    if str(source) in ("hub", "sample"):
        return str(source)
    folder = Path(source).expanduser().resolve()
    return str(folder / "MRPC" if (folder / "MRPC").is_dir() else folder)


def data_source(source: str | os.PathLike | None = None) -> str:
    """`hub`, `sample` or a checked GLUE folder, and one printed line saying which and why (lesson 1)."""
    source, why = choose_source(source)
    if source == "hub":
        reachable, problem = hub_status()
        if not reachable:
            raise CourseError(f"The Hub is out of reach ({problem}): use SOURCE = None, \"sample\" or a GLUE MRPC folder instead.")
        print(f"Data: {HUB_ID} ({HUB_CONFIG}) from the Hugging Face Hub, because {why}.")
    elif source == "sample":
        print(f"Data: the course's own {SAMPLE_DIR.name} of MRPC-style pairs, because {why}.")
    else:
        source = str(glue_folder(source))
        print(f"Data: the GLUE MRPC files in {source}, because {why}.")
    return source


def local_files(source: str | os.PathLike) -> dict[str, str]:
    """The JSON Lines files, in the Hub's shape, that `load_dataset("json", ...)` reads for a GLUE folder or the sample (lesson 1)."""
    rows = read_sample() if source == "sample" else read_glue_folder(source)
    folder = output_dir("data", "sample" if source == "sample" else hashlib.sha1(str(Path(source).resolve()).encode()).hexdigest()[:12])
    files = {}
    for split, columns in rows.items():
        text = "".join(json.dumps(dict(zip(columns, values)), ensure_ascii=False) + "\n" for values in zip(*columns.values()))
        path = folder / f"{split}.jsonl"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:  # rewritten only when the source changed
            write_text(path, text)  # two processes of one run may both write it
        files[split] = str(path)
    return files


def cut_to_profile(dataset: DatasetDict, profile: Profile | str | None = None) -> DatasetDict:
    """Keep a fixed, seeded subset of each split when the profile asks for one (lesson 1)."""
    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    limits = {"train": profile.train_rows, "validation": profile.eval_rows, "test": profile.eval_rows}
    return DatasetDict(
        {
            split: rows if limits.get(split) is None or len(rows) <= limits[split]
            else rows.shuffle(seed=0).select(range(limits[split]))
            for split, rows in dataset.items()
        }
    )


def glue_folder(path: str | os.PathLike) -> Path:
    """The MRPC folder of a GLUE download, given it or the folder above it (lesson 1)."""
    folder = Path(path).expanduser()
    if (folder / "MRPC").is_dir():
        folder = folder / "MRPC"
    if not folder.is_dir():
        raise CourseError(
            f"There is no folder {folder}: point MRPC_DIR (or `source=`) at the MRPC folder of the GLUE download."
        )
    missing = [name for name in GLUE_FILES.values() if not (folder / name).is_file()]
    if missing:
        raise CourseError(
            f"{folder} lacks {', '.join(missing)}: point MRPC_DIR at the MRPC folder of the GLUE download, which holds train.tsv, dev.tsv and test.tsv."
        )
    return folder


def read_glue_tsv(path: Path, need_labels: bool = False) -> dict[str, list]:
    """Columns of one GLUE MRPC file: UTF-8, tab-separated, no quoting, optional byte-order mark (lesson 1)."""
    rows = _glue_rows(path)
    header = rows[0] if rows else []
    if len(header) != 5 or header[0] not in ("Quality", "index") or header[3:] != ["#1 String", "#2 String"]:
        raise CourseError(
            f"{path} is not a GLUE MRPC file (its header is {header[:5]}): use the files of the GLUE download unchanged."
        )
    bad = next((number for number, row in enumerate(rows[1:], start=2) if len(row) != 5), None)
    if bad is not None:
        raise CourseError(f"Line {bad} of {path} does not have 5 tab-separated fields: restore the file from the GLUE download.")
    if len(rows) == 1:
        raise CourseError(f"{path} holds only its header, no sentence pairs: restore the file from the GLUE download.")
    return {
        "sentence1": [row[3] for row in rows[1:]],
        "sentence2": [row[4] for row in rows[1:]],
        "label": _glue_labels(path, rows, need_labels),  # need_labels: every pair must be labelled 0 or 1
        "idx": list(range(len(rows) - 1)),
    }


def _glue_rows(path: Path) -> list[list[str]]:
    """The tab-separated rows of one GLUE MRPC file, once it is known to be UTF-8 text (lesson 1)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        text = raw[: error.start].decode("utf-8-sig") + "\x00"  # the text up to the first byte that is not UTF-8
    if "\x00" in text:  # binary files and UTF-16 text hold NUL bytes, or bytes that are not UTF-8
        line = text[: text.index("\x00")].count("\n") + 1
        raise CourseError(
            f"Line {line} of {path} is not UTF-8 text (is it a binary file, or text saved as UTF-16 or Latin-1?): save it as UTF-8 text, or restore it from the GLUE download."
        )
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))
    except csv.Error as error:
        raise CourseError(f"{path} cannot be read as tab-separated text ({error}): restore it from the GLUE download.") from None


def _glue_labels(path: Path, rows: list[list[str]], need_labels: bool) -> list[int]:
    """The label of each pair: 0 or 1, or -1 where it is hidden, as in test.tsv, whose header starts with `index` (lesson 1)."""
    hidden = rows[0][0] == "index"
    values = ["-1" if hidden else row[0].strip() or "-1" for row in rows[1:]]
    bad = next((number for number, value in enumerate(values, start=2) if value not in ("0", "1", "-1")), None)
    if bad is not None:
        raise CourseError(
            f"Line {bad} of {path} has the label {values[bad - 2]!r}, which is not 0 or 1: write 0 (not equivalent) or 1 (equivalent) there, or restore the file from the GLUE download."
        )
    if need_labels and "-1" in values:
        if set(values) != {"-1"}:
            where = f"Line {values.index('-1') + 2} of {path} has no label"
        else:
            where = f"{path} has no labels ({'its header starts with index, as the unlabelled test.tsv does' if hidden else 'every label is -1 or empty'})"
        raise CourseError(f"{where}, but training and validation pairs must be labelled 0 or 1: restore {path.name} from the GLUE download.")
    return [int(value) for value in values]


def read_glue_folder(folder: str | os.PathLike) -> dict[str, dict[str, list]]:
    """The columns of the three MRPC files of a GLUE folder, in the Hub's shape; training and validation pairs must be labelled (lesson 1)."""
    folder = glue_folder(folder)
    return {split: read_glue_tsv(folder / name, need_labels=split != "test") for split, name in GLUE_FILES.items()}


def read_sample(folder: Path = SAMPLE_DIR) -> dict[str, dict[str, list]]:
    """The columns of the shipped sample of MRPC-style pairs; its test labels are hidden (-1) as on the Hub (lesson 1)."""
    splits = {}
    for split in GLUE_FILES:
        with open(folder / f"{split}.jsonl", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        splits[split] = {
            "sentence1": [row["sentence1"] for row in rows],
            "sentence2": [row["sentence2"] for row in rows],
            "label": [row["label"] if split != "test" else -1 for row in rows],
            "idx": list(range(len(rows))),
        }
    return splits


def check_pairs(dataset: DatasetDict) -> None:
    """Refuse training pairs that all have an empty sentence, and say in one line how many pairs have one (lesson 5)."""
    counts = {}  # split's name -> (pairs with an empty sentence, pairs)
    for split, name in (("train", "training"), ("validation", "validation")):
        pairs = zip(dataset[split]["sentence1"], dataset[split]["sentence2"])
        counts[name] = (sum(not (first or "").strip() or not (second or "").strip() for first, second in pairs), dataset[split].num_rows)
    if counts["training"][0] == counts["training"][1]:
        raise CourseError(
            f"Every training pair ({counts['training'][1]} of {counts['training'][1]}) has an empty sentence, so there is nothing to learn from: fill in the sentences of the training file, or choose another data source."
        )
    said = [f"{empty} of {total} {name} pairs" for name, (empty, total) in counts.items() if empty]
    if said:
        verb = "has" if len(said) == 1 and said[0].startswith("1 of") else "have"
        print(f"{' and '.join(said)} {verb} an empty sentence: training goes on, but check the data files if you did not expect that.")


def fingerprint(dataset: DatasetDict) -> dict:
    """Rows and a SHA-256 of the training and validation pairs, so a run can tell its data from other data (lesson 4)."""
    digest, rows = hashlib.sha256(), {}
    for split in ("train", "validation"):
        columns = dataset[split].select_columns(["sentence1", "sentence2", "label"]).to_dict()
        digest.update(json.dumps([split, columns["sentence1"], columns["sentence2"], columns["label"]], ensure_ascii=False).encode())
        rows[split] = dataset[split].num_rows
    return {**rows, "sha256": digest.hexdigest()}
