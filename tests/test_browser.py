"""The running app in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Starts ``streamlit run app.py`` on a free port, opens the Generate page, waits for the preview
image, downloads the sample zip and checks what is inside it. Skips when Chromium or Playwright
is missing; CI (``.ci/run``) installs both, so there it runs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 60
IMAGE_TIMEOUT_S = 90
DOWNLOAD_LABEL = "Download sample (image, JSON, WFDB)"
SAMPLE_FILES = {"synth00000.png", "synth00000.json", "synth00000.hea", "synth00000.dat"}
IMAGE_SIZE = (2200, 1700)  # built-in record 0 on Letter landscape at 200 DPI
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Streamlit 1.67 renders st.image as
# stElementContainer > stFullScreenFrame > div > stImage > stImageContainer > img
# and serves it from /media/, downscaled (e.g. to 1460 px wide), not at full size.
IMAGE_SELECTOR = '[data-testid="stImage"] img'
IMAGE_LOADED_JS = """(selector) => {
    const img = document.querySelector(selector);
    return img !== null && img.complete && img.naturalWidth > 0 && img.naturalHeight > 0;
}"""

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def find_chromium() -> str | None:
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_log(path: Path, limit: int = 4000) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-limit:] or "(empty)"


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium: install Debian's chromium (/usr/bin/chromium); .ci/run does")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"playwright is not importable ({exc}); pip install -e '.[test]'")
    return path


@pytest.fixture(scope="module")
def app_url(chromium_path: str) -> Iterator[str]:
    """``streamlit run app.py`` on a free local port; yields its URL, stops it afterwards."""
    port = free_port()
    logdir = Path(tempfile.mkdtemp(prefix="ecgkit-streamlit-"))
    out_path, err_path = logdir / "stdout.log", logdir / "stderr.log"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last_error = "no answer yet"
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"streamlit exited with status {proc.returncode} before answering on "
                    f"{url}\n--- stderr ---\n{read_log(err_path)}\n"
                    f"--- stdout ---\n{read_log(out_path)}"
                )
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    body = resp.read().decode(errors="replace").strip()
                if body == "ok":
                    break
                last_error = f"health said {body!r}"
            except (urllib.error.URLError, OSError) as exc:
                last_error = repr(exc)
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not answer 'ok' on {url}/_stcore/health within "
                    f"{STARTUP_TIMEOUT_S} s (last: {last_error})\n"
                    f"--- stderr ---\n{read_log(err_path)}\n--- stdout ---\n{read_log(out_path)}"
                )
            time.sleep(0.25)
        yield url
    finally:
        stop(proc)
        shutil.rmtree(logdir, ignore_errors=True)


def stop(proc: subprocess.Popen) -> None:
    """Terminate the server and its process group; kill it if it does not go in 10 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


