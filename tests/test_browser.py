"""Every lesson run with Run All in JupyterLab, in a real Chromium, and checked as a learner sees it (STYLE.md, 12)."""

import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from browser_checks import Expect, ProgressWatch, cost_problems, exercise_problems, problems, round_trip_problems, verdict_problems
from browser_lab import ROOT, find_chromium, missing_browser, open_notebook, run_all, screenshots, start_lab, stop_lab

# Seconds for Run All of one lesson: lesson 4, the longest, takes about a minute and a half on a busy 2-core machine.
LESSON_TIMEOUT = float(os.environ.get("BROWSER_LESSON_TIMEOUT") or 240)
LESSONS = [  # in order (lesson 5 evaluates the run lesson 4 saved), each with what a learner then tries by hand
    (Expect("00_check.ipynb", images=0), round_trip_problems),  # the pre-flight lines; the widget check turns to ✓
    (Expect("01_load.ipynb", images=1, dollar_table=True), exercise_problems),  # the histogram; pairs with $ amounts
    (Expect("02_tokenize.ipynb", images=0), None),
    (Expect("03_pad.ipynb", images=1), None),  # wasted tokens and forward time, side by side
    (Expect("04_train.ipynb", images=1, progress=True), cost_problems),  # the live curves, redrawn in place
    (Expect("05_evaluate.ipynb", images=2), verdict_problems),  # the scores per epoch, the confusion matrix
    (Expect("06_loop.ipynb", images=1), None),  # the loop's run beside lesson 4's, on one pair of axes
]


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
def lab(browser, tmp_path_factory):
    """JupyterLab serving a copy of notebooks/ (nothing the browser does saves into the committed lessons)."""
    scratch = tmp_path_factory.mktemp("browser")
    root = scratch / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    server = start_lab(root, scratch / "outputs", scratch)
    yield server
    stop_lab(server)


def run_in_browser(browser, lab, expect: Expect, folder: Path, tries=None, say=print) -> list[str]:
    """Open a notebook, Run All (watching its progress display), check it, let `tries(page, notebook)` try its widgets,
    screenshot it; its problems."""
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
        return found
    finally:
        page.close()
        try:
            lab.shut_down_kernels()  # each lesson in a fresh kernel, as on Binder; memory back for the next
        except OSError:
            pass  # the server is gone: the error that follows says more
        say(f"browser test: {expect.notebook} in {sum(times.values()):.0f} s ("
            + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in times.items()) + ")")


def test_the_checks_catch_a_broken_notebook(browser, lab, shots, say):
    """A notebook with each trap the checks look for: a table typeset as math, widgets as text or missing, an error."""
    cells = [
        'import pandas as pd\npd.set_option("display.html.use_mathjax", True)  # the trap\n'
        'pd.DataFrame({"sentence1": ["He took $ 1.2 million and later $ 2 million ."], "label": [1]})',
        "import ipywidgets as w\nprint(repr(w.IntSlider(description='epochs')))  # a widget as its text",
        "from IPython.display import display\n"
        "display({'application/vnd.jupyter.widget-view+json': {'model_id': 'f' * 32, 'version_major': 2, 'version_minor': 0},"
        " 'text/plain': 'a widget'}, raw=True)  # a widget whose model is gone",
        "1 / 0",
        "print('never run')",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(notebook, lab.root / "broken.ipynb")

    found = run_in_browser(browser, lab, Expect("broken.ipynb", images=1, dollar_table=True), shots, say=say)

    said = "\n".join(found)
    for sign in ["typeset as MathJax math", "no table row shows two `$ <number>` amounts", "widget as text",
                 "instead of the widget", "shows an error: ZeroDivisionError", "cell 5 (`print('never run')`) was not run",
                 "0 figures shown as images"]:
        assert sign in said, f"the checks missed {sign!r} in the broken notebook; they said:\n{said}"


def test_every_lesson_runs_in_the_browser(browser, lab, shots, say):
    """Run All in each lesson, in order, in the same COURSE_OUTPUT; every problem of every lesson, then one assertion."""
    found = []
    for expect, tries in LESSONS:
        found += run_in_browser(browser, lab, expect, shots, tries, say)
    assert not found, f"{len(found)} problems a learner would see (screenshots in {shots}):\n" + "\n".join(found)
