"""python -m tools.bundle: build an offline bundle for a workshop room (data, checkpoints, wheels), or verify one.

The instructor builds it once on a machine with network; learners set COURSE_BUNDLE to its folder and never need the Hub.
"""

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from datetime import datetime, timezone
from fnmatch import fnmatch
from pathlib import Path

from helpers.bundled import ANCHOR, CHECKPOINTS, DATA, MANIFEST, SUMS, check, digest, fingerprint
from helpers.checkpoints import PACKAGED_CHECKPOINT, REGISTRY, SEED_CHECKPOINT, Checkpoint, check_folder, lookup, packaged_path
from helpers.data import GLUE_FILES, HUB_CONFIG, HUB_ID, glue_folder, read_glue_folder
from helpers.errors import CourseError
from helpers.hub import hub_status
from helpers.preflight import DISTRIBUTION

DEFAULT_CHECKPOINTS = (PACKAGED_CHECKPOINT, SEED_CHECKPOINT)
PROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"  # present in a checkout, not in an installed course
MODEL_FILES = ("config.json", "tokenizer*.json", "special_tokens_map.json", "vocab.*", "*.safetensors")  # from_pretrained's
ONLY_PACKAGED = f"bundle only the shipped checkpoint with --checkpoint {PACKAGED_CHECKPOINT}"
FLAT = str.maketrans("\t\r\n", "   ")  # a GLUE field holds neither tabs nor line ends
HEADER = "\t#1 ID\t#2 ID\t#1 String\t#2 String"  # after "Quality", or "index" where the labels are hidden (test.tsv)
README = """# MRPC course bundle

Built {built} with {course} {version}, for a room without the Hugging Face Hub:

{contents}
- `{sums}` and `{manifest}`: each file's SHA-256, and what is here

Use it: set two variables before starting JupyterLab or `python -m helpers.train`, the second to the value your
instructor announced (not one read from this drive):

    export COURSE_BUNDLE=/path/to/this/folder COURSE_BUNDLE_SHA256=<announced>

Each lesson's first cell checks `SHA256SUMS` against the announced value, then every file against `SHA256SUMS`, and names
a damaged one. Check it yourself with `python -m tools.bundle verify /path/to/this/folder --sha256 <announced>` in the
course's folder.
"""
WHEELS = """
`wheels/` holds the course's libraries for Python {python} on {platform} only: they match the machine that built the bundle.
Other machines need the network, or their own wheels. In the course's folder, install without network:

    COURSE_BUNDLE=/path/to/this/folder make lab
"""


def build(out: str | Path, mrpc_dir: str | None = None, names=DEFAULT_CHECKPOINTS, wheels: bool = False) -> Path:
    """Write a whole bundle beside `out`, then rename it to `out`; what cannot be had is refused first (workshops)."""
    out, mrpc_dir = Path(out).expanduser().resolve(), mrpc_dir or os.environ.get("MRPC_DIR")
    names = list(dict.fromkeys(lookup(name).name for name in names))
    mrpc = glue_folder(mrpc_dir) if mrpc_dir else None
    if mrpc is not None:
        read_glue_folder(mrpc)  # a damaged file is refused here, not in the room
    need_hub(mrpc is None, [name for name in names if packaged_path(REGISTRY[name]) is None])
    check_target(out)
    partial = Path(tempfile.mkdtemp(prefix=f"{out.name}.partial-", dir=out.parent))  # no SHA256SUMS until the end
    try:
        partial.chmod(0o755)  # mkdtemp's folder is private; a shared drive's readers need it
        manifest = {"data": write_data(partial / DATA, mrpc),
                    "checkpoints": {name: write_checkpoint(partial / CHECKPOINTS / name, REGISTRY[name]) for name in names}}
        manifest["wheels"] = write_wheels(partial / "wheels") if wheels else None
        write_manifest(partial, manifest, names)
        write_sums(partial)
        replace(partial, out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)  # gone once renamed; else whatever a failure left
    return out


