"""COURSE_BUNDLE: the offline bundle of a workshop room, checked against its SHA256SUMS once per process, and what it holds."""

import hashlib
import os
import re
from pathlib import Path, PurePosixPath

from helpers.errors import CourseError

SUMS, MANIFEST = "SHA256SUMS", "bundle.json"
DATA, CHECKPOINTS = "data/MRPC", "checkpoints"  # where a bundle keeps each part (it holds no code: the course ships its own)
AGAIN = "copy the bundle again from the instructor's drive"
SUM_LINE = re.compile(r"([0-9a-f]{64}) [ *](\S.*)")  # sha256sum's format: digest, two spaces (or " *"), relative path
_WHOLE: dict[str, int] = {}  # bundles found whole in this process, and how many files each holds


def digest(path: Path) -> str:
    """A file's SHA-256, read in chunks (workshops)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def damaged(folder: Path, what: str) -> CourseError:
    """The one sentence that names what is wrong in a bundle, and what to do (workshops)."""
    return CourseError(f"The course bundle at {folder} is damaged: {what}: {AGAIN}.")


def read_sums(folder: Path) -> dict[str, str]:
    """The relative path and SHA-256 of each file that a bundle's SHA256SUMS lists (workshops)."""
    if not folder.is_dir():
        raise CourseError(f"There is no folder {folder}: set COURSE_BUNDLE to the bundle's folder (with {SUMS}), or unset it.")
    try:
        lines = (folder / SUMS).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        whole = f"{folder} holds no {SUMS}, so it is not a whole course bundle"
        raise CourseError(f"{whole}: {AGAIN}, or unset COURSE_BUNDLE.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise damaged(folder, f"{SUMS} cannot be read ({type(error).__name__})") from None
    sums = {}
    for number, line in enumerate(lines, start=1):
        found = SUM_LINE.fullmatch(line)
        if not found or PurePosixPath(found[2]).is_absolute() or ".." in PurePosixPath(found[2]).parts:  # inside the bundle only
            raise damaged(folder, f"line {number} of {SUMS} is not `<sha256>  <path>`")
        sums[found[2]] = found[1]
    if MANIFEST not in sums:
        raise CourseError(f"{folder} is not a course bundle ({SUMS} does not list {MANIFEST}): {AGAIN}, or unset COURSE_BUNDLE.")
    return sums


def check(folder: str | os.PathLike, skip: str = "") -> int:
    """How many files a bundle holds, once each matches SHA256SUMS; else a sentence naming one missing or changed (workshops)."""
    folder = Path(folder)
    sums = read_sums(folder)
    missing = next((name for name in sums if not (folder / name).is_file()), None)  # cheap, so before any hashing
    if missing:
        raise damaged(folder, f"{missing} is missing")
    for name, expected in sums.items():
        if skip and name.startswith(skip):
            continue
        try:
            found = digest(folder / name)
        except OSError as error:
            raise damaged(folder, f"{name} cannot be read ({error.strerror})") from None
        if found != expected:
            raise damaged(folder, f"{name} does not match {SUMS}")
    return len(sums)


def bundle_dir() -> Path | None:
    """The bundle COURSE_BUNDLE names, checked the first time in a process; None when it is not set (workshops)."""
    value = os.environ.get("COURSE_BUNDLE", "").strip()
    if not value:
        return None
    folder = Path(value).expanduser().resolve()
    if str(folder) not in _WHOLE:  # only a whole bundle is remembered: a damaged one is checked again once copied anew
        _WHOLE[str(folder)] = check(folder, skip="wheels/")  # the lessons never read the wheels: `verify` checks them
    return folder


def bundled_data() -> Path | None:
    """The bundle's GLUE MRPC folder, when COURSE_BUNDLE is set (workshops)."""
    folder = bundle_dir()
    return folder / DATA if folder else None


def bundled_checkpoint(name: str) -> Path | None:
    """The bundle's folder of a registry checkpoint, when COURSE_BUNDLE is set and the bundle holds it (workshops)."""
    folder = bundle_dir()
    return folder / CHECKPOINTS / name if folder and (folder / CHECKPOINTS / name).is_dir() else None



def describe() -> str | None:
    """One line naming the bundle in use and what it holds, once it is checked; None without COURSE_BUNDLE (workshops)."""
    folder = bundle_dir()
    if folder is None:
        return None
    names = sorted(p.parent.relative_to(folder / CHECKPOINTS).as_posix() for p in (folder / CHECKPOINTS).rglob("config.json"))
    return (f"{folder}, whole ({_WHOLE[str(folder)]} files match its {SUMS}): the data"
            f"{' and ' + ', '.join(names) if names else ''} come from it")
