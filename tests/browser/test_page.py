"""The instructor's page, driven in headless Chromium as an instructor would use it."""

from __future__ import annotations

import re
import time

import pytest

expect = pytest.importorskip(
    "playwright.sync_api", reason="the browser tests need Playwright's Python package: "
                                  "pip install playwright").expect
expect.set_options(timeout=20_000)

pytestmark = pytest.mark.browser

CHART_CHANGE_TIMEOUT_S = 15.0


def step(page, times: int) -> None:
    """Press Step ``times`` times, each time waiting for the month counter to move on."""
    for _ in range(times):
        month = current_month(page)
        page.get_by_role("button", name="Step", exact=True).click()
        page.locator(".vcm-month").get_by_text(f"Month {month + 1} of").wait_for()


def current_month(page) -> int:
    """Months run so far, as the status bar shows it."""
    text = page.locator(".vcm-month").inner_text()
    return int(re.match(r"Month (\d+) of", text).group(1))


CHART_KEYS = ("price", "volume", "stocks", "integrity", "holdings")

CHART_STATE = """key => {
    const el = document.querySelector(`.vcm-chart-${key} .vcm-live-chart`);
    const chart = el && el.vcmChart;
    if (!chart) return null;
    const option = chart.getOption();
    return {points: option.series.map(s => (s.data || []).length), version: el.vcmVersion(),
            marks: option.series.flatMap(s => ((s.markLine || {}).data || []).map(d => d.name)),
            fonts: [option.textStyle[0] ? option.textStyle[0].fontSize : option.textStyle.fontSize,
                    ...[].concat(option.xAxis, option.yAxis).filter(a => a.axisLabel.show !== false)
                        .map(a => a.axisLabel.fontSize)]};
}"""
"""What the browser's chart ``key`` holds: points per series, event markers' names and its
type sizes (px), read from ECharts; null before ECharts has drawn it."""


def chart_state(page, key: str) -> dict | None:
    """Chart ``key`` as the browser draws it (see :data:`CHART_STATE`)."""
    return page.evaluate(CHART_STATE, key)


def wait_for_chart(page, key: str, check, what: str) -> dict:
    """Chart ``key``'s state once ``check(state)`` holds (bounded wait)."""
    deadline = time.monotonic() + CHART_CHANGE_TIMEOUT_S
    state = None
    while time.monotonic() < deadline:
        state = chart_state(page, key)
        if state is not None and check(state):
            return state
        page.wait_for_timeout(150)
    raise AssertionError(f"chart {key!r}: {what} not seen within {CHART_CHANGE_TIMEOUT_S} s "
                         f"(last state {state})")


def set_slider(page, label: str, presses: int, key: str) -> str:
    """Move the slider labelled ``label`` by ``presses`` key presses; returns its new value."""
    slider = page.locator(".v-input", has_text=label).get_by_role("slider")
    before = slider.get_attribute("aria-valuenow")
    slider.focus()
    for _ in range(presses):
        page.keyboard.press(key)
        page.wait_for_timeout(60)  # a person's key repeat: each change reaches the server
    value = slider.get_attribute("aria-valuenow")
    assert value != before, f"slider {label!r} did not move from {before}"
    return value


def test_page_opens_on_the_baseline_preset_with_every_chart(page, demo_server, tmp_path):
    assert "preset: baseline" in page.locator(".vcm-status").inner_text()
    assert "samesite" not in demo_server.log_tail()  # no cookie warning for every tab
    for key in CHART_KEYS:
        chart = page.locator(f".vcm-chart-{key}")
        wait_for_chart(page, key, lambda state: True, "a drawn chart")
        expect(chart.locator("canvas")).to_be_visible()
        title = chart.locator(".vcm-chart-title").inner_text()
        assert "(" in title, f"chart title {title!r} names no unit"
    page.screenshot(path=tmp_path / "opened.png", full_page=True)