def need_hub(data: bool, names: list[str]) -> None:
    """Refuse, before writing anything, a build that needs the Hub when it is out of reach (workshops)."""
    reachable, why = hub_status()
    if reachable or not (data or names):
        return
    wanted = ["The MRPC data (no --mrpc-dir or MRPC_DIR)"] * data + names
    fixes = ["give --mrpc-dir a GLUE MRPC folder"] * data + [ONLY_PACKAGED] * bool(names)
    raise CourseError(f"{' and '.join(wanted)} need{'s' * (len(wanted) == 1)} the Hub, and {why}: "
                      f"build on a machine with network, or {' and '.join(fixes)}.")


def check_target(out: Path) -> None:
    """Refuse a target that is a file, or a folder holding files other than a bundle (workshops)."""
    if out.exists() and not out.is_dir():
        raise CourseError(f"{out} is a file: choose a new or empty folder for the bundle.")
    if out.is_dir() and any(out.iterdir()) and not (out / SUMS).is_file():
        raise CourseError(f"{out} holds files and is not a course bundle: choose a new or empty folder for the bundle.")
    out.parent.mkdir(parents=True, exist_ok=True)


def write_data(folder: Path, mrpc: Path | None) -> dict:
    """The three GLUE MRPC files: copied from a checked GLUE folder, else written from the Hub's MRPC (workshops)."""
    folder.mkdir(parents=True)
    if mrpc is not None:
        for name in GLUE_FILES.values():
            shutil.copyfile(mrpc / name, folder / name)
    else:
        from datasets import load_dataset

        try:
            raw = load_dataset(HUB_ID, HUB_CONFIG)
        except Exception as error:  # the datasets library raises many kinds for a failed download
            raise CourseError(f"Could not download {HUB_ID} ({HUB_CONFIG}) ({type(error).__name__}): check the network, "
                              "or give --mrpc-dir a GLUE MRPC folder.") from None
        for split, name in GLUE_FILES.items():
            (folder / name).write_text(glue_tsv(raw[split], hidden=split == "test"), encoding="utf-8")
    pairs = {split: len(columns["idx"]) for split, columns in read_glue_folder(folder).items()}  # as the lessons will read it
    return {"from": str(mrpc) if mrpc else f"{HUB_ID} ({HUB_CONFIG}) on the Hugging Face Hub", "pairs": pairs}


def glue_tsv(rows, hidden: bool) -> str:
    """One split in the GLUE download's layout, idx as both IDs; test labels hidden, as GLUE hides them (workshops)."""
    lines = [("index" if hidden else "Quality") + HEADER]
    for row in rows:
        first, pair = row["idx"] if hidden else row["label"], (row["sentence1"].translate(FLAT), row["sentence2"].translate(FLAT))
        lines.append(f"{first}\t{row['idx']}\t{row['idx']}\t{pair[0]}\t{pair[1]}")
    return "\n".join(lines) + "\n"


def write_checkpoint(folder: Path, checkpoint: Checkpoint) -> dict:
    """A checkpoint's config, tokenizer and safetensors weights: from its package, else from the Hub (workshops)."""
    local = packaged_path(checkpoint)
    if local is not None:
        for path in sorted(p for p in local.rglob("*") if p.is_file() and wanted(p.relative_to(local).as_posix())):
            (folder / path.relative_to(local)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, folder / path.relative_to(local))
    else:
        download(checkpoint.hub_id, folder)
    check_folder(folder)
    if not any(folder.glob("*.safetensors")):
        raise CourseError(f"{checkpoint.name} has no safetensors weights to bundle: pick another checkpoint with --checkpoint.")
    return {"hub_id": checkpoint.hub_id, "from": f"the package {checkpoint.package}" if local else "the Hugging Face Hub"}


def wanted(relative: str) -> bool:
    """Whether from_pretrained needs this file of a checkpoint folder (workshops)."""
    return any(fnmatch(relative, pattern) for pattern in MODEL_FILES)


def download(hub_id: str, folder: Path) -> None:
    """A checkpoint's files from the Hub, into `folder`, said in one sentence when that fails (workshops)."""
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(hub_id, local_dir=folder, allow_patterns=list(MODEL_FILES))
    except Exception as error:  # network, HTTP and disk errors all end the build the same way
        raise CourseError(f"Could not download {hub_id} ({type(error).__name__}): check the network and build again, "
                          f"or {ONLY_PACKAGED}.") from None
    shutil.rmtree(folder / ".cache", ignore_errors=True)  # huggingface_hub's own bookkeeping, not the checkpoint


