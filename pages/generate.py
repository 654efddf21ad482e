"""Generate page: a record (built-in or uploaded) rendered as a paper ECG with its ground truth."""

import hashlib
import json

import streamlit as st

from ecgkit.app import generate as ui
from ecgkit.errors import EcgkitError
from ecgkit.generate.layout import GAINS, ORDERS, ORIENTATIONS, PAPER_SIZES, SPEEDS
from ecgkit.generate.presets import list_presets
from ecgkit.generate.render import GRID_CHOICES
from ecgkit.generate.synth import builtin_record
from ecgkit.io import records_from_uploads

UPLOAD_TYPES = ["hea", "dat", "mat", "csv", "zip"]


@st.cache_data(max_entries=4, show_spinner="Reading records...")
def read_uploads(files: tuple[tuple[str, bytes], ...], csv_fs: float):
    return records_from_uploads(dict(files), csv_fs=csv_fs)


@st.cache_data(max_entries=32, show_spinner=False)
def builtin(index: int):
    return builtin_record(index)


@st.cache_data(max_entries=16, show_spinner="Rendering...")
def render_preview(key: str, _record, preset: str, overrides_json: str, index: int):
    return ui.preview(_record, json.loads(overrides_json), preset=preset, index=index)


@st.cache_data(max_entries=8, show_spinner=False)
def controls(preset: str):
    return ui.artifact_controls(preset)


def hex_to_rgb(value: str) -> list[int]:
    return [int(value[i : i + 2], 16) for i in (1, 3, 5)]


st.title("Generate")
st.caption("Real or built-in 12-lead ECGs on paper, with exact ground truth for every sample.")

with st.sidebar:
    st.header("Record")
    source = st.radio("Source", ["Built-in", "Upload"], horizontal=True, key="source")
    records, key_prefix = [], ""
    if source == "Built-in":
        index = st.number_input(
            "Built-in record",
            0,
            9999,
            0,
            key="builtin_index",
            help="A physiological 12-lead model; each number is a different patient.",
        )
        records, key_prefix = [builtin(int(index))], f"synth:{int(index)}"
    else:
        files = st.file_uploader(
            "WFDB (.hea + .dat/.mat), CSV or .zip",
            type=UPLOAD_TYPES,
            accept_multiple_files=True,
            key="uploads",
        )
        csv_fs = st.number_input("CSV sampling rate (Hz)", 1.0, 20000.0, 500.0, key="csv_fs")
        if files:
            blobs = tuple(sorted((f.name, f.getvalue()) for f in files))
            records, errors = read_uploads(blobs, float(csv_fs))
            for message in errors:
                st.error(message)
            key_prefix = hashlib.sha1(repr(blobs).encode()).hexdigest()

    st.header("Preset")
    presets = list_presets()
    preset = st.selectbox(
        "Preset",
        presets,
        index=presets.index("clean"),
        key="preset",
        help="Named settings: layout, style and artifacts.",
    )
    variant = st.number_input(
        "Variant", 0, 100000, 0, key="variant", help="Another draw of the preset's random values."
    )

    st.header("Paper")
    layout = st.selectbox("Layout", ui.APP_LAYOUTS, key="layout")
    order = st.selectbox("Lead order", ORDERS, key="order")
    c1, c2 = st.columns(2)
    paper = c1.selectbox("Paper", list(PAPER_SIZES), key="paper")
    orientation = c2.selectbox("Orientation", ORIENTATIONS, key="orientation")
    dpi = st.slider("Resolution (DPI)", 50, 600, 200, step=10, key="dpi")
    c1, c2 = st.columns(2)
    speed = c1.selectbox("Speed (mm/s)", SPEEDS, index=SPEEDS.index(25.0), key="speed")
    gain = c2.selectbox("Gain (mm/mV)", GAINS, index=GAINS.index(10.0), key="gain")
    chest_gain = st.selectbox(
        "Chest-lead gain (mm/mV)", GAINS, index=GAINS.index(10.0), key="chest_gain"
    )
    start = st.number_input("Start time (s)", 0.0, 3600.0, 0.0, step=0.5, key="start")
    grid = st.selectbox("Grid colour", GRID_CHOICES, key="grid")
    style = {"grid": grid}
    if grid == "custom":
        c1, c2 = st.columns(2)
        style["grid_major_rgb"] = hex_to_rgb(c1.color_picker("Major lines", "#E25353"))
        style["grid_minor_rgb"] = hex_to_rgb(c2.color_picker("Minor lines", "#F6BEBE"))
    text = st.toggle("Printed header and footer", True, key="text")
    labels = st.toggle("Lead labels", True, key="labels")
    style.update(header=text, footer=text, labels=labels)

    st.header("Artifacts")
    artifact_controls = controls(preset)
    on, strength = {}, {}
    for stage in dict.fromkeys(c.stage for c in artifact_controls):
        with st.expander(stage.capitalize(), expanded=False):
            for c in (c for c in artifact_controls if c.stage == stage):
                on[c.name] = st.checkbox(
                    c.name.replace("_", " "), c.in_preset, key=f"{preset}:on:{c.name}"
                )
                strength[c.name] = st.slider(
                    "strength",
                    0.0,
                    1.0,
                    c.strength,
                    0.05,
                    key=f"{preset}:s:{c.name}",
                    label_visibility="collapsed",
                    disabled=not on[c.name],
                )

