"""COURSE_BUNDLE: the offline bundle of a workshop room, checked once per process, and what it holds.

The learner trusts the course and one value the instructor announces, not the drive the bundle is on: COURSE_BUNDLE_SHA256,
the SHA-256 of the bundle's SHA256SUMS (`python -m tools.bundle build` prints it). SHA256SUMS then vouches for every
file; a file it does not list, or a link that leaves the bundle, is refused. The bundle holds data and safetensors weights,
never code the course would run (docs/instructors.md: the bundle's threat model).
"""

import hashlib
import os
import re
from pathlib import Path, PurePosixPath

from helpers.errors import CourseError

SUMS, MANIFEST = "SHA256SUMS", "bundle.json"
ANCHOR = "COURSE_BUNDLE_SHA256"  # the SHA-256 of SHA256SUMS, announced by the instructor, never read from the drive
LITTER = (".DS_Store", "Thumbs.db", "desktop.ini")  # what file browsers leave on a shared drive: never read
DATA, CHECKPOINTS = "data/MRPC", "checkpoints"  # where a bundle keeps each part (it holds no code: the course ships its own)
AGAIN = "copy the bundle again from the instructor's drive"
SUM_LINE = re.compile(r"([0-9a-f]{64}) [ *](\S.*)")  # sha256sum's format: digest, two spaces (or " *"), relative path
_WHOLE: dict[str, tuple[str, int]] = {}  # bundles found whole in this process: the fingerprint, how many files


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


def fingerprint(folder: str | os.PathLike) -> str:
    """The bundle's fingerprint: the SHA-256 of its SHA256SUMS, which lists every other file's (workshops)."""
    return digest(Path(folder) / SUMS)


def anchored(folder: Path, expected: str) -> None:
    """Refuse a bundle whose fingerprint is not the one announced (workshops)."""
    expected = expected.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise CourseError(f"{ANCHOR} is not a SHA-256 (64 hexadecimal digits): set it to the value your instructor announced.")
    found = fingerprint(folder)
    if found != expected:
        raise CourseError(f"The course bundle at {folder} is not the one announced: its {SUMS} has SHA-256 {found[:12]}…, "
                          f"not {expected[:12]}… ({ANCHOR}): {AGAIN}, or check the value announced.")


def strays(folder: Path, sums: dict[str, str]) -> None:
    """Refuse a file the bundle's SHA256SUMS does not list, and a link that leaves the bundle (workshops)."""
    root = folder.resolve()
    for where, folders, files in os.walk(folder):  # links to folders are listed, not followed
        folders.sort()
        for name in sorted(folders + files):
            path = Path(where) / name
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                raise damaged(folder, f"{relative} is a link to {path.resolve()}, outside the bundle")
            if name in files and relative not in sums and relative != SUMS and name not in LITTER and not name.startswith("._"):
                raise damaged(folder, f"{relative} is not listed in {SUMS} (a bundle holds only what it lists)")


def check(folder: str | os.PathLike, skip: str = "", expected: str | None = None) -> int:
    """How many files a bundle holds, once its fingerprint is `expected` (if given), it holds nothing unlisted and each file
    matches SHA256SUMS; else a sentence naming what is wrong (workshops)."""
    folder = Path(folder)
    sums = read_sums(folder)
    if expected is not None:
        anchored(folder, expected)
    strays(folder, sums)
    missing = next((name for name in sums if not (folder / name).is_file()), None)  # cheap, so before any hashing
    if missing:
        raise damaged(folder, f"{missing} is missing")
    for name, expected_sum in sums.items():
        if skip and name.startswith(skip):
            continue
        try:
            found = digest(folder / name)
        except OSError as error:
            raise damaged(folder, f"{name} cannot be read ({error.strerror})") from None
        if found != expected_sum:
            raise damaged(folder, f"{name} does not match {SUMS}")
    return len(sums)


def bundle_dir() -> Path | None:
    """The bundle COURSE_BUNDLE names, checked the first time in a process; None when it is not set (workshops)."""
    value = os.environ.get("COURSE_BUNDLE", "").strip()
    if not value:
        return None
    folder = Path(value).expanduser().resolve()
    expected = os.environ.get(ANCHOR, "").strip()
    if not expected:
        raise CourseError(f"COURSE_BUNDLE is set but {ANCHOR} is not: set it to the value your instructor announced (printed by "
                          "`python -m tools.bundle build`), so that a bundle changed on the drive is refused.")
    if _WHOLE.get(str(folder), (None,))[0] != expected.lower():  # only a whole bundle is remembered, with its fingerprint
        _WHOLE[str(folder)] = (expected.lower(), check(folder, skip="wheels/", expected=expected))  # pip checks the wheels
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
    return (f"{folder}, whole and as announced ({_WHOLE[str(folder)][1]} files match its {SUMS}): the data"
            f"{' and ' + ', '.join(names) if names else ''} come from it")