def requirements() -> list[str]:
    """The course's pinned libraries and JupyterLab's; in a checkout, from pyproject.toml with its build backend (workshops)."""
    import tomllib

    if PROJECT.is_file():  # the one place of the pins; `pip install -e .` without the network needs setuptools too
        toml = tomllib.loads(PROJECT.read_text(encoding="utf-8"))
        project = toml["project"]
        return [*project["dependencies"], *project["optional-dependencies"]["lab"], *toml["build-system"]["requires"]]
    try:
        specs = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        raise CourseError(f"{DISTRIBUTION} is not installed in this Python: run `make install` (or pip install -e .).") from None
    return [spec.split(";")[0].strip() for spec in specs if "extra ==" not in spec or 'extra == "lab"' in spec]


def write_wheels(folder: Path) -> dict:
    """`pip download` of the course's requirements, torch's build chosen as `make lab` chooses it (workshops)."""
    from tools.install import this_machine, usable_torch_index

    index, _ = usable_torch_index(this_machine())  # TORCH_INDEX, or the CPU build for a room of CPU laptops
    wanted = requirements()  # from pyproject.toml in a checkout, else from the installed course's metadata
    torch = next(spec for spec in wanted if spec.startswith("torch=="))
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(folder)]
    steps = [download + ["--no-deps", torch, "--index-url", index]] if index else []
    for command in steps + [download + ["--find-links", str(folder), *wanted]]:  # torch, if it came, is found there
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            said = (done.stderr.strip().splitlines() or ["no message"])[-1][:200]
            raise CourseError(f"pip download failed ({said}): check the network, or build without --wheels.")
    unlocked(folder)
    return {"python": f"{sys.version_info[0]}.{sys.version_info[1]}", "platform": sysconfig.get_platform()}


def unlocked(folder: Path, lock: Path | None = None) -> None:
    """Refuse wheels whose SHA-256 the course's lock does not name for their package: learners' machines would refuse them
    (workshops)."""
    from tools.install import LOCK, lock_entries, wheel_name

    entries = lock_entries((lock or LOCK).read_text(encoding="utf-8"))
    for path in sorted(folder.glob("*")):
        if not path.name.endswith(".whl"):
            raise CourseError(f"pip download brought {path.name}, which is not a wheel: learners would have to build it; "
                              "build the bundle on a machine of the room's kind, or without --wheels.")
        if f"sha256:{digest(path)}" not in entries.get(wheel_name(path.name), ""):
            raise CourseError(f"{path.name} is not a file that the course's lock ({(lock or LOCK).name}) names: run "
                              "`python -m tools.lock` after changing a pin (TORCH_INDEX=pypi takes PyPI's torch), or build without --wheels.")


def write_manifest(folder: Path, manifest: dict, names: list[str]) -> None:
    """bundle.json (what the bundle holds, from where, when) and the README for the people who receive it (workshops)."""
    gpu = SEED_CHECKPOINT if SEED_CHECKPOINT in names else PACKAGED_CHECKPOINT  # lesson 4's default on a GPU in the room
    manifest = {"course": DISTRIBUTION, "version": importlib.metadata.version(DISTRIBUTION),
                "built": datetime.now(timezone.utc).isoformat(timespec="seconds"), **manifest,
                "default_checkpoint": {"cpu": PACKAGED_CHECKPOINT, "gpu": gpu}}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(readme(manifest), encoding="utf-8")


def readme(manifest: dict) -> str:
    """The bundle's README: what it holds and the one setting that uses it (workshops)."""
    data = manifest["data"]
    pairs = ", ".join(f"{n:,} {split}" for split, n in data["pairs"].items())
    contents = [f"- `{DATA}/`: GLUE MRPC ({pairs} pairs), from {data['from']}"]
    got = manifest["checkpoints"]
    contents += [f"- `{CHECKPOINTS}/{name}/`: {got[name]['hub_id']}, from {got[name]['from']}" for name in got]
    text = README.format(built=manifest["built"], course=DISTRIBUTION, version=manifest["version"], contents="\n".join(contents),
                         sums=SUMS, manifest=MANIFEST)
    return text + (WHEELS.format(**manifest["wheels"]) if manifest["wheels"] else "")


