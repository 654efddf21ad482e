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
def render_preview(
    key: str, _record, preset: str, overrides_json: str, index: int, source: str | None
):
    return ui.preview(
        _record, json.loads(overrides_json), preset=preset, index=index, source=source
    )


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
    records, key_prefix, sources = [], "", []
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
        sources = [ui.SYNTH_SOURCE.format(int(index))]
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
            sources = [r.name for r in records]
    names = [r.name for r in records]
    pick = st.selectbox("Record", names, key="pick") if len(names) > 1 else "".join(names)

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
    st.caption(
        "A control left at 'as the preset' keeps what the preset drew for this record and "
        "variant (named in its label); pick a value to override it, clear it to go back."
    )
    drawn = ui.preset_paper(preset, pick or "record", index=int(variant))

    def choose(label: str, options, control: str, fmt=str):
        """A selectbox whose first choice, None, keeps the preset's draw (named in the label:
        the browser keeps a choice's text while its key stays, so the draw cannot be there)."""
        return st.selectbox(
            f"{label}: {fmt(drawn[control])} by the preset",
            [None, *options],
            key=control,
            format_func=lambda v: ui.AS_PRESET if v is None else fmt(v),
        )

    on_off = {True: "on", False: "off"}.get
    chosen = {"layout": choose("Layout", ui.APP_LAYOUTS, "layout")}
    chosen["order"] = choose("Lead order", ORDERS, "order")
    chosen["paper"] = choose("Paper", list(PAPER_SIZES), "paper")
    chosen["orientation"] = choose("Orientation", ORIENTATIONS, "orientation")
    chosen["dpi"] = st.number_input(
        f"Resolution (DPI): {drawn['dpi']} by the preset",
        50,
        600,
        None,
        step=10,
        key="dpi",
        placeholder=ui.AS_PRESET,
    )
    chosen["speed"] = choose("Speed (mm/s)", SPEEDS, "speed", fmt="{:g}".format)
    chosen["gain"] = choose("Gain (mm/mV)", GAINS, "gain", fmt="{:g}".format)
    chosen["chest_gain"] = choose("Chest-lead gain (mm/mV)", GAINS, "chest_gain", fmt="{:g}".format)
    chosen["start"] = st.number_input(
        f"Start time (s): {drawn['start']:g} by the preset",
        0.0,
        3600.0,
        None,
        step=0.5,
        key="start",
        placeholder=ui.AS_PRESET,
    )
    chosen["grid"] = choose("Grid colour", GRID_CHOICES, "grid")
    if chosen["grid"] == "custom":
        c1, c2 = st.columns(2)
        chosen["grid_major_rgb"] = hex_to_rgb(c1.color_picker("Major lines", "#E25353"))
        chosen["grid_minor_rgb"] = hex_to_rgb(c2.color_picker("Minor lines", "#F6BEBE"))
    chosen["text"] = choose("Printed header and footer", (True, False), "text", fmt=on_off)
    chosen["labels"] = choose("Lead labels", (True, False), "labels", fmt=on_off)

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
    **ui.paper_overrides(chosen),
    "artifacts": ui.artifact_overrides(artifact_controls, on, strength),
}
overrides_json = json.dumps(overrides, sort_keys=True)

single, batch = st.tabs(["Single record", "Batch"])

with single:
    if not records:
        st.info("Upload a record (a .hea with its .dat or .mat, a CSV, or a zip) to see it here.")
    else:
        record = records[names.index(pick)]
        try:
            prev = render_preview(
                f"{key_prefix}:{pick}",
                record,
                preset,
                overrides_json,
                int(variant),
                sources[names.index(pick)],
            )
        except EcgkitError as exc:
            st.error(str(exc))
        else:
            c1, c2, c3 = st.columns([2, 1, 1])
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
            zoom = c3.selectbox(
                "Zoom (full resolution)",
                ["Whole page", *prev.lead_boxes],
                key="zoom",
                help="One lead's panel at one screen pixel per image pixel, to check the "
                "ground truth against the ink; the whole page is shown scaled down.",
            )
            after = prev.overlay_png if show_truth else prev.image_png
            before = prev.clean_overlay_png if show_truth else prev.clean_png
            caption = (
                f"{prev.name}: {prev.width} x {prev.height} px, {prev.n_points} ground-truth points"
            )
            if zoom != "Whole page":
                box = prev.lead_boxes[zoom]
                before, after = ui.zoom(before, box), ui.zoom(after, box)
                caption = f"{prev.name}, lead {zoom} at full resolution (1 px = 1 image pixel)"
            fit = "stretch" if zoom == "Whole page" else "content"
            if view == "Side by side":
                left, right = st.columns(2)
                left.image(before, caption="before", width=fit, output_format="PNG")
                right.image(after, caption=caption, width=fit, output_format="PNG")
            else:
                st.image(
                    before if view == "Before" else after,
                    caption=caption,
                    width=fit,
                    output_format="PNG",
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
            if prev.source:
                st.caption(
                    f"Remake it from its JSON: `ecgkit generate --replay {prev.name}.json` "
                    + ("" if source == "Built-in" else "(in the folder holding the record)")
                )

with batch:
    st.write("Turn many records into one zip of samples with the settings on the left.")
    count = None
    if source == "Built-in":
        count = int(st.number_input("Built-in records", 1, 500, 10, key="batch_count"))
    else:
        st.write(f"{len(records)} uploaded record(s).")
    if st.button("Generate zip", key="batch_go", disabled=not records):
        bar = st.progress(0.0, text="Rendering...")
        # built-in records are made here, on the click: not on every rerun of the page
        batch_records, batch_sources = ui.batch_inputs(records, sources, builtin_count=count)
        data, errors = ui.batch_zip(
            batch_records,
            overrides,
            preset=preset,
            sources=batch_sources,
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
