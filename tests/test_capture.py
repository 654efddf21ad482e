"""Phone photos as they are taken: steep angles, surfaces, fingers, glare, screens, damage."""

import json

import cv2
import numpy as np
import pytest

from ecgkit.artifacts import REGISTRY, artifact_names, geometric_names, photometric_names
from ecgkit.artifacts.textures import BACKGROUND_COLOURS, PHOTO_BACKGROUNDS, make_background
from ecgkit.generate import generate, make_sample
from ecgkit.generate.batch import replay_sample
from ecgkit.generate.layout import make_layout
from ecgkit.generate.presets import list_presets, load_preset
from ecgkit.generate.render import render
from ecgkit.generate.synth import builtin_record

NEW = (
    "phone_perspective",
    "screen_perspective",
    "tear",
    "finger",
    "flash_glare",
    "screen_moire",
    "low_resolution",
    "mould",
    "heavy_stains",
)
PRESETS = ("phone_photo", "screen_photo")


@pytest.fixture(scope="module")
def page():
    return render(builtin_record(0), make_layout("3x4+II"))


@pytest.fixture(scope="module")
def photo(page):
    """The page photographed at a steep angle (what finger, tear and glare are applied to)."""
    art = REGISTRY["phone_perspective"]
    return art.apply(page, art.draw(np.random.default_rng(1), page, 0.9))


def _apply(name, src, seed=0, strength=1.0):
    art = REGISTRY[name]
    params = art.draw(np.random.default_rng(seed), src, strength)
    return params, art.apply(src, params)


def test_registered_in_their_stages():
    names = artifact_names()
    assert set(NEW) <= set(names)
    geo = {"phone_perspective", "screen_perspective", "low_resolution"}
    assert geo <= set(geometric_names())
    assert set(NEW) - geo <= set(photometric_names())
    # tear and finger come after the page is placed in the photo, glare after the lighting
    assert names.index("phone_perspective") < names.index("tear") < names.index("finger")
    assert names.index("illumination") < names.index("flash_glare")
    assert names.index("screen_moire") < names.index("screen_perspective")


@pytest.mark.parametrize("name", NEW)
def test_same_seed_same_bytes_and_json_replay(page, photo, name):
    src = photo if name in ("tear", "finger", "flash_glare") else page
    params, out = _apply(name, src, seed=4)
    again = REGISTRY[name].apply(src, json.loads(json.dumps(params, allow_nan=False)))
    assert out.image.tobytes() == again.image.tobytes()
    assert out.mask.tobytes() == again.mask.tobytes()
    assert params == REGISTRY[name].draw(np.random.default_rng(4), src, 1.0)
    assert not np.array_equal(out.image, src.image) if out.image.shape == src.image.shape else True


def test_phone_perspective_reaches_35_degrees(page):
    art = REGISTRY["phone_perspective"]
    tilts = [art.draw(np.random.default_rng(s), page, 1.0)["tilt_deg"] for s in range(40)]
    assert max(tilts) > 30 and max(tilts) <= 35
    assert max(REGISTRY["perspective"].draw(np.random.default_rng(0), page, 1.0)["quad"][0]) > 0
    kinds = {art.draw(np.random.default_rng(s), page, 0.5)["background"]["kind"] for s in range(60)}
    assert {"chair", "bedsheet", "plaid", "clipboard"} <= kinds


def test_every_background_is_made_and_replays():
    quad = np.array([[60, 50], [330, 40], [340, 250], [50, 260]], float)
    for kind in PHOTO_BACKGROUNDS:
        light, dark = BACKGROUND_COLOURS[kind][0]
        params = {
            "kind": kind,
            "light_rgb": list(light),
            "dark_rgb": list(dark),
            "seed": 3,
            "angle_deg": 20.0,
            "period_px": 8.0,
            "shadow": 0.2,
            "shadow_dir": [0.6, 0.8],
        }
        a = make_background(params, 400, 300, quad)
        assert a.shape == (300, 400, 3) and a.dtype == np.uint8
        assert np.array_equal(a, make_background(params, 400, 300, quad))
        assert a.std() > 1.0, kind


def test_finger_covers_an_edge_and_nothing_else(photo):
    params, out = _apply("finger", photo, seed=2)
    diff = np.any(out.image != photo.image, axis=2)
    box = out.texts[-1]
    assert box.kind == "occlusion" and box.text == "finger"
    x0, y0, x1, y1 = box.bbox
    inside = np.zeros_like(diff)
    inside[max(int(y0) - 60, 0) : int(y1) + 61, max(int(x0) - 60, 0) : int(x1) + 61] = True
    assert diff.any() and not (diff & ~inside).any()  # only around the finger (and shadow)
    # the box reaches over the paper's edge it was drawn at
    from ecgkit.artifacts.capture import _edge

    a, t, n, length = _edge(photo, params["edge"])
    p = a + t * params["position"] * length
    assert x0 - 5 <= p[0] <= x1 + 5 and y0 - 5 <= p[1] <= y1 + 5
    assert (out.mask <= photo.mask).all()


