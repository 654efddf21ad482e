"""The Digitize page under Streamlit's AppTest (no browser): the example, bad uploads, a batch."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from PIL import Image  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from ecgkit.generate import make_sample  # noqa: E402
from ecgkit.generate.synth import builtin_record  # noqa: E402
from ecgkit.io import write_wfdb  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("pages/digitize.py").run()
    assert not at.exception, at.exception
    return at


def png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(params=["fake", pytest.param("model", marks=pytest.mark.slow)])
def digitizer(request: pytest.FixtureRequest) -> Iterator[str]:
    """The page over a fake digitizer core (fast), and once over the real trained model."""
    import streamlit as st

    st.cache_data.clear()  # the page caches digitized results: none may cross the two cores
    if request.param == "fake":
        request.getfixturevalue("fake_digitizer")
    yield request.param
    st.cache_data.clear()


def test_opens_with_the_example_digitized_and_scored(digitizer):
    at = open_page()
    assert at.title[0].value == "Digitize"
    assert not at.error, [e.value for e in at.error]
    assert any(i.value.startswith("Example:") for i in at.info)
    assert len(at.get("image")) == 1  # the overlay
    assert len(at.get("plotly_chart")) == 2  # the 12 leads, and against the truth
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download WFDB (.hea + .dat zip)", "Download CSV"]
    snr = [m for m in at.metric if m.label.startswith("SNR")]
    assert snr and snr[0].value.endswith("dB")
    table = at.dataframe[0].value
    assert list(table["lead"]) == [
        "I",
        "II",
        "III",
        "aVR",
        "aVL",
        "aVF",
        "V1",
        "V2",
        "V3",
        "V4",
        "V5",
        "V6",
    ]
    assert {"confidence", "snr_db"} <= set(table.columns)
    assert "layout" in at.subheader[0].value


def test_bad_uploads_show_errors_a_truth_scores_and_the_batch_goes_on(digitizer):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (600, 800, 3), dtype=np.uint8)
    good = make_sample(builtin_record(1), preset="clean").image
    at = open_page()
    at.file_uploader(key="images").set_value(
        [
            ("broken.png", png(good)[:5000], "image/png"),
            ("noise.png", png(noise), "image/png"),
            ("good.png", png(good), "image/png"),
        ]
    ).run()
    assert not at.exception, at.exception
    assert at.error and "broken.png" in at.error[0].value and "truncated" in at.error[0].value
    assert not at.get("image")
    at.selectbox(key="pick").select("noise.png").run()
    assert not at.exception
    assert "no ECG found in noise.png" in at.error[0].value

    # the good one, with its ground truth uploaded: digitized and scored
    sample = make_sample(builtin_record(1), preset="clean")
    truth = sample.plotted_record()
    with tempfile.TemporaryDirectory() as tmp:
        hea = write_wfdb(truth, tmp, "good")
        files = [
            (p.name, p.read_bytes(), "application/octet-stream")
            for p in (hea, hea.with_suffix(".dat"))
        ]
    at.file_uploader(key="truth").set_value(files).run()
    at.selectbox(key="pick").select("good.png").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "good.png: layout" in at.subheader[0].value
    assert [m.label for m in at.metric][0].startswith("SNR")
    assert len(at.get("plotly_chart")) == 2

    at.button(key="batch_go").click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert sum(e.startswith("skipped broken.png") for e in errors) == 1
    assert sum(e.startswith("skipped noise.png") for e in errors) == 1
    with zipfile.ZipFile(io.BytesIO(at.session_state["digitize_batch"])) as zf:
        names = set(zf.namelist())
        summary = zf.read("summary.csv").decode().splitlines()
    assert {"good.hea", "good.dat", "good.csv", "summary.csv"} <= names
    assert len(summary) == 2 and summary[1].startswith('"good.png",good,')
