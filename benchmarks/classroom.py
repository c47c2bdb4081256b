"""Classroom capacity: how much of a core the instructor's page costs the server per tab.

Starts ``vcm-sim demo`` pinned to one core (``taskset``), drives headless Chromium tabs pinned
to another, each playing the baseline at about two months per second (Play Interval 500 ms,
the page's default; ``--play-interval-ms`` sets another), and measures the server's CPU (% of
one core, per tab playing) and each tab's pace. With
``--memory-minutes``, tabs keep playing, pressing Reset and ▶ again at the scenario's end, while
the server's resident memory is sampled after a warm-up (``--memory-warm-up``): its growth per
minute is the figure to watch.

Run by hand from the checkout: ``.venv/bin/python benchmarks/classroom.py [--tabs 1 2 4]
[--seconds 30] [--memory-minutes 10]``. Needs Debian's Chromium (``/usr/bin/chromium``) and
Playwright's Python package, as the browser tests do. Target (issue 17): at most 3% of a core
per tab playing at 2 months/s (30 tabs per core), and memory flat over 10 minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import (CHROMIUM_ARGS, chromium_path, demo_command,  # noqa: E402
                                    free_port, wait_until_serving)
from tests.browser.test_page import current_month  # noqa: E402

SERVER_CORE, BROWSER_CORE = 0, 1
PLAY_INTERVAL_MS = 500
"""Mesa's pause between steps while playing, by default: about two months a second."""
SLIDER_STEP_MS = 10
"""The Play Interval slider's step."""
WARM_UP_S = 8.0
WARM_UP_MEMORY_MIN = 2.5
"""Minutes of play before memory is measured: a 240-month run at 2 months/s is 2 minutes."""
CLOSE_S = 5.0
"""Time the server has to stop closed tabs' runs (the browser tests' bound)."""


def pinned(command: list[str], core: int) -> list[str]:
    """``command`` run on ``core`` only, where ``taskset`` and that core exist."""
    if shutil.which("taskset") and core < (os.cpu_count() or 1):
        return ["taskset", "-c", str(core), *command]
    return command


def pin_tree(pid: int, core: int) -> None:
    """Pin process ``pid`` and its children to ``core`` (children it starts later inherit
    it)."""
    if core >= (os.cpu_count() or 1):
        return
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        try:
            process.cpu_affinity([core])
        except psutil.Error:
            pass


def open_playing(browser, url: str, interval_ms: int):
    """A new tab on the page, Play Interval at ``interval_ms``, playing."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(60_000)
    tab = context.new_page()
    tab.goto(url)
    tab.get_by_text("Month 0 of").wait_for()
    slider = tab.locator(".v-input", has_text="Play Interval").get_by_role("slider")
    slider.focus()
    tab.keyboard.press("Home")
    for _ in range(interval_ms // SLIDER_STEP_MS):
        tab.keyboard.press("ArrowRight")
    deadline = time.monotonic() + 10
    while slider.get_attribute("aria-valuenow") != str(interval_ms):
        if time.monotonic() > deadline:
            raise RuntimeError(f"could not set Play Interval to {interval_ms} ms")
        tab.wait_for_timeout(100)
    tab.get_by_role("button", name="▶", exact=True).click()
    return tab


def close_all(tabs) -> None:
    """Close ``tabs`` as their users would (the browser tells the server, which stops their
    runs; a closed browser context says nothing, and its runs played on for ``--linger``
    seconds into the next measurement) and give the server time to stop them."""
    for tab in tabs:
        tab.close(run_before_unload=True)
        tab.context.close()
    if tabs:
        time.sleep(CLOSE_S)


def restart_finished(tabs) -> None:
    """Press Reset and ▶ in every tab whose run reached the scenario's end."""
    for tab in tabs:
        if "the end" in tab.locator(".vcm-month").inner_text():
            tab.get_by_role("button", name="Reset", exact=True).click()
            tab.get_by_text("Month 0 of").wait_for()
            tab.get_by_role("button", name="▶", exact=True).click()


