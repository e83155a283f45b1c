"""Run sizes: one setting, COURSE_PROFILE, sizes every run of the course; where the course writes, and writing whole files."""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from helpers.errors import CourseError


@dataclass(frozen=True)
class Profile:
    """How big a run is: rows per split (None = all), epochs and repetitions of timings (lesson 1)."""

    name: str
    train_rows: int | None  # rows of `train` kept
    eval_rows: int | None  # rows of `validation` and `test` kept
    epochs: int  # default number of training epochs
    repeats: int  # repetitions of each timing measurement


PROFILES = {
    "smoke": Profile("smoke", train_rows=64, eval_rows=32, epochs=1, repeats=2),
    "full": Profile("full", train_rows=None, eval_rows=None, epochs=3, repeats=12),
}


def get_profile(name: "str | Profile | None" = None) -> Profile:
    """The profile named (or given), or the one COURSE_PROFILE names, `full` by default (lesson 1)."""
    if isinstance(name, Profile):
        return name
    name = (name or os.environ.get("COURSE_PROFILE") or "full").strip().lower()
    if name not in PROFILES:
        raise CourseError(f"Unknown COURSE_PROFILE {name!r}: set it to one of {', '.join(PROFILES)}.")
    return PROFILES[name]


CHECKOUT = Path(__file__).resolve().parent.parent  # the course's folder, when helpers runs from a checkout


def output_dir(*parts: str) -> Path:
    """The folder under which the course writes everything: COURSE_OUTPUT, a relative one taken from the course's folder
    (so that the command line and the lessons, which run in notebooks/, agree), else `outputs/` there (lesson 1)."""
    in_checkout = (CHECKOUT / "pyproject.toml").exists()
    root = os.environ.get("COURSE_OUTPUT", "").strip()
    if root:
        base = (CHECKOUT if in_checkout else Path.cwd()) / Path(root).expanduser()  # an absolute one stays as it is
    else:
        base = CHECKOUT / "outputs" if in_checkout else Path.cwd() / "course_outputs"
    base = Path(os.path.abspath(base))
    os.environ["COURSE_OUTPUT"] = str(base)  # resolved once: processes started from here use the same folder
    path = base.joinpath(*parts)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CourseError(f"Cannot write the course's outputs in {path} ({error.strerror}): set COURSE_OUTPUT to a folder you can write to.") from None
    return path


def write_text(path: Path, text: str) -> None:
    """Write a file whole or not at all, even when several processes write it at once: each through its own temporary file."""
    partial = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")  # never shared; umask's mode
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