def write_sums(folder: Path) -> None:
    """SHA256SUMS in sha256sum's format, covering every file but itself (workshops)."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    text = "".join(f"{digest(folder / name)}  {name}\n" for name in files if name != SUMS)
    (folder / SUMS).write_text(text, encoding="utf-8")


def replace(partial: Path, out: Path) -> None:
    """Put the finished bundle at `out`: an empty folder or an older bundle there is replaced (workshops)."""
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    old = Path(tempfile.mkdtemp(prefix=f"{out.name}.old-", dir=out.parent)) if out.exists() else None
    if old:
        out.replace(old / out.name)  # set aside first: `out` names a whole bundle or nothing, never a mix
    partial.rename(out)
    if old:
        shutil.rmtree(old)


def sizes(out: Path) -> dict[str, list[int]]:
    """Files and bytes of each part of a bundle: the data, each checkpoint, the wheels, the others (workshops)."""
    parts: dict[str, list[int]] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        relative = path.relative_to(out).parts
        part = "/".join(relative[:2]) if relative[0] in ("data", CHECKPOINTS) else relative[0] if len(relative) > 1 else "others"
        parts.setdefault(part, [0, 0])
        parts[part][0] += 1
        parts[part][1] += path.stat().st_size
    order = ["data", CHECKPOINTS, "wheels", "others"]
    return dict(sorted(parts.items(), key=lambda item: (order.index(item[0].split("/")[0]), item[0])))


def report(out: Path, seconds: float) -> None:
    """What the build wrote, part by part, and the line learners need (workshops)."""
    parts = sizes(out)
    files, size = sum(f for f, _ in parts.values()), sum(s for _, s in parts.values())
    print(f"Wrote {out} in {seconds:.1f} s: {size / 1e6:,.1f} MB in {files} files")
    for part, (files, size) in parts.items():
        print(f"  {part:<36} {size / 1e6:>10,.1f} MB {files:>5} file{'s' * (files != 1)}")
    print(f"Learners set, before starting JupyterLab: COURSE_BUNDLE={out} {ANCHOR}={fingerprint(out)}")
    print(f"Announce {ANCHOR} some other way than the drive (the board, the course page): it is what learners trust.")


def parse(argv=None) -> argparse.Namespace:
    """The command line: build OUT [options], or verify PATH (workshops)."""
    parser = argparse.ArgumentParser(prog="python -m tools.bundle", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("build", help="write a bundle folder OUT (for a USB stick or a shared drive)")
    made.add_argument("out", type=Path, help="the folder to write; an older bundle there is replaced")
    made.add_argument("--mrpc-dir", help="a GLUE MRPC folder to copy (default: MRPC_DIR, else MRPC from the Hub)")
    made.add_argument("--checkpoint", action="append",
                      help=f"a checkpoint to bundle, repeated for more (default: {' and '.join(DEFAULT_CHECKPOINTS)})")
    made.add_argument("--wheels", action="store_true", help="add the course's libraries as wheels, for this platform and Python")
    checked = commands.add_parser("verify", help="check a bundle: its fingerprint, then every file against its SHA256SUMS")
    checked.add_argument("path", type=Path, help="the bundle's folder")
    checked.add_argument("--sha256", default=os.environ.get(ANCHOR) or None,
                         help=f"the fingerprint announced for it (default: {ANCHOR}); without one, it is printed to compare")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Build or verify a bundle; exit status 0, or 2 with one line that says what to do (workshops)."""
    args, started = parse(argv), time.perf_counter()
    try:
        if args.command == "build":
            out = build(args.out, args.mrpc_dir, args.checkpoint or DEFAULT_CHECKPOINTS, args.wheels)
            report(out, time.perf_counter() - started)
        else:
            files = check(args.path, expected=args.sha256)
            said = "is the one announced" if args.sha256 else \
                f"has the fingerprint {fingerprint(args.path)}: compare it with the one announced ({ANCHOR})"
            print(f"The course bundle at {args.path.resolve()} is whole and {said}: {files} files match its {SUMS} "
                  f"(checked in {time.perf_counter() - started:.1f} s).")
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a full USB stick, a read-only or forbidden folder
        said = f"Could not write {error.filename or args.out} ({error.strerror})"
        print(f"error: {said}: free some space, or choose a folder you can write to.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
