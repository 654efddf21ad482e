import json

import numpy as np
import pytest

from ecgkit.errors import EcgkitError
from ecgkit.evaluate import snr
from ecgkit.generate.layout import Paper, make_layout
from ecgkit.generate.render import Style, render
from ecgkit.generate.synth import builtin_record
from ecgkit.io import LEADS, Record


def darkness(image: np.ndarray) -> np.ndarray:
    """0 for white paper and the coloured grid, 255 for black ink."""
    return 255 - image.max(axis=2).astype(np.int16)


@pytest.fixture(scope="module")
def record() -> Record:
    return builtin_record(0)


@pytest.fixture(scope="module")
def page(record):
    return render(record, make_layout("3x4+II"))


def test_page_size_and_truth_shapes(page, record):
    assert page.image.shape == (1700, 2200, 3) and page.image.dtype == np.uint8
    assert page.mask.shape == (1700, 2200)
    assert len(page.leads) == 13
    for lt in page.leads:
        assert len(lt.x) == len(lt.y) == lt.end_sample - lt.start_sample
    rhythm = page.leads[-1]
    assert (rhythm.lead, rhythm.start_sample, rhythm.end_sample) == ("II", 0, record.n_samples)


def test_ink_lies_under_every_ground_truth_point(page):
    dark = darkness(page.image)
    for lt in page.leads:
        cols = np.rint(lt.x).astype(int)
        rows = np.rint(lt.y).astype(int)
        assert (dark[rows, cols] > 128).mean() == 1.0, lt.lead
        # the lead mask says which lead the ink belongs to (rhythm II may overdraw II)
        k = LEADS.index(lt.lead) + 1
        assert (page.mask[rows, cols] == k).mean() > 0.97, lt.lead


def test_no_ink_far_from_the_traces(page):
    """Every dark pixel is a trace, a pulse, a separator or text: nothing else is drawn."""
    dark = darkness(page.image) > 128
    explained = page.mask > 0
    for t in page.texts:
        x0, y0, x1, y1 = (int(round(v)) for v in t.bbox)
        explained[max(y0 - 2, 0) : y1 + 3, max(x0 - 2, 0) : x1 + 3] = True
    ppmm = page.px_per_mm
    for p in page.layout.pulses:
        c0 = int(p.x_mm * ppmm) - 3
        c1 = int((p.x_mm + p.width_mm + 2 * p.stub_mm) * ppmm) + 3
        r0 = int((p.baseline_mm - p.gain) * ppmm) - 3
        explained[r0 : int(p.baseline_mm * ppmm) + 3, c0:c1] = True
    for sx, sy0, sy1 in page.layout.separators:
        explained[
            int(sy0 * ppmm) - 3 : int(sy1 * ppmm) + 3, int(sx * ppmm) - 3 : int(sx * ppmm) + 3
        ] = True
    # anti-aliased edges of the traces fall just outside the aliased mask
    from scipy.ndimage import binary_dilation

    explained = binary_dilation(explained, iterations=2)
    assert not (dark & ~explained).any()


def test_geometry_is_exact_to_a_small_fraction_of_a_pixel():
    """A flat 0.5 mV line and a step: the ink's centroid sits on the truth coordinates."""
    fs = 500.0
    sig = np.zeros((5000, 12))
    k = LEADS.index("V2")
    sig[:, k] = 0.5
    sig[2700:, k] = -0.5  # V2 window is 2.5-5 s: a vertical step at 5.4 s
    rec = Record(sig, fs, name="flat")
    style = Style(
        grid="none", labels=False, header=False, footer=False, pulses=False, separators=False
    )
    page = render(rec, make_layout("3x4", paper=Paper(dpi=300)), style)
    lt = next(t for t in page.leads if t.lead == "V2")
    dark = darkness(page.image).astype(float)
    # rows: centroid of a column well before the step
    i = 2600 - lt.start_sample
    col = int(round(lt.x[i]))
    r = int(round(lt.y[i]))
    w = dark[r - 6 : r + 7, col]
    centroid = (np.arange(r - 6, r + 7) * w).sum() / w.sum()
    assert centroid == pytest.approx(lt.y[i], abs=0.2)  # OpenCV anti-aliasing: within 0.2 px
    # columns: centroid of the vertical step halfway between the two levels
    mid = int(round((lt.y[2699 - lt.start_sample] + lt.y[2700 - lt.start_sample]) / 2))
    c = int(round(lt.x[2700 - lt.start_sample]))
    w = dark[mid, c - 8 : c + 9]
    xc = (np.arange(c - 8, c + 9) * w).sum() / w.sum()
    expected = (lt.x[2699 - lt.start_sample] + lt.x[2700 - lt.start_sample]) / 2
    assert xc == pytest.approx(expected, abs=0.2)  # OpenCV's anti-aliasing: within 0.2 px
    # and the expected coordinates follow the layout exactly
    ppmm = page.px_per_mm
    panel = next(p for p in page.layout.panels if p.lead == "V2")
    assert lt.y[i] == pytest.approx((panel.baseline_mm - 0.5 * 10) * ppmm - 0.5)
    assert lt.x[i] == pytest.approx((panel.x_mm + (2600 / fs - panel.t0) * 25) * ppmm - 0.5)


