"""The digitizer on pages ecgkit did not draw: pulses on the right, refusals, the JSON report.

The real scans (``../shared/data/real_scans``, ``ECGKIT_REAL_SCANS``) are read in place, never
copied; their tests skip where the folder is absent. They are the development set the rules
were chosen on, so these tests guard against regressions, not measure accuracy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from ecgkit.digitize import digitize
from ecgkit.digitize.service import digitize_array
from ecgkit.errors import EcgkitError
from ecgkit.evaluate import snr_record
from ecgkit.generate import make_sample
from ecgkit.generate.synth import builtin_record
from ecgkit.io import LEADS

REAL = Path(
    os.environ.get(
        "ECGKIT_REAL_SCANS", Path(__file__).resolve().parents[2] / "shared/data/real_scans"
    )
)


def _real(name: str) -> Path:
    path = REAL / "img" / name
    if not path.is_file():
        pytest.skip(f"real scan {name} not found under {REAL} (set ECGKIT_REAL_SCANS)")
    return path


@pytest.fixture(scope="module")
def right_pulse_page():
    """A clean page drawn without pulses, with 1 mV pulses drawn at the right end of each row."""
    page = make_sample(builtin_record(7), preset="clean", overrides={"style": {"pulses": False}})
    img = page.image.copy()
    ppmm = page.px_per_mm
    end_mm = max(float(np.nanmax(lt.x)) for lt in page.leads) / ppmm
    x0 = end_mm + 1.0  # 1 mm gap, 1 mm stub, 5 mm (0.2 s) pulse, 1 mm stub
    for p in page.layout.pulses:
        base = p.baseline_mm
        pts = [
            (x0, base),
            (x0 + 1, base),
            (x0 + 1, base - 10),
            (x0 + 6, base - 10),
            (x0 + 6, base),
            (x0 + 7, base),
        ]
        xy = np.round(np.array(pts) * ppmm * 16).astype(np.int32)
        cv2.polylines(img, [xy], False, (0, 0, 0), 2, cv2.LINE_AA, shift=4)
    return page, img


def test_pulses_at_the_right_end_keep_every_lead_in_its_column(right_pulse_page):
    page, img = right_pulse_page
    truth = page.plotted_record()
    result = digitize(img, fs=truth.fs)
    assert result.layout == "3x4+II"
    assert result.pulse_side == "right"
    assert sorted({lr.lead for lr in result.leads}) == sorted(LEADS)
    # each lead where the page drew it: the first column is kept, nothing shifted by one
    for lr in result.leads:
        want = next(lt for lt in page.leads if lt.lead == lr.lead and lt.rhythm == lr.rhythm)
        assert abs(lr.box[0] - result.homography[0, 2] - want.bbox[0]) < 3 * page.px_per_mm
    snr = snr_record(truth, result.record)
    assert np.nanmean(snr) >= 15.0, snr


@pytest.mark.slow
def test_a_page_without_pulses_keeps_its_columns():
    """No pulses anywhere: rows from the ink, the first column starts at the row's first ink."""
    page = make_sample(builtin_record(7), preset="clean", overrides={"style": {"pulses": False}})
    result = digitize(page.image, model=False)
    assert result.layout == "3x4+II"
    first = next(lt for lt in page.leads if lt.lead == "I")
    got = next(lr for lr in result.leads if lr.lead == "I")
    assert abs(got.box[0] - result.homography[0, 2] - first.bbox[0]) < 3 * page.px_per_mm


@pytest.mark.parametrize("kind", ["gradient", "blank", "grid"])
def test_a_page_without_an_ecg_layout_is_refused_with_one_reason(kind):
    h, w = 1100, 1400
    yy, xx = np.mgrid[0:h, 0:w]
    if kind == "gradient":
        img = np.stack([xx / w * 255, yy / h * 255, np.full((h, w), 128)], -1).astype(np.uint8)
    else:
        img = np.full((h, w, 3), 255, np.uint8)
    if kind == "grid":
        p = 200 / 25.4
        for k in range(int(w / p) + 1):
            img[:, int(round(k * p))] = (240, 170, 170) if k % 5 else (220, 100, 100)
        for k in range(int(h / p) + 1):
            img[int(round(k * p)), :] = (240, 170, 170) if k % 5 else (220, 100, 100)
    with pytest.raises(EcgkitError, match=r"^page: no ECG layout recognised: ") as info:
        digitize(img, name="page", model=False)
    assert str(info.value).count("no ECG layout recognised") == 1


