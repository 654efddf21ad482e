"""Device styles as data: the named style presets draw what they say, with exact truth."""

import json

import cv2
import numpy as np
import pytest
from scipy.ndimage import binary_dilation

from ecgkit.generate import make_sample
from ecgkit.generate.batch import make_sample_pair, page_from_settings, replay_sample
from ecgkit.generate.layout import make_layout, mm_to_px
from ecgkit.generate.presets import list_presets, load_preset
from ecgkit.generate.render import Style, render
from ecgkit.generate.sample import write_sample
from ecgkit.generate.synth import builtin_record

STYLES = (
    "cart_pulses_right",
    "three_strips",
    "monitor_dotted",
    "atlas_grey_dotted",
    "viewer_blue_bars",
    "sixbytwo_50mm",
    "thermal_faint",
    "cabrera",
    "six_by_one",
    "fifteen_lead",
)
#: where each style puts its pulses (None: any of its choices)
PULSE_SIDES = {
    "cart_pulses_right": "right",
    "three_strips": "left",
    "atlas_grey_dotted": "none",
    "viewer_blue_bars": "both",
    "sixbytwo_50mm": "left",
    "thermal_faint": "left",
}


@pytest.fixture(scope="module")
def record():
    return builtin_record(2)


@pytest.fixture(scope="module")
def pairs(record):
    return {name: make_sample_pair(record, preset=name, seed=1) for name in STYLES}


@pytest.fixture(scope="module")
def pages(pairs):
    return {name: pair[1] for name, pair in pairs.items()}


@pytest.fixture(scope="module")
def clean_pages(pairs):
    return {name: pair[0] for name, pair in pairs.items()}


def darkness(image: np.ndarray) -> np.ndarray:
    """How much darker than the paper around it each pixel is."""
    gray8 = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return cv2.medianBlur(gray8, 15).astype(np.float32) - gray8.astype(np.float32)


def test_the_named_styles_are_built_in_presets():
    assert set(STYLES) <= set(list_presets())
    for name in STYLES:
        preset = load_preset(name)
        assert preset.description and preset.version >= 1
        assert preset.name == name


@pytest.mark.parametrize("name", STYLES)
def test_ink_lies_under_the_truth(pages, name):
    page = pages[name]
    dark = darkness(page.image)
    h, w = dark.shape
    hits = total = 0
    for lt in page.leads:
        ok = np.isfinite(lt.x) & (lt.x >= 0) & (lt.x <= w - 1) & (lt.y >= 0) & (lt.y <= h - 1)
        cols, rows = np.rint(lt.x[ok]).astype(int), np.rint(lt.y[ok]).astype(int)
        hits += int((dark[rows, cols] > 20).sum())
        total += len(cols)
    assert total > 5000
    assert hits / total > 0.97, (name, hits / total)


@pytest.mark.parametrize("name", STYLES)
def test_replay_from_the_json_gives_the_same_bytes(tmp_path, pages, name):
    page = make_sample(builtin_record(2, seed=1), preset=name, seed=1, source="synth:2")
    first = write_sample(page, tmp_path / "a", "s")
    replay_sample(tmp_path / "a" / "s.json", tmp_path / "b")
    for f in first:
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), (name, f.name)