overrides = {
    "layout": {
        "name": layout,
        "order": order,
        "paper": paper,
        "orientation": orientation,
        "dpi": dpi,
        "speed": speed,
        "gain": gain,
        "chest_gain": chest_gain,
        "start": start,
    },
    "style": style,
    "artifacts": ui.artifact_overrides(artifact_controls, on, strength),
}
overrides_json = json.dumps(overrides, sort_keys=True)

single, batch = st.tabs(["Single record", "Batch"])

with single:
    if not records:
        st.info("Upload a record (a .hea with its .dat or .mat, a CSV, or a zip) to see it here.")
    else:
        names = [r.name for r in records]
        pick = st.selectbox("Record", names, key="pick") if len(records) > 1 else names[0]
        record = records[names.index(pick)]
        try:
            prev = render_preview(
                f"{key_prefix}:{pick}", record, preset, overrides_json, int(variant)
            )
        except EcgkitError as exc:
            st.error(str(exc))
        else:
            c1, c2 = st.columns([2, 1])
            view = c1.radio(
                "Show",
                ["After", "Before", "Side by side"],
                horizontal=True,
                key="view",
                help="The page with its artifacts, or the clean page it was made from.",
            )
            show_truth = c2.toggle(
                "Show ground truth",
                False,
                key="overlay",
                help="Every plotted sample's exact position, and the lead "
                "and label boxes, drawn over the image.",
            )
            after = prev.overlay_png if show_truth else prev.image_png
            caption = (
                f"{prev.name}: {prev.width} x {prev.height} px, {prev.n_points} ground-truth points"
            )
            if view == "Side by side":
                left, right = st.columns(2)
                left.image(prev.clean_png, caption="before", width="stretch")
                right.image(after, caption=caption, width="stretch")
            else:
                st.image(
                    prev.clean_png if view == "Before" else after, caption=caption, width="stretch"
                )
            for note in prev.notes:
                st.caption(note)
            st.download_button(
                "Download sample (image, JSON, WFDB)",
                prev.zip_bytes,
                file_name=f"{prev.name}.zip",
                mime="application/zip",
                key="download",
                type="primary",
            )

with batch:
    st.write("Turn many records into one zip of samples with the settings on the left.")
    if source == "Built-in":
        count = st.number_input("Built-in records", 1, 500, 10, key="batch_count")
        batch_records = [builtin(i) for i in range(int(count))]
    else:
        batch_records = records
        st.write(f"{len(records)} uploaded record(s).")
    if st.button("Generate zip", key="batch_go", disabled=not batch_records):
        bar = st.progress(0.0, text="Rendering...")
        data, errors = ui.batch_zip(
            batch_records,
            overrides,
            preset=preset,
            progress=lambda done, total: bar.progress(done / total, f"{done} of {total}"),
        )
        for message in errors:
            st.error(message)
        st.session_state["batch_zip"] = data
    if st.session_state.get("batch_zip"):
        st.download_button(
            "Download batch zip",
            st.session_state["batch_zip"],
            file_name="ecgkit-batch.zip",
            mime="application/zip",
            key="batch_download",
        )
