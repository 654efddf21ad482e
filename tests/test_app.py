"""The Generate page under Streamlit's AppTest (no browser)."""

import io
import json
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_opens_on_a_built_in_record_with_an_image_and_a_download():
    at = run_app()
    assert not at.error
    assert at.title[0].value == "Generate"
    assert len(at.get("image")) == 1
    buttons = at.get("download_button")
    assert buttons, "no download button"


def test_changing_layout_and_grid_rerenders_without_errors():
    at = run_app()
    at.selectbox(key="layout").select("6x2").run()
    at.selectbox(key="grid").select("blue").run()
    at.toggle(key="overlay").set_value(True).run()
    assert not at.exception and not at.error
    assert len(at.get("image")) == 1


def test_bad_start_time_shows_an_error_not_a_traceback():
    at = run_app()
    at.number_input(key="start").set_value(60.0).run()
    assert not at.exception
    assert at.error and "past its end" in at.error[0].value


def test_batch_tab_builds_a_zip_of_samples():
    at = run_app()
    at.number_input(key="batch_count").set_value(2).run()
    at.button(key="batch_go").click().run()
    assert not at.exception and not at.error
    data = at.session_state["batch_zip"]
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert {"synth00000.png", "synth00001.json", "synth00001.hea", "synth00000.dat"} <= set(names)


@pytest.mark.slow
def test_presets_artifact_controls_and_before_after_view():
    at = run_app()
    at.selectbox(key="preset").select("photo").run()
    assert not at.exception and not at.error
    assert any("artifacts applied" in c.value for c in at.caption)
    at.radio(key="view").set_value("Side by side").run()
    assert len(at.get("image")) == 2
    at.checkbox(key="photo:on:perspective").uncheck().run()
    assert not at.exception and not at.error
    notes = " ".join(c.value for c in at.caption)
    assert "perspective" not in notes.split("artifacts applied:")[-1]


@pytest.mark.slow
def test_untouched_paper_controls_keep_the_preset_and_the_sample_replays(tmp_path):
    """Item 1: the archive preset's draw is shown and kept; a changed control is recorded."""
    from ecgkit.app import generate as ui
    from ecgkit.cli import main
    from ecgkit.generate.synth import builtin_record

    at = run_app()
    at.selectbox(key="preset").select("archive").run()
    at.number_input(key="variant").set_value(1).run()
    assert not at.exception and not at.error
    drawn = ui.preset_paper("archive", "synth00000", index=1)
    assert drawn["layout"] == "3x4" and drawn["grid"] == "pink"
    assert at.selectbox(key="layout").value is None
    assert at.selectbox(key="layout").options[0] == ui.AS_PRESET
    assert at.selectbox(key="layout").label == "Layout: 3x4 by the preset"
    assert at.selectbox(key="grid").label == "Grid colour: pink by the preset"
    at.selectbox(key="grid").select("blue").run()
    assert not at.exception and not at.error

    # the same sample from the library: the preset's draw but the blue grid, and it replays
    prev = ui.preview(
        builtin_record(0),
        {"layout": {}, "style": {"grid": "blue", "header": None}},
        preset="archive",
        index=1,
        source="synth:0",
    )
    with zipfile.ZipFile(io.BytesIO(prev.zip_bytes)) as zf:
        zf.extractall(tmp_path / "app")
        names = zf.namelist()
    doc = json.loads((tmp_path / "app" / "synth00000.json").read_text())
    params = doc["parameters"]
    assert params["preset"] == "archive" and params["source"] == "synth:0"
    assert params["overrides"] == {"style": {"grid": "blue"}}
    assert params["drawn"]["layout"]["name"] == "3x4" and params["drawn"]["style"]["grid"] == "blue"
    json_path = str(tmp_path / "app" / "synth00000.json")
    assert main(["generate", "--replay", json_path, "--out", str(tmp_path / "cli")]) == 0
    for name in names:
        a, b = (tmp_path / d / name for d in ("app", "cli"))
        assert a.read_bytes() == b.read_bytes(), name


def test_untouched_controls_give_what_the_cli_gives(tmp_path):
    """Item 1: built-in record 0 with the archive preset, no override: the CLI's image."""
    from ecgkit.app import generate as ui
    from ecgkit.cli import main
    from ecgkit.generate.synth import builtin_record

    prev = ui.preview(builtin_record(0), {}, preset="archive", source="synth:0")
    argv = ["generate", "--synthetic", "1", "--preset", "archive", "--out", str(tmp_path)]
    assert main(argv) == 0
    with zipfile.ZipFile(io.BytesIO(prev.zip_bytes)) as zf:
        assert zf.read("synth00000.jpg") == (tmp_path / "synth00000.jpg").read_bytes()
        assert zf.read("synth00000.dat") == (tmp_path / "synth00000.dat").read_bytes()


def test_a_large_batch_count_does_not_slow_the_single_tab():
    """Item 2: records for the batch are made on the click, not on every rerun."""
    import time

    at = run_app()
    at.number_input(key="batch_count").set_value(300).run()
    t0 = time.perf_counter()
    at.radio(key="view").set_value("Before").run()
    assert time.perf_counter() - t0 < 5.0
    assert not at.exception and not at.error


def test_before_view_shows_the_ground_truth_and_zoom_is_full_resolution():
    """Items 3 and 5 without a browser: the clean page's overlay differs; crops are 1:1."""
    from PIL import Image

    from ecgkit.app import generate as ui
    from ecgkit.generate.synth import builtin_record

    prev = ui.preview(builtin_record(0), {}, preset="scan")
    assert prev.clean_overlay_png and prev.clean_overlay_png != prev.clean_png
    box = prev.lead_boxes["V3"]
    crop = Image.open(io.BytesIO(ui.zoom(prev.image_png, box, pad=10)))
    assert crop.size == (int(box[2]) - int(box[0]) + 21, int(box[3]) - int(box[1]) + 21)
    at = run_app()
    at.selectbox(key="zoom").select("V3").run()
    assert not at.exception and not at.error
    assert "full resolution" in at.get("image")[0].proto.imgs[0].caption
