import json

import cv2
import numpy as np
import pytest

from ecgkit.artifacts import (
    REGISTRY,
    STAGES,
    apply_artifacts,
    artifact_names,
    geometric_names,
    photometric_names,
    register,
    replay_artifacts,
)
from ecgkit.artifacts.base import (
    Artifact,
    GeometricArtifact,
    HomographyMap,
    PhotometricArtifact,
    warp_page,
    with_image,
)
from ecgkit.errors import EcgkitError
from ecgkit.generate.layout import make_layout
from ecgkit.generate.render import render
from ecgkit.generate.synth import builtin_record
from ecgkit.io import LEADS


@pytest.fixture(scope="module")
def page():
    return render(builtin_record(0), make_layout("3x4+II"))


def rotation(deg: float, w: int, h: int, scale: float = 1.0) -> np.ndarray:
    c, s = np.cos(np.radians(deg)) * scale, np.sin(np.radians(deg)) * scale
    cx, cy = (w - 1) / 2, (h - 1) / 2
    return np.array([[c, -s, cx - c * cx + s * cy], [s, c, cy - s * cx - c * cy], [0, 0, 1]])


def test_homography_inverse_undoes_forward():
    m = np.array([[1.02, 0.03, 5.0], [-0.02, 0.98, -3.0], [1e-5, -2e-5, 1.0]])
    cmap = HomographyMap(m)
    p = np.random.default_rng(0).uniform(0, 2000, (500, 2))
    np.testing.assert_allclose(cmap.inverse(cmap(p)), p, atol=1e-9)
    gx, gy = cmap.inverse_grid(40, 30)
    ref = cmap.inverse(np.stack(np.meshgrid(np.arange(40.0), np.arange(30.0)), -1).reshape(-1, 2))
    np.testing.assert_allclose(np.stack([gx.ravel(), gy.ravel()], 1), ref, atol=1e-3)


def test_warping_moves_ink_and_truth_together(page):
    h, w = page.image.shape[:2]
    warped = warp_page(page, HomographyMap(rotation(4.0, w, h, 0.9)))
    dark = 255 - warped.image.max(axis=2).astype(int)
    for lt in warped.leads:
        ok = np.isfinite(lt.x)
        cols, rows = np.rint(lt.x[ok]).astype(int), np.rint(lt.y[ok]).astype(int)
        assert (dark[rows, cols] > 100).mean() > 0.99, lt.lead
        k = LEADS.index(lt.lead) + 1
        assert (warped.mask[rows, cols] == k).mean() > 0.9
    # boxes and corners moved too; the input page is untouched
    assert warped.corners[0, 0] > 0 and page.corners[0, 0] == -0.5
    assert warped.leads[0].bbox != page.leads[0].bbox


class _Invert(PhotometricArtifact):
    name, family, stage = "test_invert", "test", "light"

    def draw(self, rng, page, strength):
        return {"amount": round(float(rng.uniform(0, strength)), 6)}

    def apply(self, page, params):
        img = page.image.astype(float) * (1 - params["amount"])
        return with_image(page, img.astype(np.uint8))


@pytest.fixture
def invert():
    register(_Invert)
    yield
    REGISTRY.pop("test_invert")


def test_pipeline_records_and_replays_exactly(page, invert):
    config = {"test_invert": {"probability": 1.0, "strength": {"min": 0.2, "max": 0.4}}}
    out, applied = apply_artifacts(page, config, np.random.default_rng(3))
    assert applied[0]["name"] == "test_invert" and 0.2 <= applied[0]["strength"] <= 0.4
    again = replay_artifacts(page, applied)
    assert np.array_equal(out.image, again.image)
    skipped, none = apply_artifacts(
        page, {"test_invert": {"probability": 0.0}}, np.random.default_rng(3)
    )
    assert none == [] and skipped is page


def test_unknown_artifact_and_bad_stage_are_refused(page):
    with pytest.raises(EcgkitError, match="unknown artifacts nosuch"):
        apply_artifacts(page, {"nosuch": {}}, np.random.default_rng(0))

    class Bad(_Invert):
        name, stage = "bad", "whenever"

    with pytest.raises(ValueError, match="stage"):
        register(Bad)
    assert "light" in STAGES

    class Plain(Artifact):  # neither geometric nor photometric: no contract to test it by
        name, family, stage = "plain", "test", "light"

        def draw(self, rng, page, strength):
            return {}

        def apply(self, page, params):
            return page

    with pytest.raises(TypeError, match="GeometricArtifact"):
        register(Plain)
    assert "plain" not in REGISTRY


# --------------------------------------------------------------------------------------------
# the contract, over every registered artifact (a new one cannot escape it)

STRENGTH = 0.8


@pytest.fixture(scope="module")
def applied(page):
    """Every registered artifact drawn and applied once (cached for the tests below)."""
    cache = {}

    def get(name):
        if name not in cache:
            params = REGISTRY[name].draw(np.random.default_rng(9), page, STRENGTH)
            cache[name] = (params, REGISTRY[name].apply(page, params))
        return cache[name]

    return get


