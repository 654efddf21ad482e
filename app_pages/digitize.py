"""Digitize page: a scan or photo of a paper ECG back into 12 signals, with what was found."""

import hashlib

import streamlit as st

from ecgkit.app import digitize as ui_digitize
from ecgkit.errors import EcgkitError
from ecgkit.evaluate.figures import overlay_figure
from ecgkit.io.record import MAX_OUTPUT_FS, MIN_OUTPUT_FS


@st.cache_resource(show_spinner="Loading the trace model...")
def trace_model():
    return ui_digitize.load_model()


@st.cache_data(max_entries=1, show_spinner="Making the example...")
def example():
    return ui_digitize.example()


@st.cache_data(max_entries=8, show_spinner="Digitizing...")
def digitize(key: str, _source, name: str):
    return ui_digitize.digitize_image(
        _source, name=name, fs=ui_digitize.DIGITIZE_FS, model=trace_model()
    )


@st.cache_data(max_entries=8, show_spinner="Resampling...")
def at_rate(key: str, _view, fs: float):
    return ui_digitize.at_rate(_view, fs)


@st.cache_data(max_entries=4, show_spinner=False)
def read_truth(files: tuple[tuple[str, bytes], ...]):
    return ui_digitize.truth_records(dict(files))


def sha(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


st.title("Digitize")
st.caption("A scan, photo or PDF of a paper ECG back into 12 leads in mV, with what was found.")

with st.sidebar:
    st.header("Images")
    uploads = st.file_uploader(
        "PNG, JPEG, BMP, TIFF or PDF (first page)",
        type=list(ui_digitize.IMAGE_TYPES),
        accept_multiple_files=True,
        key="images",
    )
    fs = float(
        st.number_input(
            "Sampling rate (Hz)", MIN_OUTPUT_FS, MAX_OUTPUT_FS, 500.0, step=50.0, key="fs"
        )
    )
    st.header("Ground truth (optional)")
    truth_files = st.file_uploader(
        "WFDB .hea + .dat (or a .zip), named like the image",
        type=list(ui_digitize.TRUTH_TYPES),
        accept_multiple_files=True,
        key="truth",
    )

truths = []
if truth_files:
    truths, truth_errors = read_truth(tuple(sorted((f.name, f.getvalue()) for f in truth_files)))
    for message in truth_errors:
        st.error(message)

if uploads:
    names = [f.name for f in uploads]
    pick = st.selectbox("Image", names, key="pick") if len(uploads) > 1 else names[0]
    data = uploads[names.index(pick)].getvalue()
    key, source, name = f"{sha(data)}:{pick}", data, pick
    truth = ui_digitize.pick_truth(truths, pick)
else:
    ex = example()
    st.info(f"Example: {ex.description}. Upload your own images on the left.")
    key, source, name, truth = f"example:{ex.name}", ex.image, f"{ex.name}.png", ex.truth

try:
    view = at_rate(key, digitize(key, source, name), fs)
except EcgkitError as exc:
    st.error(str(exc))
    view = None

if view is not None:
    st.subheader(view.summary)
    for note in view.notes:
        st.caption(note)
    st.image(
        view.overlay_png,
        width="stretch",
        caption="Rectified page: detected grid (cyan), lead boxes, baselines and traces",
    )
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download WFDB (.hea + .dat zip)",
        view.wfdb_zip,
        file_name=f"{view.name}.zip",
        mime="application/zip",
        key="download_wfdb",
        type="primary",
    )
    c2.download_button(
        "Download CSV (time_s, then mV per lead)",
        view.csv_with_time,
        file_name=f"{view.name}.csv",
        mime="text/csv",
        key="download_csv",
    )
    scored = None
    if truth is not None:
        scored = ui_digitize.score(truth, view.result.record)
        m1, m2, m3 = st.columns(3)
        m1.metric("SNR (Challenge 2024)", ui_digitize.format_db(scored.snr_db))
        m2.metric("Pearson r", f"{scored.pearson_r:.3f}")
        m3.metric("RMSE", f"{scored.rmse_uv:.0f} uV")
    signals_tab, table_tab, *truth_tab = st.tabs(
        ["Signals", "Confidence and SNR per lead" if scored else "Confidence per lead"]
        + (["Against the truth"] if truth is not None else [])
    )
    with signals_tab:
        st.plotly_chart(ui_digitize.signals_figure(view.result.record), key="signals")
    with table_tab:
        st.dataframe(ui_digitize.lead_rows(view, scored), hide_index=True, key="confidence")
        st.caption(ui_digitize.CONFIDENCE_NOTE)
    if truth is not None:
        with truth_tab[0]:
            st.plotly_chart(overlay_figure(truth, view.result.record), key="overlay_truth")
    elif truths:
        st.caption(f"No ground truth named {ui_digitize.record_name(name)} among the uploads.")

if uploads and len(uploads) > 1:
    st.divider()
    st.write(f"All {len(uploads)} images into one zip (WFDB and CSV per image, summary.csv).")
    if st.button("Digitize all", key="batch_go"):
        bar = st.progress(0.0, text="Digitizing...")
        blob, errors = ui_digitize.batch_zip(
            [(f.name, f.getvalue()) for f in uploads],
            fs=fs,
            model=trace_model(),
            progress=lambda done, total: bar.progress(done / total, f"{done} of {total}"),
        )
        for message in errors:
            st.error(f"skipped {message}")
        st.session_state["digitize_batch"] = blob
    if st.session_state.get("digitize_batch"):
        st.download_button(
            "Download all (zip)",
            st.session_state["digitize_batch"],
            file_name="ecgkit-digitized.zip",
            mime="application/zip",
            key="batch_download",
        )
