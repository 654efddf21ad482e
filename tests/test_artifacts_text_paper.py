import json
import re

import numpy as np
import pytest

import ecgkit.artifacts.handwriting  # noqa: F401  (registers the artifacts)
import ecgkit.artifacts.paper  # noqa: F401
import ecgkit.artifacts.text  # noqa: F401
from ecgkit.artifacts import REGISTRY, STAGES, artifact_names
from ecgkit.artifacts.handwriting import glyph_strokes, text_strokes
from ecgkit.generate.layout import make_layout
from ecgkit.generate.render import render
from ecgkit.generate.synth import builtin_record
from ecgkit.io import Record

INK = {"printed_text": "printed", "stamp": "stamp", "handwriting": "handwriting"}
OCCLUDING = {"holes", "torn_corner"}
PAPER = {"paper_tone", "fading", "stains", "spots", "holes", "torn_corner"}
# every registered artifact of these families (the registry, not a hand-kept list)
FAMILIES = ("text", "handwriting", "paper")
NAMES = sorted(n for n in artifact_names() if REGISTRY[n].family in FAMILIES)
STRENGTHS = (0.15, 0.6, 1.0)


@pytest.fixture(scope="module")
def page():
    return render(builtin_record(0), make_layout("3x4+II"))


@pytest.fixture(scope="module")
def plain_page():
    """A page whose record has no intervals or synthesis parameters (like a real record)."""
    rec = builtin_record(1)
    rec = Record(rec.signals, rec.fs, name="plain", metadata={"age": 64, "sex": "Female"})
    return render(rec, make_layout("6x2"))


def _snapshot(page):
    leads = [(lt.x.tobytes(), lt.y.tobytes(), lt.bbox, lt.label_bbox) for lt in page.leads]
    return page.image.tobytes(), page.mask.tobytes(), len(page.texts), leads


def _pixels(box, shape):
    """Row and column slices of the pixels whose centres lie in a box."""
    x0, y0, x1, y1 = box
    c0, r0 = max(int(np.ceil(x0)), 0), max(int(np.ceil(y0)), 0)
    c1, r1 = min(int(np.floor(x1)) + 1, shape[1]), min(int(np.floor(y1)) + 1, shape[0])
    return slice(r0, r1), slice(c0, c1)


def test_registered_with_their_stages():
    assert NAMES == sorted(INK.keys() | PAPER)  # a new one: say what it draws, above
    stages = {"printed_text": "print", "stamp": "print", "handwriting": "handwriting"}
    for name in NAMES:
        assert name in REGISTRY
        assert REGISTRY[name].stage == stages.get(name, "paper")
        assert REGISTRY[name].stage in STAGES


@pytest.mark.parametrize("strength", STRENGTHS)
@pytest.mark.parametrize("name", NAMES)
def test_draw_apply_contract(page, name, strength):
    art = REGISTRY[name]
    before = _snapshot(page)
    params = art.draw(np.random.default_rng(7), page, strength)
    # reproducible draw, JSON-able parameters that survive a round trip
    assert params == art.draw(np.random.default_rng(7), page, strength)
    text = json.dumps(params, allow_nan=False)
    out = art.apply(page, params)
    again = art.apply(page, json.loads(text))
    assert out.image.tobytes() == again.image.tobytes()
    assert [(t.text, t.bbox, t.kind) for t in out.texts] == [
        (t.text, t.bbox, t.kind) for t in again.texts
    ]
    # the input is untouched; the truth does not move; the image keeps its size and type
    assert _snapshot(page) == before
    assert out.image.shape == page.image.shape and out.image.dtype == np.uint8
    if name in ("holes", "torn_corner"):  # hidden ink leaves the mask, nothing else changes
        assert (out.mask <= page.mask).all() and (
            out.mask[out.mask > 0] == page.mask[out.mask > 0]
        ).all()
    else:
        assert out.mask is page.mask
    for a, b in zip(page.leads, out.leads, strict=True):
        assert np.array_equal(a.x, b.x, equal_nan=True) and np.array_equal(a.y, b.y, equal_nan=True)
        assert a.bbox == b.bbox and a.label_bbox == b.label_bbox
    assert out.texts[: len(page.texts)] == page.texts
    diff = np.any(out.image != page.image, axis=2)
    assert diff.any(), "nothing changed"