@pytest.mark.parametrize("name", STYLES)
def test_pulse_boxes_hold_the_pulse_ink_where_the_style_says(pages, clean_pages, name):
    page = pages[name]
    doc = json.loads(json.dumps(page.to_json()))
    assert len(doc["pulses"]) == len(page.pulses)  # every style writes its pulse boxes
    side = PULSE_SIDES.get(name, page.style.pulse_side)
    assert page.style.pulse_side == side
    if side == "none":
        assert page.pulses == [] and doc["pulses"] == []
        return
    rows = {lt.row for lt in page.leads}
    rhythm_rows = {lt.row for lt in page.leads if lt.rhythm}
    want_rows = rhythm_rows if side == "rhythm" else rows
    assert {p.row for p in page.pulses} == want_rows
    sides = {"both": {"left", "right"}}.get(side, {"right" if side == "right" else "left"})
    assert {p.side for p in page.pulses} == sides
    # the pulses' ink: what a render without pulses lacks, from the clean (undistorted) page
    clean = clean_pages[name]
    drawn = json.loads(json.dumps(page.parameters["drawn"]))
    drawn["style"]["pulses"] = False
    bare = page_from_settings(clean.record, drawn)
    diff = np.abs(clean.image.astype(int) - bare.image.astype(int)).max(axis=2)
    ink = diff > 0
    inside = np.zeros_like(ink)
    for p, q, entry in zip(page.pulses, clean.pulses, doc["pulses"], strict=True):
        assert entry["row"] == p.row and entry["side"] == p.side
        assert entry["mv"] == p.mv == page.style.pulse_mv
        x0, y0, x1, y1 = p.bbox
        row_leads = [lt for lt in page.leads if lt.row == p.row]
        trace_x0 = min(np.nanmin(lt.x) for lt in row_leads)
        trace_x1 = max(np.nanmax(lt.x) for lt in row_leads)
        if p.side == "left":
            assert x1 < trace_x0
        else:
            assert x0 > trace_x1
        x0, y0, x1, y1 = q.bbox
        c0, r0, c1, r1 = int(np.ceil(x0)), int(np.ceil(y0)), int(np.floor(x1)), int(np.floor(y1))
        box_ink = ink[r0 + 1 : r1, c0 + 1 : c1]  # the box less its outermost fringe
        assert box_ink.any(axis=1).all(), (name, q)  # ink on every row of the box
        assert box_ink.any(axis=0).all(), (name, q)  # and every column
        inside[r0 : r1 + 1, c0 : c1 + 1] = True
    # no pulse ink outside the boxes (but a faint anti-aliased fringe, at most 1 px out)
    assert ink.any() and not (diff[~inside] > 80).any()
    assert not ((diff > 8) & ~binary_dilation(inside, iterations=1)).any()


@pytest.mark.parametrize("name", STYLES)
def test_label_boxes_hold_the_label_text(pages, name):
    page = pages[name]
    dark = darkness(page.image) > 40
    labels = [t for t in page.texts if t.kind == "label"]
    assert len(labels) == len(page.leads)
    for lt, text in zip(page.leads, labels, strict=True):
        assert lt.label == text.text and lt.label_bbox == text.bbox
        assert lt.label.lstrip("-").casefold() == lt.lead.casefold()
        assert lt.label.startswith("-") == lt.inverted
        case = page.style.label_case
        if case == "upper":
            assert lt.label == lt.label.upper()
        x0, y0, x1, y1 = (int(round(v)) for v in lt.label_bbox)
        assert dark[y0 : y1 + 1, x0 : x1 + 1].sum() > 10, (name, lt.label)
    doc = page.to_json()
    assert [e["label"] for e in doc["leads"]] == [lt.label for lt in page.leads]


def test_pulse_boxes_are_exact_on_a_clean_page():
    style = Style(pulse_side="both", pulse_mv=2.0)
    layout = make_layout("3x4+II", **style.layout_options())
    page = render(builtin_record(0), layout, style)
    ppmm = layout.paper.px_per_mm
    half = max(1, int(round(style.pen_mm * ppmm))) / 2 + 1.0
    assert len(page.pulses) == 2 * 4
    for pulse, truth in zip(layout.pulses, page.pulses, strict=True):
        x0, y0, x1, y1 = (mm_to_px(v, ppmm) for v in pulse.box_mm)
        assert truth.bbox == pytest.approx((x0 - half, y0 - half, x1 + half, y1 + half))
        assert y1 - y0 == pytest.approx(2.0 * 10 * ppmm)  # 2 mV at 10 mm/mV


