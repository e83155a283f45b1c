"""The offline bundle of a workshop room: built whole, damage named in one line, and used by the lessons and the command line."""

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
from helpers import CourseError, bundled, checkpoints, data, preflight
from helpers.bundled import ANCHOR, SUMS, fingerprint
from helpers.checkpoints import PACKAGED_CHECKPOINT, SEED_CHECKPOINT, default_checkpoint, resolve
from helpers.data import choose_source, read_glue_folder, read_sample
from tools import bundle

AGAIN = "copy the bundle again from the instructor's drive"
ONLY_PACKAGED = ["--checkpoint", PACKAGED_CHECKPOINT]


@pytest.fixture(autouse=True)
def no_bundle_yet(monkeypatch):
    """No COURSE_BUNDLE from the shell, and no bundle remembered as whole from another test."""
    monkeypatch.delenv("COURSE_BUNDLE", raising=False)
    monkeypatch.delenv(ANCHOR, raising=False)
    monkeypatch.setattr(bundled, "_WHOLE", {})


def announce(monkeypatch, folder: Path, announced: str | None = None) -> None:
    """COURSE_BUNDLE set to `folder`, and the fingerprint the instructor announced (the bundle's own as built, by default)."""
    monkeypatch.setenv("COURSE_BUNDLE", str(folder))
    monkeypatch.setenv(ANCHOR, announced or (fingerprint(folder) if (folder / SUMS).is_file() else "0" * 64))


@pytest.fixture
def built(tmp_path, glue_folder) -> Path:
    """A bundle of the tiny GLUE folder and the packaged checkpoint."""
    return bundle.build(tmp_path / "bundle", mrpc_dir=str(glue_folder), names=[PACKAGED_CHECKPOINT])


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_build_writes_the_glue_layout_checkpoint_and_sums_that_verify_accepts_and_no_code(tmp_path, glue_folder, capsys):
    out = tmp_path / "bundle"
    assert bundle.main(["build", str(out), "--mrpc-dir", str(glue_folder), *ONLY_PACKAGED]) == 0
    assert f"COURSE_BUNDLE={out} {ANCHOR}={fingerprint(out)}" in capsys.readouterr().out
    for name in ("train.tsv", "dev.tsv", "test.tsv"):
        assert (out / "data" / "MRPC" / name).read_bytes() == (glue_folder / name).read_bytes()
    model = out / "checkpoints" / PACKAGED_CHECKPOINT
    assert {"config.json", "model.safetensors", "tokenizer.json", "vocab.txt"} <= files_in(model)
    assert not [name for name in files_in(out) if name.endswith(".py")]  # the course runs its own code, never a drive's
    manifest = json.loads((out / "bundle.json").read_text(encoding="utf-8"))
    assert manifest["data"] == {"from": str(glue_folder), "pairs": {"train": 3, "validation": 1, "test": 2}}
    assert list(manifest["checkpoints"]) == [PACKAGED_CHECKPOINT] and manifest["wheels"] is None
    assert "export COURSE_BUNDLE=" in (out / "README.md").read_text(encoding="utf-8")
    lines = (out / SUMS).read_text(encoding="utf-8").splitlines()
    assert all(re.fullmatch(r"[0-9a-f]{64}  \S+", line) for line in lines)
    assert {line[66:] for line in lines} == files_in(out) - {SUMS}  # every file but itself, bundle.json included
    if shutil.which("sha256sum"):
        assert subprocess.run(["sha256sum", "--check", "--quiet", SUMS], cwd=out).returncode == 0
    assert bundle.main(["verify", str(out)]) == 0
    assert f"The course bundle at {out} is whole and has the fingerprint {fingerprint(out)}: compare it" in capsys.readouterr().out
    assert bundle.main(["verify", str(out), "--sha256", fingerprint(out)]) == 0
    assert f"is whole and is the one announced: {len(lines)} files match its SHA256SUMS" in capsys.readouterr().out
    assert not list(tmp_path.glob("bundle.*"))  # no half-built folder left beside it


