"""python -m tools.badges: write the launch badges, the README's lesson table and the Colab install line from one setting.

The setting is the repository's address, `[project.urls] Repository` in pyproject.toml. A fork changes that line and
runs this command; `--check` only reports what is out of date (the tests use it).
"""

import json
import re
import sys
import tomllib
from pathlib import Path

from tools.readme import with_section

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
# The first code cell of every lesson. On Colab it installs the course at this notebook's own version: the tag
# v{version} ([project] version in pyproject.toml), which a maintainer pushes for each release (`git tag v0.2.0 &&
# git push --tags`), so a notebook never runs against whatever `main` is today. No shell, and `--no-deps`: the last
# line's `helpers.setup()` installs only the pinned libraries Colab lacks (helpers/colab.py).
SETUP_CELL = (
    "import subprocess, sys\n"
    'if "google.colab" in sys.modules:  # on Colab: install this version of the course first\n'
    '    url = "git+{repository}@v{version}"\n'
    '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", url], check=True)\n'
    "import helpers; helpers.setup()"
)


def repository() -> str:
    """The repository's address, the one setting every badge comes from (README)."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]["Repository"].rstrip("/")


def version() -> str:
    """The course's version, `[project] version`: the setup cell installs its tag v<version> on Colab (README)."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def setup_cell(repo: str) -> str:
    """The setup cell of every lesson, installing this version of the course on Colab (README)."""
    return SETUP_CELL.format(repository=repo, version=version())


def colab_url(notebook: str, repo: str) -> str:
    """Where Colab opens a lesson of this repository (README)."""
    return f"https://colab.research.google.com/github/{repo.removeprefix('https://github.com/')}/blob/main/notebooks/{notebook}"


def binder_url(notebook: str, repo: str) -> str:
    """Where Binder opens a lesson of this repository, in JupyterLab (README)."""
    return f"https://mybinder.org/v2/gh/{repo.removeprefix('https://github.com/')}/main?urlpath=lab/tree/notebooks/{notebook}"


def badges(notebook: str, repo: str) -> str:
    """The Colab and Binder badges of one lesson, in Markdown (README)."""
    return f"[![Open In Colab]({COLAB_BADGE})]({colab_url(notebook, repo)}) [![Binder]({BINDER_BADGE})]({binder_url(notebook, repo)})"


def title(cells: list[dict]) -> str:
    """A lesson's title: its first heading, without the `Lesson N ·` prefix (README)."""
    heading = "".join(cells[0]["source"]).splitlines()[0]
    return heading.lstrip("# ").split("·", 1)[-1].strip()


def lesson_table(repo: str) -> str:
    """The README's table of lessons, each with its badges (README)."""
    rows = ["| # | Lesson | Launch |", "|---|---|---|"]
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        rows.append(f"| {int(path.name[:2])} | [{title(cells)}](notebooks/{path.name}) | {badges(path.name, repo)} |")
    return "\n".join(rows)


def updated_notebook(path: Path, repo: str) -> str:
    """A lesson's (or its solutions') JSON with its badge line and setup cell up to date, as nbformat writes it (README)."""
    import nbformat

    notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    first = "".join(notebook["cells"][0]["source"]).splitlines()
    body = [line for line in first[1:] if not line.startswith("[![Open In Colab]")]
    while body and not body[0].strip():
        body.pop(0)
    name = str(path.relative_to(NOTEBOOKS))  # 01_load.ipynb, or solutions/01_load.ipynb
    notebook["cells"][0]["source"] = "\n".join([first[0], "", badges(name, repo), "", *body])
    setup = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    setup["source"] = setup_cell(repo)
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def updated_readme(repo: str) -> str:
    """The README with its lesson table regenerated (README)."""
    return with_section((ROOT / "README.md").read_text(encoding="utf-8"), "lessons", lesson_table(repo))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    repo, stale = repository(), []
    lessons = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted(NOTEBOOKS.glob("solutions/[0-9][0-9]_*.ipynb"))
    targets = {path: updated_notebook(path, repo) for path in lessons}
    targets[ROOT / "README.md"] = updated_readme(repo)
    for path, text in targets.items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path.relative_to(ROOT))
            if "--check" not in argv:
                path.write_text(text, encoding="utf-8")
    if "--check" in argv and stale:
        print(f"Out of date: {', '.join(map(str, stale))}: run `python -m tools.badges`.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
