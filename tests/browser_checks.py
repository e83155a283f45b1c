"""What the browser test checks in a notebook as JupyterLab shows it: each check returns the problems it finds, in words."""

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from browser_lab import CURRENT

ERROR_MIME = "application/vnd.jupyter.error"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# A widget's text repr, as shown where the browser has no widget manager: `IntSlider(value=1, description='epochs')`.
WIDGET_REPR = re.compile(r"\b(?:[HV]?Box|Dropdown|\w*Slider|Textarea|Text|HTML|Label|Button|Output|Checkbox|\w*Progress|Tab|"
                         r"Accordion|RadioButtons|ToggleButtons?|Select\w*)\((?:value|children|description|options|index|"
                         r"layout|min|max|placeholder|outputs)=")
WIDGET_FAILURES = ("Loading widget", "Error displaying widget")
DOLLAR = re.compile(r"\$\s?\d")  # `$ 1.2 million`, `$12`: text that pandas' MathJax would typeset as math
PROGRESS_LABEL = re.compile(r"\[\s*(\d+)/(\d+)")  # transformers' `[ 3/4 00:01 < 00:01, Epoch 0.75/1]`
TIME_LEFT = re.compile(r"<\s*\d+:\d+")  # `< 00:01`


@dataclass(frozen=True)
class Expect:
    """What a notebook must show: its figures, maybe a table with dollar amounts as text, maybe a progress display."""

    notebook: str
    images: int  # figures shown as images, no more, no fewer
    dollar_table: bool = False  # a table row with two `$ <number>` amounts, as text
    progress: bool = False  # a progress display with steps done/total while the cells run
    says: tuple[str, ...] = ()  # patterns (regular expressions) that some output must show
    not_says: tuple[str, ...] = ()  # patterns that no output may show
    widgets: int = 0  # the course's widgets it shows: each drawn again from its saved state, once saved and reopened


# Everything the browser shows of the notebook in front, in one call: per code cell, its prompt and first line, and
# per output its mime type, text, images, tables (the text of each row, MathJax inside) and progress bars.
SNAPSHOT = """() => {
  const cells = [...document.querySelectorAll('%s .jp-Cell')];
  return cells.map((cell, index) => ({index, cell}))
    .filter(({cell}) => cell.classList.contains('jp-CodeCell'))
    .map(({index, cell}) => ({
      number: index + 1,
      prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
      source: ((cell.querySelector('.cm-line') || {}).textContent || '').trim(),
      outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(out => ({
        mime: out.dataset.mimeType || '',
        text: out.textContent.slice(0, 50000),
        images: [...out.querySelectorAll('img')].map(img => ({loaded: img.complete && img.naturalWidth > 0, width: img.naturalWidth})),
        widgets: out.querySelectorAll('.jupyter-widgets:not(.jp-OutputArea-output)').length,
        tables: [...out.querySelectorAll('table')].map(table => ({
          math: table.querySelectorAll('mjx-container, .MathJax').length,
          rows: [...table.querySelectorAll('tr')].slice(0, 200).map(row => row.textContent),
        })),
        progress: [...out.querySelectorAll('progress')].map(bar => ({
          value: bar.value, max: bar.max, label: (bar.parentElement || bar).textContent.trim().slice(0, 200),
        })),
      })),
    }));
}""" % CURRENT


def snapshot(page) -> list[dict]:
    """The code cells of the notebook in front, with their outputs as rendered (see SNAPSHOT)."""
    return page.evaluate(SNAPSHOT)


def problems(page, expect: Expect) -> list[str]:
    """Every problem a learner would see in the notebook in front, once run, each in one sentence."""
    return check(snapshot(page), expect)


def check(cells: list[dict], expect: Expect) -> list[str]:
    """The checks of `problems`, on a snapshot."""
    found = []
    for cell in cells:
        where = f"{expect.notebook}, cell {cell['number']} (`{cell['source'][:60]}`)"
        prompt = cell["prompt"].strip()
        if not re.fullmatch(r"\[\d+\]:", prompt):
            found.append(f"{where} {'was still queued or running' if '*' in prompt else 'was not run'} (its prompt is {prompt!r})")
        for output in cell["outputs"]:
            found += [f"{where}: {problem}" for problem in output_problems(output)]
    found += image_problems(cells, expect)
    found += table_problems(cells, expect)
    found += said_problems(cells, expect)
    return found


def said_problems(cells: list[dict], expect: Expect) -> list[str]:
    """The lines a notebook must print (which data, checkpoint and bundle it used; its scores), and must not."""
    shown = "\n".join(output["text"] for cell in cells for output in cell["outputs"])
    found = [f"{expect.notebook}: no output shows {pattern!r}" for pattern in expect.says if not re.search(pattern, shown)]
    return found + [f"{expect.notebook}: an output shows {pattern!r}" for pattern in expect.not_says if re.search(pattern, shown)]


