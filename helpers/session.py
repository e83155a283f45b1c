"""The first cell of every lesson: versions, profile, Hub access; the libraries left as they ship."""

import importlib.metadata
import os
import platform
import re
import warnings

from helpers.errors import CourseError, show_briefly
from helpers.hub import go_offline, hub_status
from helpers.profile import get_profile, output_dir

LIBRARIES = ("torch", "transformers", "datasets", "evaluate", "accelerate")


def versions() -> dict[str, str]:
    """Python's and each course library's installed version (lesson 1)."""
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


# Warnings that a library raises about its own code, which a learner can do nothing about: each filtered alone, naming
# the library and why. Nothing else is filtered: a deprecation raised by a lesson's or helpers' own call is news, shown
# to the learner and failing the tests (COURSE_WARNINGS=error, which `make test` sets, makes it an error in kernels too).
# (message at its start, category, module raising it, why it is filtered)
THIRD_PARTY_WARNINGS: tuple[tuple[str, type[Warning], str, str], ...] = (
    ("'pin_memory' argument is set as true but no accelerator is found", UserWarning, "torch.utils.data.dataloader",
     "torch, about TrainingArguments' default dataloader_pin_memory=True on a machine without a GPU: harmless there, and "
     "lesson 4 types the Trainer's defaults as the documentation does"),
)


def library_warnings(strict: bool | None = None) -> None:
    """Filter the third-party warnings above one by one; with `strict` (COURSE_WARNINGS=error), deprecations are errors
    (lesson 1)."""
    strict = os.environ.get("COURSE_WARNINGS", "").strip() == "error" if strict is None else strict
    if strict:
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings("error", category=category)
    for message, category, module, _ in THIRD_PARTY_WARNINGS:  # inserted in front: they come before the errors
        warnings.filterwarnings("ignore", message=re.escape(message), category=category, module=module)


def offline_unless_reachable() -> tuple[bool, str]:
    """Whether the Hub answers; if not, HF_HUB_OFFLINE=1, so that the libraries read their cache at once instead of
    waiting for the Hub on every call (set before they are imported, which read it then) (lesson 1)."""
    reachable, why = hub_status()
    if not reachable:
        go_offline(why)
    return reachable, why


def setup(seed: int = 42) -> None:
    """Print versions, hardware, profile, Hub access and the course bundle; fill the Hugging Face cache from what the course
    ships; seed everything. The libraries' logging, progress bars and classes stay as they ship (lesson 1)."""
    from helpers import colab

    if colab.prepare():
        raise CourseError("Restart the runtime (Runtime → Restart session), then run the setup cell again.")
    reachable, why = offline_unless_reachable()
    from transformers import set_seed

    from helpers.bundled import describe
    from helpers.checkpoints import default_checkpoint
    from helpers.hardware import detect, limit_heap_growth
    from helpers.hfcache import fill_cache

    library_warnings()
    set_seed(seed)
    try:
        get_ipython().set_custom_exc((CourseError,), show_briefly)  # noqa: F821 (defined in notebooks)
    except NameError:
        pass
    print(" · ".join(f"{name} {version}" for name, version in versions().items()))
    bundle = describe()  # COURSE_BUNDLE: checked against its SHA256SUMS first, a damaged file named in one line
    cache = fill_cache()  # the Hub's all-MiniLM-L6-v2 and the GLUE metric, where from_pretrained and evaluate.load look
    hardware = detect()
    if hardware.small:
        limit_heap_growth()
    print(f"{hardware} · profile {get_profile().name} · training default {default_checkpoint(True, hardware.gpu)}")
    print(f"Hub: {'online' if reachable else 'offline, ' + why} · outputs: {output_dir()}")
    print(cache)
    if bundle:
        print(f"Bundle: {bundle}")
    if colab.on_colab() and not hardware.gpu:
        print("No GPU: training will be slow. On Colab, click Runtime → Change runtime type → T4 GPU, then run this cell again.")
