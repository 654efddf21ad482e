import json

import cv2
import numpy as np
import pytest

from ecgkit.artifacts import REGISTRY, STAGES, geometric_names
from ecgkit.artifacts.base import warp_page
from ecgkit.artifacts.geometry import Perspective, Rotation
from ecgkit.artifacts.maps import CreaseMap, GridDisplacementMap, bilinear_resize_at
from ecgkit.artifacts.textures import BACKGROUNDS, make_background
from ecgkit.generate.layout import Paper, make_layout
from ecgkit.generate.render import render
from ecgkit.generate.synth import builtin_record
from ecgkit.io import LEADS

# every registered artifact of the geometry family (the registry, not a hand-kept list)
NAMES = [n for n in geometric_names() if REGISTRY[n].family == "geometry"]
# those that bend the paper in place (the same size; nearly nothing at strength 0)
IN_PLACE = [n for n in NAMES if REGISTRY[n].stage == "fold" or n == "rotation"]
FOLDS = [n for n in NAMES if REGISTRY[n].stage == "fold"]
STRENGTHS = [0.0, 0.5, 1.0]


@pytest.fixture(scope="module")
def page():
    return render(builtin_record(0), make_layout("3x4+II"))


def drawn(name, page, strength, seed=0):
    return REGISTRY[name].draw(np.random.default_rng(seed), page, strength)


@pytest.fixture(scope="module")
def applied(page):
    """Every artifact applied once per strength (they take ~50 ms each)."""
    out = {}
    for name in NAMES:
        for s in STRENGTHS:
            params = drawn(name, page, s, seed=11)
            out[name, s] = (params, REGISTRY[name].apply(page, params))
    return out


def test_registered_with_stages():
    stages = {n: REGISTRY[n].stage for n in NAMES}
    assert stages == {
        "rotation": "capture",
        "page_turn": "capture",
        "perspective": "capture",
        "curl": "fold",
        "wrinkles": "fold",
        "creases": "fold",
        "imagekit_rotation": "capture",
        "imagekit_crop": "sensor",
        "imagekit_wrinkles": "fold",
        "imagekit_creases": "fold",
    }
    assert all(REGISTRY[n].family == "geometry" and REGISTRY[n].stage in STAGES for n in NAMES)


def test_bilinear_points_match_cv2_resize():
    rng = np.random.default_rng(1)
    nodes = rng.normal(0, 3, (13, 17, 2)).astype(np.float32)
    size = (200, 150)
    ys, xs = np.mgrid[0:150, 0:200]
    pts = np.stack([xs.ravel(), ys.ravel()], 1).astype(float)
    val, grad = bilinear_resize_at(nodes, size, pts, gradient=True)
    for k in range(2):
        ref = cv2.resize(np.ascontiguousarray(nodes[:, :, k]), size, interpolation=cv2.INTER_LINEAR)
        np.testing.assert_allclose(val[:, k].reshape(150, 200), ref, atol=1e-4)
    # the analytic gradient is the derivative (away from cell edges), also off the grid
    p = rng.uniform(-20, 220, (300, 2))
    v0, g = bilinear_resize_at(nodes, size, p, gradient=True)
    for j, e in enumerate(np.eye(2) * 1e-6):
        fd = (bilinear_resize_at(nodes, size, p + e)[0] - v0) / 1e-6
        assert np.median(np.abs(fd - g[:, :, j])) < 1e-4


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("strength", STRENGTHS)
def test_inverse_undoes_forward_and_matches_the_pixel_grid(page, name, strength):
    art = REGISTRY[name]
    cmap = art.coordinate_map(page, drawn(name, page, strength, seed=5))
    h, w = page.image.shape[:2]
    rng = np.random.default_rng(2)
    p = rng.uniform([-0.5, -0.5], [w - 0.5, h - 0.5], (2000, 2))
    assert np.abs(cmap.inverse(cmap.forward(p)) - p).max() < 0.01
    ow, oh = cmap.output_size(w, h)
    q = rng.uniform([-0.5, -0.5], [ow - 0.5, oh - 0.5], (2000, 2))
    assert np.abs(cmap.forward(cmap.inverse(q)) - q).max() < 0.01
    # the image is warped through inverse_grid: it must agree with inverse on pixel centres
    mx, my = cmap.inverse_grid(ow, oh)
    cols, rows = rng.integers(0, ow, 3000), rng.integers(0, oh, 3000)
    ref = cmap.inverse(np.stack([cols, rows], 1).astype(float))
    grid = np.stack([mx[rows, cols], my[rows, cols]], 1)
    assert np.abs(grid - ref).max() < 0.01


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("strength", STRENGTHS)
def test_ink_and_mask_lie_under_the_mapped_truth(page, applied, name, strength):
    out = applied[name, strength][1]
    oh, ow = out.image.shape[:2]
    dark = 255 - out.image.max(axis=2).astype(int)
    hits = on_mask = total = 0
    for lt in out.leads:
        ok = np.isfinite(lt.x) & np.isfinite(lt.y)
        cols, rows = np.rint(lt.x[ok]).astype(int), np.rint(lt.y[ok]).astype(int)
        inside = (cols >= 0) & (cols < ow) & (rows >= 0) & (rows < oh)
        cols, rows = cols[inside], rows[inside]
        hits += int((dark[rows, cols] > 100).sum())
        on_mask += int((out.mask[rows, cols] == LEADS.index(lt.lead) + 1).sum())
        total += len(cols)
    assert total > 10000
    assert hits / total >= 0.99
    assert on_mask / total >= 0.9
    assert out.mask.shape == (oh, ow)


