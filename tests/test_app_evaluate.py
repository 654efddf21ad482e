"""The Evaluate page under Streamlit's AppTest (no browser)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from ecgkit.generate.synth import builtin_record  # noqa: E402
from ecgkit.io import Record, write_wfdb  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app.py")
N_FIGURES = 5  # heatmap, box plot, Bland-Altman, scatter, overlay


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("app_pages/evaluate.py").run()
    assert not at.exception, at.exception
    return at


def wfdb_files(record: Record, tmp: Path) -> list[tuple[str, bytes, str]]:
    hea = write_wfdb(record, tmp)
    return [
        (p.name, p.read_bytes(), "application/octet-stream") for p in (hea, hea.with_suffix(".dat"))
    ]


def test_opens_with_the_example_and_every_figure():
    at = open_page()
    assert at.title[0].value == "Evaluate"
    assert not at.error
    assert any(c.value.startswith("Example:") for c in at.caption)
    assert len(at.get("plotly_chart")) == N_FIGURES
    summary = at.dataframe[0].value
    assert summary.set_index("metric").loc["records", "value"] == 3
    assert [b.label for b in at.get("download_button")] == [
        "Download report (JSON)",
        "Download report (HTML)",
    ]
    # another interval and another record: the plots follow, nothing breaks
    at.selectbox[0].select("QT").run()
    at.selectbox[1].select("synth00002").run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == N_FIGURES


@pytest.mark.slow
def test_uploads_good_and_bad_files(tmp_path):
    at = open_page()
    at.radio(key="mode").set_value("Upload records").run()
    assert at.info and not at.get("plotly_chart")
    refs, ests = [], []
    rng = np.random.default_rng(0)
    for i in range(3):
        ref = builtin_record(i)
        refs += wfdb_files(ref, tmp_path / "ref")
        if i < 2:  # record 2 has no digitized partner
            noisy = Record(
                ref.signals + rng.normal(0, 0.02, ref.signals.shape), ref.fs, name=ref.name
            )
            ests += wfdb_files(noisy, tmp_path / "est")
    stray = Record(builtin_record(5).signals, 500.0, name="stray")
    ests += wfdb_files(stray, tmp_path / "est")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # the references may come as a zip
        for name, data, _ in refs:
            zf.writestr(f"ref/{name}", data)
    bad = [("corrupt.hea", b"\x00\x01garbage", "text/plain"), ("empty.hea", b"", "text/plain")]
    at.file_uploader(key="ref_uploads").set_value(
        [("refs.zip", buf.getvalue(), "application/zip"), *bad]
    ).run()
    at.file_uploader(key="est_uploads").set_value(ests).run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "corrupt.hea" in errors and "empty.hea" in errors
    warning = at.warning[0].value
    assert "reference synth00002" in warning and "digitized stray" in warning
    assert len(at.get("plotly_chart")) == N_FIGURES
    summary = at.dataframe[0].value.set_index("metric")["value"]
    assert summary["records"] == 3 and summary["without an estimate"] == 1
    assert summary["mean SNR, Challenge 2024 (dB)"] > 5

    # no shared name: one clear error, no figures
    at.file_uploader(key="est_uploads").set_value(wfdb_files(stray, tmp_path / "s")).run()
    assert not at.exception
    # ... that still names the corrupt header (it may be why nothing matches)
    assert any("matched by name" in e.value and "corrupt.hea" in e.value for e in at.error)
    assert not at.get("plotly_chart")
    # no record in the references (a zip of a PDF scan; the uploader itself refuses a .pdf)
    pdf = io.BytesIO()
    with zipfile.ZipFile(pdf, "w") as zf:
        zf.writestr("scan.pdf", b"%PDF-1.4 not an ECG record")
    at.file_uploader(key="ref_uploads").set_value(
        ("scans.zip", pdf.getvalue(), "application/zip")
    ).run()
    assert not at.exception
    assert any(
        "no reference record could be read" in e.value and "no ECG records" in e.value
        for e in at.error
    )
    assert not at.get("plotly_chart")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_round_trip_button_digitizes_and_scores_built_in_records():
    at = open_page()
    at.radio(key="mode").set_value("Round trip").run()
    assert at.info and not at.get("plotly_chart")
    at.button(key="rt_go").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    ev = at.session_state["roundtrip"]
    rt = ev.report["roundtrip"]
    assert rt["n_images"] == 2 and rt["preset"] == "clean"
    assert rt["n_digitized"] + rt["n_unreadable"] == 2
    assert ev.report["summary"]["n_records"] == 2
    assert any(c.value.startswith("round trip: 2 image(s)") for c in at.caption)
    assert len(at.get("plotly_chart")) == N_FIGURES
    images = at.dataframe[2].value  # the digitizer's table: one row per image
    assert list(images["image"]) == ["synth00000", "synth00001"]
    json.loads(json.dumps(ev.report, allow_nan=False))  # the JSON download is valid


def test_one_record_shows_dashes_and_says_why(tmp_path):
    """Item 14: with one record, SD, limits and r cannot be computed: a dash, and the reason."""
    ref = builtin_record(0)
    noisy = Record(ref.signals + 0.01, ref.fs, name=ref.name)
    at = open_page()
    at.radio(key="mode").set_value("Upload records").run()
    at.file_uploader(key="ref_uploads").set_value(wfdb_files(ref, tmp_path / "r")).run()
    at.file_uploader(key="est_uploads").set_value(wfdb_files(noisy, tmp_path / "e")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = at.dataframe[1].value.set_index("interval")
    assert table.loc["RR", "SD (ms)"] == "–" and table.loc["RR", "r"] == "–"
    assert "None" not in table.to_string()
    assert any("at least 2 records" in c.value for c in at.caption)