@contextlib.contextmanager
def browser_page(chromium_path: str) -> Iterator:
    """A Playwright page in a fresh headless Chromium (closed afterwards), downloads allowed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                viewport={"width": 1400, "height": 1200}, accept_downloads=True
            )
            yield context.new_page()
        finally:
            browser.close()


def test_generate_page_shows_an_ecg_and_downloads_a_sample(
    app_url: str, chromium_path: str, tmp_path: Path
) -> None:
    from playwright.sync_api import Error as PlaywrightError

    with browser_page(chromium_path) as page:
        console_errors: list[str] = []
        page.on(
            "console",
            lambda msg: console_errors.append(msg.text) if msg.type == "error" else None,
        )
        page.goto(app_url, wait_until="domcontentloaded", timeout=30_000)

        # The preview image: present in the DOM and actually decoded.
        try:
            page.wait_for_function(
                IMAGE_LOADED_JS, arg=IMAGE_SELECTOR, timeout=IMAGE_TIMEOUT_S * 1000
            )
        except PlaywrightError as exc:
            shot = tmp_path / "no-image.png"
            page.screenshot(path=str(shot), full_page=True)
            exceptions = page.locator('[data-testid="stException"]').all_inner_texts()
            alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
            pytest.fail(
                f"no loaded preview image ({IMAGE_SELECTOR}) within {IMAGE_TIMEOUT_S} s: "
                f"{exc}\nexceptions on the page: {exceptions}\nalerts: {alerts}\n"
                f"console errors: {console_errors[-5:]}\nscreenshot: {shot}"
            )
        images = page.locator(IMAGE_SELECTOR)
        assert images.count() == 1, f"expected one preview image, found {images.count()}"
        natural = images.first.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert natural[0] > 0 and natural[1] > 0, f"image did not decode: {natural}"
        if natural[0] != IMAGE_SIZE[0]:
            # Streamlit serves a downscaled copy; at least the aspect ratio must survive.
            ratio, want = natural[0] / natural[1], IMAGE_SIZE[0] / IMAGE_SIZE[1]
            assert abs(ratio - want) < 0.01, f"image {natural} is not {IMAGE_SIZE} scaled"
        else:
            assert tuple(natural) == IMAGE_SIZE, natural

        # Before the click scrolls the page: the title, the sidebar and the ECG in view.
        shot = tmp_path / "generate.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000, f"screenshot too small: {shot.stat().st_size}"

        # The download button: a zip with the image, its JSON and the WFDB record.
        button = page.get_by_role("button", name=DOWNLOAD_LABEL)
        button.wait_for(state="visible", timeout=30_000)
        with page.expect_download(timeout=60_000) as download_info:
            button.click()
        download = download_info.value
        assert download.failure() is None, f"download failed: {download.failure()}"
        zip_path = tmp_path / download.suggested_filename
        download.save_as(zip_path)
        assert download.suggested_filename == "synth00000.zip", download.suggested_filename

    assert zipfile.is_zipfile(zip_path), f"download is not a zip ({zip_path.stat().st_size} B)"
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        assert SAMPLE_FILES <= names, f"missing {sorted(SAMPLE_FILES - names)} in {sorted(names)}"
        png = zf.read("synth00000.png")
        meta = json.loads(zf.read("synth00000.json"))
        assert zf.getinfo("synth00000.dat").file_size > 0
        assert zf.read("synth00000.hea").decode().startswith("synth00000")

    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        im.load()
        assert im.format == "PNG", im.format
        assert im.size == IMAGE_SIZE, im.size
    assert len(meta["leads"]) == 13, f"expected 13 leads (12 + rhythm II), got {len(meta['leads'])}"


def test_an_uploaded_shared_record_renders_and_downloads(
    app_url: str, chromium_path: str, tmp_path: Path, records_dir: Path
) -> None:
    """Upload a PTB-XL record (.hea + .dat) through the file uploader, as a new user would."""

    record = records_dir / "ptbxl" / "17918_hr"
    files = [str(record.with_suffix(".hea")), str(record.with_suffix(".dat"))]
    with browser_page(chromium_path) as page:
        page.goto(app_url, wait_until="domcontentloaded", timeout=30_000)
        page.wait_for_function(IMAGE_LOADED_JS, arg=IMAGE_SELECTOR, timeout=IMAGE_TIMEOUT_S * 1000)
        page.get_by_text("Upload", exact=True).click()
        page.locator('input[type="file"]').set_input_files(files)
        caption = page.locator('[data-testid="stImageCaption"]', has_text="17918_hr")
        caption.wait_for(state="visible", timeout=IMAGE_TIMEOUT_S * 1000)
        assert not page.locator('[data-testid="stAlert"]').count()
        button = page.get_by_role("button", name=DOWNLOAD_LABEL)
        with page.expect_download(timeout=60_000) as download_info:
            button.click()
        download = download_info.value
        zip_path = tmp_path / download.suggested_filename
        download.save_as(zip_path)
    assert zip_path.name == "17918_hr.zip"
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        assert {"17918_hr.png", "17918_hr.json", "17918_hr.hea", "17918_hr.dat"} <= names
        meta = json.loads(zf.read("17918_hr.json"))
    assert meta["record_name"] == "17918_hr" and meta["sampling_frequency"] == 500