def _follow(image: np.ndarray, lt) -> tuple[np.ndarray, np.ndarray]:
    """A column tracer: per column, the ink run nearest the previous column's; its darkness
    centroid, or its top/bottom (less half the pen) where the trace peaks or dips."""
    dark = darkness(image)
    ok = np.isfinite(lt.x)
    # keep 1.5 px clear of the panel's ends, where the column separators are
    c0, c1 = int(np.ceil(np.nanmin(lt.x[ok]) + 1.5)), int(np.floor(np.nanmax(lt.x[ok]) - 1.5))
    band = 18 * lt.px_per_mv / 10  # +-18 mm around the baseline
    r0, r1 = max(int(lt.baseline_y - band), 0), min(int(lt.baseline_y + band), image.shape[0])
    prev = lt.baseline_y
    cols, tops, bots, ys = [], [], [], []
    for c in range(c0, c1 + 1):
        col = dark[r0:r1, c]
        ink = col > 127
        if not ink.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], ink.astype(np.int8), [0]])))
        runs = edges.reshape(-1, 2)
        a, b = min(runs, key=lambda r: abs(r0 + (r[0] + r[1] - 1) / 2 - prev))
        w = col[a:b].astype(float)
        cols.append(c)
        tops.append(r0 + a)
        bots.append(r0 + b - 1)
        ys.append(r0 + (np.arange(a, b) * w).sum() / w.sum())
        prev = ys[-1]
    cols, tops, bots, ys = (np.asarray(v, float) for v in (cols, tops, bots, ys))
    flat = np.median(bots - tops)
    out = ys.copy()
    for i in range(1, len(cols) - 1):
        if bots[i] - tops[i] <= flat + 1:
            continue
        if ys[i] <= min(ys[i - 1], ys[i + 1]):
            out[i] = tops[i] + flat / 2
        elif ys[i] >= max(ys[i - 1], ys[i + 1]):
            out[i] = bots[i] - flat / 2
    return cols, out


def test_tracing_a_clean_render_recovers_the_signal_above_20_db(record):
    """Trace each column of a clean 200-DPI page (1-px pen) and map it back through the layout.

    With the default 0.3 mm pen a column tracer gets only about 12 dB: 2.5 samples share a
    column and a thick anti-aliased stroke smears steep QRS slopes across columns. Reading those
    is the digitizer's job; this test checks that ink and layout agree.
    """
    page = render(record, make_layout("3x4+II"), Style(pen_mm=25.4 / 200))
    truth = page.plotted_record()
    est = np.full_like(truth.signals, np.nan)
    for lt in page.leads:
        cols, ys = _follow(page.image, lt)
        y = np.interp(lt.x, cols, ys)
        k = LEADS.index(lt.lead)
        est[lt.start_sample : lt.end_sample, k] = (lt.baseline_y - y) / lt.px_per_mv
    values = snr(truth.signals, est, fs=truth.fs)
    assert np.nanmean(values) >= 20.0, values


def test_plotted_record_is_nan_off_the_page(page, record):
    truth = page.plotted_record()
    i = LEADS.index("I")
    assert np.isfinite(truth.signals[:1250, i]).all()
    assert np.isnan(truth.signals[1250:, i]).all()
    assert np.isfinite(truth.signals[:, LEADS.index("II")]).all()  # rhythm strip
    np.testing.assert_array_equal(truth.signals[:1250, i], record.signals[:1250, i])


def test_missing_lead_leaves_its_panel_blank_and_truth_says_so(record):
    sig = record.signals.copy()
    sig[:, LEADS.index("V3")] = np.nan
    page = render(Record(sig, record.fs, name="noV3"), make_layout("3x4+II"))
    lt = next(t for t in page.leads if t.lead == "V3")
    assert lt.bbox is None and np.isnan(lt.y).all()
    assert not (page.mask == LEADS.index("V3") + 1).any()
    doc = page.to_json()
    v3 = next(d for d in doc["leads"] if d["lead_name"] == "V3")
    assert v3["lead_bounding_box"] is None
    assert v3["plotted_pixels"][0] == [None, None]