def test_step_advances_the_month_counter_and_the_charts_grow_a_month_at_a_time(page, tmp_path):
    """Each step adds its month to the charts the browser holds: no chart is sent whole
    again (its snapshot's version stays as it was after the first month)."""
    for key in ("price", "volume", "stocks", "integrity"):
        wait_for_chart(page, key, lambda state: set(state["points"]) == {0}, "no points")
    expect(page.locator(".vcm-chart-price canvas")).to_be_visible()
    step(page, 1)
    first = {key: wait_for_chart(page, key, lambda state: set(state["points"]) == {1},
                                 "one month")["version"] for key in ("price", "stocks")}
    step(page, 2)
    assert current_month(page) == 3
    for key in ("price", "volume", "stocks", "integrity"):
        state = wait_for_chart(page, key, lambda state: set(state["points"]) == {3},
                               "three months")
        assert key not in first or state["version"] == first[key], (key, state, first)
    expect(page.locator(".vcm-latest")).to_contain_text("Last price USD")
    page.screenshot(path=tmp_path / "after-3-steps.png", full_page=True)


def test_play_runs_months_until_paused(page, demo_server):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.get_by_role("button", name="▶", exact=True).click()
    pause = page.get_by_role("button", name="❚❚", exact=True)
    pause.wait_for()
    # Play redraws every chart each month; on a loaded machine (the other xdist worker) three
    # months can take longer than the default 20 s. This test is about pausing, not speed.
    try:
        page.locator(".vcm-month").get_by_text(re.compile(r"Month ([3-9]|\d\d+) of")).wait_for(
            timeout=90_000)
    except PlaywrightTimeout as err:
        month = page.locator(".vcm-month").all_inner_texts()  # no wait: it may be gone
        raise AssertionError(
            f"play stopped at {month or 'no status bar'} (button now "
            f"{'❚❚' if pause.is_visible() else '▶'}); the page shows "
            f"{page.locator('.v-alert').all_inner_texts()}; the server wrote:\n"
            f"{demo_server.log_tail()}") from err
    pause.click()
    page.get_by_role("button", name="Step", exact=True).wait_for(state="visible")
    paused_at = current_month(page)
    page.wait_for_timeout(1500)
    assert current_month(page) <= paused_at + 1  # at most the step under way finishes


def test_a_moved_slider_is_used_by_the_model_after_reset(page, tmp_path):
    in_force = page.locator(".vcm-in-force")
    assert "offset cap 100%" in in_force.inner_text()
    step(page, 2)
    value = set_slider(page, "Offset cap", 10, "ArrowLeft")
    assert float(value) == pytest.approx(0.5)
    assert "offset cap 100%" in in_force.inner_text(), "the rule changed before Reset"
    pending = page.locator(".vcm-pending")
    pending.get_by_text("Offset cap (share of target) 0.5").wait_for()
    page.get_by_role("button", name="Reset", exact=True).click()
    in_force.get_by_text("offset cap 50%").wait_for()
    expect(pending).to_have_count(0)
    assert current_month(page) == 0
    firms = set_slider(page, "Emitting firms", 5, "ArrowRight")
    page.get_by_role("button", name="Reset", exact=True).click()
    in_force.get_by_text(f"{int(float(firms))} firms").wait_for()
    assert "offset cap 50%" in in_force.inner_text(), "a second Reset lost the first change"
    page.screenshot(path=tmp_path / "after-reset.png", full_page=True)


def test_a_triggered_scandal_is_marked_on_the_integrity_and_price_charts(page, tmp_path):
    step(page, 4)
    page.locator(".vcm-event-scandal").click()
    page.locator(".vcm-event-log").get_by_text("scandal after month 4").wait_for()
    for key in ("integrity", "price"):
        wait_for_chart(page, key, lambda state: state["marks"] == ["scandal"], "the marker")
        expect(page.locator(f".vcm-chart-{key} .vcm-legend")).to_contain_text("scandal")
    step(page, 2)
    wait_for_chart(page, "price", lambda state: state["points"][0] == 6, "six months")
    assert "scandal after month 4" in page.locator(".vcm-event-log").inner_text()
    page.screenshot(path=tmp_path / "scandal.png", full_page=True)
    assert (tmp_path / "scandal.png").stat().st_size > 10_000


