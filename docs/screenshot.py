"""Remake the README's screenshots of the instructor's page (``docs/img/``).

Run from the checkout: ``.venv/bin/python docs/screenshot.py [--classroom]``. It starts
``vcm-sim demo`` on a free loopback port and opens the page in headless Chromium (Debian's
``/usr/bin/chromium`` through Playwright, as the browser tests do) in a 1280x720 window.
``demo.png``: the what-if comparison on, the baseline preset stepped to month 49, a media
scandal fired, stepped on to month 85. With ``--classroom``, also the README's classroom
script as students see it, one picture per reading (``classroom-*.png``, about three
minutes): each preset of experiment 1 at month 120, the baseline with a 30% offset cap at
month 60, and experiment 3's scandal after month 48 (at month 60) and wildfire season after
month 60 (at month 72), the what-if comparison on.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import (CHROMIUM_ARGS, chromium_path, demo_command,  # noqa: E402
                                    free_port, wait_until_serving)
from tests.browser.test_page import current_month, set_slider, step  # noqa: E402

SCANDAL_AFTER_MONTH = 49
SHOT_AT_MONTH = 85
VIEWPORT = {"width": 1280, "height": 720}
MONTHS_PER_STEP = 12
"""Render Interval for the classroom pictures: Step runs a year."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img",
                        help="folder for the pictures (default docs/img)")
    parser.add_argument("--classroom", action="store_true",
                        help="also the classroom script's sequence (classroom-*.png)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    chromium = chromium_path()
    if chromium is None:
        sys.exit("no Chromium found: apt-get install chromium (or set VCM_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = subprocess.Popen(demo_command(port), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                                 args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(20_000)
            page.goto(url)
            page.get_by_text("Month 0 of").wait_for()
            demo(page, args.out / "demo.png")
            if args.classroom:
                classroom(page, args.out)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def demo(page, path: Path) -> None:
    """The README's picture of the page: a scandal and the what-if comparison."""
    page.get_by_text("What if: compare with the preset as it comes").click()
    step(page, SCANDAL_AFTER_MONTH)
    fire(page, "scandal")
    step(page, SHOT_AT_MONTH - current_month(page))
    shoot(page, path)


def classroom(page, folder: Path) -> None:
    """The classroom script's readings, one picture each (the what-if box stays ticked
    from :func:`demo`)."""
    set_slider(page, "Render Interval", MONTHS_PER_STEP - 1, "ArrowRight")
    for preset in ("lax", "baseline", "icvcm"):
        choose(page, preset)
        advance(page, 120)
        shoot(page, folder / f"classroom-1-{preset}.png")
    choose(page, "baseline")
    set_slider(page, "Offset cap", 14, "ArrowLeft")  # 100% to 30%, 5 points a press
    reset(page, "offset cap 30%")
    advance(page, 60)
    shoot(page, folder / "classroom-2-cap30.png")
    set_slider(page, "Offset cap", 14, "ArrowRight")
    reset(page, "offset cap 100%")
    advance(page, 48)
    fire(page, "scandal")
    advance(page, 12)
    shoot(page, folder / "classroom-3-scandal.png")
    fire(page, "wildfire")
    advance(page, 12)
    shoot(page, folder / "classroom-3-wildfire.png")


def choose(page, preset: str) -> None:
    """Pick ``preset`` (a new market at month 0)."""
    page.get_by_role("button", name=re.compile(r"^Preset ")).click()
    page.get_by_role("option", name=preset, exact=True).click()
    page.locator(".vcm-status").get_by_text(f"preset: {preset}").wait_for()
    page.get_by_text("Month 0 of").wait_for()
    page.wait_for_timeout(1000)  # the sliders remount with the preset's values


def reset(page, in_force: str) -> None:
    """Press Reset and wait for ``in_force`` in the rules line."""
    page.get_by_role("button", name="Reset", exact=True).click()
    page.locator(".vcm-in-force").get_by_text(in_force).wait_for()
    page.get_by_text("Month 0 of").wait_for()


def advance(page, months: int) -> None:
    """Step ``months`` months, :data:`MONTHS_PER_STEP` a press."""
    target = current_month(page) + months
    while current_month(page) < target:
        month = current_month(page)
        page.get_by_role("button", name="Step", exact=True).click()
        page.locator(".vcm-month").get_by_text(
            f"Month {month + MONTHS_PER_STEP} of").wait_for(timeout=60_000)


def fire(page, kind: str) -> None:
    """Press the event button ``kind`` and wait for the event log to list it."""
    month = current_month(page)
    page.locator(f".vcm-event-{kind}").click()
    page.locator(".vcm-event-log").get_by_text(f"{kind} after month {month}").wait_for()


def shoot(page, path: Path) -> None:
    """Save the window once the last months have reached the charts."""
    page.wait_for_timeout(1500)
    page.screenshot(path=path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