# What importing the pinned CPU build of torch costs a kernel here (VmRSS after `import torch`, torch 2.13.0+cpu).
CPU_TORCH_IMPORT_MB = 219


def memory_problems(notebook: str, peak_mb: int | None, torch_import_mb: int, limit_mb: int) -> list[str]:
    """A kernel over the course's Binder limit. What a lesson adds to torch's import is compared, so that a CUDA build of
    torch (about 390 MB more to import, which Binder's CPU build never loads) is held to the same budget."""
    if peak_mb is None:
        return [f"{notebook}: its kernel's peak memory could not be read from /proc"]
    as_on_binder = peak_mb - torch_import_mb + CPU_TORCH_IMPORT_MB
    if as_on_binder <= limit_mb:
        return []
    return [f"{notebook}: its kernel peaked at {peak_mb} MB, {as_on_binder} MB with Binder's CPU torch, over the "
            f"{limit_mb} MB limit"]


def output_problems(output: dict) -> list[str]:
    text, mime = output["text"], output["mime"]
    found = []
    if mime == ERROR_MIME or "Traceback (most recent call last)" in text or text.lstrip().startswith("CourseError:"):
        found.append(f"shows an error: {last_line(text)}")  # JupyterLab 4 shows a traceback as stderr text
    if match := WIDGET_REPR.search(text):
        found.append(f"shows a widget as text, not as a widget: {text[match.start():match.start() + 80]!r}")
    for failure in WIDGET_FAILURES:
        if failure in text:
            found.append(f"shows {failure!r} instead of the widget")
    if mime == WIDGET_MIME and not output["widgets"] and not any(f in text for f in WIDGET_FAILURES):
        found.append("has a widget output that rendered nothing")
    for image in output["images"]:
        if not image["loaded"]:
            found.append("shows an image that did not load")
    return found


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "(empty)"


def image_problems(cells: list[dict], expect: Expect) -> list[str]:
    where = [cell["number"] for cell in cells for output in cell["outputs"] for _ in output["images"]]
    if len(where) == expect.images:
        return []
    return [f"{expect.notebook}: {len(where)} figures shown as images (in cells {where or 'none'}), expected {expect.images}"]


def table_problems(cells: list[dict], expect: Expect) -> list[str]:
    found, dollar_rows = [], []
    for cell in cells:
        for output in cell["outputs"]:
            for table in output["tables"]:
                if table["math"]:
                    found.append(f"{expect.notebook}, cell {cell['number']}: a table shows {table['math']} pieces of text typeset "
                                 "as MathJax math (pandas' `display.html.use_mathjax` is on: `$ ... $` became a formula)")
                dollar_rows += [row for row in table["rows"] if len(DOLLAR.findall(row)) >= 2]
    if expect.dollar_table and not dollar_rows:
        found.append(f"{expect.notebook}: no table row shows two `$ <number>` amounts as text (the pairs with dollar "
                     "amounts are missing, or MathJax ate the `$` signs)")
    return found


@dataclass
class ProgressWatch:
    """What a progress display showed while cells ran: each label seen, once; a screenshot when the first one shows."""

    shot: Path  # where the screenshot goes
    seen: list[str] = field(default_factory=list)

    def __call__(self, page) -> None:
        for cell in snapshot(page):
            if "*" in cell["prompt"]:
                for output in cell["outputs"]:
                    for bar in output["progress"]:
                        if bar["label"] not in self.seen:
                            self.seen.append(bar["label"])
        if self.seen and not self.shot.exists():  # the progress display as it first showed
            page.locator(f"{CURRENT} .jp-OutputArea-output:has(progress)").first.scroll_into_view_if_needed()
            page.screenshot(path=self.shot)

    def problems(self, notebook: str) -> list[str]:
        """None if a `[done/total` label was seen while cells ran (transformers' own display, as it ships) and, of two or
        more seen mid-way, one gave the time left."""
        counted = [(label, PROGRESS_LABEL.search(label)) for label in self.seen]
        counted = [(label, int(m[1]), int(m[2])) for label, m in counted if m]
        if not counted:
            return [f"{notebook}: no progress display with steps done/total (a `<progress>` labelled `[3/4 ...`) was seen while "
                    f"the cells ran (seen: {self.seen or 'no progress element at all'})"]
        found = []
        midway = [label for label, done, total in counted if 0 < done < total]
        if len(midway) >= 2 and not any(TIME_LEFT.search(label) for label in midway):
            found.append(f"{notebook}: the progress display never showed the time left mid-way: {midway}")
        return found