def test_json_is_a_superset_of_ecg_image_kit(page):
    doc = json.loads(json.dumps(page.to_json(), allow_nan=False))
    for key in (
        "x_grid",
        "y_grid",
        "resolution",
        "width",
        "height",
        "sampling_frequency",
        "format_version",
        "leads",
    ):
        assert key in doc
    lead = doc["leads"][0]
    for key in (
        "lead_name",
        "start_sample",
        "end_sample",
        "plotted_pixels",
        "lead_bounding_box",
        "text_bounding_box",
    ):
        assert key in lead
    assert doc["x_grid"] == pytest.approx(5 * 200 / 25.4, abs=1e-3)
    y, x = lead["plotted_pixels"][0]
    assert (x, y) == pytest.approx((page.leads[0].x[0], page.leads[0].y[0]), abs=1e-3)


def test_render_is_deterministic(record):
    a = render(record, make_layout("6x2", order="cabrera"), Style(grid="blue"))
    b = render(record, make_layout("6x2", order="cabrera"), Style(grid="blue"))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)


@pytest.mark.parametrize("grid", ["red", "pink", "blue", "green", "grey", "bw", "none"])
def test_grid_colours(record, grid):
    page = render(record, make_layout("3x4", paper=Paper(dpi=100)), Style(grid=grid))
    corner = page.image[300:340, 18:38].reshape(-1, 3)  # inside the grid, left of the pulses
    distinct = len(np.unique(corner, axis=0))
    assert distinct == 1 if grid == "none" else distinct > 2


def test_inverted_lead_is_drawn_upside_down(record):
    page = render(record, make_layout("3x4", order="cabrera"))
    lt = next(t for t in page.leads if t.inverted)
    v = record.lead("aVR")[lt.start_sample : lt.end_sample]
    np.testing.assert_allclose(lt.y, lt.baseline_y + v * lt.px_per_mv)


def test_bad_style_raises():
    with pytest.raises(EcgkitError, match="grid colour"):
        Style(grid="purple")
    with pytest.raises(EcgkitError, match="custom"):
        Style(grid="custom")


@pytest.mark.parametrize("case", ["as_is", "upper", "lower"])
@pytest.mark.parametrize("position", ["panel", "left", "above"])
def test_label_position_and_case(record, case, position):
    style = Style(label_position=position, label_case=case, header=False, footer=False)
    layout = make_layout("3x4+II", order="cabrera", **style.layout_options())
    page = render(record, layout, style)
    dark = darkness(page.image) > 128
    for lt, panel in zip(page.leads, layout.panels, strict=True):
        want = {"upper": panel.label.upper(), "lower": panel.label.lower()}.get(case, panel.label)
        assert lt.label == want
        x0, y0, x1, y1 = lt.label_bbox
        assert dark[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1].any()
        trace_x0 = np.nanmin(lt.x)
        if position == "left" and panel.col == 0:
            # before the row: left of its pulse, on the baseline's height
            pulse = next(p for p in layout.pulses if p.row == panel.row)
            assert x1 < pulse.x_mm * page.px_per_mm and y0 < lt.baseline_y < y1 + 4
        else:
            assert x0 >= trace_x0 - 1
            assert y1 < lt.baseline_y - (8 if position == "above" else 3) * page.px_per_mm * 0.5
    assert [t.text for t in page.texts] == [lt.label for lt in page.leads]


@pytest.mark.parametrize("grid", ["orange", "black", "thermal"])
def test_new_grid_colours_and_dots(record, grid):
    from ecgkit.generate.layout import mm_to_px
    from ecgkit.generate.render import GRID_COLOURS

    layout = make_layout("3x4")
    ppmm = layout.paper.px_per_mm
    x_mm = layout.grid_origin_mm[0] + 255.0  # a major line right of the traces
    y_mm = layout.grid_origin_mm[1]
    col, row = (int(round(mm_to_px(v, ppmm))) for v in (x_mm, y_mm))
    between = int(round(mm_to_px(x_mm + 0.5, ppmm)))  # half-way to the next 1-mm line
    major = np.asarray(GRID_COLOURS[grid][0], int)
    style = {"labels": False, "header": False, "footer": False}
    lines = render(record, layout, Style(grid=grid, major_mm=0.3, **style)).image.astype(int)
    dots = render(record, layout, Style(grid=grid, grid_kind="dots", major_mm=0.3, **style))
    dots = dots.image.astype(int)
    assert np.abs(lines[row, col] - major).max() <= 25
    assert np.abs(dots[row, col] - major).max() <= 25  # a dot at the 5-mm crossing
    assert np.abs(lines[row, between] - major).max() <= 25  # the line goes on
    assert (dots[row, between] == 255).all()  # between dots: paper


def test_new_style_options_are_refused_with_clear_errors():
    for kwargs, needle in [
        ({"pulse_side": "top"}, "pulse_side"),
        ({"pulse_mv": 3.0}, "pulse_mv"),
        ({"separator": "dashes"}, "separator"),
        ({"grid_kind": "crosses"}, "grid_kind"),
        ({"label_position": "sideways"}, "label_position"),
        ({"label_case": "title"}, "label_case"),
    ]:
        with pytest.raises(EcgkitError, match=needle):
            Style(**kwargs)