@pytest.mark.parametrize("name", NAMES)
def test_apply_is_pure_and_draw_reproducible(page, applied, name):
    params, out = applied[name, 1.0]
    before = page.image.copy()
    again = REGISTRY[name].apply(page, json.loads(json.dumps(params, allow_nan=False)))
    assert np.array_equal(page.image, before)  # the input page is untouched
    assert out.image.tobytes() == again.image.tobytes()
    assert np.array_equal(out.mask, again.mask)
    assert drawn(name, page, 1.0, seed=11) == params
    # another seed draws other values (a few tries: page_turn has only three to choose from)
    assert any(drawn(name, page, 1.0, seed=s) != params for s in range(12, 20))
    for lt, lt2 in zip(out.leads, again.leads, strict=True):
        np.testing.assert_array_equal(lt.x, lt2.x)


@pytest.mark.parametrize("name", IN_PLACE)
def test_strength_zero_is_nearly_identity(page, applied, name):
    out = applied[name, 0.0][1]
    assert out.image.shape == page.image.shape
    assert np.abs(out.image.astype(int) - page.image).mean() < 0.5
    for lt, ref in zip(out.leads, page.leads, strict=True):
        ok = np.isfinite(ref.x)
        assert np.abs(lt.x[ok] - ref.x[ok]).max() < 0.01
        assert np.abs(lt.y[ok] - ref.y[ok]).max() < 0.01


def test_rotation_moves_corners_and_fills_with_the_lid(page, applied):
    params, out = applied["rotation", 1.0]
    h, w = page.image.shape[:2]
    m = Rotation.matrix(params, w, h)
    hom = np.c_[page.corners, np.ones(4)] @ m.T
    np.testing.assert_allclose(out.corners, hom[:, :2] / hom[:, 2:], atol=1e-9)
    assert abs(params["angle_deg"]) <= 6 and out.image.shape == page.image.shape
    # the scanner lid shows where the rotated page does not reach
    assert params["angle_deg"] != 0
    assert (out.image == params["fill_rgb"]).all(axis=2).mean() > 0.001


@pytest.mark.parametrize("strength", STRENGTHS)
def test_perspective_corners_land_on_the_quad(page, applied, strength):
    params, out = applied["perspective", strength]
    quad = np.asarray(params["quad"])
    np.testing.assert_allclose(out.corners, quad, atol=1e-6)
    cw, ch = params["canvas"]
    assert out.image.shape == (ch, cw, 3) and cw > page.width and ch > page.height
    assert (quad >= -0.5).all() and (quad[:, 0] <= cw - 0.5).all() and (quad[:, 1] <= ch).all()
    # convex, in order (top-left, top-right, bottom-right, bottom-left: clockwise on screen)
    edges = np.roll(quad, -1, 0) - quad
    cross = edges[:, 0] * np.roll(edges, -1, 0)[:, 1] - edges[:, 1] * np.roll(edges, -1, 0)[:, 0]
    assert (cross > 0).all()
    # the desk shows around the page
    mask = np.zeros((ch, cw), np.uint8)
    cv2.fillPoly(mask, [np.rint(quad).astype(np.int32)], 1)
    assert mask.mean() < 0.97
    outside = out.image[mask == 0]
    assert np.abs(outside.astype(int) - 255).max() > 20  # not white paper


def test_backgrounds_are_seeded_textures():
    base = {
        "light_rgb": [180, 130, 90],
        "dark_rgb": [120, 80, 50],
        "seed": 3,
        "angle_deg": 20.0,
        "period_px": 20.0,
        "shadow": 0.2,
        "shadow_dir": [0.6, 0.8],
    }
    for kind in BACKGROUNDS:
        a = make_background({**base, "kind": kind}, 400, 300)
        b = make_background({**base, "kind": kind}, 400, 300)
        c = make_background({**base, "kind": kind, "seed": 4}, 400, 300)
        assert a.shape == (300, 400, 3) and a.dtype == np.uint8
        assert np.array_equal(a, b) and not np.array_equal(a, c)
        assert a.std() > 1.0  # a texture, not a flat colour
    with pytest.raises(ValueError, match="wood"):
        make_background({**base, "kind": "carpet"}, 40, 30)