def test_wildfire_and_issuance_buttons_fire_their_events(page):
    step(page, 1)
    page.locator(".vcm-event-wildfire").click()
    page.locator(".vcm-event-suspend_issuance").click()
    log = page.locator(".vcm-event-log")
    log.get_by_text("suspend issuance after month 1").wait_for()
    assert "wildfire after month 1" in log.inner_text()
    step(page, 1)
    page.locator(".vcm-event-resume_issuance").click()
    log.get_by_text("resume issuance after month 2").wait_for()


def test_picking_a_preset_rebuilds_the_model_and_moves_the_sliders(page, tmp_path):
    step(page, 2)
    page.get_by_role("button", name="Preset baseline").click()
    page.get_by_role("option", name="ccer", exact=True).click()
    status = page.locator(".vcm-status")
    status.get_by_text("preset: ccer").wait_for()
    assert current_month(page) == 0
    in_force = page.locator(".vcm-in-force").inner_text()
    assert "offset cap 5%" in in_force and "verifiers chosen by regulator" in in_force
    cap = page.locator(".v-input", has_text="Offset cap").get_by_role("slider")
    expect(cap).to_have_attribute("aria-valuenow", "0.05")
    page.get_by_role("button", name="Reset", exact=True).click()
    page.locator(".vcm-in-force").get_by_text("offset cap 5%").wait_for()
    assert "preset: ccer" in status.inner_text()
    step(page, 1)
    page.screenshot(path=tmp_path / "ccer.png", full_page=True)


def test_render_interval_takes_any_value_and_play_stops_at_the_last_month(page):
    """The Render Interval slider moves one month at a time (6 and 12 are settable); played
    with an interval that does not divide the 240 months and no pause, the run stops at the
    scenario's last month, says so, disables play and Step, and stays there."""
    assert set_slider(page, "Render Interval", 5, "ArrowRight") == "6"
    assert set_slider(page, "Render Interval", 6, "ArrowRight") == "12"
    assert set_slider(page, "Render Interval", 38, "ArrowRight") == "50"
    set_slider(page, "Play Interval", 1, "Home")
    page.get_by_role("button", name="▶", exact=True).click()
    page.locator(".vcm-month").get_by_text(
        re.compile(r"^Month 240 of 240 .* the end: Reset runs it again")).wait_for(
        timeout=120_000)
    expect(page.get_by_role("button", name=re.compile("^(▶|❚❚)$"))).to_be_disabled()
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_disabled()
    page.wait_for_timeout(1500)
    assert current_month(page) == 240


def test_a_burst_of_clicks_on_an_event_is_one_event(page):
    step(page, 1)
    for _ in range(5):
        page.locator(".vcm-event-scandal").click()
    log = page.locator(".vcm-event-log")
    log.get_by_text("Events so far (1): scandal after month 1.").wait_for()
    page.wait_for_timeout(1000)
    assert log.inner_text() == "Events so far (1): scandal after month 1."


def server_cpu(process, seconds: float) -> float:
    """The server's CPU use over the next ``seconds``, in % of one core."""
    import psutil

    server = psutil.Process(process.pid)
    server.cpu_percent(None)
    time.sleep(seconds)
    return server.cpu_percent(None)


