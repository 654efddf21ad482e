"""The Digitize page in a real headless Chromium: upload an image, see what was read, download it.

Reuses the server and browser fixtures of ``tests/test_browser.py`` (skips without Chromium).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from PIL import Image
from test_browser import (  # noqa: F401 (fixtures)
    IMAGE_LOADED_JS,
    IMAGE_SELECTOR,
    app_url,
    browser_page,
    chromium_path,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

TIMEOUT_MS = 120_000
DOWNLOAD_LABEL = "Download WFDB (.hea + .dat zip)"


def test_upload_an_image_see_the_result_and_download_the_record(
    app_url: str,  # noqa: F811
    chromium_path: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import Error as PlaywrightError

    from ecgkit.generate import make_sample
    from ecgkit.generate.synth import builtin_record

    image = tmp_path / "upload.png"
    Image.fromarray(make_sample(builtin_record(2), preset="clean").image).save(image)

    with browser_page(chromium_path) as page:
        page.goto(f"{app_url}/digitize", wait_until="domcontentloaded", timeout=30_000)
        page.get_by_role("heading", name="Digitize").wait_for(timeout=TIMEOUT_MS)
        try:  # the example, digitized: its overlay image decoded
            page.wait_for_function(IMAGE_LOADED_JS, arg=IMAGE_SELECTOR, timeout=TIMEOUT_MS)
        except PlaywrightError as exc:
            shot = tmp_path / "no-example.png"
            page.screenshot(path=str(shot), full_page=True)
            alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
            errors = page.locator('[data-testid="stException"]').all_inner_texts()
            pytest.fail(f"no example: {exc}\nalerts: {alerts}\nexceptions: {errors}\n{shot}")
        assert page.get_by_text("Example:", exact=False).count() >= 1

        # the first file input in the sidebar is the image uploader
        page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
            str(image)
        )
        heading = page.get_by_role("heading", name="upload.png: layout", exact=False)
        heading.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_function(IMAGE_LOADED_JS, arg=IMAGE_SELECTOR, timeout=TIMEOUT_MS)
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=TIMEOUT_MS)
        assert not page.locator('[data-testid="stException"]').count()
        assert page.get_by_text("Example:", exact=False).count() == 0

        button = page.get_by_role("button", name=DOWNLOAD_LABEL)
        with page.expect_download(timeout=60_000) as info:
            button.click()
        download = info.value
        assert download.failure() is None, download.failure()
        path = tmp_path / download.suggested_filename
        download.save_as(path)

    assert path.name == "upload.zip"
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["upload.dat", "upload.hea"]
        zf.extractall(tmp_path / "record")
    from ecgkit.io import read_wfdb

    rec = read_wfdb(tmp_path / "record" / "upload.hea")
    assert rec.signals.shape[1] == 12 and rec.fs == 500


def test_an_image_with_no_ecg_gets_an_error_and_no_download(
    app_url: str,  # noqa: F811
    chromium_path: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A smooth colour gradient passes the quick check but has no layout: refused, not offered."""
    import numpy as np

    h, w = 700, 1100
    ramp = np.linspace(0, 255, w)
    gradient = np.dstack([np.tile(ramp, (h, 1)), np.tile(ramp[::-1], (h, 1)), np.full((h, w), 90)])
    image = tmp_path / "gradient.png"
    Image.fromarray(gradient.astype(np.uint8)).save(image)

    with browser_page(chromium_path) as page:
        page.goto(f"{app_url}/digitize", wait_until="domcontentloaded", timeout=30_000)
        page.get_by_role("heading", name="Digitize").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_function(IMAGE_LOADED_JS, arg=IMAGE_SELECTOR, timeout=TIMEOUT_MS)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
            str(image)
        )
        alert = page.locator('[data-testid="stAlert"]', has_text="gradient.png")
        alert.first.wait_for(timeout=TIMEOUT_MS)
        text = alert.first.inner_text()
        assert "no ECG" in text, text
        assert not page.locator('[data-testid="stException"]').count()
        assert page.get_by_role("button", name=DOWNLOAD_LABEL).count() == 0