@pytest.mark.parametrize("name", FOLDS)
def test_fold_corners_stay_near_and_shading_is_photometric(page, applied, name):
    params, out = applied[name, 1.0]
    assert np.abs(out.corners - page.corners).max() < 0.25 * page.width
    # shading never moves the truth: the same map without shading gives the same points
    cmap = REGISTRY[name].coordinate_map(page, params)
    bare = warp_page(page, cmap)
    for lt, lt2 in zip(out.leads, bare.leads, strict=True):
        np.testing.assert_array_equal(lt.x, lt2.x)
    assert not np.array_equal(out.image, bare.image)  # but it does change the pixels


@pytest.mark.parametrize("seed", range(6))
def test_displacements_stay_gentle_enough_to_invert(page, seed):
    """|grad u| < 0.5 keeps each map one-to-one and forward's Newton solve quick."""
    for name in ("curl", "wrinkles"):
        cmap = REGISTRY[name].coordinate_map(page, drawn(name, page, 1.0, seed))
        assert isinstance(cmap, GridDisplacementMap)
        assert cmap.max_slope() < 0.5
    cmap = REGISTRY["creases"].coordinate_map(page, drawn("creases", page, 1.0, seed))
    assert isinstance(cmap, CreaseMap)
    q = np.random.default_rng(seed).uniform(0, page.width, (20000, 2))
    jac = cmap.offset(q, jacobian=True)[1]
    assert np.abs(jac).max() < 0.5
    if cmap.folds:  # the fold's whole step is somewhere
        f = cmap.folds[0]
        s = np.linspace(-3 * f[4], 3 * f[4], 601)
        line = np.c_[f[0] * (s + f[2]), f[1] * (s + f[2])]
        u = cmap.offset(line)[0] @ np.array(f[:2])
        assert abs((u.max() - u.min()) - abs(f[3])) < 0.1 * abs(f[3]) + 0.05


def test_perspective_matrix_maps_outline_to_quad(page):
    params = drawn("perspective", page, 0.8, seed=3)
    h, w = page.image.shape[:2]
    m = Perspective.matrix(params, w, h)
    src = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    hom = np.c_[src, np.ones(4)] @ m.T
    np.testing.assert_allclose(hom[:, :2] / hom[:, 2:], params["quad"], atol=1e-6)


def test_forward_refuses_a_map_that_folds_over():
    nodes = np.zeros((10, 10, 2), np.float32)
    nodes[:, ::2, 0] = 30.0  # slope 3: not one-to-one
    cmap = GridDisplacementMap(nodes, (100, 100))
    with pytest.raises(RuntimeError, match="did not converge"):
        cmap.forward(np.random.default_rng(0).uniform(0, 99, (50, 2)))


@pytest.mark.parametrize("name", NAMES)
def test_other_paper_and_resolution(name):
    small = render(builtin_record(1), make_layout("12x1", paper=Paper("a4", "portrait", 100)))
    out = REGISTRY[name].apply(small, drawn(name, small, 1.0, seed=2))
    dark = 255 - out.image.max(axis=2).astype(int)
    oh, ow = dark.shape
    hits = total = 0
    for lt in out.leads:
        ok = np.isfinite(lt.x)
        cols, rows = np.rint(lt.x[ok]).astype(int), np.rint(lt.y[ok]).astype(int)
        inside = (cols >= 0) & (cols < ow) & (rows >= 0) & (rows < oh)
        hits += int((dark[rows[inside], cols[inside]] > 100).sum())
        total += int(inside.sum())
    assert total > 5000 and hits / total >= 0.99


@pytest.mark.parametrize("k", [1, 2, 3])
def test_page_turn_is_exact_and_turns_the_truth(page, k):
    out = REGISTRY["page_turn"].apply(page, {"quarter_turns": k})
    np.testing.assert_array_equal(out.image, np.rot90(page.image, -k))  # clockwise, no resampling
    h, w = page.image.shape[:2]
    lt, lo = page.leads[0], out.leads[0]
    ok = np.isfinite(lt.x)
    x, y = lt.x[ok], lt.y[ok]
    want = {1: (h - 1 - y, x), 2: (w - 1 - x, h - 1 - y), 3: (y, w - 1 - x)}[k]
    np.testing.assert_allclose(lo.x[ok], want[0], atol=1e-9)
    np.testing.assert_allclose(lo.y[ok], want[1], atol=1e-9)
