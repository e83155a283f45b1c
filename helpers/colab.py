"""On Colab: install what the course needs and Colab lacks, pin the Hugging Face libraries, keep the rest of Colab's stack."""

import importlib.metadata
import re
import subprocess
import sys

# The only libraries Colab ships that the setup cell replaces: the lessons are written against these exact versions.
# Everything else Colab has (torch, numpy, pandas, IPython, ipykernel, ...) stays at Colab's version.
HUGGING_FACE = {"transformers", "datasets", "evaluate", "accelerate", "huggingface-hub", "safetensors", "tokenizers"}


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


def canonical(name: str) -> str:
    """A distribution's name as pip compares it: lower case, `-` for any run of `-_.` (setup cell)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def needs_install(name: str, pinned: str, installed: str | None) -> bool:
    """Whether a pin is installed: when it is missing, or a Hugging Face library at another version (setup cell)."""
    return installed is None or (canonical(name) in HUGGING_FACE and installed != pinned)


def plan(pins, version_of=None, imported=frozenset()) -> tuple[list[str], bool]:
    """(what to pip install, whether a restart is needed): missing pins and differing Hugging Face pins (setup cell)."""
    version_of = version_of or installed_version
    found = {name: version_of(name) for name, _ in pins}
    wanted = [(name, version) for name, version in pins if needs_install(name, version, found[name])]
    replaced = [name for name, _ in wanted if found[name] is not None]
    modules = top_level_modules() if replaced else {}
    restart = any(module_names(name, modules) & set(imported) for name in replaced)
    return [f"{name}=={version}" for name, version in wanted], restart


def top_level_modules() -> dict[str, set[str]]:
    """Each installed distribution's top-level modules, e.g. ipython → {IPython} (setup cell)."""
    modules = {}
    for module, distributions in importlib.metadata.packages_distributions().items():
        for distribution in distributions:
            modules.setdefault(canonical(distribution), set()).add(module)
    return modules


def module_names(distribution: str, modules=None) -> set[str]:
    """The modules a distribution is imported as, its name with `_` for `-` when unknown (setup cell)."""
    modules = top_level_modules() if modules is None else modules
    return modules.get(canonical(distribution)) or {distribution.replace("-", "_")}


def imported_versions(imported) -> dict[str, str]:
    """Distribution → installed version, for each distribution one of the `imported` modules comes from (setup cell)."""
    tops = {name.split(".")[0] for name in imported}
    found = {}
    for module, distributions in importlib.metadata.packages_distributions().items():
        if module in tops:
            for distribution in distributions:
                found[canonical(distribution)] = installed_version(distribution)
    return found


def prepare(install=None) -> bool:
    """On Colab, install the missing pins; return True when the runtime must restart: when the install changed a library
    this runtime had already imported, be it one the course pins or one that pip moved for them (setup cell)."""
    if not on_colab():
        return False
    specs, restart = plan(requirements(), imported=frozenset(sys.modules))
    if specs:
        before = imported_versions(list(sys.modules))
        print(f"Colab: installing {', '.join(specs)}; every other library stays at Colab's version.")
        (install or _pip_install)(specs)
        importlib.invalidate_caches()
        changed = sorted(name for name, version in before.items() if installed_version(name) != version)
        if changed:
            print(f"Colab: pip also updated {', '.join(changed)}, which this runtime had already imported.")
        restart = restart or bool(changed)
    if restart:
        print("Colab: a library this runtime had already imported was updated. Click Runtime → Restart session, then run this cell again.")
    return restart


def _pip_install(specs: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *specs], check=True)
