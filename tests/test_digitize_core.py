"""The digitizer's core: rectification, grid scale, layout detection, traces, signals."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ecgkit.digitize import digitize
from ecgkit.digitize.layout_detect import detect_layout, find_pulses
from ecgkit.digitize.pipeline import _einthoven
from ecgkit.digitize.rectify import TARGET_PX_PER_MM, grid_period, line_map, rectify
from ecgkit.digitize.traces import classical_ink
from ecgkit.errors import EcgkitError
from ecgkit.evaluate import snr_record
from ecgkit.generate import make_sample
from ecgkit.generate.layout import PAPER_SIZES
from ecgkit.generate.synth import builtin_record
from ecgkit.io import LEADS, Record


@pytest.fixture(scope="module")
def record():
    return builtin_record(7)


def _page(record, preset="clean", seed=0, **overrides):
    return make_sample(record, preset=preset, seed=seed, overrides=overrides or None)


def _edges_mm(page, hom):
    c = cv2.perspectiveTransform(np.asarray(page.corners, np.float64)[None], hom)[0]
    top = c[1] - c[0]
    left = c[3] - c[0]
    width = (np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / 2 / TARGET_PX_PER_MM
    height = (np.linalg.norm(c[3] - c[0]) + np.linalg.norm(c[2] - c[1])) / 2 / TARGET_PX_PER_MM
    return (
        np.degrees(np.arctan2(top[1], top[0])),
        np.degrees(np.arctan2(left[0], left[1])),
        width,
        height,
    )


@pytest.mark.parametrize(
    "artifact, strength",
    [("rotation", 0.5), ("perspective", 0.6)],
)
def test_rectify_undoes_rotation_and_perspective(record, artifact, strength):
    page = _page(record, artifacts={artifact: {"probability": 1.0, "strength": strength}})
    # the page really was distorted
    raw = _edges_mm(page, np.eye(3))
    assert max(abs(raw[0]), abs(raw[1])) > 0.3 or artifact == "perspective"
    rect = rectify(page.image)
    top, left, width, height = _edges_mm(page, rect.homography)
    short, long = PAPER_SIZES["letter"]
    assert abs(top) < 0.3 and abs(left) < 0.3, (top, left)
    assert width == pytest.approx(long, rel=0.01)
    assert height == pytest.approx(short, rel=0.01)


def test_rectify_keeps_a_clean_page_exact(record):
    page = _page(record)
    rect = rectify(page.image)
    assert rect.grid is not None and rect.grid.found
    assert list(rect.grid.period_px) == pytest.approx([page.px_per_mm] * 2, rel=1e-3)
    # the rectified image is the page itself, cropped: a pure translation
    assert np.allclose(rect.homography[:2, :2], np.eye(2), atol=1e-4)


@pytest.mark.parametrize("dpi", [100, 200, 300])
def test_grid_period_is_found_at_any_resolution(record, dpi):
    page = _page(record, layout={"dpi": dpi})
    px, strength = grid_period(line_map(page.image), 0)
    assert px == pytest.approx(dpi / 25.4, rel=2e-3)
    assert strength > 0.9


def test_grid_period_of_a_blank_image_is_not_found():
    blank = np.full((600, 800, 3), 250, np.uint8)
    px, strength = grid_period(line_map(blank), 0)
    assert strength == 0.0 and np.isnan(px)


@pytest.mark.parametrize(
    "layout",
    ["3x4+II", "12x1"]
    + [pytest.param(n, marks=pytest.mark.slow) for n in ("3x4", "6x2", "2x6")]
    + [pytest.param("3x4+II,V1,V5", marks=pytest.mark.slow)],
)
def test_layout_is_detected(record, layout):
    page = _page(record, layout={"name": layout})
    result = digitize(page.image, model=False)
    assert result.layout == layout
    got = sorted({lr.lead for lr in result.leads})
    assert got == sorted(LEADS)


def _truth_feet(page, hom):
    """The pulses' feet (0 mV) and the rising edges' x of a page, in rectified pixels."""
    ppmm = page.px_per_mm
    pts = np.array(
        [
            [(p.x_mm + p.stub_mm) * ppmm - 0.5, p.baseline_mm * ppmm - 0.5]
            for p in page.layout.pulses
        ]
    )
    return cv2.perspectiveTransform(pts[None], hom)[0]


@pytest.mark.parametrize(
    "speed, gain",
    [(25, 10), (12.5, 20)]
    + [pytest.param(*sg, marks=pytest.mark.slow) for sg in ((50, 10), (25, 5))],
)
def test_pulses_give_rows_speed_gain_and_zero_exactly(record, speed, gain):
    page = _page(record, layout={"speed": speed, "gain": gain})
    rect = rectify(page.image)
    ink = classical_ink(rect.image, rect.px_per_mm)
    pulses = find_pulses(ink, rect.px_per_mm)
    assert pulses is not None
    assert (pulses.speed, pulses.gain) == (speed, gain)
    truth = _truth_feet(page, rect.homography)
    assert len(pulses.feet) == len(truth)
    assert np.abs(pulses.feet - truth[:, 1]).max() < 0.3
    assert abs(pulses.x_stub + rect.px_per_mm - truth[:, 0].mean()) < 0.5
    lay = detect_layout(ink, rect.px_per_mm)
    assert lay.px_per_s == pytest.approx(speed * rect.px_per_mm)
    assert lay.panels[0].px_per_mv == pytest.approx(gain * rect.px_per_mm)


def test_without_a_grid_scale_the_pulses_give_it(record):
    page = _page(record)
    rect = rectify(page.image)
    ink = classical_ink(rect.image, rect.px_per_mm)
    # told a scale 6 % off, as the page-size guess can be, and that it was not measured
    lay = detect_layout(ink, rect.px_per_mm * 1.06, scale_known=False)
    assert lay.px_per_s == pytest.approx(25 * rect.px_per_mm, rel=0.005)
    assert lay.panels[0].px_per_mv == pytest.approx(10 * rect.px_per_mm, rel=0.005)
    assert any("calibration pulses" in n for n in lay.notes)


@pytest.mark.slow
def test_a_lead_far_off_its_row_zero_keeps_the_layout_and_the_zero(record):
    """A record's own offset (V1 at +0.6 mV) moves a trace off its row's line, not the row."""
    sig = record.signals.copy()
    sig[:, LEADS.index("V1")] += 0.6
    shifted = Record(sig, record.fs, name="offset")
    page = _page(shifted)
    truth = page.plotted_record()
    result = digitize(page.image, fs=truth.fs)
    assert result.layout == "3x4+II"
    k = LEADS.index("V1")
    err = np.nanmedian(result.record.signals[:, k] - truth.signals[:, k])
    assert abs(err) < 0.02, err  # mV: read from the pulse's foot, not the trace's level


def test_equal_grid_lines_are_read_as_1_mm_where_5_mm_makes_no_page():
    """Faded minor lines lose the fifth-line pattern; 5 mm apart would make this 1.6 m long."""
    lines = np.zeros((1700, 2200), np.uint8)
    period = 200 / 25.4
    for k in range(int(2200 / period)):
        lines[:, int(round(k * period))] = 200
    px, strength = grid_period(lines, 0)
    assert strength > 0.9
    assert px == pytest.approx(period, rel=5e-3)


def test_clean_page_digitizes_above_the_floor(record):
    """A CI floor so a broken digitizer cannot land (see bench/digitize.py for the figures)."""
    page = _page(record)
    truth = page.plotted_record()
    result = digitize(page.image, fs=truth.fs)
    assert result.record.signals.shape[1] == 12
    assert result.record.fs == truth.fs
    assert not any("classical" in n for n in result.notes), "the shipped model was not used"
    snr = snr_record(truth, result.record)
    assert np.isfinite(snr).all()
    assert np.nanmean(snr) >= 15.0, snr
    assert all(0.0 < c <= 1.0 for c in result.confidence.values())


@pytest.mark.slow
def test_the_trace_model_reads_better_than_the_classical_reader(record):
    page = _page(record, preset="scan", seed=2)
    truth = page.plotted_record()
    learned = np.nanmean(snr_record(truth, digitize(page.image).record))
    classical = np.nanmean(snr_record(truth, digitize(page.image, model=False).record))
    assert learned > classical + 1.0, (learned, classical)


@pytest.mark.slow
def test_a_missing_or_broken_model_file_is_a_clear_error(record, tmp_path):
    from ecgkit.errors import EcgkitError

    page = _page(record)
    with pytest.raises(EcgkitError, match="not found"):
        digitize(page.image, model=tmp_path / "nope.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(EcgkitError, match="cannot load"):
        digitize(page.image, model=junk)


@pytest.mark.slow
def test_same_image_gives_the_same_signals(record):
    page = _page(record, preset="scan", seed=3)
    a = digitize(page.image, model=False).record.signals
    b = digitize(page.image.copy(), model=False).record.signals
    assert np.array_equal(a, b, equal_nan=True)


@pytest.mark.slow
def test_output_rate_is_the_requested_one(record):
    page = _page(record)
    result = digitize(page.image, fs=250, model=False)
    assert result.record.fs == 250
    assert result.record.n_samples == 2500


def test_einthoven_projection_makes_the_limb_relations_hold():
    rng = np.random.default_rng(0)
    i = {n: k for k, n in enumerate(LEADS)}
    true = rng.normal(size=(200, 12))
    true[:, i["III"]] = true[:, i["II"]] - true[:, i["I"]]
    true[:, i["aVF"]] = -true[:, i["aVR"]] - true[:, i["aVL"]]
    read = true + rng.normal(scale=0.02, size=true.shape)  # reading noise, in mV
    read[150:, i["III"]] += 1.0  # a misread stretch of III
    out = _einthoven(read)
    ok = slice(0, 150)
    assert np.allclose(out[ok, i["I"]] - out[ok, i["II"]] + out[ok, i["III"]], 0, atol=1e-12)
    assert np.allclose(out[:, i["aVR"]] + out[:, i["aVL"]] + out[:, i["aVF"]], 0, atol=1e-12)
    # the projection removes part of the noise
    assert np.abs(out[ok, :6] - true[ok, :6]).mean() < np.abs(read[ok, :6] - true[ok, :6]).mean()
    # where one lead is far off, the other two are not spoilt: those instants stay as read
    assert np.array_equal(out[150:, i["I"]], read[150:, i["I"]])
    # the chest leads are untouched; a group with a missing lead is left as it is
    assert np.array_equal(out[:, 6:], read[:, 6:])
    read[:, i["III"]] = np.nan
    out = _einthoven(read)
    assert np.array_equal(out[:, i["I"]], read[:, i["I"]])


def test_a_page_without_an_ecg_is_refused_not_written_as_nan_leads():
    from ecgkit.errors import EcgkitError

    blank = np.full((1700, 2200, 3), 255, np.uint8)
    with pytest.raises(EcgkitError, match="no ECG layout recognised: no trace rows found"):
        digitize(blank, model=False)


@pytest.mark.slow
def test_grid_displacement_measures_a_smooth_warp(record):
    """A page bent by a few pixels (as curl leaves it after the homography) is measured."""
    from ecgkit.digitize.warp import grid_displacement

    page = _page(record)
    rect = rectify(page.image)
    img = rect.image
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bend_y = 4.0 * np.sin(np.pi * xx / w)  # the page's middle sags 4 px
    bend_x = 3.0 * yy / h  # and the bottom slides 3 px right
    # remap samples the source at (x - dx, y - dy): content moves by (+dx, +dy)
    warped = cv2.remap(
        img, xx - bend_x, yy - bend_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    ink = classical_ink(img, rect.px_per_mm)
    flat = grid_displacement(img, rect.px_per_mm, ink)
    assert np.abs(flat.dx).max() == 0 and np.abs(flat.dy).max() == 0  # nothing to correct
    d = grid_displacement(warped, rect.px_per_mm, classical_ink(warped, rect.px_per_mm))
    assert d.valid > 0.8
    ys, xs = np.mgrid[int(0.2 * h) : int(0.8 * h) : 50, int(0.2 * w) : int(0.8 * w) : 50]
    ddx, ddy = d.at(xs.ravel(), ys.ravel())
    want_x = 3.0 * ys.ravel() / h
    want_y = 4.0 * np.sin(np.pi * xs.ravel() / w)
    # up to a constant: the field is relative
    assert np.abs((ddx - ddx.mean()) - (want_x - want_x.mean())).max() < 0.4
    assert np.abs((ddy - ddy.mean()) - (want_y - want_y.mean())).max() < 0.4


def test_two_panels_that_took_one_trace_are_told_apart():
    """A neighbour's wandering trace passes the start of this one: each keeps its own."""
    from ecgkit.digitize.layout_detect import PanelBox
    from ecgkit.digitize.pipeline import _follow_all

    ink = np.zeros((320, 400), np.float32)
    x = np.arange(400)
    own_a = np.full(400, 130.0)  # row A's trace: flat, 30 px under its zero line (an offset)
    # row B's trace starts by A's zero line and crosses A's on its way down to its own
    wander_b = np.clip(102.0 + 0.5 * x, 102.0, 200.0)
    for c in range(400):
        ink[int(own_a[c]) - 1 : int(own_a[c]) + 2, c] = 1.0
        lo = int(wander_b[max(0, c - 1)])
        ink[min(lo, int(wander_b[c])) - 1 : max(lo, int(wander_b[c])) + 2, c] = 1.0
    a = PanelBox("V1", 0.0, 399.0, 100.0, 0.0, 2.0, 0, True, 78.7)
    b = PanelBox("V5", 0.0, 399.0, 200.0, 0.0, 2.0, 1, True, 78.7)
    (_, ta, ba), (_, tb, bb) = _follow_all(ink, [a, b], up=150, reach=45)
    mid_a, mid_b = (ta + ba) / 2, (tb + bb) / 2
    assert np.nanmax(np.abs(mid_a[100:] - 130)) < 2  # A is on its own trace, not on B's
    assert np.nanmax(np.abs(mid_b[:150] - wander_b[:150])) < 2
    assert np.nanmax(np.abs(mid_b[200:] - 200)) < 2


@pytest.mark.slow
@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_no_numpy_runtime_warning_on_a_photo_or_a_refused_image():
    """'Mean of empty slice' and the like must not reach the user's stderr."""
    digitize(make_sample(builtin_record(3), preset="photo").image, name="photo")
    h, w = 700, 1100
    ramp = np.linspace(0, 255, w)
    gradient = np.dstack([np.tile(ramp, (h, 1)), np.tile(ramp[::-1], (h, 1)), np.full((h, w), 90)])
    with pytest.raises(EcgkitError, match="no ECG layout recognised"):
        digitize(gradient.astype(np.uint8), name="gradient")
