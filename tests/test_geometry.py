"""ecgkit.geometry: the one coordinate convention, maps with inverses and composition, boxes."""

import numpy as np
import pytest

from ecgkit.artifacts.maps import CreaseMap, FastHomographyMap, GridDisplacementMap
from ecgkit.errors import EcgkitError
from ecgkit.geometry import (
    ComposedMap,
    HomographyMap,
    IdentityMap,
    InverseMap,
    clip_box,
    compose,
    image_corners,
    map_box,
    map_xy,
)

W, H = 300, 200
PROJECTIVE = np.array([[1.02, 0.03, 5.0], [-0.02, 0.98, -3.0], [1e-5, -2e-5, 1.0]])


def _maps():
    rng = np.random.default_rng(0)
    nodes = rng.normal(0, 1.5, (12, 16, 2)).astype(np.float32)
    hom = HomographyMap(PROJECTIVE)
    grid = GridDisplacementMap(nodes, (W, H))
    crease = CreaseMap([(1.0, 0.0, 150.0, 2.0, 6.0)], (W, H))
    return {
        "identity": IdentityMap(),
        "homography": hom,
        "fast_homography": FastHomographyMap(PROJECTIVE),
        "shift": HomographyMap.translation(3.25, -1.5),
        "scaling": HomographyMap.scaling(0.5, 0.75),
        "grid_displacement": grid,
        "crease": crease,
        "composed": compose(grid, hom, crease),
        "then": hom.then(grid),
        "inverse_map": hom.inverse_map(),
        "inverse_of_field": InverseMap(grid),
    }


MAPS = _maps()


@pytest.mark.parametrize("name", sorted(MAPS))
def test_inverse_undoes_forward(name):
    cmap = MAPS[name]
    p = np.random.default_rng(1).uniform([10, 10], [W - 10, H - 10], (500, 2))
    np.testing.assert_allclose(cmap.inverse(cmap.forward(p)), p, atol=1e-5)
    np.testing.assert_allclose(cmap.forward(cmap.inverse(p)), p, atol=1e-5)
    np.testing.assert_array_equal(cmap(p), cmap.forward(p))


@pytest.mark.parametrize("name", sorted(MAPS))
def test_inverse_grid_matches_inverse_on_pixel_centres(name):
    cmap = MAPS[name]
    mx, my = cmap.inverse_grid(W, H)
    assert mx.shape == my.shape == (H, W) and mx.dtype == np.float32
    ys, xs = np.mgrid[0:H, 0:W]
    ref = cmap.inverse(np.stack([xs.ravel(), ys.ravel()], 1).astype(float))
    np.testing.assert_allclose(np.stack([mx.ravel(), my.ravel()], 1), ref, atol=2e-3)


def test_composition_order_and_inverse():
    a, b = HomographyMap.translation(10.0, 0.0), HomographyMap.scaling(2.0, 2.0)
    p = np.array([[1.0, 1.0]])
    np.testing.assert_allclose(compose(a, b)(p), [[22.0, 2.0]])  # b(a(p))
    np.testing.assert_allclose(a.then(b)(p), b(a(p)))
    np.testing.assert_allclose(compose(a, b).inverse(p), a.inverse(b.inverse(p)))
    np.testing.assert_allclose(b.then(a)(p), [[12.0, 2.0]])
    # homographies fold into one matrix, the product written out by hand, to the bit
    c = HomographyMap(PROJECTIVE)
    m = compose(a, c, b)
    assert isinstance(m, HomographyMap)
    assert np.array_equal(m.matrix, b.matrix @ c.matrix @ a.matrix)
    # anything else chains; identities drop out; nested chains flatten
    grid = MAPS["grid_displacement"]
    chain = compose(IdentityMap(), a, grid, compose(grid, b))
    assert isinstance(chain, ComposedMap) and len(chain.maps) == 4
    assert isinstance(compose(IdentityMap(), c), HomographyMap)
    assert isinstance(compose(), IdentityMap)


def test_inverse_map_swaps_without_recomputing():
    h = HomographyMap(PROJECTIVE, size=(400, 300))
    inv = h.inverse_map(size=(W, H))
    assert np.array_equal(inv.matrix, h.inv) and np.array_equal(inv.inv, h.matrix)
    assert inv.output_size(400, 300) == (W, H) and h.output_size(W, H) == (400, 300)
    assert isinstance(MAPS["fast_homography"].inverse_map(), FastHomographyMap)
    grid = MAPS["grid_displacement"]
    assert grid.inverse_map().inverse_map() is grid