def wait_for_change(handle, before: str, timeout: float = 30, settled=lambda text: True, steady: float = 1.0) -> str:
    """The text of `handle` once it differs from `before`, is `settled` and stays so for `steady` seconds (the kernel
    may still be answering earlier changes); `before` if that does not happen within `timeout` seconds."""
    deadline, last, since = time.monotonic() + timeout, None, 0.0
    while time.monotonic() < deadline:
        text = handle.text_content()
        if text != last:
            last, since = text, time.monotonic()
        if text != before and settled(text) and time.monotonic() - since >= steady:
            return text
        time.sleep(0.2)
    return before


def estimated(text: str) -> bool:
    return "Estimated" in text  # not "Estimating the cost: ...", shown while the new estimate is measured


def cost_problems(page, notebook: str) -> list[str]:
    """Lesson 5: moving the epochs slider changes the cost line, and a notice says the widgets' values are not used yet.

    (The batch size would do as well, but a new one is measured first: half a minute more on a busy 2-core machine.)"""
    cost = page.locator(f"{CURRENT} .widget-html", has_text="Estimated")
    if not cost.count():
        return [f"{notebook}: no cost line (an HTML widget saying 'Estimated ...') is shown"]
    cost = cost.first.element_handle()
    found, before = [], cost.text_content()
    page.locator(f"{CURRENT} .widget-slider", has_text="epochs").locator(".noUi-handle").first.focus()
    for _ in range(2):
        page.keyboard.press("ArrowRight")  # the keyboard, as a learner moves a slider without a mouse
    if wait_for_change(cost, before, settled=estimated) == before:
        found.append(f"{notebook}: moving the epochs slider two steps did not change the cost line ({before.strip()!r})")
    notice = page.locator(f"{CURRENT} .jp-OutputArea-output", has_text="not used yet")
    try:
        notice.first.wait_for(state="visible", timeout=10_000)
    except Exception:  # Playwright's TimeoutError
        found.append(f"{notebook}: after a widget changed, no notice says that its settings are 'not used yet'")
    return found


def round_trip_problems(page, notebook: str) -> list[str]:
    """Lesson 0: the widget check's line turns to ✓, which it does only once the browser has answered the kernel."""
    try:
        page.locator(f"{CURRENT} .widget-html", has_text="Widgets work here").first.wait_for(state="visible", timeout=20_000)
    except Exception:  # Playwright's TimeoutError
        shown = page.locator(f"{CURRENT} .widget-html").all_text_contents()
        return [f"{notebook}: the widget check never turned to ✓ (it shows {shown or 'no widget'})"]
    return []


def exercise_problems(page, notebook: str) -> list[str]:
    """Lesson 1: a hint stays folded until its summary is clicked; a wrong answer typed into a check cell gets ✗ and a hint."""
    found, hint = [], page.locator(f"{CURRENT} details").first
    if not hint.count():
        return [f"{notebook}: no folded hint (a <details> element) is shown"]
    if hint.evaluate("element => element.open"):
        found.append(f"{notebook}: a hint is open before its summary is clicked")
    hint.locator("summary").click()
    if not hint.evaluate("element => element.open"):
        found.append(f"{notebook}: clicking a hint's summary does not open it")
    cell = page.locator(f"{CURRENT} .jp-CodeCell", has_text="check.exercise_1_1(raw, answer)").first
    if "in place of None" not in cell.text_content():
        found.append(f"{notebook}: the check of exercise 1.1, run with no answer, does not ask for one")
    cell.locator(".cm-line", has_text="answer = None").first.click()
    page.keyboard.press("Home")
    page.keyboard.press("Shift+End")
    page.keyboard.type("answer = 1")  # a learner's wrong answer
    page.keyboard.press("Shift+Enter")
    try:
        cell.locator(".jp-OutputArea-output", has_text="✗ Not yet").first.wait_for(state="visible", timeout=20_000)
    except Exception:  # Playwright's TimeoutError
        found.append(f"{notebook}: a wrong answer to exercise 1.1 did not get '✗ Not yet' ({cell.text_content()[-300:]!r})")
    return found


def reopened_problems(cells: list[dict], notebook: str, widgets: int) -> list[str]:
    """A notebook saved by JupyterLab and opened again with a new kernel: no widget error, and each of the course's
    `widgets` drawn again from the state the notebook saved (JupyterLab's `saveState`, set by tools/install.py)."""
    texts = [output["text"] for cell in cells for output in cell["outputs"]]
    found = [f"{notebook} saved and reopened shows {failure!r}" for failure in WIDGET_FAILURES if any(failure in t for t in texts)]
    drawn = sum(1 for cell in cells for output in cell["outputs"] if output["widgets"])
    if drawn < widgets:
        found.append(f"{notebook} saved and reopened draws {drawn} widget output(s), for its {widgets} widget(s)")
    return found
