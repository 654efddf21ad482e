import json

import cv2
import numpy as np
import pytest

import ecgkit.artifacts.light  # noqa: F401  (registers the light family)
import ecgkit.artifacts.sensor  # noqa: F401  (registers the sensor family)
from ecgkit.artifacts import REGISTRY, STAGES, apply_artifacts, artifact_names, replay_artifacts
from ecgkit.artifacts.base import PhotometricArtifact, with_image
from ecgkit.artifacts.sensor import blur_kernel, downsample_matrix, jpeg_roundtrip
from ecgkit.generate.layout import make_layout
from ecgkit.generate.render import render
from ecgkit.generate.synth import builtin_record

EXPECTED = {
    "illumination": "light",
    "shadow": "light",
    "color_temperature": "light",
    "blur": "optics",
    "scanner_noise": "sensor",
    "camera_noise": "sensor",
    "downsample": "resample",
    "binarize": "output",
    "jpeg": "output",
    "imagekit_noise": "sensor",
    "imagekit_temperature": "sensor",
}
# every registered artifact of these families (the registry, not a hand-kept list)
NAMES = [n for n in artifact_names() if REGISTRY[n].family in ("light", "sensor")]
PHOTOMETRIC = [n for n in NAMES if isinstance(REGISTRY[n], PhotometricArtifact)]
STRENGTHS = (0.0, 0.4, 1.0)


@pytest.fixture(scope="module")
def page():
    return render(builtin_record(0), make_layout("3x4+II"))


def _draw(name, page, strength, seed=0):
    return REGISTRY[name].draw(np.random.default_rng(seed), page, strength)


def _truth_points(page):
    xs = np.concatenate([lt.x for lt in page.leads])
    ys = np.concatenate([lt.y for lt in page.leads])
    ok = np.isfinite(xs) & np.isfinite(ys)
    return np.rint(xs[ok]).astype(int), np.rint(ys[ok]).astype(int)


def test_registered_with_their_stages():
    assert sorted(NAMES) == sorted(EXPECTED)  # a new one needs its stage written down here
    assert [n for n in NAMES if n not in PHOTOMETRIC] == ["downsample"]
    for name, stage in EXPECTED.items():
        assert name in REGISTRY, name
        assert REGISTRY[name].stage == stage and stage in STAGES
        assert REGISTRY[name].family in ("light", "sensor")


@pytest.mark.parametrize("strength", STRENGTHS)
@pytest.mark.parametrize("name", NAMES)
def test_draw_is_reproducible_and_json(page, name, strength):
    a, b = _draw(name, page, strength, 7), _draw(name, page, strength, 7)
    assert a == b
    text = json.dumps(a, allow_nan=False)
    assert json.loads(text) == a  # plain lists, ints and floats only


@pytest.mark.parametrize("strength", STRENGTHS)
@pytest.mark.parametrize("name", NAMES)
def test_apply_is_pure_and_replayable(page, name, strength):
    before = page.image.copy()
    params = _draw(name, page, strength, 3)
    one = REGISTRY[name].apply(page, params)
    two = REGISTRY[name].apply(page, json.loads(json.dumps(params)))
    assert one.image.dtype == np.uint8 and one.image.ndim == 3 and one.image.shape[2] == 3
    assert one.image.flags.c_contiguous or one.image.flags.f_contiguous
    assert np.array_equal(one.image, two.image)
    assert np.array_equal(page.image, before)  # the input page is not touched
    if name in PHOTOMETRIC:
        assert one.image.shape == page.image.shape


@pytest.mark.parametrize("strength", (0.5, 1.0))
@pytest.mark.parametrize("name", PHOTOMETRIC)
def test_photometric_keep_truth_and_ink_stays_dark(page, name, strength):
    for seed in range(3):
        out = REGISTRY[name].apply(page, _draw(name, page, strength, seed))
        for a, b in zip(page.leads, out.leads, strict=True):
            assert np.array_equal(a.x, b.x, equal_nan=True)
            assert np.array_equal(a.y, b.y, equal_nan=True)
            assert a.bbox == b.bbox and a.label_bbox == b.label_bbox
            assert a.baseline_y == b.baseline_y
        assert [t.bbox for t in out.texts] == [t.bbox for t in page.texts]
        assert np.array_equal(out.corners, page.corners)
        assert np.array_equal(out.mask, page.mask)
        assert out.px_per_mm == page.px_per_mm
        lum = out.image.astype(np.float32).mean(axis=2)
        cols, rows = _truth_points(out)
        ink, paper = lum[rows, cols].mean(), np.median(lum)
        assert ink < paper - 40, (name, seed, ink, paper)