@pytest.mark.parametrize("strength", STRENGTHS)
@pytest.mark.parametrize("name", sorted(INK.keys() | OCCLUDING))
def test_boxes_cover_what_changed(page, name, strength):
    art = REGISTRY[name]
    h, w = page.image.shape[:2]
    for seed in range(3):
        out = art.apply(page, art.draw(np.random.default_rng(seed), page, strength))
        new = out.texts[len(page.texts) :]
        kind = INK.get(name, "occlusion")
        assert new, "no box recorded"
        assert all(t.kind == kind for t in new)
        diff = np.any(out.image != page.image, axis=2)
        covered = np.zeros_like(diff)
        for t in new:
            x0, y0, x1, y1 = t.bbox
            assert -0.5 <= x0 < x1 <= w - 0.5 and -0.5 <= y0 < y1 <= h - 0.5, t
            rows, cols = _pixels(t.bbox, diff.shape)
            assert diff[rows, cols].mean() > 0.01, f"{t} barely changed"
            covered[rows, cols] = True
        if name in INK:  # ink goes nowhere but inside its boxes
            assert not (diff & ~covered).any()
        else:
            assert (diff & ~covered).mean() < 0.01


def test_printed_text_uses_the_records_intervals(page):
    iv = page.record.metadata["intervals_ms"]
    art = REGISTRY["printed_text"]
    for seed in range(6):
        params = art.draw(np.random.default_rng(seed), page, 1.0)
        assert params["from_record"]
        assert params["values"]["QRS"] == round(iv["QRS"])
        assert params["values"]["rate"] == round(60000 / iv["RR"])
        out = art.apply(page, params)
        printed = [t.text for t in out.texts if t.kind == "printed"]
        found = [m for t in printed for m in re.findall(r"QRS(?:D| duration)?\s+(\d+)", t)]
        assert found and int(found[0]) == round(iv["QRS"]), printed
        qt = [m for t in printed for m in re.findall(r"QT(?:/QTc)?\s+(\d+)", t)]
        assert qt and int(qt[0]) == round(iv["QT"])


def test_printed_text_without_intervals_is_plausible(plain_page):
    art = REGISTRY["printed_text"]
    params = art.draw(np.random.default_rng(1), plain_page, 1.0)
    v = params["values"]
    assert not params["from_record"]
    assert 40 <= v["rate"] <= 130 and 60 <= v["QRS"] <= 140 and 300 <= v["QTc"] <= 500
    out = art.apply(plain_page, params)
    assert any(t.kind == "printed" for t in out.texts)


def test_printed_text_stays_off_the_traces(page):
    art = REGISTRY["printed_text"]
    for seed in range(5):
        out = art.apply(page, art.draw(np.random.default_rng(seed), page, 1.0))
        for t in out.texts[len(page.texts) :]:
            for lt in page.leads:
                x0, y0, x1, y1 = lt.bbox
                assert t.bbox[2] <= x0 or t.bbox[0] >= x1 or t.bbox[3] <= y0 or t.bbox[1] >= y1


def test_handwriting_font_has_every_character_used():
    for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789?!.,:;/-+=()'%#<>*":
        adv, strokes = glyph_strokes(ch)
        assert strokes, ch
        assert all(np.isfinite(s).all() and s.shape[1] == 2 for s in strokes)
        ys = np.concatenate(strokes)[:, 1]
        assert -4.5 <= ys.min() and ys.max() <= 11.0, ch
    strokes, width = text_strokes("repeat ECG", np.random.default_rng(0), jitter=1.0)
    assert width > 30 and len(strokes) > 10


def test_strength_scales_the_effect(page):
    for name in ("paper_tone", "fading", "stains"):
        art = REGISTRY[name]
        change = []
        for s in (0.1, 1.0):
            out = art.apply(page, art.draw(np.random.default_rng(3), page, s))
            change.append(np.abs(out.image.astype(int) - page.image).sum())
        assert change[0] < change[1], name
    counts = []
    for s in (0.0, 1.0):
        n = [
            len(REGISTRY["handwriting"].draw(np.random.default_rng(k), page, s)["items"])
            for k in range(8)
        ]
        counts.append(sum(n))
    assert counts[0] < counts[1]


@pytest.mark.parametrize("name", ["holes", "torn_corner"])
def test_occlusions_clear_the_lead_mask_where_the_ink_is_hidden(name):
    import ecgkit.artifacts.paper  # noqa: F401  (registers)
    from ecgkit.artifacts import REGISTRY
    from ecgkit.generate.layout import make_layout
    from ecgkit.generate.render import render
    from ecgkit.generate.synth import builtin_record

    page = render(builtin_record(0), make_layout("3x4+II", margin_mm=2, header_mm=4))
    art = REGISTRY[name]
    for seed in range(12):
        params = art.draw(np.random.default_rng(seed), page, 1.0)
        if name == "holes":  # punch one right through lead I's trace
            lt = page.leads[0]
            params["centres"] = [[float(lt.x[100]), float(lt.y[100])]]
        out = art.apply(page, params)
        assert (out.mask <= page.mask).all() and page.mask.any()
        if (out.mask != page.mask).any():
            assert page.mask is not out.mask
            return
    pytest.skip(f"no {name} over a trace in 12 draws")
