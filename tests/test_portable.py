"""Windows and macOS, simulated here: no Unix-only module on any import path, one lock that works everywhere, memory in MB,
text files read and written as UTF-8 (Windows would use its code page)."""

import ast
import subprocess
import sys
import textwrap
import types
from pathlib import Path

from helpers import runs

ROOT = Path(__file__).resolve().parents[1]

# A Python in which the course's own code cannot import the Unix-only modules, as on native Windows. Only imports made
# from the course's modules (or the test's own code) are refused, even once a library has imported them: the libraries
# take their own Windows paths there, which Linux cannot imitate.
WITHOUT_UNIX = """
import builtins
real_import = builtins.__import__
def no_unix(name, globals=None, locals=None, fromlist=(), level=0):
    caller = (globals or {}).get("__name__", "").split(".")[0]
    if name.split(".")[0] in ("fcntl", "resource") and caller in ("helpers", "__main__"):
        raise ModuleNotFoundError(f"No module named {name!r}")
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = no_unix
"""


def run_without_unix(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_UNIX + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path, env={**subprocess.os.environ, "COURSE_OUTPUT": str(tmp_path / "out")})


def test_every_module_imports_without_unix_only_modules(tmp_path):
    done = run_without_unix("""
        import importlib, pkgutil, helpers
        for module in pkgutil.walk_packages(helpers.__path__, "helpers."):
            if not module.name.startswith("helpers.mrpc_metric"):
                importlib.import_module(module.name)
        print("every module imported", flush=True)
        import fcntl  # the simulation itself refuses it
    """, tmp_path)
    assert done.stdout == "every module imported\n", done.stderr[-2000:]
    assert done.returncode == 1 and done.stderr.strip().endswith("No module named 'fcntl'")


def test_run_folders_lock_without_fcntl(tmp_path):
    """Two processes, neither with fcntl: the second is refused the folder the first holds, in one sentence."""
    folder = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", WITHOUT_UNIX + textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from helpers.folders import lock
        lock(Path({str(folder)!r}))
        print("held", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        folder.mkdir()
        assert holder.stdout.readline().strip() == "held"
        done = run_without_unix(f"""
            from pathlib import Path
            from helpers.errors import CourseError
            from helpers.folders import lock
            try:
                lock(Path({str(folder)!r}))
            except CourseError as error:
                print(error)
        """, tmp_path)
        assert done.stdout.strip() == f"Another run is writing {folder} now: wait for it to end, or choose another --output-dir."
    finally:
        holder.communicate("", timeout=60)
    done = run_without_unix(f"""
        from pathlib import Path
        from helpers.folders import held, lock
        lock(Path({str(folder)!r}))
        print(held())
    """, tmp_path)
    assert done.returncode == 0 and str(folder) in done.stdout, done.stderr[-2000:]  # free again once the holder ended


def test_peak_memory_is_in_megabytes_on_linux_macos_and_windows(monkeypatch):
    usage = types.SimpleNamespace(ru_maxrss=0)
    fake_resource = types.SimpleNamespace(RUSAGE_SELF=0, getrusage=lambda who: usage)
    monkeypatch.setitem(sys.modules, "resource", fake_resource)
    monkeypatch.setattr(sys, "platform", "linux")
    usage.ru_maxrss = 700 * 1024  # kilobytes on Linux
    assert runs.peak_memory_mb() == 700
    monkeypatch.setattr(sys, "platform", "darwin")
    usage.ru_maxrss = 700 * 2**20  # bytes on macOS
    assert runs.peak_memory_mb() == 700
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "resource", None)  # import resource: ModuleNotFoundError, as on Windows
    info = types.SimpleNamespace(peak_wset=700 * 2**20)
    monkeypatch.setitem(sys.modules, "psutil", types.SimpleNamespace(Process=lambda: types.SimpleNamespace(memory_info=lambda: info)))
    assert runs.peak_memory_mb() == 700


def text_calls_without_encoding(path: Path) -> list[str]:
    """`Path.read_text`, `Path.write_text` and `open` in text mode, each without `encoding=`: the locale's code page on Windows."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or "encoding" in {k.arg for k in node.keywords}:
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("read_text", "write_text"):
            found.append(f"{path.name}:{node.lineno} .{func.attr}()")
        elif (isinstance(func, ast.Name) and func.id == "open") or (isinstance(func, ast.Attribute) and func.attr == "open"
                                                                     and not (isinstance(func.value, ast.Name) and func.value.id == "os")):
            mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
            if not (isinstance(mode, ast.Constant) and "b" in str(mode.value)):
                found.append(f"{path.name}:{node.lineno} open()")
    return found


def test_every_text_file_is_read_and_written_as_utf8():
    found = [problem for folder in ("helpers", "tools", "tests") for path in sorted((ROOT / folder).rglob("*.py"))
             for problem in text_calls_without_encoding(path)]
    assert found == [], "add encoding=\"utf-8\""


def test_the_encoding_check_finds_what_windows_would_misread(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from pathlib import Path\np = Path('x')\np.read_text()\nopen(p)\nopen(p, 'rb')\np.write_text('é', encoding='utf-8')\n",
                      encoding="utf-8")
    assert text_calls_without_encoding(sample) == ["sample.py:3 .read_text()", "sample.py:4 open()"]