def open_and_play(browser, url: str):
    """A new tab on the page at ``url``, playing; returns its browser context."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    tab = context.new_page()
    tab.goto(url)
    tab.get_by_text("Month 0 of").wait_for()
    tab.get_by_role("button", name="▶", exact=True).click()
    tab.locator(".vcm-month").get_by_text(re.compile(r"Month [2-9]\d* of")).wait_for(
        timeout=60_000)
    return context


def test_a_closed_tab_stops_its_run_within_seconds(browser, demo_server):
    """A tab closed while playing (as a user closes it: the browser tells the server) leaves
    the server idle within 5 s; ``--linger``, for lost connections, is a minute."""
    context = open_and_play(browser, demo_server.url)
    busy = server_cpu(demo_server.process, 1.0)
    context.pages[0].close(run_before_unload=True)
    closed = time.monotonic()
    idle_after = None
    while time.monotonic() - closed < 8.0:
        if server_cpu(demo_server.process, 0.5) < 10.0:
            idle_after = time.monotonic() - closed
            break
    assert idle_after is not None and idle_after <= 5.0, (
        f"server still busy {time.monotonic() - closed:.1f} s after the tab closed "
        f"({busy:.0f}% of a core while playing)")
    assert server_cpu(demo_server.process, 2.0) < 10.0  # and stays idle
    context.close()


def test_ctrl_c_stops_a_server_with_a_tab_playing_at_once(browser, tmp_path):
    import signal

    from tests.browser.conftest import running_demo

    with running_demo(tmp_path) as server:
        context = open_and_play(browser, server.url)
        sent = time.monotonic()
        server.process.send_signal(signal.SIGINT)
        server.process.wait(timeout=10)
        stopped_in = time.monotonic() - sent
        context.close()
    assert stopped_in < 3.0, f"the server took {stopped_in:.1f} s to stop after Ctrl+C"


def test_the_page_stays_light_when_the_system_prefers_dark(browser, demo_url):
    """No theme toggle, and a light theme under a dark system preference (dark mode left
    grey text on dark cards around white chart boxes); no Mesa leftovers (the Information
    card, the PAGE 0 tab, resize handles) around the five charts."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, color_scheme="dark")
    tab = context.new_page()
    tab.goto(demo_url)
    tab.get_by_text("Month 0 of").wait_for()
    expect(tab.locator(".v-application")).to_have_class(re.compile(r"theme--light"))
    expect(tab.get_by_text("Information", exact=True)).to_have_count(0)
    expect(tab.get_by_text("PAGE 0")).to_have_count(0)  # Mesa's tab strip
    expect(tab.locator(".vue-resizable-handle")).to_have_count(0)
    for key in CHART_KEYS:
        expect(tab.locator(f".vcm-chart-{key} canvas")).to_be_visible()
    context.close()


def test_an_event_fired_after_pause_acts_after_the_month_shown(page):
    """Pause lands wherever play is; whatever month the page then shows is the month an
    event fired now follows (the step under way when ❚❚ was pressed is shown, not hidden)."""
    page.get_by_role("button", name="▶", exact=True).click()
    page.locator(".vcm-month").get_by_text(re.compile(r"Month ([3-9]|\d\d+) of")).wait_for(
        timeout=90_000)
    page.get_by_role("button", name="❚❚", exact=True).click()
    page.get_by_role("button", name="Step", exact=True).wait_for(state="visible")
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled()
    page.wait_for_timeout(1000)
    shown = current_month(page)
    page.locator(".vcm-event-scandal").click()
    page.locator(".vcm-event-log").get_by_text(f"scandal after month {shown}.").wait_for()


@pytest.mark.parametrize(("width", "height", "sidebar"), [(1280, 720, True),
                                                          (1024, 768, False)])
def test_every_chart_is_on_one_screen_with_legible_type(browser, demo_url, tmp_path, width,
                                                        height, sidebar):
    """At 1280x720, and at 1024x768 with the sidebar hidden (as on a projector), the status
    bar and all five charts fit the window, with text of at least 12 px; the page itself
    does not scroll."""
    tab = open_tab(browser, demo_url, width, height)
    step(tab, 2)
    if not sidebar:
        hide_sidebar(tab)
    tab.screenshot(path=tmp_path / f"layout-{width}x{height}.png")
    for key in CHART_KEYS:
        assert_legible(tab, key, 12)
        box = tab.locator(f".vcm-chart-{key} .vcm-live-chart").bounding_box()
        assert box["x"] >= 0 and box["y"] >= 0, (key, box)
        assert box["x"] + box["width"] <= width + 1 and box["y"] + box["height"] <= height + 1, (
            key, box)
        assert box["height"] >= 100 and box["width"] >= 200, (key, box)
    assert not page_scrolls(tab), "the page scrolls: some chart is below the fold"
    tab.context.close()


def test_projector_mode_sets_large_type_in_one_scroll_area(browser, demo_url, tmp_path):
    """Projector mode: every chart's ticks, legend and title at least 16 px, the charts
    larger, in the main area's one scroll area (the page itself does not scroll)."""
    tab = open_tab(browser, demo_url, 1024, 768)
    step(tab, 2)
    tab.get_by_text("Projector mode (large type)").click()
    tab.locator(".vcm-projector").wait_for()
    hide_sidebar(tab)
    tab.screenshot(path=tmp_path / "projector.png")
    for key in CHART_KEYS:
        chart = tab.locator(f".vcm-chart-{key} .vcm-live-chart")
        chart.scroll_into_view_if_needed()
        assert_legible(tab, key, 16)
        assert chart.bounding_box()["height"] >= 180, key
    for status in (".vcm-month", ".vcm-in-force", ".vcm-latest", ".vcm-event-log"):
        size = tab.locator(status).evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
        assert size >= 16, (status, size)
    assert not page_scrolls(tab)
    tab.context.close()