def test_flash_glare_brightens_and_washes_out_ink(photo):
    params, out = _apply("flash_glare", photo, seed=1)
    cx, cy = (int(round(v)) for v in params["centre"])
    r = int(params["radius"] * 0.3)
    core = out.image[cy - r : cy + r, cx - r : cx + r].astype(int)
    before = photo.image[cy - r : cy + r, cx - r : cx + r].astype(int)
    assert core.mean() > before.mean() and core.min() > 200
    assert out.image.astype(int).sum() > photo.image.astype(int).sum()
    assert out.texts[-1].kind == "occlusion"


def test_tear_shows_the_surface_and_clears_the_mask(photo):
    _, out = _apply("tear", photo, seed=0)
    assert out.texts[-1].text == "tear"
    x0, y0, x1, y1 = (int(round(v)) for v in out.texts[-1].bbox)
    crop = out.image[y0:y1, x0:x1].astype(int)
    # some of the white paper is now the darker surface under it
    assert (crop.mean(axis=2) < 160).sum() > (
        photo.image[y0:y1, x0:x1].astype(int).mean(axis=2) < 160
    ).sum() + 100
    assert (out.mask <= photo.mask).all()


def test_screen_moire_adds_periodic_energy(page):
    params, out = _apply("screen_moire", page, seed=3)
    pitch = params["pitch"]
    row = out.image[300:340, 200:1800, 1].astype(float).mean(axis=0)
    clean = page.image[300:340, 200:1800, 1].astype(float).mean(axis=0)

    def power_at(sig, period):
        spec = np.abs(np.fft.rfft(sig - sig.mean())) ** 2
        freqs = np.fft.rfftfreq(len(sig))
        near = np.abs(freqs - 1 / period) < 0.02 / period + 1 / len(sig)
        return spec[near].max()

    assert power_at(row, pitch) > 20 * (power_at(clean, pitch) + 1)


def test_low_resolution_goes_down_to_about_700_px(page):
    sizes = []
    for s in range(20):
        _, out = _apply("low_resolution", page, seed=s)
        sizes.append(max(out.image.shape[:2]))
        assert out.px_per_mm < page.px_per_mm
    assert 700 <= min(sizes) < 800 and max(sizes) <= 2200


@pytest.mark.parametrize("name", ["mould", "heavy_stains"])
def test_damage_darkens_but_keeps_the_truth(page, name):
    _, out = _apply(name, page, seed=5)
    assert out.image.astype(int).sum() < page.image.astype(int).sum()
    assert out.mask is page.mask and out.texts == page.texts
    if name == "mould":  # greenish-grey: green darkened no more than red
        d = page.image.astype(int) - out.image.astype(int)
        changed = d.sum(axis=2) > 30
        assert changed.any() and d[changed, 1].mean() <= d[changed, 0].mean() + 5


@pytest.mark.parametrize("name", PRESETS)
def test_new_presets_render_and_keep_the_ink_under_the_truth(name):
    assert name in list_presets() and load_preset(name).description
    page = make_sample(builtin_record(2), preset=name, seed=3)
    applied = [a["name"] for a in page.parameters["artifacts"]]
    assert set(applied) <= set(load_preset(name).artifacts)
    gray8 = cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
    gray, local = gray8.astype(np.float32), cv2.medianBlur(gray8, 15).astype(np.float32)
    h, w = gray.shape
    covered = np.zeros((h, w), bool)
    for t in page.texts:
        if t.kind in ("printed", "handwriting", "stamp", "occlusion"):
            x0, y0, x1, y1 = (int(round(v)) for v in t.bbox)
            covered[max(y0 - 3, 0) : y1 + 4, max(x0 - 3, 0) : x1 + 4] = True
    hits = total = 0
    for lt in page.leads:
        ok = np.isfinite(lt.x) & (lt.x >= 0) & (lt.x <= w - 1) & (lt.y >= 0) & (lt.y <= h - 1)
        cols, rows = np.rint(lt.x[ok]).astype(int), np.rint(lt.y[ok]).astype(int)
        keep = ~covered[rows, cols]
        hits += int((gray[rows[keep], cols[keep]] < local[rows[keep], cols[keep]] - 20).sum())
        total += int(keep.sum())
    assert total > 5000 and hits / total > 0.9, (name, applied, hits / total)


@pytest.mark.parametrize("name", PRESETS)
def test_new_presets_replay_byte_for_byte(tmp_path, name):
    generate(out_dir=tmp_path / "a", synthetic=1, preset=name, seed=5)
    sample = next((tmp_path / "a").glob("*.json"))
    replay_sample(sample, tmp_path / "b")
    for f in (tmp_path / "a").iterdir():
        if f.name == "manifest.csv":
            continue
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name
