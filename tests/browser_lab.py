"""The browser test's machinery: Chromium through Playwright, a JupyterLab server of its own, Run All, screenshots."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")  # Debian's first
HOW_TO_INSTALL = ("install Playwright for Python (`.venv/bin/pip install -e '.[test]'`) and Debian's Chromium "
                  "(`apt-get install -y chromium`); `playwright install` is not needed")
CURRENT = "#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in front


def find_chromium() -> str | None:
    """Debian's Chromium, or the one BROWSER_CHROMIUM names."""
    named = os.environ.get("BROWSER_CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    return next((path for path in map(shutil.which, CHROMIUM) if path), None)


def missing_browser() -> str | None:
    """One sentence saying why no browser can be had here, and how to get one; None when one can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"Playwright for Python is not installed: {HOW_TO_INSTALL}."
    if find_chromium() is None:
        return f"No Chromium found (looked for {', '.join(CHROMIUM)} and BROWSER_CHROMIUM): {HOW_TO_INSTALL}."
    return None


@dataclass
class Lab:
    """A running JupyterLab server: where it listens, its token, the folder it serves, its process."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def kernel_state(self, notebook: str) -> str | None:
        """The execution state of the kernel of `notebook` ('idle', 'busy', 'starting'), None without one."""
        for session in self.api("sessions"):
            if session["path"] == notebook and session.get("kernel"):
                return session["kernel"]["execution_state"]
        return None

    def kernel_peak_mb(self, notebook: str) -> int | None:
        """The peak resident memory (VmHWM) of the kernel running `notebook`, in MiB; None where /proc cannot say."""
        kernels = [session["kernel"]["id"] for session in self.api("sessions")
                   if session["path"] == notebook and session.get("kernel")]
        for process in Path("/proc").glob("[0-9]*"):
            try:
                if kernels and f"kernel-{kernels[0]}.json" in (process / "cmdline").read_text(encoding="utf-8"):
                    status = dict(line.split(":", 1) for line in (process / "status").read_text(encoding="utf-8").splitlines())
                    return int(status["VmHWM"].split()[0]) // 1024
            except (OSError, KeyError, ValueError):
                continue  # a process that ended, or one that is not ours to read
        return None

    def shut_down_kernels(self) -> None:
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace", encoding="utf-8").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_settings(folder: Path) -> Path:
    """A settings folder of its own: no news or update checks (no network here), nothing from the user's."""
    notification = folder / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")
    return folder


def start_lab(root: Path, output: Path, scratch: Path, timeout: float = 60, bundle: str = "", profile: str = "smoke") -> Lab:
    """JupyterLab serving `root` on a free localhost port, its lessons offline, sized by `profile`, writing under `output`;
    as on Binder, a 2 GiB memory cap that the course reads from MEM_LIMIT; with `bundle`, the course bundle as in a
    workshop room."""
    token = os.urandom(16).hex()
    port = free_port()
    from helpers.bundled import ANCHOR, fingerprint

    announced = fingerprint(bundle) if bundle else ""  # as the instructor announces it
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COURSE_PROFILE": profile, "MRPC_DIR": "", "COURSE_BUNDLE": bundle, ANCHOR: announced,
           "COURSE_OUTPUT": str(output), "MEM_LIMIT": str(2 * 1024**3),
           "JUPYTERLAB_SETTINGS_DIR": str(lab_settings(scratch / "settings")),
           "JUPYTERLAB_WORKSPACES_DIR": str(scratch / "workspaces"), "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")}
    command = [str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = scratch / "jupyterlab.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            lab.api("status")
            return lab
        except OSError:
            time.sleep(0.3)
    stop_lab(lab)
    raise RuntimeError(f"JupyterLab did not start within {timeout:.0f} s; the end of its log:\n{lab.log_tail()}")


def stop_lab(lab: Lab) -> None:
    """Shut down its kernels, then the server itself (killed if it does not stop within 20 s)."""
    if lab.process.poll() is None:
        try:
            lab.shut_down_kernels()
        except OSError:
            pass
        lab.process.terminate()
        try:
            lab.process.wait(20)
        except subprocess.TimeoutExpired:
            lab.process.kill()
            lab.process.wait(10)


def open_notebook(page, lab: Lab, notebook: str, timeout: float = 90) -> None:
    """Open `notebook` alone in a fresh workspace, hide the file browser, and wait until its kernel is idle."""
    page.goto(f"{lab.url}/lab/tree/{notebook}?reset&token={lab.token}")
    page.wait_for_selector(f"{CURRENT} .jp-Cell", timeout=timeout * 1000)
    left = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if left.count():
        left.first.click()  # the file browser folds away: more room for the outputs
    deadline = time.monotonic() + timeout
    while lab.kernel_state(notebook) != "idle":
        if time.monotonic() > deadline:
            raise AssertionError(f"{notebook}: its kernel was not ready within {timeout:.0f} s (state {lab.kernel_state(notebook)})")
        time.sleep(0.3)


def menu_command(page, menu: str, command: str) -> None:
    """Click a menu of the menu bar, then its item for `command`, as a learner does."""
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(f".lm-Menu-item[data-command='{command}']").first.click()


# Each code cell's number (counting every cell, as JupyterLab's "Cell 3/21" does) and its prompt: "[3]:", "[*]:", "[ ]:".
PROMPTS = f"""() => [...document.querySelectorAll('{CURRENT} .jp-Cell')].map((cell, i) => [i + 1, cell])
  .filter(([, cell]) => cell.classList.contains('jp-CodeCell'))
  .map(([number, cell]) => [number, (cell.querySelector('.jp-InputArea-prompt') || {{}}).textContent || ''])"""


def run_all(page, lab: Lab, notebook: str, timeout: float, watch=None) -> str | None:
    """Run → Run All Cells, then wait until no cell is queued or running and the kernel is idle; None, or why not.

    `watch(page)` is called about every half second while cells run (to see what a learner sees meanwhile).
    """
    menu_command(page, "Run", "runmenu:run-all")  # Run → Run All Cells
    start, settled = time.monotonic(), 0
    while time.monotonic() - start < timeout:
        running = any("*" in prompt for _, prompt in page.evaluate(PROMPTS))
        if running and watch is not None:
            watch(page)
        state = lab.kernel_state(notebook)
        dialog = page.locator(".jp-Dialog")
        if state in (None, "dead") or dialog.count():  # the kernel died, or JupyterLab asks something
            said = dialog.first.text_content().strip() if dialog.count() else ""
            return f"Run All stopped after {time.monotonic() - start:.0f} s: kernel {state or 'gone'}; {said or 'no dialog'}"
        settled = settled + 1 if not running and state == "idle" else 0
        if settled >= 2:  # idle twice in a row: not just between two cells
            return None
        time.sleep(0.5)
    waiting = [str(number) for number, prompt in page.evaluate(PROMPTS) if "*" in prompt]
    return (f"Run All did not finish within {timeout:.0f} s (cells still queued or running: {', '.join(waiting) or 'none'}; "
            f"kernel {lab.kernel_state(notebook)})")


# Where the panel is scrolled, its height, and whether the bottom of the last cell is in view (below it: empty room).
LAST_CELL_SHOWN = """el => {
  const cells = el.querySelectorAll('.jp-Cell'), last = cells[cells.length - 1];
  const bottom = last ? last.getBoundingClientRect().bottom : 0;
  return [el.scrollTop, el.clientHeight, bottom <= el.getBoundingClientRect().bottom + 2 || el.scrollTop + el.clientHeight >= el.scrollHeight - 2];
}"""


def screenshots(page, folder: Path, limit: int = 40) -> list[Path]:
    """Screenshots of the whole notebook, scrolling its panel a screen at a time from the top; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    scroller = page.locator(f"{CURRENT} .jp-WindowedPanel-outer").first
    shots, position = [], 0
    for number in range(1, limit + 1):
        scroller.evaluate("(el, top) => { el.scrollTop = top; }", position)
        page.wait_for_timeout(200)  # cells brought into view are laid out and painted
        shots.append(folder / f"page-{number:02d}.png")
        page.screenshot(path=shots[-1])
        top, height, done = scroller.evaluate(LAST_CELL_SHOWN)
        if done:
            break
        position = top + int(height * 0.9)  # a little overlap, so no output is cut between two shots
    return shots