def test_the_service_names_the_image_and_chains_an_unexpected_error(monkeypatch):
    from ecgkit.digitize import pipeline

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise KeyError("boom")

    monkeypatch.setattr(pipeline, "digitize", broken)
    monkeypatch.delenv("ECGKIT_DEBUG", raising=False)
    rgb = np.full((400, 400, 3), 255, np.uint8)
    with pytest.raises(EcgkitError, match="^my scan.png: the digitizer could not") as info:
        digitize_array(rgb, name="my scan.png", check=False)
    assert isinstance(info.value.__cause__, KeyError)
    monkeypatch.setenv("ECGKIT_DEBUG", "1")
    with pytest.raises(KeyError):
        digitize_array(rgb, name="my scan.png", check=False)


def test_json_report_boxes_land_on_the_traces_in_input_pixels():
    page = make_sample(
        builtin_record(7),
        preset="clean",
        overrides={"artifacts": {"rotation": {"probability": 1.0, "strength": 0.5}}},
    )
    result = digitize(page.image, model=False)
    doc = json.loads(json.dumps(result.to_json_dict(image="p.png")))
    assert doc["layout"] == "3x4+II" and doc["image_size"] == [page.width, page.height]
    assert doc["scale"]["source"] == "grid" and doc["scale"]["speed_mm_s"] == 25.0
    assert set(doc["confidence"]) == set(LEADS)
    for entry in doc["leads"]:
        want = next(
            lt for lt in page.leads if lt.lead == entry["lead"] and lt.rhythm == entry["rhythm"]
        )
        got = np.array(entry["box"])
        assert np.abs(got - np.array(want.bbox)).max() < 3 * page.px_per_mm, (entry, want.bbox)
        assert entry["label_box"] is None


@pytest.mark.slow
def test_an_implausibly_tall_lead_gets_low_confidence_and_a_note():
    from ecgkit.digitize.layout_detect import PageLayout
    from ecgkit.digitize.pipeline import IMPLAUSIBLE_CONFIDENCE, LeadResult, _sanity

    fs = 100.0
    signals = np.zeros((1000, 12))
    signals[::50, 0] = 7.0  # lead I: 7 mV spikes
    lay = PageLayout("3x4", [], 250.0, 0.0, [], [], pulse_side="left")
    leads = [LeadResult(lead, (0, 0, 1, 1), np.zeros(0), np.zeros(0), 0, 0, 0.9) for lead in LEADS]
    conf = dict.fromkeys(LEADS, 0.9)
    notes: list[str] = []
    _sanity(signals, lay, leads, conf, "grid", notes, fs)
    assert conf["I"] == IMPLAUSIBLE_CONFIDENCE and conf["II"] == 0.9
    assert any(n.startswith("I: 7.0 mV peak to peak") for n in notes)
    notes.clear()
    lay.pulse_side = "none"
    _sanity(signals, lay, leads, conf, "assumed", notes, fs)
    assert max(conf.values()) <= 0.5
    assert any("no calibration pulses" in n for n in notes)


def test_real_3x4_rhythm_page_with_right_hand_pulses_keeps_its_first_column():
    """schr_ed_3x4II: another program's 3x4+II export, pulses at the right end of each row."""
    rgb = cv2.imread(str(_real("schr_ed_3x4II.png")))[..., ::-1]
    result = digitize(np.ascontiguousarray(rgb), model=False)
    assert result.layout == "3x4+II"
    first = [lr for lr in result.leads if not lr.rhythm and lr.t0 == 0.0]
    assert sorted(lr.lead for lr in first) == ["I", "II", "III"]
    # the first column starts at the image's left edge (nothing lost before it)
    assert min(lr.box[0] for lr in first) < 0.05 * result.rectified.shape[1]


@pytest.mark.slow
def test_no_real_scan_crashes():
    """Every development image gives a result or one EcgkitError, never another exception."""
    files = sorted((REAL / "img").glob("*")) if (REAL / "img").is_dir() else []
    if not files:
        pytest.skip(f"no real scans under {REAL} (set ECGKIT_REAL_SCANS)")
    from ecgkit.digitize.io import load_image

    for path in files[:4]:  # the first few: the whole set runs in bench/real_scans.py
        try:
            digitize_array(load_image(path), name=path.name, model=None)
        except EcgkitError as exc:
            assert str(exc).startswith(path.name)
