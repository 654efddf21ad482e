"""15-lead pages, 3-channel thermal strips and framing (crops, a viewer's window), exactly."""

import json

import cv2
import numpy as np
import pytest

from ecgkit.artifacts import REGISTRY, artifact_names
from ecgkit.artifacts.framing import CROP_MODES, row_lines
from ecgkit.generate import make_sample
from ecgkit.generate.batch import replay_sample
from ecgkit.generate.layout import (
    EXTRA_LEADS,
    PAGE_LEADS,
    Paper,
    lead_grid,
    make_layout,
    mm_to_px,
    pulse_region_mm,
)
from ecgkit.generate.render import render
from ecgkit.generate.sample import sample_json, write_sample
from ecgkit.generate.synth import builtin_record, extra_lead_coefficients
from ecgkit.io import LEADS, Record

NEW_PRESETS = ("fifteen_lead", "three_channel_strip", "cropped_scan", "viewer_window")
FIFTEEN = [
    ["I", "aVR", "V1", "V4", "V4R"],
    ["II", "aVL", "V2", "V5", "V8"],
    ["III", "aVF", "V3", "V6", "V9"],
]
GROUPS = [["I", "II", "III"], ["aVR", "aVL", "aVF"], ["V1", "V2", "V3"], ["V4", "V5", "V6"]]


@pytest.fixture(scope="module")
def record():
    return builtin_record(2)


@pytest.fixture(scope="module")
def fifteen(record):
    return render(record, make_layout("3x5:fifteen+II"))


def darkness(image: np.ndarray) -> np.ndarray:
    """How much darker than the paper around it each pixel is."""
    gray8 = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return cv2.medianBlur(gray8, 15).astype(np.float32) - gray8.astype(np.float32)


def on_image(lt, w: int, h: int) -> np.ndarray:
    """The points of a lead that lie on a ``w x h`` image (pixel centres rounded)."""
    ok = np.isfinite(lt.x) & np.isfinite(lt.y)
    x, y = np.where(ok, lt.x, -9), np.where(ok, lt.y, -9)
    return ok & (x >= -0.5) & (x < w - 0.5) & (y >= -0.5) & (y < h - 0.5)


def ink_ratio(page) -> tuple[int, float]:
    """Points on the image, and the share of them on ink (darker than the paper around, or
    dark outright: where the trace is dense, the paper around is ink too)."""
    gray = cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
    ink = (darkness(page.image) > 20) | (gray < 110)
    h, w = gray.shape
    hits = total = 0
    for lt in page.leads:
        keep = on_image(lt, w, h)
        cols, rows = np.rint(lt.x[keep]).astype(int), np.rint(lt.y[keep]).astype(int)
        hits += int(ink[rows, cols].sum())
        total += len(cols)
    return total, hits / max(total, 1)


def mask_ratio(page) -> float:
    """The share of the points on the image within a pixel of their own lead's mask ink (a
    1-px line, reduced by a warp with nearest-neighbour sampling, loses some of its pixels)."""
    h, w = page.mask.shape
    hits = total = 0
    for lt in page.leads:
        keep = on_image(lt, w, h)
        cols, rows = np.rint(lt.x[keep]).astype(int), np.rint(lt.y[keep]).astype(int)
        k = PAGE_LEADS.index(lt.lead) + 1
        near = np.zeros(len(cols), bool)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                r, c = np.clip(rows + dr, 0, h - 1), np.clip(cols + dc, 0, w - 1)
                near |= page.mask[r, c] == k
        hits += int(near.sum())
        total += len(cols)
    return hits / max(total, 1)


# --------------------------------------------------------------------------------------------
# 15-lead pages


@pytest.mark.parametrize("order", ["standard", "cabrera"])
def test_fifteen_lead_grid_adds_a_column_of_v4r_v8_v9(order):
    rows = lead_grid("3x5:fifteen+II", order)
    assert [row[4] for row in rows[:3]] == list(EXTRA_LEADS) and rows[3] == ["II"]
    if order == "standard":
        assert rows[:3] == FIFTEEN
    # the first four columns are the 3x4 page's
    assert [row[:4] for row in rows[:3]] == lead_grid("3x4", order)
    assert PAGE_LEADS == (*LEADS, "V4R", "V8", "V9")


