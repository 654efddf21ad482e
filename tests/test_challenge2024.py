"""The challenge2024 preset draws ECG-Image-Kit's augmentation: its ranges and distributions."""

import json

import numpy as np
import pytest

from ecgkit.artifacts import REGISTRY, GeometricArtifact, artifact_names, replay_artifacts
from ecgkit.artifacts.imagekit import KELVIN_TO_RGB, kelvin_multiplier
from ecgkit.generate import make_sample_pair
from ecgkit.generate.layout import make_layout
from ecgkit.generate.presets import load_preset
from ecgkit.generate.render import render
from ecgkit.generate.sample import encode_image, sample_json
from ecgkit.generate.synth import builtin_record
from ecgkit.io import LEADS

N_DRAWS = 300
AUGMENT = ("imagekit_rotation", "imagekit_noise", "imagekit_crop", "imagekit_temperature")


@pytest.fixture(scope="module")
def page():
    return render(builtin_record(0), make_layout("3x4+II"))


@pytest.fixture(scope="module")
def draws(page):
    """The preset's artifacts drawn (not applied) for many images, as apply_artifacts draws."""
    config = load_preset("challenge2024").artifacts
    out = {name: [] for name in config}
    for seed in range(N_DRAWS):
        rng = np.random.default_rng(seed)
        for name in artifact_names():
            if name not in config:
                continue
            spec = config[name]
            happens = rng.random() < spec["probability"]
            s = spec["strength"]
            u = float(rng.random())
            strength = s["min"] + (s["max"] - s["min"]) * u if isinstance(s, dict) else float(s)
            own = np.random.default_rng(int(rng.integers(2**63)))
            if happens:
                out[name].append(REGISTRY[name].draw(own, page, strength))
    return out


def test_preset_uses_ecg_image_kit_augmentation():
    preset = load_preset("challenge2024")
    assert preset.version >= 2
    for name in AUGMENT:  # --augment: every image, at ECG-Image-Kit's own values
        assert preset.artifacts[name] == {"probability": 1.0, "strength": 1.0}
    for name in ("rotation", "color_temperature", "scanner_noise"):
        assert name not in preset.artifacts


def test_rotation_is_whole_degrees_within_five(draws):
    angles = [d["angle_deg"] for d in draws["imagekit_rotation"]]
    assert len(angles) == N_DRAWS
    assert all(a == int(a) and -5 <= a <= 5 for a in angles)
    counts = np.bincount(np.asarray(angles, int) + 5, minlength=11)
    assert (counts > 0).all()  # every value of randint(-5, 5) is reached
    assert counts.max() < 3 * N_DRAWS / 11  # and none dominates (uniform)


def test_noise_sigma_is_a_whole_number_from_1_to_50(draws):
    sig = np.array([d["sigma"] for d in draws["imagekit_noise"]])
    assert len(sig) == N_DRAWS
    assert (sig == np.rint(sig)).all() and sig.min() >= 1 and sig.max() <= 50
    assert sig.min() <= 3 and sig.max() >= 48
    assert abs(sig.mean() - 25.5) < 3  # uniform over 1..50
    assert len(set(sig.tolist())) > 40


def test_temperature_only_in_ecg_image_kit_ranges(draws):
    ks = np.array([d["kelvin"] for d in draws["imagekit_temperature"]])
    assert len(ks) == N_DRAWS
    low = (ks >= 2000) & (ks < 4000)
    high = (ks >= 10000) & (ks < 20000)
    assert (low | high).all()
    assert 0.4 < low.mean() < 0.6  # each range half the time
    assert ks[low].min() < 2300 and ks[low].max() > 3700
    assert ks[high].min() < 11500 and ks[high].max() > 18500
    for d in draws["imagekit_temperature"][:20]:  # strength 1: imgaug's multiplier itself
        np.testing.assert_allclose(d["multiplier"], kelvin_multiplier(d["kelvin"]), atol=1e-6)


def test_crop_is_at_most_one_percent(draws):
    c = np.array([d["fraction"] for d in draws["imagekit_crop"]])
    assert len(c) == N_DRAWS
    assert c.min() >= 0 and c.max() <= 0.01
    assert abs(c.mean() - 0.005) < 0.001  # uniform(0, 0.01)


