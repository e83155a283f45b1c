"""Every dependency is declared where each launch path reads it, with one set of pins."""

import ast
import importlib.metadata
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

from tools import badges

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
DECLARED = {re.split(r"[=<>\[ ]", spec)[0].lower().replace("_", "-") for spec in PROJECT["dependencies"] + sum(PROJECT["optional-dependencies"].values(), [])}
PINS = dict(spec.split("==") for spec in PROJECT["dependencies"])


def imported_modules() -> set[str]:
    sources = [p.read_text(encoding="utf-8") for p in (ROOT / "helpers").rglob("*.py")]
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                code = "".join(cell["source"])
                sources.append("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
    names = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"helpers", "google"}


def test_every_import_is_declared_in_pyproject():
    distributions = importlib.metadata.packages_distributions()
    undeclared = {m: distributions.get(m) for m in imported_modules() if not {d.lower().replace("_", "-") for d in distributions.get(m, [])} & DECLARED}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_conda_and_binder_install_the_project_itself():
    conda = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert "python -m tools.install --extras lab,test" in conda and "torch" not in conda.split("dependencies:")[1]
    assert 'pip install --no-cache-dir --editable ".[lab]"' in (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")


def test_binder_pins_agree_with_the_project():
    binder = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8")
    pinned = dict(re.findall(r"^([a-z0-9-]+)==([^+\s]+)", binder, flags=re.M))
    assert pinned and all(PINS[name] == version for name, version in pinned.items()), pinned
    assert "whl/cpu" in binder, "Binder must take the CPU build of torch"
    python = re.search(r"python-(\d+\.\d+)", (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8"))[1]
    assert f"python={python}" in (ROOT / "environment.yml").read_text(encoding="utf-8")


def test_repo2docker_builds_binder_from_the_binder_folder(tmp_path):
    import subprocess

    done = subprocess.run([str(Path(sys.executable).with_name("repo2docker")), "--no-build", "--no-run", "--debug", str(ROOT)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    dockerfile = done.stdout + done.stderr  # --debug prints the Dockerfile it would build
    python = re.search(r"python-(\d+\.\d+)", (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8"))[1]
    assert f"Building conda environment for python={python}" in dockerfile
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile and "./binder/postBuild" in dockerfile
    assert "environment.yml" not in dockerfile.split("FROM", 1)[1]  # binder/ wins over the top-level conda file


def test_badges_table_and_setup_cells_are_generated_and_current():
    assert badges.main(["--check"]) == 0, "run `python -m tools.badges`"


def test_each_badge_points_at_its_own_notebook():
    repo = badges.repository()
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        first = "".join(json.loads(notebook.read_text(encoding="utf-8"))["cells"][0]["source"])
        links = re.findall(r"\]\((https://(?:colab.research.google.com/github|mybinder.org/v2)[^)]+)\)", first)
        assert links == [badges.colab_url(notebook.name, repo), badges.binder_url(notebook.name, repo)]
        assert all(link.endswith(f"notebooks/{notebook.name}") for link in links)
        assert f"({badges.colab_url(notebook.name, repo)})" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_results_are_generated_from_the_saved_json():
    from tools import bench, memory
    from tools.readme import with_section

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert with_section(readme, "bench", bench.readme_section()) == readme, "run `python -m tools.bench --readme`"
    tuned = json.loads((bench.RESULTS / "train-cpu-amd-bf16-all-MiniLM-L6-v2.json").read_text(encoding="utf-8"))
    assert with_section(readme, "recheck", bench.recheck_table(tuned)) == readme, "run `python -m tools.bench --readme`"
    assert with_section(readme, "knobs", bench.knob_table()) == readme, "run `python -m tools.bench --readme`"
    saved = json.loads(memory.RESULT.read_text(encoding="utf-8"))
    assert with_section(readme, "memory", memory.table(saved)) == readme, "run `python -m tools.memory --readme`"
    from tools import first_run

    first = json.loads(first_run.RESULT.read_text(encoding="utf-8"))
    assert with_section(readme, "install", first_run.table(first)) == readme, "run `python -m tools.first_run`"
    assert [row["lesson"] for row in saved["lessons"]] == sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def module_imports(path: Path) -> set[str]:
    """The modules of helpers/ and tools/ that a file imports, anywhere in it (functions included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name.split(".")[0] in ("helpers", "tools")}


def test_helpers_import_nothing_from_tools_and_no_two_modules_import_each_other():
    modules = {f"helpers.{p.stem}": p for p in (ROOT / "helpers").glob("*.py") if p.stem != "__init__"}
    imports = {name: {m for m in module_imports(path) if m in modules} - {name} for name, path in modules.items()}
    assert not [name for name, path in modules.items() if any(m.startswith("tools") for m in module_imports(path))]

    def reaches(start, goal, seen=()):
        return any(m == goal or (m not in seen and reaches(m, goal, (*seen, m))) for m in imports[start])

    cycles = sorted(name for name in modules if reaches(name, name))
    assert not cycles, f"modules that import themselves through others: {cycles}"


MOVED_TO_TOOLS = ("install.py", "bundle.py")  # the installer and the bundle builder: tools/, never the learners' package
OLD_COMMAND = re.compile(r"helpers\.(install|bundle)\b")  # their command lines' old names (helpers.bundled is another module)


def imports_anywhere(tree: ast.AST) -> set[str]:
    """Every module a parsed file imports, in functions too; a relative import as its dots and name."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def imports_at_import_time(tree: ast.Module) -> set[str]:
    """The modules a file imports when it is imported: its top level, inside `if` and `try` too, not inside functions."""
    names, nodes = set(), list(tree.body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= imports_anywhere(node)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            nodes += ast.iter_child_nodes(node)
    return names


def test_the_installer_and_the_bundle_builder_live_in_tools_not_in_helpers():
    """helpers/ is what learners import: it holds neither command, names neither by its old name, imports nothing of tools/."""
    found = []
    for path in sorted((ROOT / "helpers").rglob("*.py")):
        tree, where = ast.parse(path.read_text(encoding="utf-8")), path.relative_to(ROOT)
        if path.name in MOVED_TO_TOOLS:
            found.append(f"{where}: belongs in tools/")
        found += [f"{where} imports {name}" for name in sorted(imports_anywhere(tree)) if name.split(".")[0] == "tools"]
        found += [f"{where} names {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and OLD_COMMAND.search(node.value)]
    assert not found, found
    assert all((ROOT / "tools" / name).is_file() for name in MOVED_TO_TOOLS)


def test_the_installer_imports_the_standard_library_only():
    """`python -m tools.install` runs in a bare Python, before anything is installed: tools/__init__.py is imported with it."""
    for path in (ROOT / "tools" / "__init__.py", ROOT / "tools" / "install.py"):
        names = imports_at_import_time(ast.parse(path.read_text(encoding="utf-8")))
        assert not [n for n in names if n.split(".")[0] not in sys.stdlib_module_names], (path.name, sorted(names))


@pytest.mark.parametrize("folder", ["helpers", "tools", "tests", "notebooks", "benchmarks", "binder", "docs"])
def test_each_folder_has_a_readme_that_names_each_file(folder):
    readme = (ROOT / folder / "README.md").read_text(encoding="utf-8")
    files = [p.name for p in sorted((ROOT / folder).iterdir()) if p.is_file() and p.name not in ("README.md", "__init__.py")]
    assert files and not [name for name in files if f"`{name}`" not in readme], f"{folder}/README.md does not name every file"


def test_readme_asks_for_the_python_that_pyproject_requires():
    lowest = PROJECT["requires-python"].removeprefix(">=")
    asked = re.findall(r"You need Python (\d+\.\d+) or newer", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert asked == [lowest], (asked, lowest)


def test_the_makefile_and_the_tools_run_the_tests_in_one_environment():
    """`make test` and the tools that run tests (tools.newest, tools.outputs) must not drift apart."""
    import tools

    line = next(line for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines() if line.startswith("TEST_ENV :="))
    made = dict(pair.split("=", 1) for pair in line.removeprefix("TEST_ENV :=").split())
    assert made.pop("COURSE_OUTPUT").endswith("/outputs/tests")
    assert made == tools.TEST_ENV


def test_the_wheel_lock_follows_the_pins():
    """tools/lock.txt (python -m tools.lock) holds each pinned library at its pin, and nothing the tests alone need."""
    from tools.lock import pins, wanted

    locked = pins((ROOT / "tools" / "lock.txt").read_text(encoding="utf-8"))
    for spec in wanted():
        name, _, version = spec.partition("==")
        name = re.split(r"[<>=!~ ]", name.strip())[0].lower().replace("_", "-")
        assert name in locked and (not version or locked[name] == version), (spec, locked.get(name))
    assert "pytest" not in locked and "nbval" not in locked
