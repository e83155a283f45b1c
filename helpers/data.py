"""Where MRPC comes from (the Hub, a GLUE folder, the shipped sample), and local files in the Hub's shape for `load_dataset`."""

import csv
import hashlib
import json
import os
from pathlib import Path

from datasets import ClassLabel, DatasetDict, Features, Value

from helpers.errors import CourseError
from helpers.hub import hub_status
from helpers.profile import Profile, get_profile, output_dir

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
    """(source, why): `hub`, `sample` or a GLUE folder; the argument, else MRPC_DIR, else the Hub if it answers (lesson 1)."""
    if source is not None:
        return str(source), "you asked for it"
    if os.environ.get("MRPC_DIR"):
        return os.environ["MRPC_DIR"], "MRPC_DIR is set"
    reachable, why = hub_status()
    if reachable:
        return "hub", "the Hub answers"
    return "sample", f"the Hub is out of reach: {why}"


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
            partial = path.with_suffix(".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
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


def read_glue_tsv(path: Path) -> dict[str, list]:
    """Columns of one GLUE MRPC file: tab-separated, no quoting, optional byte-order mark (lesson 1)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    header = rows[0] if rows else []
    if len(header) != 5 or header[0] not in ("Quality", "index") or header[3:] != ["#1 String", "#2 String"]:
        raise CourseError(
            f"{path} is not a GLUE MRPC file (its header is {header[:5]}): use the files of the GLUE download unchanged."
        )
    bad = next((number for number, row in enumerate(rows[1:], start=2) if len(row) != 5), None)
    if bad is not None:
        raise CourseError(f"Line {bad} of {path} does not have 5 tab-separated fields: restore the file from the GLUE download.")
    labelled = header[0] == "Quality"
    return {
        "sentence1": [row[3] for row in rows[1:]],
        "sentence2": [row[4] for row in rows[1:]],
        "label": [int(row[0]) if labelled else -1 for row in rows[1:]],
        "idx": list(range(len(rows) - 1)),
    }


def read_glue_folder(folder: str | os.PathLike) -> dict[str, dict[str, list]]:
    """The columns of the three MRPC files of a GLUE folder, in the Hub's shape (lesson 1)."""
    folder = glue_folder(folder)
    return {split: read_glue_tsv(folder / name) for split, name in GLUE_FILES.items()}


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