def measure(server: psutil.Process, tabs, seconds: float) -> tuple[float, float]:
    """Server CPU (% of one core) over ``seconds`` and the tabs' mean pace (months/s)."""
    before = [current_month(tab) for tab in tabs]
    server.cpu_percent(None)
    start = time.monotonic()
    time.sleep(seconds)
    cpu = server.cpu_percent(None)
    elapsed = time.monotonic() - start
    pace = [(current_month(tab) - m) / elapsed for tab, m in zip(tabs, before)]
    return cpu, sum(pace) / len(pace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, nargs="+", default=[1, 2, 4],
                        help="tab counts to measure, each on its own (default 1 2 4)")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="measuring time per tab count, after an 8 s warm-up")
    parser.add_argument("--play-interval-ms", type=int, default=PLAY_INTERVAL_MS,
                        choices=range(0, 501, SLIDER_STEP_MS), metavar="0-500",
                        help="Play Interval of every tab, a multiple of 10 (default 500: "
                             "about two months a second)")
    parser.add_argument("--memory-minutes", type=float, default=0.0,
                        help="then keep the largest count playing this long after a "
                             "warm-up, sampling the server's memory every 15 s (0: skip)")
    parser.add_argument("--memory-warm-up", type=float, default=WARM_UP_MEMORY_MIN,
                        help="minutes of play before memory is measured (default 2.5: one "
                             "run of the baseline at 2 months/s, while the tabs' first runs "
                             "fill their records)")
    args = parser.parse_args()
    chromium = chromium_path()
    if chromium is None:
        sys.exit("no Chromium found: apt-get install chromium (or set VCM_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    port = free_port()
    command = pinned(demo_command(port), SERVER_CORE)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process)
        server = psutil.Process(process.pid)  # taskset execs the server in its place
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                                 args=CHROMIUM_ARGS)
            browser_pid = _browser_pid(os.getpid())
            if browser_pid:
                pin_tree(browser_pid, BROWSER_CORE)
            print(f"server pinned to core {SERVER_CORE}, browsers to core {BROWSER_CORE}; "
                  f"play interval {args.play_interval_ms} ms")
            print(f"{'tabs':>5} {'server CPU %':>13} {'% per tab':>10} {'months/s per tab':>17}")
            tabs = []
            for count in args.tabs:
                close_all(tabs)
                tabs = [open_playing(browser, url, args.play_interval_ms) for _ in range(count)]
                time.sleep(WARM_UP_S)
                cpu, pace = measure(server, tabs, args.seconds)
                print(f"{count:>5} {cpu:>13.1f} {cpu / count:>10.1f} {pace:>17.2f}", flush=True)
            if args.memory_minutes > 0:
                _memory(server, tabs, args.memory_minutes, args.memory_warm_up)
            browser.close()
    finally:
        process.send_signal(2)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _browser_pid(parent: int) -> int | None:
    """The Chromium browser process Playwright started (a descendant of this process)."""
    for child in psutil.Process(parent).children(recursive=True):
        try:
            if "chrom" in child.name() and "--type=" not in " ".join(child.cmdline()):
                return child.pid
        except psutil.Error:
            continue
    return None


def _memory(server: psutil.Process, tabs, minutes: float, warm_up: float) -> None:
    """Keep ``tabs`` playing, restarting at the scenario's end, for ``warm_up`` minutes (their
    first runs fill their records) and then ``minutes`` more, sampling the server's resident
    memory every 15 s; print the samples and, over the ``minutes`` after the warm-up, the
    least-squares growth per minute and the mean of the first and the last three minutes."""
    samples = []
    start = time.monotonic()
    while time.monotonic() - start < (warm_up + minutes) * 60:
        restart_finished(tabs)
        samples.append(((time.monotonic() - start) / 60, server.memory_info().rss / 2 ** 20))
        print(f"  {samples[-1][0]:5.1f} min  server RSS {samples[-1][1]:7.1f} MB", flush=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            time.sleep(5)
            restart_finished(tabs)
    measured = np.array([(t, rss) for t, rss in samples if t >= warm_up])
    if len(measured) < 2:
        return
    slope = np.polyfit(measured[:, 0], measured[:, 1], 1)[0]
    first = measured[measured[:, 0] < warm_up + 3, 1].mean()
    last = measured[measured[:, 0] >= warm_up + minutes - 3, 1].mean()
    print(f"memory with {len(tabs)} tabs: {samples[0][1]:.1f} MB at the start; after a "
          f"{warm_up:g}-minute warm-up, {slope:+.2f} MB per minute over {minutes:g} minutes "
          f"(least squares), mean {first:.1f} MB over the first three and {last:.1f} MB over "
          f"the last three")


if __name__ == "__main__":
    main()