def test_every_artifact_is_geometric_or_photometric():
    names = artifact_names()
    geo, photo = set(geometric_names()), set(photometric_names())
    assert geo | photo == set(names) and not geo & photo
    assert {"rotation", "perspective", "curl", "wrinkles", "creases", "downsample"} <= geo
    for name in names:
        art = REGISTRY[name]
        assert isinstance(art, GeometricArtifact) != isinstance(art, PhotometricArtifact)
        assert art.kind == ("geometric" if name in geo else "photometric")
        assert art.stage in STAGES and art.family


@pytest.mark.parametrize("name", artifact_names())
def test_every_artifact_replays_from_its_params_byte_for_byte(page, applied, name):
    art = REGISTRY[name]
    before = (page.image.tobytes(), page.mask.tobytes(), [lt.x.tobytes() for lt in page.leads])
    params, out = applied(name)
    assert params == art.draw(np.random.default_rng(9), page, STRENGTH)  # reproducible draw
    again = art.apply(page, json.loads(json.dumps(params, allow_nan=False)))
    assert out.image.dtype == np.uint8 and out.image.ndim == 3 and out.image.shape[2] == 3
    assert out.image.tobytes() == again.image.tobytes()
    assert out.mask.tobytes() == again.mask.tobytes()
    for a, b in zip(out.leads, again.leads, strict=True):
        assert a.x.tobytes() == b.x.tobytes() and a.y.tobytes() == b.y.tobytes()
        assert a.bbox == b.bbox and a.label_bbox == b.label_bbox
    assert [t.bbox for t in out.texts] == [t.bbox for t in again.texts]
    assert np.array_equal(out.corners, again.corners)
    # the input page is untouched
    assert before == (
        page.image.tobytes(),
        page.mask.tobytes(),
        [lt.x.tobytes() for lt in page.leads],
    )


@pytest.mark.parametrize("name", photometric_names())
def test_every_photometric_artifact_leaves_the_truth_where_it_was(page, applied, name):
    out = applied(name)[1]
    assert out.image.shape == page.image.shape
    for a, b in zip(page.leads, out.leads, strict=True):
        assert np.array_equal(a.x, b.x, equal_nan=True) and np.array_equal(a.y, b.y, equal_nan=True)
        assert a.bbox == b.bbox and a.label_bbox == b.label_bbox
        assert a.baseline_y == b.baseline_y
    assert out.texts[: len(page.texts)] == page.texts
    assert np.array_equal(out.corners, page.corners)
    assert out.px_per_mm == page.px_per_mm
    # the lead mask only loses ink that is hidden (holes, torn corners)
    assert (out.mask <= page.mask).all()
    assert (out.mask[out.mask > 0] == page.mask[out.mask > 0]).all()


@pytest.mark.parametrize("name", geometric_names())
def test_every_geometric_artifact_moves_the_truth_through_its_map(page, applied, name):
    from ecgkit.geometry import map_xy

    params, out = applied(name)
    cmap = REGISTRY[name].coordinate_map(page, params)
    h, w = page.image.shape[:2]
    assert out.image.shape[:2] == cmap.output_size(w, h)[::-1] == out.mask.shape
    for a, b in zip(page.leads, out.leads, strict=True):
        x, y = map_xy(cmap, a.x, a.y)
        np.testing.assert_allclose(b.x, x, rtol=0, atol=1e-9)
        np.testing.assert_allclose(b.y, y, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out.corners, cmap.forward(page.corners), rtol=0, atol=1e-9)
    # the map is invertible where the page is
    p = np.random.default_rng(2).uniform([-0.5, -0.5], [w - 0.5, h - 0.5], (2000, 2))
    assert np.abs(cmap.inverse(cmap.forward(p)) - p).max() < 0.01


@pytest.mark.parametrize("name", geometric_names())
def test_every_geometric_artifact_keeps_the_ink_under_the_mapped_truth(applied, name):
    out = applied(name)[1]
    gray8 = cv2.cvtColor(out.image, cv2.COLOR_RGB2GRAY)
    local = cv2.medianBlur(gray8, 15).astype(np.float32)  # the paper around each point
    gray = gray8.astype(np.float32)
    oh, ow = gray.shape
    hits = total = 0
    for lt in out.leads:
        ok = np.isfinite(lt.x) & np.isfinite(lt.y)
        cols, rows = np.rint(lt.x[ok]).astype(int), np.rint(lt.y[ok]).astype(int)
        inside = (cols >= 0) & (cols < ow) & (rows >= 0) & (rows < oh)
        cols, rows = cols[inside], rows[inside]
        hits += int((gray[rows, cols] < local[rows, cols] - 20).sum())
        total += len(cols)
    assert total > 10000
    assert hits / total >= 0.97, (name, hits / total)