def open_tab(browser, url: str, width: int, height: int):
    """A new tab on the page at ``url`` in a window of ``width`` x ``height``."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(20_000)
    tab = context.new_page()
    tab.goto(url)
    tab.get_by_text("Month 0 of").wait_for()
    return tab


def hide_sidebar(tab) -> None:
    """Hide the sidebar with the app bar's menu icon, as an instructor does on a projector."""
    tab.locator(".v-app-bar button").first.click()
    tab.wait_for_timeout(800)  # the drawer slides away


def page_scrolls(tab) -> bool:
    """Whether the document itself scrolls (more than the main area's own scroll)."""
    return tab.evaluate("() => document.scrollingElement.scrollHeight > innerHeight + 1")


def assert_legible(tab, key: str, smallest: float) -> None:
    """Chart ``key``'s type (ECharts' text and axis labels, the title and legend) is at least
    ``smallest`` px."""
    state = wait_for_chart(tab, key, lambda state: True, "a drawn chart")
    assert min(state["fonts"]) >= smallest, (key, state["fonts"])
    for part in ("vcm-chart-title", "vcm-legend"):
        size = tab.locator(f".vcm-chart-{key} .{part}").evaluate(
            "el => parseFloat(getComputedStyle(el).fontSize)")
        assert size >= smallest, (key, part, size)


def test_the_what_if_switch_draws_the_run_without_the_scandal_faded(page):
    """With the what-if switch on, the price and integrity charts carry a faded line for the
    same run without the events fired by hand, and the status bar compares the two."""
    page.get_by_text("What if: compare with the preset as it comes").click()
    step(page, 3)
    page.locator(".vcm-event-scandal").click()
    page.locator(".vcm-event-log").get_by_text("scandal after month 3").wait_for()
    step(page, 3)
    for key in ("price", "integrity"):
        wait_for_chart(page, key, lambda state: len(state["points"]) in (3, 4)
                       and set(state["points"]) == {6}, "the twin's six months")
        expect(page.locator(f".vcm-chart-{key} .vcm-legend")).to_contain_text(
            "without your changes")
    expect(page.locator(".vcm-what-if")).to_contain_text(
        "Without your events (faded lines): 12-month average price USD")


def test_reset_clears_the_markers_of_the_events_of_the_run_before(page):
    step(page, 1)
    page.locator(".vcm-event-scandal").click()
    wait_for_chart(page, "price", lambda state: state["marks"] == ["scandal"], "the marker")
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Month 0 of").wait_for()
    for key in ("price", "integrity"):
        wait_for_chart(page, key, lambda state: state["marks"] == [], "no marker")
        expect(page.locator(f".vcm-chart-{key} .vcm-legend")).not_to_contain_text("scandal")


def test_the_ratings_switch_puts_prices_by_rating_band_on_the_price_chart(page):
    """Switched on and applied by Reset, the ratings switch brings three rating agencies and
    quality books: the status bar says so, and the price chart gains one line per rating
    band, fed month by month."""
    in_force = page.locator(".vcm-in-force")
    assert "ratings on the books off" in in_force.inner_text()
    wait_for_chart(page, "price", lambda state: len(state["points"]) == 3, "three series")
    page.get_by_text("Ratings on the books (buyers see them)").click()
    page.get_by_role("button", name="Reset", exact=True).click()
    in_force.get_by_text("ratings on the books on").wait_for()
    assert "3 rating agencies" in in_force.inner_text()
    legend = page.locator(".vcm-chart-price .vcm-legend")
    for band in ("rated A or above", "rated below A", "unrated"):
        expect(legend).to_contain_text(band)
    step(page, 4)
    wait_for_chart(page, "price", lambda state: state["points"] == [4] * 6,
                   "four months of price, index, volatility and three bands")