def test_fifteen_lead_panels_are_five_columns_of_two_seconds():
    layout = make_layout("3x5:fifteen+II")
    x_trace, first = layout.grid_origin_mm
    assert layout.duration == 10.0 and layout.row_pitch_mm % 5 == 0
    assert len(layout.panels) == 16 and len(layout.pulses) == 4
    for p in layout.panels:
        if p.rhythm:
            assert (p.lead, p.row, p.t0, p.t1, p.x_mm) == ("II", 3, 0.0, 10.0, x_trace)
            continue
        assert p.lead == FIFTEEN[p.row][p.col]
        assert (p.t0, p.t1) == pytest.approx((2.0 * p.col, 2.0 * p.col + 2.0))
        assert p.x_mm == pytest.approx(x_trace + 50.0 * p.col)  # 2 s at 25 mm/s
        assert p.baseline_mm == first + p.row * layout.row_pitch_mm
        assert p.gain == 10.0
    assert layout.separators == tuple(
        (
            x_trace + 50.0 * c,
            first + r * layout.row_pitch_mm - 3,
            first + r * layout.row_pitch_mm + 3,
        )
        for r in range(3)
        for c in range(1, 5)
    )
    for pulse in layout.pulses:
        assert x_trace - pulse.x_mm == pulse_region_mm(25.0)


def test_extra_leads_are_simulated_exactly_and_flagged(record, fifteen):
    page = fifteen
    doc = json.loads(sample_json(page))
    entries = {e["lead_name"]: e for e in doc["leads"] if not e["rhythm"]}
    for name in LEADS:
        assert "simulated" not in entries[name]
    ppmm = page.px_per_mm
    for name in EXTRA_LEADS:
        assert entries[name]["simulated"] is True
        info = doc["extra_leads"][name]
        assert info["simulated"] is True and info["mask_value"] == PAGE_LEADS.index(name) + 1
        assert info["coefficients"] == extra_lead_coefficients(name)
        assert set(info["coefficients"]) == {"I", "II", "V1", "V2", "V3", "V4", "V5", "V6"}
        # the signal is the stated combination of the record's leads, and the points plot it
        want = sum(w * record.signals[:, LEADS.index(k)] for k, w in info["coefficients"].items())
        np.testing.assert_array_equal(page.extra_leads[name].signal, want)
        lt = next(lt for lt in page.leads if lt.lead == name)
        assert lt.simulated and (lt.col, lt.row) == (4, EXTRA_LEADS.index(name))
        panel = next(p for p in page.layout.panels if p.lead == name)
        a, b = lt.start_sample, lt.end_sample
        assert (a, b) == (int(8.0 * record.fs), int(10.0 * record.fs))
        y = mm_to_px(panel.baseline_mm - want[a:b] * panel.gain, ppmm)
        np.testing.assert_allclose(lt.y, y, atol=1e-9)
        # 13, 14, 15 in the mask: the extra lead's ink, under its points
        cols, rows = np.rint(lt.x).astype(int), np.rint(lt.y).astype(int)
        assert (page.mask[rows, cols] == PAGE_LEADS.index(name) + 1).mean() > 0.9
        # plotted_extra_leads: the shown window, NaN where the lead is not on the page
        shown = page.plotted_extra_leads()[name]
        assert np.isnan(shown[:a]).all()
        np.testing.assert_array_equal(shown[a:b], want[a:b])
    # V4R mirrors V4: it looks like V1-V2 (negative on V4-V6)
    c = extra_lead_coefficients("V4R")
    assert c["V1"] > 0 and c["V2"] > 0 and c["V4"] < 0 and c["V6"] < 0
    assert {int(v) for v in np.unique(page.mask)} == set(range(16))


def test_plotted_record_stays_twelve_leads(fifteen):
    rec = fifteen.plotted_record()
    assert rec.signals.shape == (5000, 12)
    assert np.isfinite(rec.signals).any(axis=0).all()
    assert set(fifteen.plotted_extra_leads()) == set(EXTRA_LEADS)


def test_a_record_that_has_the_extra_leads_is_plotted_as_is(record):
    own = {"V4R": np.linspace(-1, 1, record.n_samples)}
    rec = Record(record.signals, record.fs, record.name, {**record.metadata, "extra_leads": own})
    page = render(rec, make_layout("3x5:fifteen"))
    assert page.extra_leads["V4R"].simulated is False
    assert page.extra_leads["V8"].simulated is True
    doc = json.loads(sample_json(page))
    flags = {e["lead_name"]: e["simulated"] for e in doc["leads"] if "simulated" in e}
    assert flags == {"V4R": False, "V8": True, "V9": True}
    np.testing.assert_array_equal(page.extra_leads["V4R"].signal, own["V4R"])


def test_missing_leads_leave_a_simulated_lead_empty(record):
    sig = record.signals.copy()
    sig[:, LEADS.index("V1") :] = np.nan  # limb leads only: the heart vector is not known
    page = render(Record(sig, record.fs, "limbs"), make_layout("3x5:fifteen"))
    lt = next(lt for lt in page.leads if lt.lead == "V8")
    assert np.isnan(lt.y).all() and lt.bbox is None
    assert page.extra_leads["V8"].coefficients == {}


