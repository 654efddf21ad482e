"""What a new user meets, in a real headless Chromium: the rough edges of the issue, checked.

- a page opened by its URL gets the app's navigation (page titles, not file names);
- an overlay shows each lead over its own window, reference and estimate both drawn;
- untouched Paper controls keep the preset's draw, and the downloaded sample replays;
- 'Show ground truth' works in the Before view;
- the SNR heatmap's colours are on a fixed scale.

Reuses the browser fixtures of ``tests/test_browser.py``; this module starts its own server, and
its first test opens ``/digitize`` before anything else has run app.py.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from test_browser import (  # noqa: F401 (fixtures)
    IMAGE_LOADED_JS,
    IMAGE_SELECTOR,
    app_url,
    browser_page,
    chromium_path,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

TIMEOUT_MS = 150_000
PLOTS_JS = """(n) => [...document.querySelectorAll('.js-plotly-plot')]
    .filter(p => p.data && p.getBoundingClientRect().width > 0).length >= n"""
VISIBLE_PLOT_DATA_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .filter(p => p._fullData && p.getBoundingClientRect().width > 0)
    .map(p => p._fullData.map(t => ({
        type: t.type || 'scatter', name: t.name, x: t.x ? Array.from(t.x) : null,
        y: t.y ? Array.from(t.y) : null, zmin: t.zmin, zmax: t.zmax,
        width: t.line ? t.line.width : null, color: t.line ? t.line.color : null})))"""


def pick(page, label: str, option: str) -> None:  # noqa: ANN001
    """Choose ``option`` in the selectbox labelled ``label``."""
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_text(label, exact=True)
    )
    box.first.click()
    page.get_by_role("option", name=option, exact=True).click()


def shown(page, label: str) -> str:  # noqa: ANN001
    """The label and the choice shown by the selectbox whose label starts with ``label``."""
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=label)
    )
    return f"{box.first.inner_text()} / {box.first.locator('input').first.input_value()}"


def test_a_page_opened_by_its_url_has_the_app_navigation_and_lead_windows(
    app_url: str,  # noqa: F811
    chromium_path: str,  # noqa: F811
) -> None:
    with browser_page(chromium_path) as page:
        page.goto(f"{app_url}/digitize", wait_until="domcontentloaded", timeout=30_000)
        page.get_by_role("heading", name="Digitize").wait_for(timeout=TIMEOUT_MS)
        nav = page.locator('[data-testid="stSidebarNav"] a')
        nav.first.wait_for(timeout=TIMEOUT_MS)
        titles = [t.strip().splitlines()[-1] for t in nav.all_inner_texts()]  # after the icon
        assert titles == ["Generate", "Digitize", "Evaluate"], titles

        # the example against its truth: each lead over its own 2.5 s of the 3x4+II page
        page.get_by_role("tab", name="Against the truth").click(timeout=TIMEOUT_MS)
        page.wait_for_function(PLOTS_JS, arg=1, timeout=TIMEOUT_MS)
        traces = page.evaluate(VISIBLE_PLOT_DATA_JS)[0]
    assert len(traces) == 24
    order = ["I", "aVR", "V1", "V4", "II", "aVL", "V2", "V5", "III", "aVF", "V3", "V6"]
    for lead, ref, est in zip(order, traces[::2], traces[1::2], strict=True):
        assert ref["name"] == "reference" and est["name"] == "estimate"
        span = max(ref["x"]) - min(ref["x"])
        want = 10.0 if lead == "II" else 2.5  # II is also the 10 s rhythm strip
        assert want - 0.1 <= span <= want, f"{lead} spans {span:.2f} s of its panel"
        assert ref["width"] > est["width"] and "rgba" in ref["color"]  # under, and visible
    starts = sorted({round(min(t["x"]), 1) for t in traces})
    assert starts == [0.0, 2.5, 5.0, 7.5], starts


def test_generate_keeps_the_presets_draw_replays_and_shows_truth_before(
    app_url: str,  # noqa: F811
    chromium_path: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from ecgkit.cli import main

    with browser_page(chromium_path) as page:
        page.goto(app_url, wait_until="domcontentloaded", timeout=30_000)
        page.wait_for_function(IMAGE_LOADED_JS, arg=IMAGE_SELECTOR, timeout=TIMEOUT_MS)
        pick(page, "Preset", "archive")
        # record 0, variant 0 of archive draws A4 paper and a blue grid: shown, and kept
        caption = page.locator('[data-testid="stImageCaption"]', has_text="2339 x 1654")
        caption.wait_for(timeout=TIMEOUT_MS)
        assert shown(page, "Paper:") == "Paper: a4 by the preset / as the preset"
        assert shown(page, "Grid colour:") == "Grid colour: blue by the preset / as the preset"
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name="Download sample (image, JSON, WFDB)").click()
        zip_path = tmp_path / "app.zip"
        info.value.save_as(zip_path)

        # 'Show ground truth' in the Before view: the image changes to the clean overlay
        page.get_by_text("Before", exact=True).click()
        page.wait_for_timeout(500)
        page.wait_for_function(IMAGE_LOADED_JS, arg=IMAGE_SELECTOR, timeout=TIMEOUT_MS)
        plain = page.locator(IMAGE_SELECTOR).first.get_attribute("src")
        page.get_by_text("Show ground truth", exact=True).click()
        page.wait_for_function(
            "([sel, old]) => { const i = document.querySelector(sel);"
            " return i && i.complete && i.getAttribute('src') !== old; }",
            arg=[IMAGE_SELECTOR, plain],
            timeout=TIMEOUT_MS,
        )
        assert page.locator(IMAGE_SELECTOR).count() == 1
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(tmp_path / "app")
        names = zf.namelist()
    params = json.loads((tmp_path / "app" / "synth00000.json").read_text())["parameters"]
    assert params["preset"] == "archive" and params["overrides"] == {}
    assert params["drawn"]["layout"]["paper"] == "a4" and params["drawn"]["style"]["grid"] == "blue"
    # the CLI remakes it byte for byte, and so does a plain CLI run of the same record
    json_path = str(tmp_path / "app" / "synth00000.json")
    assert main(["generate", "--replay", json_path, "--out", str(tmp_path / "replay")]) == 0
    argv = ["generate", "--synthetic", "1", "--preset", "archive", "--out", str(tmp_path / "cli")]
    assert main(argv) == 0
    for name in names:
        app_bytes = (tmp_path / "app" / name).read_bytes()
        assert app_bytes == (tmp_path / "replay" / name).read_bytes(), name
        if not name.endswith(".json"):  # the CLI's JSON has no "overrides" entry
            assert app_bytes == (tmp_path / "cli" / name).read_bytes(), name


def test_the_snr_heatmap_has_a_fixed_colour_scale(
    app_url: str,  # noqa: F811
    chromium_path: str,  # noqa: F811
) -> None:
    with browser_page(chromium_path) as page:
        page.goto(app_url, wait_until="domcontentloaded", timeout=30_000)
        page.get_by_role("link", name="Evaluate").click(timeout=TIMEOUT_MS)
        page.wait_for_function(PLOTS_JS, arg=2, timeout=TIMEOUT_MS)
        heat = [t for plot in page.evaluate(VISIBLE_PLOT_DATA_JS) for t in plot]
    heat = [t for t in heat if t["type"] == "heatmap"]
    assert heat and (heat[0]["zmin"], heat[0]["zmax"]) == (-5, 30)