def change_a_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage, name, said", [
    (change_a_byte, f"checkpoints/{PACKAGED_CHECKPOINT}/model.safetensors", "does not match SHA256SUMS"),
    (Path.unlink, "data/MRPC/dev.tsv", "is missing"),
])
def test_a_changed_or_missing_file_is_refused_in_one_line_naming_it(built, monkeypatch, capsys, damage, name, said):
    damage(built / name)
    sentence = f"The course bundle at {built} is damaged: {name} {said}: {AGAIN}."
    assert bundle.main(["verify", str(built)]) == 2
    assert capsys.readouterr().err == f"error: {sentence}\n"
    announce(monkeypatch, built)
    for use in (choose_source, lambda: resolve(PACKAGED_CHECKPOINT), helpers.setup):
        with pytest.raises(CourseError) as refused:
            use()
        assert str(refused.value) == sentence
    assert preflight.check_bundle() == preflight.Check("bundle", "fail", sentence)
    assert [check.name for check in preflight.run_checks()][-1] == "bundle"  # data and checkpoint would only say it again


def test_a_folder_that_is_not_a_whole_bundle_is_refused(tmp_path, monkeypatch, capsys):
    announce(monkeypatch, tmp_path / "nowhere")
    with pytest.raises(CourseError, match=r"^There is no folder .*nowhere: set COURSE_BUNDLE to the bundle's folder"):
        choose_source()
    half = tmp_path / "bundle.partial-x1"
    (half / "data").mkdir(parents=True)
    announce(monkeypatch, half)
    with pytest.raises(CourseError, match=rf"^{half} holds no SHA256SUMS, so it is not a whole course bundle: {AGAIN}"):
        resolve(PACKAGED_CHECKPOINT)
    (half / SUMS).write_text("not a checksum line\n", encoding="utf-8")
    assert bundle.main(["verify", str(half)]) == 2
    said = f"The course bundle at {half} is damaged: line 1 of {SUMS} is not `<sha256>  <path>`: {AGAIN}."
    assert capsys.readouterr().err == f"error: {said}\n"
    (half / SUMS).write_text(f"{'0' * 64}  data/notes.txt\n", encoding="utf-8")  # sha256sum's format, but not the list of a course bundle
    assert bundle.main(["verify", str(half)]) == 2
    said = f"{half} is not a course bundle ({SUMS} does not list bundle.json): {AGAIN}, or unset COURSE_BUNDLE."
    assert capsys.readouterr().err == f"error: {said}\n"


def test_with_course_bundle_the_data_and_checkpoint_come_from_it(built, glue_folder, monkeypatch, capsys):

    announce(monkeypatch, built)
    monkeypatch.setenv("MRPC_DIR", str(glue_folder))  # the bundle wins over MRPC_DIR and the Hub; an explicit source wins over it
    monkeypatch.setattr(data, "hub_status", lambda: (True, "it answered"))
    assert choose_source() == (str(built / "data" / "MRPC"), "COURSE_BUNDLE is set")
    assert choose_source("sample") == ("sample", "you asked for it")
    assert resolve(PACKAGED_CHECKPOINT) == (str(built / "checkpoints" / PACKAGED_CHECKPOINT), "the course bundle holds it", "bundle")
    monkeypatch.setattr(checkpoints, "_in_hub_cache", lambda hub_id: False)
    with pytest.raises(CourseError, match="^bert-base-uncased needs the Hub"):  # a checkpoint the bundle lacks: as without it
        resolve(SEED_CHECKPOINT)
    helpers.setup()
    holds = f"the data and {PACKAGED_CHECKPOINT} come from it"
    assert f"Bundle: {built}, whole and as announced (11 files match its SHA256SUMS): {holds}" in capsys.readouterr().out.splitlines()
    assert preflight.check_bundle().status == "ok"


def test_the_bundle_is_checked_once_per_process(built, monkeypatch):
    hashed = []
    announce(monkeypatch, built)
    monkeypatch.setattr(bundled, "digest", lambda path, real=bundled.digest: hashed.append(path) or real(path))
    choose_source(), resolve(PACKAGED_CHECKPOINT), default_checkpoint()
    assert len(hashed) == len((built / SUMS).read_text(encoding="utf-8").splitlines()) + 1  # and SHA256SUMS, once


