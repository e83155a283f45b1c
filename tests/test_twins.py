"""The Colab and Binder twins (tools/twins.py, tools/run_lesson.py): what they read, install and report. CI runs the twins
themselves (`make twins`); these tests check their parts."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import colab
from tools import twins
from tools.run_lesson import point_setup_at

ROOT = Path(__file__).resolve().parent.parent

FREEZE = """absl-py==1.4.0
google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz
torch @ https://download.pytorch.org/whl/cpu/torch-2.11.0%2Bcpu-cp313-cp313-manylinux_2_28_x86_64.whl
jupyter_client==7.4.9
Transformers==5.15.0
nvidia-nccl-cu13==2.31.2
"""
OS_INFO = "# generated\nUbuntu 22.04.5 LTS\nPython 3.13.15\nR version 4.6.1\n"


def test_colabs_list_is_read_with_torchs_cpu_build_and_pips_names():
    assert twins.parse_freeze(FREEZE) == {"absl-py": "1.4.0", "torch": "2.11.0+cpu", "jupyter-client": "7.4.9",
                                          "transformers": "5.15.0", "nvidia-nccl-cu13": "2.31.2"}


def test_the_stack_file_names_its_commit_and_python(tmp_path):
    path = tmp_path / "stack.txt"
    path.write_text(twins.stack_text(FREEZE, OS_INFO, "a" * 40), encoding="utf-8")
    commit, python, versions = twins.read_stack(path)
    assert (commit, python, versions["torch"]) == ("a" * 40, "3.13.15", "2.11.0+cpu")
    path.write_text("torch==2.11.0\n", encoding="utf-8")
    with pytest.raises(twins.TwinError, match="refresh"):
        twins.read_stack(path)


def test_the_committed_stack_is_the_one_COLAB_COMMIT_names():
    # Moving the twin is a one-line change (COLAB_COMMIT) and a refresh; this fails when the refresh was forgotten.
    commit, python, versions = twins.read_stack()
    assert commit == twins.COLAB_COMMIT and re.fullmatch(r"3\.\d+\.\d+", python)
    assert {"torch", "transformers", "ipython", "ipywidgets"} <= set(versions)


def test_the_twin_installs_colabs_versions_and_pypis_torch_without_the_cpu_index():
    versions = twins.read_stack()[2]
    named, constraints = twins.colab_requirements(versions, cpu_index=False)
    wanted = dict(spec.split("==") for spec in named)
    assert wanted["torch"] == versions["torch"].split("+")[0]  # PyPI's build of Colab's release
    assert twins.colab_requirements(versions, cpu_index=True)[0][named.index(f"torch=={wanted['torch']}")] == \
        f"torch=={versions['torch']}"
    for name in ("numpy", "pandas", "matplotlib", "ipython", "ipykernel", "ipywidgets", "traitlets", "jupyter-client",
                 "transformers", "datasets", "huggingface-hub", "tokenizers", "safetensors", "accelerate"):
        assert wanted[name] == versions[name], name
    assert "evaluate" not in wanted  # Colab lacks it: the setup cell installs it
    assert not [spec for spec in constraints if spec.startswith(("nvidia-", "torch==", "transformers=="))]


def test_a_package_list_without_a_library_the_twin_needs_is_refused():
    versions = dict(twins.read_stack()[2])
    del versions["ipywidgets"]
    with pytest.raises(twins.TwinError, match="ipywidgets"):
        twins.colab_requirements(versions, cpu_index=False)


def test_refresh_reads_backend_info_at_the_commit(tmp_path):
    repo = tmp_path / "backend-info"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "pip-freeze.txt").write_text(FREEZE, encoding="utf-8")
    (repo / "os-info.txt").write_text(OS_INFO, encoding="utf-8")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "list"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    target = tmp_path / "stack.txt"
    twins.refresh(repo, commit, target)
    assert twins.read_stack(target)[:2] == (commit, "3.13.15")
    with pytest.raises(twins.TwinError, match="clone googlecolab/backend-info"):
        twins.refresh(repo, "0" * 40, target)


def test_binders_base_comes_from_repo2dockers_lock_for_runtime_txts_python():
    python = twins.binder_python()
    assert python == re.search(r"python-(\d+\.\d+)", (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8"))[1]
    base = twins.repo2docker_base(python)
    assert {"jupyterlab", "ipykernel", "notebook", "nbclient"} <= set(base)
    assert all(re.fullmatch(r"\d+(\.\d+)+", version) for version in base.values()), base
    with pytest.raises(twins.TwinError, match="runtime.txt"):
        twins.repo2docker_base("2.5")


def test_the_setup_cell_is_pointed_at_the_checkout():
    notebook = nbformat.read(ROOT / "notebooks" / "00_check.ipynb", as_version=4)
    point_setup_at(notebook, "/some/checkout")
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code").source
    assert 'url = "/some/checkout"' in setup and "git+" not in setup
    with pytest.raises(SystemExit, match="no git"):
        point_setup_at(notebook, "/again")


def test_the_colab_summary_names_what_the_setup_cell_did():
    row = {"lesson": "00_check", "passed": True, "seconds": 40.0, "restart_asked": False, "error": None,
           "setup_printed": ["Colab: installing transformers==5.23.0, evaluate==0.4.6; every other library stays at"
                             " Colab's version."]}
    failed = {"lesson": "01_load", "passed": False, "seconds": 3.0, "restart_asked": True, "error": None,
              "setup_printed": []}
    built = {"here_python": "3.13.0", "torch_from": "torch 2.11.0 from PyPI", "named": ["torch==2.11.0"]}
    text = twins.colab_summary(built, [row, failed], 100, 50, None)
    assert "| 00_check | ✓ passed | installed transformers==5.23.0, evaluate==0.4.6; went on without a restart | 40 |" in text
    assert "| 01_load | ✗ asked for a restart | installed nothing; asked for a restart | 3 |" in text
    assert "1 of 2 lessons passed." in text
    assert "could not be built**: no Python" in twins.colab_summary(None, [], 1, 0, "no Python 3.13 here.")


def test_a_lesson_that_fails_is_reported_by_cell_and_error(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                               nbformat.v4.new_code_cell("raise ValueError('pyarrow moved')"),
                                               nbformat.v4.new_code_cell("y = 2")])
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(notebook, path)
    with open(tmp_path / "log", "w", encoding="utf-8") as log:
        row = twins.run_lesson(Path(sys.executable), path, tmp_path, tmp_path, dict(__import__("os").environ), log)
    assert row["passed"] is False and row["error"] == "cell 1: ValueError: pyarrow moved", row
    assert json.loads((tmp_path / "99_broken.json").read_text(encoding="utf-8"))["lesson"] == "99_broken"


def test_binders_memory_limit_kills_what_goes_over_it(tmp_path):
    group, why = twins.memory_cgroup("twin-test", 256 * 2**20)
    if group is None:
        pytest.skip(f"no memory cgroup can be made here ({why}); the Binder twin says so in its summary")
    try:
        join = lambda: (group / "cgroup.procs").write_text(str(__import__("os").getpid()), encoding="utf-8")  # noqa: E731
        done = subprocess.run([sys.executable, "-c", "x = bytearray(512 * 2**20); print('alive')"], preexec_fn=join,
                              capture_output=True, text=True)
        peak, killed = twins.cgroup_peak(group)
        assert done.returncode == -9 and "alive" not in done.stdout and killed and peak >= 255
    finally:
        group.rmdir()
