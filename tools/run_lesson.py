"""Run one lesson in a fresh kernel of the Python that runs this script; write what happened as JSON (`python -m tools.twins`).

The standard library, nbformat and nbclient only: it runs inside a twin's own environment (Colab's stack, Binder's image),
with that environment's versions of them, not the course's.
"""

import argparse
import json
import re
import resource  # Linux only, as the twins are
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

# The setup cell's `url = "git+https://github.com/OWNER/REPO@vX"`: what Colab installs the course from (tools/badges.py)
SETUP_URL = re.compile(r'"git\+https://[^"]+"')
# What the setup cell prints when it wants the runtime restarted (helpers/colab.py, helpers/session.py)
RESTART = "Restart session"


def point_setup_at(notebook, source: str) -> None:
    """Make the setup cell pip install the course from `source` (a folder) instead of the release tag."""
    cell = next(cell for cell in notebook.cells if cell.cell_type == "code")
    cell.source, found = SETUP_URL.subn(json.dumps(source), cell.source)
    if found != 1:
        raise SystemExit(f"error: the first code cell has no git+https URL to replace: {cell.source[:200]!r}")


def printed(cell) -> str:
    """What a cell showed: its streams, its errors, and the plain text of its other outputs."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
        else:
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def failed_cell(notebook) -> int | None:
    """The index of the last code cell that ran: where execution stopped."""
    ran = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code" and cell.get("execution_count")]
    return ran[-1] if ran else None


def run(path: Path, cwd: Path, timeout: int, setup_from: str = "") -> tuple[dict, object]:
    """(the result, the executed notebook)."""
    notebook = nbformat.read(path, as_version=4)
    if setup_from:
        point_setup_at(notebook, setup_from)
    error = None
    started = time.perf_counter()
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    except CellExecutionError as exc:
        cell = failed_cell(notebook)
        error = f"cell {cell}: {getattr(exc, 'ename', '')}: {getattr(exc, 'evalue', '')}".splitlines()[0][:400]
    except CellTimeoutError:
        error = f"cell {failed_cell(notebook)} ran past {timeout} s"
    except DeadKernelError:
        error = f"the kernel died in cell {failed_cell(notebook)} (killed: out of memory?)"
    except Exception as exc:  # the kernel did not start, or nbclient itself failed: one line, the rest in the log
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:400]
    seconds = time.perf_counter() - started
    shown = [printed(cell) for cell in notebook.cells if cell.cell_type == "code"]
    result = {
        "lesson": path.stem,
        "seconds": round(seconds, 1),
        "error": error,
        "restart_asked": any(RESTART in text for text in shown),
        "setup_printed": [line for line in (shown[0] if shown else "").strip().splitlines()
                          if not line.startswith("WARNING: Location")][:8],  # pip's notes on this machine's own indexes
        # the largest process's peak (the kernel, or a pip it ran): Linux counts ru_maxrss in KiB
        "largest_process_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
        "python": sys.version.split()[0],
    }
    result["passed"] = error is None and not result["restart_asked"]
    return result, notebook


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--cwd", type=Path, required=True, help="the folder the kernel starts in")
    parser.add_argument("--result", type=Path, required=True, help="where the JSON goes")
    parser.add_argument("--executed", type=Path, help="where the executed notebook goes")
    parser.add_argument("--setup-from", default="", help="a folder the setup cell pip installs the course from, not the tag")
    parser.add_argument("--timeout", type=int, default=900, help="seconds a cell may run")
    args = parser.parse_args(argv)
    result, notebook = run(args.notebook, args.cwd, args.timeout, args.setup_from)
    if args.executed:
        nbformat.write(notebook, args.executed)
    args.result.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