@pytest.mark.parametrize("name", NAMES)
def test_strength_zero_is_nearly_identity(page, name):
    for seed in range(3):
        out = REGISTRY[name].apply(page, _draw(name, page, 0.0, seed))
        assert out.image.shape == page.image.shape
        diff = np.abs(out.image.astype(np.int16) - page.image).mean()
        if name == "binarize":  # strength 0: the page only turns grey
            grey = cv2.cvtColor(cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
            assert np.abs(out.image.astype(np.int16) - grey).mean() < 0.5
        elif name == "jpeg":  # quality 95; 4:2:0 greys thin red lines a little
            assert diff < 5.0
        else:
            assert diff < 0.5, (name, diff)


@pytest.mark.parametrize("name", PHOTOMETRIC)
def test_stronger_changes_more(page, name):
    def change(strength):
        diffs = []
        for seed in range(4):
            out = REGISTRY[name].apply(page, _draw(name, page, strength, seed))
            diffs.append(np.abs(out.image.astype(np.int16) - page.image).mean())
        return np.mean(diffs)

    assert change(1.0) > change(0.2)


@pytest.mark.parametrize("strength", (0.3, 1.0))
@pytest.mark.parametrize("seed", (0, 1, 2))
def test_downsample_scales_image_truth_and_resolution(page, strength, seed):
    params = _draw("downsample", page, strength, seed)
    f = params["factor"]
    assert 1 - 0.5 * strength - 1e-9 <= f <= 1 - 0.1 * strength + 1e-9
    out = REGISTRY["downsample"].apply(page, params)
    h, w = page.image.shape[:2]
    assert out.image.shape == (round(h * f), round(w * f), 3)
    assert out.mask.shape == out.image.shape[:2]
    assert out.px_per_mm == pytest.approx(page.px_per_mm * f, rel=1e-12)
    dark = 255 - out.image.max(axis=2).astype(int)
    for a, b in zip(page.leads, out.leads, strict=True):
        np.testing.assert_allclose(b.x, (a.x + 0.5) * f - 0.5, rtol=0, atol=1e-9)
        np.testing.assert_allclose(b.y, (a.y + 0.5) * f - 0.5, rtol=0, atol=1e-9)
        assert b.baseline_y == pytest.approx((a.baseline_y + 0.5) * f - 0.5)
        assert b.px_per_second == pytest.approx(a.px_per_second * f)
        ok = np.isfinite(b.x)
        cols, rows = np.rint(b.x[ok]).astype(int), np.rint(b.y[ok]).astype(int)
        assert (dark[rows, cols] > 60).mean() >= 0.95, b.lead
    np.testing.assert_allclose(out.corners, (page.corners + 0.5) * f - 0.5, atol=1e-9)
    # the image still covers exactly [-0.5, W' - 0.5] where W' = W f
    np.testing.assert_allclose(downsample_matrix(f) @ [-0.5, -0.5, 1], [-0.5, -0.5, 1])


@pytest.mark.parametrize("quality", (95, 60, 25))
@pytest.mark.parametrize("subsampling", ("420", "444"))
def test_jpeg_quality_and_size(page, quality, subsampling):
    out = REGISTRY["jpeg"].apply(page, {"quality": quality, "subsampling": subsampling})
    assert out.image.shape == page.image.shape and out.image.dtype == np.uint8
    assert np.array_equal(out.image, jpeg_roundtrip(page.image, quality, subsampling))
    ok, buf = cv2.imencode(".jpg", page.image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok and cv2.imdecode(buf, cv2.IMREAD_COLOR).shape == page.image.shape


def test_jpeg_quality_follows_strength(page):
    assert _draw("jpeg", page, 0.0)["quality"] == 95
    qs = [_draw("jpeg", page, 1.0, s)["quality"] for s in range(20)]
    assert all(20 <= q <= 30 for q in qs)
    err = {
        q: np.abs(jpeg_roundtrip(page.image, q).astype(int) - page.image).mean() for q in (95, 25)
    }
    assert err[25] > err[95]


def test_blur_kernels_have_the_stated_moments():
    r = 4.0
    k = blur_kernel("defocus", r).astype(np.float64)
    c = np.arange(k.shape[0]) - k.shape[0] // 2
    assert k.sum() == pytest.approx(1.0, abs=1e-6)
    assert (k.sum(axis=0) * c**2).sum() == pytest.approx(r * r / 4, rel=0.05)
    length = 7.0
    k = blur_kernel("motion", length, angle=0.0).astype(np.float64)
    c = np.arange(k.shape[0]) - k.shape[0] // 2
    assert (k.sum(axis=0) * c**2).sum() == pytest.approx(length**2 / 12, rel=0.1)
    assert (k.sum(axis=1) * c**2).sum() < 0.05  # horizontal: no vertical spread
    with pytest.raises(ValueError, match="defocus, motion"):
        blur_kernel("box", 2.0)


def test_blur_scales_with_resolution(page):
    sig = [_draw("blur", page, 1.0, s)["sigma"] for s in range(20)]
    assert 1.4 < np.median(sig) < 2.6  # about 2 px at 200 DPI
    big = with_image(page, page.image)
    big.px_per_mm = page.px_per_mm * 2
    sig2 = [_draw("blur", big, 1.0, s)["sigma"] for s in range(20)]
    np.testing.assert_allclose(sig2, np.asarray(sig) * 2, rtol=1e-5)
    with pytest.raises(ValueError, match="gaussian, defocus, motion"):
        REGISTRY["blur"].apply(page, {"kind": "box", "sigma": 2.0, "size": 2.0, "angle": 0.0})


def test_large_blur_on_a_reduced_copy_matches_direct(page):
    # kernels of many taps run on a reduced copy: close to a direct convolution
    from ecgkit.artifacts.sensor import _convolve

    crop = page.image[400:700, 300:800].copy()
    for kind, size, angle in (("defocus", 5.0, 0.0), ("motion", 9.0, 0.785), ("motion", 9.0, 0.0)):
        fast = _convolve(crop, kind, size, angle).astype(float)
        slow = cv2.filter2D(
            crop, -1, blur_kernel(kind, size, angle), borderType=cv2.BORDER_REFLECT
        ).astype(float)
        effect = np.abs(slow - crop).mean()
        assert np.abs(fast - slow).mean() < 0.15 * effect, (kind, angle)
        if angle == 0.0 and kind == "motion":  # a horizontal line: few taps, direct
            assert np.array_equal(fast, slow)


def test_light_bounds_on_a_white_page(page):
    white = with_image(page, np.full_like(page.image, 255))
    for seed in range(10):
        params = _draw("illumination", white, 1.0, seed)
        params["glare"] = 0.0
        out = REGISTRY["illumination"].apply(white, params).image
        assert out.min() >= 0.6 * 255 - 1 and out.max() >= 250  # <= 40 % darker, best lit ~ 1
        out = REGISTRY["shadow"].apply(white, _draw("shadow", white, 1.0, seed)).image
        assert out.min() >= 0.55 * 255 - 1
        dark = out.astype(int).sum(axis=2) < 3 * 254
        if dark.any():  # bluish: blue darkened least inside the shadow
            assert out[dark][:, 2].mean() > out[dark][:, 0].mean()


def test_colour_cast_warm_and_cool(page):
    casts = [_draw("color_temperature", page, 1.0, s) for s in range(30)]
    warm = [c for c in casts if c["kelvin"] < 6000]
    cool = [c for c in casts if c["kelvin"] > 7000]
    assert warm and cool
    assert all(c["gains"][0] > c["gains"][2] for c in warm)
    assert all(c["gains"][2] > c["gains"][0] for c in cool)


def test_binarize_is_black_and_white_at_full_strength(page):
    for seed in range(4):
        params = _draw("binarize", page, 1.0, seed)
        out = REGISTRY["binarize"].apply(page, params).image
        assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 0], out[..., 2])
        if params["hardness"] >= 30:  # a fax: (almost) only black and white
            extreme = (out[..., 0] < 40) | (out[..., 0] > 215)
            assert extreme.mean() > 0.97


def test_noise_seed_changes_noise_only(page):
    params = _draw("camera_noise", page, 1.0, 0)
    a = REGISTRY["camera_noise"].apply(page, params).image
    b = REGISTRY["camera_noise"].apply(page, {**params, "seed": params["seed"] + 1}).image
    assert not np.array_equal(a, b)
    assert abs(a.astype(float).mean() - b.astype(float).mean()) < 0.2


def test_pipeline_with_these_artifacts_replays_exactly(page):
    config = {name: {"probability": 1.0, "strength": {"min": 0.3, "max": 0.8}} for name in NAMES}
    out, applied = apply_artifacts(page, config, np.random.default_rng(11))
    assert sorted(a["name"] for a in applied) == sorted(NAMES)
    ranks = [STAGES[EXPECTED[a["name"]]] for a in applied]
    assert ranks == sorted(ranks)
    json.dumps(applied, allow_nan=False)
    again = replay_artifacts(page, json.loads(json.dumps(applied)))
    assert np.array_equal(out.image, again.image)
    f = next(a["params"]["factor"] for a in applied if a["name"] == "downsample")
    assert out.image.shape[:2] == (round(page.height * f), round(page.width * f))