def test_twelve_lead_json_has_no_extra_keys(record):
    doc = json.loads(sample_json(render(record, make_layout("3x4+II"))))
    assert "extra_leads" not in doc
    assert all("simulated" not in e for e in doc["leads"])


# --------------------------------------------------------------------------------------------
# 3-channel thermal strips


def test_three_channel_columns_are_the_lead_groups():
    assert lead_grid("3x4:channels+II") == lead_grid("3x4+II")
    layout = make_layout("3x4:channels+II", paper=Paper("strip110"), margin_mm=4, header_mm=14)
    columns = {}
    for p in layout.panels:
        if not p.rhythm:
            columns.setdefault(p.col, []).append(p)
    assert [[p.lead for p in sorted(columns[c], key=lambda p: p.row)] for c in range(4)] == GROUPS
    for c, group in columns.items():  # the three leads of a group are recorded together
        assert {(p.t0, p.t1, p.x_mm) for p in group} == {
            (2.5 * c, 2.5 * c + 2.5, layout.grid_origin_mm[0] + 62.5 * c)
        }
    assert layout.duration == 10.0
    assert max(p.baseline_mm for p in layout.panels) < 110.0 - 4.0


@pytest.mark.parametrize(("size", "short"), [("strip80", 80.0), ("strip110", 110.0)])
def test_strip_paper_is_long_and_narrow(size, short):
    paper = Paper(size)
    assert (paper.width_mm, paper.height_mm) == (280.0, short)
    assert (paper.width_px, paper.height_px) == (round(280 / 25.4 * 200), round(short / 25.4 * 200))


def test_three_channel_strip_preset_turns_some_strips():
    turns = []
    for seed in range(8):
        page = make_sample(builtin_record(0), preset="three_channel_strip", seed=seed)
        lay = page.parameters["drawn"]["layout"]
        assert lay["name"].startswith("3x4:channels") and lay["paper"] in ("strip80", "strip110")
        applied = {a["name"]: a["params"] for a in page.parameters["artifacts"]}
        k = applied.get("page_turn", {}).get("quarter_turns", 0)
        turns.append(k)
        h, w = page.image.shape[:2]
        assert (h > w) == (k % 2 == 1)
    assert any(k % 2 for k in turns) and 0 in turns


# --------------------------------------------------------------------------------------------
# framing


@pytest.fixture(scope="module")
def clean_page(record):
    return render(record, make_layout("3x4+II"))


def params_for(mode: str, page) -> dict:
    """frame_crop's parameters for a mode (the first seed that draws it)."""
    artifact_names()
    for seed in range(200):
        params = REGISTRY["frame_crop"].draw(np.random.default_rng(seed), page, 0.7)
        if params["mode"] == mode:
            return params
    raise AssertionError(mode)


@pytest.mark.parametrize("mode", list(CROP_MODES))
def test_frame_crop_truth_is_what_the_image_shows(clean_page, mode):
    page = clean_page
    params = params_for(mode, page)
    x0, y0, x1, y1 = params["box"]
    out = REGISTRY["frame_crop"].apply(page, json.loads(json.dumps(params)))
    h, w = out.image.shape[:2]
    assert (w, h) == (x1 - x0, y1 - y0)
    # a whole-pixel crop: the pixels are the page's own
    assert np.array_equal(out.image, page.image[y0:y1, x0:x1])
    assert np.array_equal(out.mask, page.mask[y0:y1, x0:x1])
    cut = 0
    for a, b in zip(page.leads, out.leads, strict=True):
        np.testing.assert_array_equal(b.x, a.x - x0)
        np.testing.assert_array_equal(b.y, a.y - y0)
        assert b.baseline_y == a.baseline_y - y0
        inside = on_image(b, w, h)
        # the points cropped off lie outside the image, exactly those outside the box
        in_box = (a.x >= x0 - 0.5) & (a.x < x1 - 0.5) & (a.y >= y0 - 0.5) & (a.y < y1 - 0.5)
        np.testing.assert_array_equal(inside, in_box & np.isfinite(a.x))
        cut += int((~inside & np.isfinite(a.x)).sum())
        if not inside.any():
            assert b.bbox is None or mode == "single_lead"  # a neighbour's box corner may stay
        else:
            bx0, by0, bx1, by1 = b.bbox
            assert -0.5 <= bx0 <= bx1 <= w - 0.5 and -0.5 <= by0 <= by1 <= h - 0.5
    assert cut > 0 or mode == "pulses"
    total, ratio = ink_ratio(out)
    assert total > 500 and ratio > 0.97
    # the JSON writes off-image points where they are (outside the image), boxes clipped
    doc = json.loads(sample_json(out))
    assert (doc["width"], doc["height"]) == (w, h)
    if mode == "pulses":
        left = [p for p in out.pulses if p.side == "left"]
        assert left and all(p.bbox is None or p.bbox[0] == -0.5 for p in left)
        assert all(p.bbox is not None for p in left)  # part of every pulse is left
    if mode == "first_row":
        row0 = [b for b in out.leads if b.row == 0]
        assert any((b.y < -0.5).any() for b in row0)
    if mode == "last_row":
        last = [b for b in out.leads if b.rhythm]
        assert any((b.y > h - 0.5).any() for b in last)
    if mode == "right_end":
        assert any((b.x > w - 0.5).any() for b in out.leads)
        assert not [p for p in out.pulses if p.side == "right" and p.bbox is not None]


