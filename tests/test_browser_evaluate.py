"""The Evaluate page in a real headless Chromium: the example's plots draw, the report downloads.

Reuses the server and browser fixtures of ``tests/test_browser.py`` (skips without Chromium).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_browser import app_url, browser_page, chromium_path  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

PLOT_SELECTOR = '[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg'
PLOTS_DRAWN_JS = """([selector, n]) => {
    const svgs = [...document.querySelectorAll(selector)];
    return svgs.filter(s => s.getBoundingClientRect().width > 0).length >= n;
}"""
TIMEOUT_MS = 120_000


def test_evaluate_page_draws_the_example_and_downloads_the_report(
    app_url: str,  # noqa: F811
    chromium_path: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import Error as PlaywrightError

    with browser_page(chromium_path) as page:
        # through the app's navigation, as a user gets there (a direct URL works too:
        # tests/test_browser_rough_edges.py opens /digitize)
        page.goto(app_url, wait_until="domcontentloaded", timeout=30_000)
        page.get_by_role("link", name="Evaluate").click(timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Evaluate").wait_for(timeout=TIMEOUT_MS)
        try:  # the heatmap and the box plot of the first tab, drawn by plotly.js
            page.wait_for_function(PLOTS_DRAWN_JS, arg=[PLOT_SELECTOR, 2], timeout=TIMEOUT_MS)
        except PlaywrightError as exc:
            shot = tmp_path / "no-plots.png"
            page.screenshot(path=str(shot), full_page=True)
            alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
            errors = page.locator('[data-testid="stException"]').all_inner_texts()
            pytest.fail(f"no plots: {exc}\nalerts: {alerts}\nexceptions: {errors}\n{shot}")
        assert page.get_by_text("Example:", exact=False).count() >= 1
        assert not page.locator('[data-testid="stException"]').count()
        assert page.locator(".js-plotly-plot .heatmaplayer").count() >= 1

        # the Intervals tab: Bland-Altman and scatter drawn once it is shown
        page.get_by_role("tab", name="Intervals").click()
        page.get_by_text("RR: Bland-Altman", exact=False).first.wait_for(timeout=TIMEOUT_MS)

        button = page.get_by_role("button", name="Download report (JSON)")
        with page.expect_download(timeout=60_000) as info:
            button.click()
        download = info.value
        path = tmp_path / download.suggested_filename
        download.save_as(path)
    assert path.name == "report.json"
    report = json.loads(path.read_text())
    assert report["summary"]["n_records"] == 3
    assert len(report["records"][0]["snr_db"]) == 12
