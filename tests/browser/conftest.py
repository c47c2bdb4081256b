"""Fixtures for the browser tests: the page served by ``vcm-sim demo`` and headless Chromium.

The server runs as a subprocess on a free loopback port for the whole session; each test gets
a fresh browser page, and so a fresh Solara session with its own model. Chromium is Debian's
(``/usr/bin/chromium``) driven by Playwright's Python package; Playwright's own browser
download is not needed. Without Chromium the tests skip and say how to install it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SERVER_START_TIMEOUT_S = 60.0
"""Bound on the server's start (imports, then the first page answering)."""
PAGE_TIMEOUT_MS = 20_000
"""Bound on every Playwright wait (a click, a text appearing)."""
INSTALL_HINT = ("no Chromium found: install Debian's with `apt-get install chromium` (or set "
                "VCM_CHROMIUM to a Chromium binary), and the Python driver with "
                "`pip install playwright`")


def chromium_path() -> str | None:
    """Chromium to drive: ``$VCM_CHROMIUM``, Debian's ``/usr/bin/chromium``, or on PATH."""
    candidates = [os.environ.get("VCM_CHROMIUM"), "/usr/bin/chromium",
                  shutil.which("chromium"), shutil.which("chromium-browser")]
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    return None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_command(port: int) -> list[str]:
    """``vcm-sim demo --port PORT``, with the console script next to this Python if any."""
    script = Path(sys.executable).with_name("vcm-sim")
    entry = [str(script)] if script.is_file() else [sys.executable, "-m", "vcm_sim.cli"]
    return [*entry, "demo", "--host", "127.0.0.1", "--port", str(port)]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of the Chromium binary, or skip."""
    path = chromium_path()
    if path is None:
        pytest.skip(INSTALL_HINT)
    pytest.importorskip("playwright.sync_api", reason=INSTALL_HINT)
    pytest.importorskip("solara", reason="the page needs the demo extras: "
                                         "pip install 'vcm_sim[demo]'")
    return path


@dataclass(frozen=True)
class DemoServer:
    """A running ``vcm-sim demo``: its base URL, its process and the file its stderr goes
    to."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, chars: int = 3000) -> str:
        """The last ``chars`` characters the server wrote to stderr (tracebacks land here)."""
        return self.log_path.read_text()[-chars:]


@contextmanager
def running_demo(folder: Path) -> Iterator[DemoServer]:
    """``vcm-sim demo`` on a free loopback port, serving until the block ends (then Ctrl+C,
    harder if it does not stop), its stderr in ``folder/server.log``."""
    port = free_port()
    log_path = folder / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(demo_command(port), stdout=subprocess.PIPE, stderr=log,
                               text=True, start_new_session=True)
    announced: list[str] = []

    def read_stdout() -> None:
        for line in process.stdout:
            announced.append(line.strip())

    threading.Thread(target=read_stdout, daemon=True).start()
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process, log_path)
        assert any(url in line for line in announced), (
            f"`vcm-sim demo` did not print its address {url}; it printed {announced}")
        yield DemoServer(url, process, log_path)
    finally:
        _stop(process)
        log.close()


@pytest.fixture(scope="session")
def demo_server(chromium: str, tmp_path_factory: pytest.TempPathFactory):
    """A ``vcm-sim demo`` server started for this session."""
    with running_demo(tmp_path_factory.mktemp("demo-server")) as server:
        yield server


def wait_until_serving(url: str, process: subprocess.Popen | None = None,
                       log_path: Path | None = None,
                       timeout_s: float = SERVER_START_TIMEOUT_S) -> None:
    """Return once ``url`` answers 200; raise RuntimeError if the server ``process`` exits
    first, TimeoutError after ``timeout_s`` (either with the end of its ``log_path``)."""
    log = (lambda: f"\n{log_path.read_text()[-3000:]}") if log_path else (lambda: "")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"`vcm-sim demo` exited with {process.returncode}:{log()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"`vcm-sim demo` did not serve {url} within {timeout_s} s:{log()}")


def _stop(process: subprocess.Popen) -> None:
    """Ctrl+C as a user would, then harder if it does not stop in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium: str):
    """Headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def demo_url(demo_server: DemoServer) -> str:
    """Base URL of the session's ``vcm-sim demo`` server."""
    return demo_server.url


@pytest.fixture
def page(browser, demo_url: str):
    """A fresh tab on the demo page (a new Solara session, so a new model), loaded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    tab = context.new_page()
    tab.goto(demo_url)
    tab.get_by_role("button", name="Step").wait_for()
    tab.get_by_text("Month 0 of").wait_for()
    yield tab
    context.close()