def test_a_bundle_rewritten_on_the_drive_is_refused_by_the_announced_fingerprint(built, monkeypatch, capsys):
    """SHA256SUMS lies inside the bundle, so whoever can write the drive can rewrite it; the announced value is not there."""
    announced = fingerprint(built)
    change_a_byte(built / "data" / "MRPC" / "train.tsv")
    bundle.write_sums(built)  # what `sha256sum * > SHA256SUMS` on the drive would do
    assert bundle.main(["verify", str(built)]) == 0  # whole against its own sums, so the fingerprint is printed to compare
    assert f"has the fingerprint {fingerprint(built)}" in capsys.readouterr().out and fingerprint(built) != announced
    said = (f"The course bundle at {built} is not the one announced: its SHA256SUMS has SHA-256 {fingerprint(built)[:12]}…, "
            f"not {announced[:12]}… ({ANCHOR}): {AGAIN}, or check the value announced.")
    assert bundle.main(["verify", str(built), "--sha256", announced]) == 2 and capsys.readouterr().err == f"error: {said}\n"
    announce(monkeypatch, built, announced)
    for use in (choose_source, lambda: resolve(PACKAGED_CHECKPOINT), helpers.setup):
        with pytest.raises(CourseError) as refused:
            use()
        assert str(refused.value) == said
    monkeypatch.delenv(ANCHOR)  # no value announced: nothing vouches for the drive
    with pytest.raises(CourseError, match=rf"^COURSE_BUNDLE is set but {ANCHOR} is not: set it to the value your instructor"):
        choose_source()
    monkeypatch.setenv(ANCHOR, "abc")
    with pytest.raises(CourseError, match=rf"^{ANCHOR} is not a SHA-256 \(64 hexadecimal digits\)"):
        choose_source()


@pytest.mark.parametrize("extra", ["unlisted checkpoint", "link to a folder outside", "link to a file outside"])
def test_only_what_the_sums_list_is_used_and_no_link_leaves_the_bundle(built, monkeypatch, tmp_path, capsys, extra):
    """An unlisted bert-base-uncased folder (a MiniLM in disguise) or a link out of the bundle: the bundle is refused."""
    stand_in = built / "checkpoints" / SEED_CHECKPOINT
    if extra == "unlisted checkpoint":
        shutil.copytree(built / "checkpoints" / PACKAGED_CHECKPOINT, stand_in)
        said = f"checkpoints/{SEED_CHECKPOINT}/config.json is not listed in SHA256SUMS (a bundle holds only what it lists)"
    elif extra == "link to a folder outside":
        shutil.copytree(built / "checkpoints" / PACKAGED_CHECKPOINT, tmp_path / "elsewhere")
        stand_in.symlink_to(tmp_path / "elsewhere")
        said = f"checkpoints/{SEED_CHECKPOINT} is a link to {tmp_path / 'elsewhere'}, outside the bundle"
    else:
        train = built / "data" / "MRPC" / "train.tsv"
        shutil.copyfile(train, tmp_path / "train.tsv")
        train.unlink()
        train.symlink_to(tmp_path / "train.tsv")  # the same bytes, so SHA256SUMS still matches: the next write changes them
        said = f"data/MRPC/train.tsv is a link to {tmp_path / 'train.tsv'}, outside the bundle"
    sentence = f"The course bundle at {built} is damaged: {said}: {AGAIN}."
    assert bundle.main(["verify", str(built)]) == 2 and capsys.readouterr().err == f"error: {sentence}\n"
    announce(monkeypatch, built)
    monkeypatch.setattr(checkpoints, "_in_hub_cache", lambda hub_id: False)
    with pytest.raises(CourseError) as refused:
        resolve(SEED_CHECKPOINT)  # never the stand-in, recorded as bert-base-uncased
    assert str(refused.value) == sentence


def test_a_bundled_bert_base_trains_by_name_but_is_not_the_lessons_default(built, monkeypatch):
    """Lesson 4 types from_pretrained("bert-base-uncased"), which reads the Hugging Face cache, not a bundle: so it is not
    offered there; the command line resolves the name to the bundle's folder."""
    shutil.copytree(built / "checkpoints" / PACKAGED_CHECKPOINT, built / "checkpoints" / SEED_CHECKPOINT)  # a BERT stands in
    bundle.write_sums(built)
    announce(monkeypatch, built)
    monkeypatch.setattr(checkpoints, "_in_hub_cache", lambda hub_id: False)
    assert default_checkpoint(for_training=True, gpu=True) == PACKAGED_CHECKPOINT == default_checkpoint()
    assert resolve(SEED_CHECKPOINT) == (str(built / "checkpoints" / SEED_CHECKPOINT), "the course bundle holds it", "bundle")