def test_output_size_of_a_composition():
    a = HomographyMap.scaling(0.5, 0.5, size=(150, 100))
    b = HomographyMap.translation(1.0, 1.0)
    assert compose(a, b).output_size(W, H) == (150, 100)
    assert compose(MAPS["grid_displacement"], a).output_size(W, H) == (150, 100)


@pytest.mark.parametrize("method", ["dlt", "affine"])
def test_estimate_recovers_a_known_matrix(method):
    truth = PROJECTIVE.copy()
    if method == "affine":
        truth[2] = [0.0, 0.0, 1.0]
    rng = np.random.default_rng(2)
    src = rng.uniform(0, 2000, (4 if method == "dlt" else 3, 2))
    dst = HomographyMap(truth).forward(src)
    est = HomographyMap.estimate(src, dst, method=method)
    np.testing.assert_allclose(est.matrix, truth, rtol=1e-6, atol=1e-9)
    assert est.residuals(src, dst).max() < 1e-6
    # many noisy points: least squares, small residuals
    src = rng.uniform(0, 2000, (200, 2))
    dst = HomographyMap(truth).forward(src) + rng.normal(0, 0.1, (200, 2))
    est = HomographyMap.estimate(src, dst, method=method)
    res = est.residuals(src, dst)
    assert res.shape == (200,) and res.mean() < 0.2
    np.testing.assert_allclose(est.forward(src), HomographyMap(truth).forward(src), atol=0.1)


def test_estimate_refuses_bad_input():
    src = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])  # collinear
    with pytest.raises(EcgkitError, match="collinear"):
        HomographyMap.estimate(src, src)
    with pytest.raises(EcgkitError, match="at least 4"):
        HomographyMap.estimate(src[:3], src[:3])
    with pytest.raises(ValueError, match="dlt, affine"):
        HomographyMap.estimate(src, src, method="ransac")
    with pytest.raises(ValueError, match="3x3"):
        HomographyMap(np.eye(2))


def test_boxes_move_exactly_with_a_shift_and_clip_to_the_image():
    shift = HomographyMap.translation(12.5, -4.0)
    assert map_box(shift, (10.0, 20.0, 50.0, 60.0), W, H) == (22.5, 16.0, 62.5, 56.0)
    assert map_box(shift, None, W, H) is None
    assert map_box(shift, (W + 10.0, 0.0, W + 20.0, 5.0), W, H) is None  # off the image
    assert map_box(shift, (280.0, -10.0, 299.0, 5.0), W, H) == (292.5, -0.5, W - 0.5, 1.0)
    assert clip_box((-3.0, 4.0, 400.0, 50.0), W, H) == (-0.5, 4.0, W - 0.5, 50.0)


def test_identity_and_the_pixel_convention():
    ident = IdentityMap()
    p = np.array([[0.0, 0.0], [W - 1.0, H - 1.0]])
    np.testing.assert_array_equal(ident(p), p)
    mx, my = ident.inverse_grid(4, 3)
    assert mx[2, 3] == 3 and my[2, 3] == 2  # image[y, x] is centred at (x, y)
    np.testing.assert_array_equal(
        image_corners(W, H), [[-0.5, -0.5], [W - 0.5, -0.5], [W - 0.5, H - 0.5], [-0.5, H - 0.5]]
    )
    x = np.array([1.0, np.nan, 3.0])
    y = np.array([2.0, 5.0, np.nan])
    nx, ny = map_xy(HomographyMap.translation(1.0, 1.0), x, y)
    np.testing.assert_array_equal(nx, [2.0, np.nan, np.nan])
    np.testing.assert_array_equal(ny, [3.0, np.nan, np.nan])


def test_the_old_homes_still_export_the_moved_names():
    from ecgkit.artifacts.base import CoordinateMap as BaseMap
    from ecgkit.artifacts.base import HomographyMap as BaseHomography
    from ecgkit.generate.render import Box as RenderBox
    from ecgkit.geometry import Box, CoordinateMap

    assert BaseMap is CoordinateMap and BaseHomography is HomographyMap and RenderBox == Box
