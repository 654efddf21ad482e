"""Evaluate page: digitized records scored against the truth, with agreement plots."""

import hashlib

import streamlit as st

from ecgkit.app import evaluate as ui_evaluate
from ecgkit.errors import EcgkitError
from ecgkit.evaluate import figures
from ecgkit.evaluate.intervals import INTERVALS
from ecgkit.evaluate.report import report_html
from ecgkit.generate.presets import list_presets
from ecgkit.generate.synth import builtin_record
from ecgkit.io import records_from_uploads

UPLOAD_TYPES = ["hea", "dat", "mat", "zip"]


@st.cache_data(max_entries=1, show_spinner="Scoring the example...")
def example():
    return ui_evaluate.example()


@st.cache_data(max_entries=4, show_spinner="Scoring the uploads...")
def from_uploads(refs: tuple[tuple[str, bytes], ...], ests: tuple[tuple[str, bytes], ...]):
    return ui_evaluate.evaluate_uploads(dict(refs), dict(ests))


@st.cache_data(max_entries=4, show_spinner=False)
def read_uploads(files: tuple[tuple[str, bytes], ...]):
    return records_from_uploads(dict(files))


@st.cache_data(max_entries=4, show_spinner="Writing the HTML report...")
def html_report(key: str, _report):
    return report_html(_report)


def blobs(files) -> tuple[tuple[str, bytes], ...]:
    return tuple(sorted((f.name, f.getvalue()) for f in files or []))


def show(ev: ui_evaluate.Evaluation) -> None:
    """The summary, the figures and the downloads of one evaluation."""
    report = ev.report
    report_text = ui_evaluate.report_json(report)
    key = hashlib.sha1(report_text.encode()).hexdigest()[:12]
    for message in ev.messages:
        st.error(message)
    if ev.unmatched:
        st.warning(
            "Records without a partner of the same name:\n\n"
            + "\n".join(f"- {u}" for u in ev.unmatched)
        )
    st.caption(ev.label)
    c1, c2 = st.columns([1, 2])
    c1.dataframe(ui_evaluate.summary_rows(report), hide_index=True, key=f"{key}:summary")
    c2.dataframe(ui_evaluate.interval_rows(report), hide_index=True, key=f"{key}:intervals")
    if note := ui_evaluate.interval_note(report):
        c2.caption(note)
    images = ui_evaluate.image_rows(report)
    if images:
        with st.expander("Digitizer, per image"):
            st.dataframe(images, hide_index=True, key=f"{key}:images")
    snr_tab, iv_tab, overlay_tab = st.tabs(["SNR per lead", "Intervals", "Overlay"])
    matrix = ui_evaluate.snr_matrix(report)
    with snr_tab:
        st.plotly_chart(figures.snr_heatmap(matrix, record_names=ev.names), key=f"{key}:heat")
        st.plotly_chart(figures.snr_boxplot(matrix), key=f"{key}:box")
    with iv_tab:
        name = st.selectbox("Interval", INTERVALS, key=f"{key}:interval")
        ref, est = ui_evaluate.interval_values(report, name)
        a, b = st.columns(2)
        a.plotly_chart(
            figures.bland_altman_figure(ref, est, name=name, labels=ev.names), key=f"{key}:ba"
        )
        b.plotly_chart(
            figures.scatter_figure(ref, est, name=name, labels=ev.names), key=f"{key}:scatter"
        )
    with overlay_tab:
        pick = st.selectbox("Record", ev.names, key=f"{key}:record")
        i = ev.names.index(pick)
        st.plotly_chart(
            figures.overlay_figure(ev.references[i], ev.estimates[i]), key=f"{key}:overlay"
        )
    a, b = st.columns(2)
    a.download_button(
        "Download report (JSON)",
        report_text,
        file_name="report.json",
        mime="application/json",
        key="download_json",
    )
    b.download_button(
        "Download report (HTML)",
        html_report(key, report),
        file_name="report.html",
        mime="text/html",
        key="download_html",
    )


st.title("Evaluate")
st.caption(
    "Digitized records scored against the truth: PhysioNet Challenge 2024 SNR per lead, "
    "Kaggle 2025 SNR, Pearson r, RMSE, and RR, PR, QRS, QT and QTc agreement "
    "(neurokit2)."
)

mode = st.radio(
    "Data",
    ["Example", "Upload records", "Round trip"],
    horizontal=True,
    key="mode",
    help="The example is ready at once; upload a reference and a digitized set "
    "matched by record name; or render images, digitize them and score them.",
)

if mode == "Example":
    show(example())

elif mode == "Upload records":
    c1, c2 = st.columns(2)
    refs = c1.file_uploader(
        "Reference records (WFDB .hea + .dat/.mat, or .zip)",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key="ref_uploads",
    )
    ests = c2.file_uploader(
        "Digitized records (same names)",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key="est_uploads",
    )
    if not refs or not ests:
        st.info(
            "Upload both sets: each digitized record is scored against the reference of "
            "the same name (a generated sample's NAME.hea is the truth)."
        )
    else:
        try:
            ev = from_uploads(blobs(refs), blobs(ests))
        except EcgkitError as exc:
            st.error(str(exc))
        else:
            show(ev)

else:
    c1, c2, c3 = st.columns(3)
    source = c1.radio("Records", ["Built-in", "Upload"], horizontal=True, key="rt_source")
    presets = list_presets()
    preset = c2.selectbox("Preset", presets, index=presets.index("clean"), key="rt_preset")
    k = c3.number_input("Images per record", 1, 10, 1, key="rt_images")
    records = []
    if source == "Built-in":
        n = st.number_input("Built-in records", 1, 100, 2, key="rt_count")
        records = [builtin_record(i) for i in range(int(n))]
    else:
        files = st.file_uploader(
            "Records (WFDB .hea + .dat/.mat, or .zip)",
            type=UPLOAD_TYPES,
            accept_multiple_files=True,
            key="rt_uploads",
        )
        if files:
            records, errors = read_uploads(blobs(files))
            for message in errors:
                st.error(message)
    if st.button("Run round trip", key="rt_go", type="primary", disabled=not records):
        bar = st.progress(0.0, text="Rendering and digitizing...")
        try:
            st.session_state["roundtrip"] = ui_evaluate.run_roundtrip(
                records,
                preset=preset,
                images_per_record=int(k),
                progress=lambda f, text: bar.progress(min(f, 1.0), text=text),
            )
        except EcgkitError as exc:
            st.session_state.pop("roundtrip", None)
            st.error(str(exc))
        bar.empty()
    if st.session_state.get("roundtrip") is not None:
        show(st.session_state["roundtrip"])
    else:
        st.info(
            "Each record is rendered with the preset, the image is digitized, and the "
            "result is scored against the plotted signal."
        )