def test_pulse_boxes_follow_a_geometric_artifact(record):
    over = {"artifacts": {"rotation": {"probability": 1.0, "strength": 1.0}}}
    flat = make_sample(record, preset="cart_pulses_right", seed=3, overrides={"artifacts": {}})
    turned = make_sample(record, preset="cart_pulses_right", seed=3, overrides=over)
    assert [a["name"] for a in turned.parameters["artifacts"]][-1] == "rotation"
    dark = darkness(turned.image) > 40
    for p0, p1 in zip(flat.pulses, turned.pulses, strict=True):
        assert p1.bbox != p0.bbox  # the box moved with the paper
        x0, y0, x1, y1 = (int(round(v)) for v in p1.bbox)
        assert dark[y0 : y1 + 1, x0 : x1 + 1].sum() > 20


def test_separators_bars_gaps_and_none(record):
    layout = make_layout("3x4")
    ppmm = layout.paper.px_per_mm
    sx, sy0, sy1 = layout.separators[0]
    col = int(round(mm_to_px(sx, ppmm)))
    row_hi = int(round(mm_to_px(sy0 - 2.0, ppmm)))  # only a bar reaches this far up
    blue = (30, 60, 200)
    bar = render(record, layout, Style(grid="none", separator="bar", separator_rgb=blue))
    assert tuple(bar.image[row_hi, col]) == blue
    tick = render(record, layout, Style(grid="none"))
    assert tuple(tick.image[row_hi, col]) == (255, 255, 255)
    none = render(record, layout, Style(grid="none", separator="none"))
    row_tip = int(round(mm_to_px(sy0 + 0.5, ppmm)))
    assert tuple(tick.image[row_tip, col]) != (255, 255, 255)
    assert tuple(none.image[row_tip, col]) == (255, 255, 255)
    gap_style = Style(grid="none", separator="gap")
    gap = render(record, make_layout("3x4", **gap_style.layout_options()), gap_style)
    first = [lt for lt in gap.leads if lt.col == 0]
    assert all(np.nanmax(lt.x) < col - 2.0 * ppmm + 1 for lt in first)


def test_dotted_grid_has_dots_not_lines(record):
    layout = make_layout("3x4+II")
    lines = render(record, layout, Style(labels=False, header=False, footer=False))
    dots = render(record, layout, Style(grid_kind="dots", labels=False, header=False, footer=False))
    # a column between two 1-mm lines crosses horizontal lines, but no dots
    ppmm = layout.paper.px_per_mm
    x_mm = layout.grid_origin_mm[0] - 10.5  # left of the traces, in the pulse-free margin
    c = int(round(mm_to_px(x_mm, ppmm)))
    y0 = int(round(mm_to_px(layout.grid_box_mm[1] + 2, ppmm)))
    strip_lines = lines.image[y0 : y0 + 200, c]
    strip_dots = dots.image[y0 : y0 + 200, c]
    assert (strip_lines.min(axis=1) < 250).sum() > 20
    assert (strip_dots.min(axis=1) < 250).sum() == 0


def test_default_style_json_keeps_the_older_style_keys_and_adds_the_pulses(record):
    page = render(record, make_layout("3x4+II"))
    doc = page.to_json()
    assert set(doc["style"]) == {
        "grid",
        "grid_major_rgb",
        "grid_minor_rgb",
        "paper_rgb",
        "ink_rgb",
        "pen_mm",
        "minor_mm",
        "major_mm",
        "labels",
        "pulses",
        "separators",
        "header",
        "footer",
        "font",
        "font_mm",
    }
    assert len(page.pulses) == 4
    doc = page.to_json()
    assert [p["row"] for p in doc["pulses"]] == [0, 1, 2, 3]  # every page's JSON has its pulses
    assert all(p["side"] == "left" and p["mv"] == 1.0 for p in doc["pulses"])
    assert doc["layout"]["pulse_side"] == "left" and doc["layout"]["spacing"] == "snap"
