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
    at.switch_page("app_pages/digitize.py").run()
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
    assert labels == ["Download WFDB (.hea + .dat zip)", "Download CSV (time_s, then mV per lead)"]
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
    assert list(table.columns)[:3] == ["lead", "confidence", "SNR (dB)"]  # side by side
    assert "layout" in at.subheader[0].value
    assert "self-assessed confidence" in at.subheader[0].value


def test_a_new_rate_resamples_without_digitizing_again(fake_digitizer):
    import streamlit as st

    st.cache_data.clear()
    at = open_page()
    assert len(fake_digitizer) == 1
    at.number_input(key="fs").set_value(250.0).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(fake_digitizer) == 1, "the digitizer ran again for a new sampling rate"
    assert any("resampled from 500 Hz to 250 Hz" in c.value for c in at.caption)
    assert at.dataframe[0].value["samples"].max() == 2500
    st.cache_data.clear()


def test_the_page_scores_what_the_downloaded_files_hold(fake_digitizer, tmp_path):
    """Item 11: the page's SNR is the one ``ecgkit evaluate`` gives for the same files."""
    from ecgkit.app import digitize as ud
    from ecgkit.evaluate.report import evaluate_dirs
    from ecgkit.io import read_csv

    ex = ud.example()
    view = ud.digitize_image(ex.image, name=f"{ex.name}.png")
    page_snr = ud.score(ex.truth, view.result.record).snr_db
    for folder, record in (("ref", ex.truth), ("est", view.result.record)):
        write_wfdb(record, tmp_path / folder, ex.name)
    cli = evaluate_dirs(tmp_path / "ref", tmp_path / "est")["summary"]["mean_snr_db"]
    assert page_snr == pytest.approx(cli, abs=1e-9)
    # the CSV download has a time column, and reads back
    (tmp_path / "x.csv").write_bytes(view.csv_with_time)
    assert view.csv_with_time.startswith(b"time_s,I,II,III")
    back = read_csv(tmp_path / "x.csv", fs=500.0)
    np.testing.assert_allclose(back.signals, view.result.record.signals, equal_nan=True)


def test_signals_figure_writes_lead_names_level_and_mv_on_the_axes():
    from ecgkit.app import digitize as ud

    fig = ud.signals_figure(builtin_record(0))
    names = [a.text for a in fig.layout.annotations]
    assert names == [f"<b>{lead}</b>" for lead in ("I", "II", "III", "aVR", "aVL", "aVF")] + [
        f"<b>V{i}</b>" for i in range(1, 7)
    ]
    assert all(a.textangle == 0 for a in fig.layout.annotations)
    assert fig.layout.yaxis.title.text == "mV" and fig.layout.yaxis12.title.text == "mV"


@pytest.mark.slow
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
