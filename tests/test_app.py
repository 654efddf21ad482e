"""The Generate page under Streamlit's AppTest (no browser)."""

import io
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
