import numpy as np
import pytest

from ecgkit.artifacts import REGISTRY, STAGES, apply_artifacts, register, replay_artifacts
from ecgkit.artifacts.base import Artifact, HomographyMap, warp_page, with_image
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


class _Invert(Artifact):
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
    skipped, none = apply_artifacts(page, {"test_invert": {"probability": 0.0}},
                                    np.random.default_rng(3))  # fmt: skip
    assert none == [] and skipped is page


def test_unknown_artifact_and_bad_stage_are_refused(page):
    with pytest.raises(EcgkitError, match="unknown artifacts nosuch"):
        apply_artifacts(page, {"nosuch": {}}, np.random.default_rng(0))

    class Bad(_Invert):
        name, stage = "bad", "whenever"

    with pytest.raises(ValueError, match="stage"):
        register(Bad)
    assert "light" in STAGES