def test_an_offline_build_of_bert_base_is_refused_in_one_line(tmp_path, glue_folder, capsys):
    assert bundle.main(["build", str(tmp_path / "bundle"), "--mrpc-dir", str(glue_folder)]) == 2
    said = ("bert-base-uncased needs the Hub, and HF_HUB_OFFLINE is set: build on a machine with network, "
            f"or bundle only the shipped checkpoint with --checkpoint {PACKAGED_CHECKPOINT}.")
    assert capsys.readouterr().err == f"error: {said}\n"
    assert bundle.main(["build", str(tmp_path / "bundle"), *ONLY_PACKAGED]) == 2  # and no MRPC folder either
    assert "error: The MRPC data (no --mrpc-dir or MRPC_DIR) needs the Hub" in capsys.readouterr().err
    assert not list(tmp_path.glob("bundle*"))


def interrupted(folder):
    raise KeyboardInterrupt


def full_disk(folder):
    raise OSError(errno.ENOSPC, "No space left on device", str(folder / SUMS))


def test_other_files_are_refused_an_older_bundle_replaced_and_a_failed_build_leaves_nothing(tmp_path, glue_folder, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(CourseError, match=f"^{other} holds files and is not a course bundle: choose a new or empty folder"):
        bundle.build(other, mrpc_dir=str(glue_folder), names=[PACKAGED_CHECKPOINT])
    first = bundle.build(tmp_path / "bundle", mrpc_dir=str(glue_folder), names=[PACKAGED_CHECKPOINT])
    (first / "stale.txt").write_text("from the older bundle", encoding="utf-8")
    assert bundle.build(first, mrpc_dir=str(glue_folder), names=[PACKAGED_CHECKPOINT]) == first
    assert not (first / "stale.txt").exists() and bundled.check(first) == 11
    monkeypatch.setattr(bundle, "write_sums", interrupted)  # Ctrl-C near the end
    with pytest.raises(KeyboardInterrupt):
        bundle.build(tmp_path / "new", mrpc_dir=str(glue_folder), names=[PACKAGED_CHECKPOINT])
    assert not list(tmp_path.glob("new*")) and not list(tmp_path.glob("bundle.*"))


def test_a_full_disk_ends_the_build_in_one_line(tmp_path, glue_folder, monkeypatch, capsys):
    monkeypatch.setattr(bundle, "write_sums", full_disk)
    assert bundle.main(["build", str(tmp_path / "bundle"), "--mrpc-dir", str(glue_folder), *ONLY_PACKAGED]) == 2
    said = capsys.readouterr().err
    assert re.fullmatch(r"error: Could not write \S+/SHA256SUMS \(No space left on device\): free some space, or choose a folder "
                        r"you can write to.\n", said), said
    assert not list(tmp_path.glob("bundle*"))


def test_mrpc_from_the_hub_is_written_in_the_glue_layout(tmp_path, monkeypatch):
    import datasets

    from helpers.data import FEATURES

    hub = read_sample()
    hub["train"]["sentence1"][0] = "A tab\there and a line end\nthere ."

    def load_dataset(*args):
        assert args == ("nyu-mll/glue", "mrpc")
        return datasets.DatasetDict({split: datasets.Dataset.from_dict(rows, features=FEATURES) for split, rows in hub.items()})

    monkeypatch.setattr(bundle, "hub_status", lambda: (True, "it answered"))
    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    out = bundle.build(tmp_path / "bundle", names=[PACKAGED_CHECKPOINT])
    folder, header = out / "data" / "MRPC", "\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
    assert (folder / "train.tsv").read_text(encoding="utf-8").startswith(f"Quality{header}1\t0\t0\tA tab here and a line end there .\t")
    assert (folder / "test.tsv").read_text(encoding="utf-8").startswith(f"index{header}0\t0\t0\t")
    hub["train"]["sentence1"][0] = "A tab here and a line end there ."
    assert read_glue_folder(folder) == hub  # labels, and the test split's hidden ones, as the Hub has them
    assert json.loads((out / "bundle.json").read_text(encoding="utf-8"))["data"]["from"] == "nyu-mll/glue (mrpc) on the Hugging Face Hub"


def test_wheels_are_the_pinned_libraries_jupyterlab_and_the_build_backend(tmp_path, monkeypatch):
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    pins, extras = project["project"]["dependencies"], project["project"]["optional-dependencies"]
    wanted = {*pins, *extras["lab"], *project["build-system"]["requires"]}
    assert set(bundle.requirements()) == wanted
    with monkeypatch.context() as installed:  # an installed course, not a checkout: its metadata
        installed.setattr(bundle, "PROJECT", tmp_path / "no-checkout" / "pyproject.toml")
        specs = ["torch==2.13.0", 'jupyterlab==4.6.6; extra == "lab"', 'pytest==9.2.0; extra == "test"']
        installed.setattr(bundle.importlib.metadata, "requires", lambda name: specs)
        assert bundle.requirements() == ["torch==2.13.0", "jupyterlab==4.6.6"]
    from tools import install

    ran = []
    monkeypatch.setattr(bundle.subprocess, "run", lambda command, **kw: ran.append(command) or subprocess.CompletedProcess([], 0))
    monkeypatch.setattr(install, "this_machine", lambda: install.Machine("Linux", nvidia=False))
    monkeypatch.setattr(install, "reachable", lambda url: False)  # PyTorch's CPU index out of reach: pip's own indexes
    assert bundle.write_wheels(tmp_path / "wheels")["python"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert ran[0][1:6] == ["-m", "pip", "download", "--quiet", "--dest"] and set(ran[0][9:]) == wanted and len(ran) == 1
    monkeypatch.setattr(install, "reachable", lambda url: True)  # a room of CPU laptops gets torch's CPU build
    ran.clear()
    bundle.write_wheels(tmp_path / "wheels")
    assert ran[0][7:] == ["--no-deps", install.torch_pin(), "--index-url", install.CPU_INDEX] and set(ran[1][9:]) == wanted
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "numpy-2.4.6-cp311-cp311-linux_x86_64.whl").write_bytes(b"not PyPI's numpy")
    with pytest.raises(CourseError, match=r"^numpy-2.4.6-cp311-cp311-linux_x86_64.whl is not a file that the course's lock "
                                          r"\(lock.txt\) names: run `python -m tools.lock`"):
        bundle.write_wheels(tmp_path / "wheels")  # a learner's pip would refuse it
    failed = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution\n")
    monkeypatch.setattr(bundle.subprocess, "run", lambda command, **kw: failed)
    with pytest.raises(CourseError, match=r"^pip download failed \(ERROR: No matching distribution\): check the network, or "
                                          r"build without --wheels.$"):
        bundle.write_wheels(tmp_path / "wheels")


@pytest.mark.slow
def test_the_command_line_trains_on_the_bundle(room, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COURSE_OUTPUT": str(tmp_path / "outputs"),
           "MRPC_DIR": "", "COURSE_BUNDLE": str(room), ANCHOR: fingerprint(room)}
    command = [sys.executable, "-m", "helpers.train", "--profile", "smoke"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Data: the GLUE MRPC files in {room}/data/MRPC, because COURSE_BUNDLE is set." in done.stdout  # decided once
    (run,) = (tmp_path / "outputs" / "runs").iterdir()
    used, settings = json.loads((run / "used.json").read_text(encoding="utf-8")), json.loads((run / "settings.json").read_text(encoding="utf-8"))
    assert used["source"] == settings["source"] == str(room / "data" / "MRPC")
    assert used["data"]["train"] == len(read_glue_folder(room / "data" / "MRPC")["train"]["label"])  # every pair the bundle holds
    assert used["checkpoint"]["name"] == PACKAGED_CHECKPOINT
    assert used["checkpoint"]["from"] == str(room / "checkpoints" / PACKAGED_CHECKPOINT) and used["checkpoint"]["origin"] == "bundle"


# Lessons 0 to 7 run on such a bundle in JupyterLab: tests/test_browser.py (each lesson runs there once, not again here).