def test_single_lead_crop_holds_its_lead_and_label(clean_page):
    params = params_for("single_lead", clean_page)
    out = REGISTRY["frame_crop"].apply(clean_page, params)
    h, w = out.image.shape[:2]
    lt = out.leads[params["lead_index"]]
    assert lt.lead == params["lead"]
    assert on_image(lt, w, h).mean() > 0.99
    assert lt.label_bbox is not None
    assert h < clean_page.height / 3 and (w < clean_page.width / 2 or lt.rhythm)


def test_window_frame_scales_the_page_into_the_window(clean_page):
    artifact_names()
    art = REGISTRY["window_frame"]
    page = clean_page
    for seed in range(4):
        params = art.draw(np.random.default_rng(seed), page, 1.0)
        out = art.apply(page, params)
        z, (ox, oy) = params["zoom"], params["offset"]
        cw, ch = params["canvas"]
        assert out.image.shape == (ch, cw, 3) and 0.7 <= z <= 1.0
        assert out.px_per_mm == pytest.approx(page.px_per_mm * z)
        for a, b in zip(page.leads, out.leads, strict=True):
            np.testing.assert_allclose(b.x, z * (a.x + 0.5) - 0.5 + ox, atol=1e-9)
            np.testing.assert_allclose(b.y, z * (a.y + 0.5) - 0.5 + oy, atol=1e-9)
            assert b.baseline_y == pytest.approx(z * (a.baseline_y + 0.5) - 0.5 + oy)
            assert b.px_per_mv == pytest.approx(a.px_per_mv * z)
        # the page lies between the window's bars and panels, wholly on the image
        x0, y0 = out.corners.min(axis=0)
        x1, y1 = out.corners.max(axis=0)
        assert params["left_px"] <= x0 and x1 <= cw - params["right_px"]
        assert params["title_px"] + params["toolbar_px"] <= y0 and y1 <= ch - params["status_px"]
        assert all(on_image(lt, cw, ch)[np.isfinite(lt.x)].all() for lt in out.leads)
        window = [t for t in out.texts if t.kind == "window"]
        assert window[0].text == params["title"] and window[0].bbox[3] <= params["title_px"]
        total, ratio = ink_ratio(out)
        assert total >= 20000 and ratio > 0.97, (seed, ratio)
        assert mask_ratio(out) > 0.9


# --------------------------------------------------------------------------------------------
# the new presets: ink under the truth, replay byte for byte


@pytest.mark.parametrize("name", NEW_PRESETS)
@pytest.mark.parametrize("seed", [0, 1])
def test_new_presets_put_the_truth_on_the_ink(name, seed):
    page = make_sample(builtin_record(2), preset=name, seed=seed)
    doc = json.loads(json.dumps(page.to_json(), allow_nan=False))
    total, ratio = ink_ratio(page)
    assert total > 1000 and ratio > 0.97, (name, seed, ratio)
    assert mask_ratio(page) > 0.9, (name, seed)
    if name == "fifteen_lead":
        assert {e["lead_name"] for e in doc["leads"] if e.get("simulated")} == set(EXTRA_LEADS)


@pytest.mark.parametrize("name", NEW_PRESETS)
def test_new_presets_replay_byte_for_byte(tmp_path, name):
    page = make_sample(builtin_record(1, seed=4), preset=name, seed=4, source="synth:1")
    out = page.parameters["drawn"]["output"]
    fmt, quality = out.get("format", "png"), int(out.get("jpeg_quality", 95))
    first = write_sample(page, tmp_path / "a", "s", image_format=fmt, jpeg_quality=quality)
    replay_sample(tmp_path / "a" / "s.json", tmp_path / "b")
    for f in first:
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), (name, f.name)


def test_row_lines_follow_the_baselines(clean_page):
    rows = row_lines(clean_page)
    assert [r[0] for r in rows] == [0, 1, 2, 3]
    for r, y, _, _ in rows:
        base = next(lt.baseline_y for lt in clean_page.leads if lt.row == r)
        assert abs(y - base) < 0.5 * clean_page.px_per_mm * 10