def test_wrinkles_and_creases_frequency_and_strength(draws):
    for name in ("imagekit_wrinkles", "imagekit_creases"):
        frac = len(draws[name]) / N_DRAWS
        assert abs(frac - 0.3) < 0.08, (name, frac)
    shade = np.array([d["shade"] + d["crumple"] for d in draws["imagekit_wrinkles"]])
    assert 0.15 < shade.mean() < 0.25  # white paper about 0.8 on average, as ECG-Image-Kit's
    for d in draws["imagekit_creases"]:
        folds = d["folds"]
        assert 0 <= d["angle_deg"] <= 90 and 2 <= len(folds) <= 20


def test_kelvin_table_is_imgaugs():
    assert KELVIN_TO_RGB.shape == (391, 3)
    rows = {1000: (255, 56, 0), 2000: (255, 137, 18), 6500: (255, 249, 253)}
    rows |= {10000: (204, 219, 255), 20000: (168, 197, 255), 40000: (155, 188, 255)}
    for k, rgb in rows.items():
        np.testing.assert_allclose(kelvin_multiplier(k) * 255, rgb)
    # linear between rows, clipped outside 1000-40000 K
    np.testing.assert_allclose(
        kelvin_multiplier(2050), (kelvin_multiplier(2000) + kelvin_multiplier(2100)) / 2
    )
    np.testing.assert_allclose(kelvin_multiplier(500), kelvin_multiplier(1000))


def test_temperature_multiplies_rgb(page):
    art = REGISTRY["imagekit_temperature"]
    params = {"kelvin": 2000, "multiplier": [float(v) for v in kelvin_multiplier(2000)]}
    out = art.apply(page, params).image
    white = page.image.min(axis=2) == 255
    assert np.array_equal(out[white][0], [255, 137, 18])


def test_rotation_corners_black_and_canvas_kept(page):
    art = REGISTRY["imagekit_rotation"]
    out = art.apply(page, {"degrees": 5, "angle_deg": 5.0})
    assert out.image.shape == page.image.shape
    assert (out.image[0, 0] == 0).all() and (out.image[-1, -1] == 0).all()


@pytest.fixture(scope="module")
def samples():
    rec = builtin_record(3)
    return [make_sample_pair(rec, preset="challenge2024", seed=s) for s in range(3)]


def test_truth_stays_on_the_ink(samples):
    for clean, page in samples:
        applied = page.parameters["artifacts"]
        assert [a["name"] for a in applied][-4:] == list(AUGMENT)
        # the truth lies on the lead's mask in the sample itself
        oh, ow = page.mask.shape
        on = total = 0
        for lt in page.leads:
            ok = np.isfinite(lt.x) & np.isfinite(lt.y)
            cols, rows = np.rint(lt.x[ok]).astype(int), np.rint(lt.y[ok]).astype(int)
            inside = (cols >= 0) & (cols < ow) & (rows >= 0) & (rows < oh)
            on += int((page.mask[rows[inside], cols[inside]] == LEADS.index(lt.lead) + 1).sum())
            total += int(inside.sum())
        assert total > 10000 and on / total > 0.9
        # and on dark ink once the pixel-only artifacts (noise, colour) are left out
        moved = [a for a in applied if isinstance(REGISTRY[a["name"]], GeometricArtifact)]
        geo = replay_artifacts(clean, moved)
        dark = 255 - geo.image.max(axis=2).astype(int)
        hits = total = 0
        for lt, ref in zip(geo.leads, page.leads, strict=True):
            np.testing.assert_array_equal(lt.x, ref.x)
            ok = np.isfinite(lt.x) & np.isfinite(lt.y)
            cols, rows = np.rint(lt.x[ok]).astype(int), np.rint(lt.y[ok]).astype(int)
            inside = (cols >= 0) & (cols < ow) & (rows >= 0) & (rows < oh)
            hits += int((dark[rows[inside], cols[inside]] > 100).sum())
            total += int(inside.sum())
        assert hits / total >= 0.98


def test_replay_from_json_is_byte_identical(samples):
    for clean, page in samples:
        params = json.loads(sample_json(page))["parameters"]
        again = replay_artifacts(clean, params["artifacts"])
        assert encode_image(again.image) == encode_image(page.image)
        for a, b in zip(again.leads, page.leads, strict=True):
            assert a.x.tobytes() == b.x.tobytes() and a.y.tobytes() == b.y.tobytes()
