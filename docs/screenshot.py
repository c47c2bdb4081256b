"""Remake the README's screenshot of the instructor's page (``docs/img/demo.png``).

Run from the checkout: ``.venv/bin/python docs/screenshot.py [--out docs/img/demo.png]``. It
starts ``vcm-sim demo`` on a free loopback port, opens the page in headless Chromium (Debian's
``/usr/bin/chromium`` through Playwright, as the browser tests do) in a 1280x720 window,
switches the what-if comparison on, steps the baseline preset to month 49, fires a media
scandal, steps on to month 85 and saves the window.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import (CHROMIUM_ARGS, chromium_path, demo_command,  # noqa: E402
                                    free_port, wait_until_serving)
from tests.browser.test_page import current_month, step  # noqa: E402

SCANDAL_AFTER_MONTH = 49
SHOT_AT_MONTH = 85
VIEWPORT = {"width": 1280, "height": 720}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "demo.png")
    args = parser.parse_args()
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
            page.get_by_text("What if: compare with the preset as it comes").click()
            step(page, SCANDAL_AFTER_MONTH)
            page.locator(".vcm-event-scandal").click()
            page.locator(".vcm-event-log").get_by_text(
                f"scandal after month {SCANDAL_AFTER_MONTH}").wait_for()
            step(page, SHOT_AT_MONTH - current_month(page))
            page.wait_for_timeout(1500)  # let the last months reach the charts
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
