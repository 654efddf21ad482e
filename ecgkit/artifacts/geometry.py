"""Geometric artifacts: the paper's shape and how it is captured.

* ``curl`` (fold): an edge or corner curls up, or the page is bowed, with its shading;
* ``wrinkles`` (fold): crumpled paper, a smooth displacement of a few pixels, soft undulation
  and faceted crease shading;
* ``creases`` (fold): straight folds (halves, thirds, quarters of a letter), a small step
  across each and a shaded groove;
* ``rotation`` (capture): a flatbed scan of a handled printout, rotated, skewed, shifted, the
  uncovered border showing the scanner lid;
* ``perspective`` (capture): a phone photo of the page lying on a procedural desk (wood,
  table, cloth), keystoned by a hand-held camera.

Every artifact here builds a :class:`~ecgkit.artifacts.base.CoordinateMap`
(``coordinate_map(page, params)``) and applies it with
:func:`~ecgkit.artifacts.base.warp_page`, so the image, the lead mask and every ground-truth
point, box and paper corner move together. Shading (darker where the paper turns away from the
light) is photometric: it multiplies the warped image and never moves the truth.

Maps given as a displacement are defined on the OUTPUT grid: ``inverse(q) = q + u(q)``, so the
image is warped in closed form, and ``forward`` solves ``q + u(q) = p`` by Newton's method
(``|grad u| < 0.5`` keeps it a well-posed, quickly converging problem). Smooth fields are held
as a grid of nodes a few pixels apart; the image is warped through
``cv2.resize(..., INTER_LINEAR)`` of that grid and points through the very same bilinear
interpolant (:func:`bilinear_resize_at`), so the pixels and the truth agree to about 1e-5 px.

Coordinates follow :mod:`ecgkit.generate.layout`: points ``(x, y)``, pixel centres at integers.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ecgkit.artifacts import register
from ecgkit.artifacts.base import Artifact, CoordinateMap, HomographyMap, warp_page, with_image
from ecgkit.generate.render import Page

__all__ = [
    "BACKGROUNDS",
    "CreaseMap",
    "Creases",
    "Curl",
    "GridDisplacementMap",
    "OffsetMap",
    "Perspective",
    "Rotation",
    "Wrinkles",
    "bilinear_resize_at",
    "node_positions",
    "make_background",
]

_REF_PPMM = 200 / 25.4  # the resolution the pixel amounts below are quoted at
_MAX_SLOPE = 0.45  # bound on |grad u| of the displacement fields: one-to-one, forward converges


def _r(x: float, nd: int = 6) -> float:
    """A float rounded for the JSON parameters."""
    return round(float(x), nd)


# --------------------------------------------------------------------------- interpolation


def bilinear_resize_at(
    nodes: np.ndarray, size: tuple[int, int], points: np.ndarray, *, gradient: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Evaluate ``cv2.resize(nodes, size, interpolation=cv2.INTER_LINEAR)`` at arbitrary points.

    Parameters
    ----------
    nodes : numpy.ndarray
        ``(h, w, k)`` grid.
    size : tuple of int
        ``(width, height)`` of the full-size image the grid is resized to.
    points : numpy.ndarray
        ``(N, 2)`` points ``(x, y)`` in full-size pixel coordinates (anywhere: the grid's
        border is replicated, as OpenCV does).
    gradient : bool
        Also return the derivatives with respect to ``x`` and ``y``.

    Returns
    -------
    values : numpy.ndarray
        ``(N, k)``.
    grad : numpy.ndarray or None
        ``(N, k, 2)``: d/dx and d/dy (None unless ``gradient``).
    """
    return _Bilinear(nodes, size)(points, gradient=gradient)


class _Bilinear:
    """:func:`bilinear_resize_at` with the padded float64 grid prepared once."""

    def __init__(self, nodes: np.ndarray, size: tuple[int, int]) -> None:
        gh, gw, k = nodes.shape
        # one replicated node around the grid: every cell then has 4 valid corners
        padded = np.pad(np.asarray(nodes, np.float64), ((1, 1), (1, 1), (0, 0)), mode="edge")
        self.flat = padded.reshape(-1, k)
        self.gw, self.gh, self.stride = gw, gh, gw + 2
        self.sx, self.sy = gw / size[0], gh / size[1]

    def __call__(self, points: np.ndarray, *, gradient: bool = False,
                 ) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
        p = np.asarray(points, dtype=np.float64)
        # grid coordinates, shifted by the padding and clamped into it (the replicated border:
        # there both corners of a cell are equal, so the value is the edge's, the slope 0)
        hx, hy = self.gw + 1 - 1e-9, self.gh + 1 - 1e-9
        fx = np.minimum(np.maximum(p[:, 0] * self.sx + (0.5 * self.sx + 0.5), 0.0), hx)
        fy = np.minimum(np.maximum(p[:, 1] * self.sy + (0.5 * self.sy + 0.5), 0.0), hy)
        ix, iy = np.floor(fx), np.floor(fy)
        tx, ty = (fx - ix)[:, None], (fy - iy)[:, None]
        i00 = iy.astype(np.intp) * self.stride + ix.astype(np.intp)
        i01, i10 = i00 + 1, i00 + self.stride
        i11 = i10 + 1
        flat = self.flat
        c00, c01, c10, c11 = flat[i00], flat[i01], flat[i10], flat[i11]
        dtop, dbot = c01 - c00, c11 - c10
        top = c00 + dtop * tx
        bottom = c10 + dbot * tx
        dy = bottom - top
        val = top + dy * ty
        if not gradient:
            return val, None
        dx = (dtop + (dbot - dtop) * ty) * self.sx
        return val, np.stack([dx, dy * self.sy], axis=-1)


def node_positions(n: int, full: int) -> np.ndarray:
    """Full-size pixel coordinate of each of ``n`` grid nodes (``cv2.resize``'s convention).

    Parameters
    ----------
    n : int
        Nodes along the axis.
    full : int
        Pixels along the axis of the full-size image.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` float coordinates.
    """
    return (np.arange(n, dtype=np.float64) + 0.5) * (full / n) - 0.5


def _grid_shape(width: int, height: int, spacing: float) -> tuple[int, int]:
    """``(w, h)`` of a grid with about ``spacing`` pixels between nodes."""
    return max(4, math.ceil(width / spacing)), max(4, math.ceil(height / spacing))


# --------------------------------------------------------------------------- maps


class OffsetMap(CoordinateMap):
    """A map given on the output grid: ``inverse(q) = q + u(q)``.

    Subclasses implement :meth:`offset` (``u`` and its Jacobian); :meth:`forward` solves
    ``q + u(q) = p`` by Newton's method (to 1e-7 px, at most 30 steps; 2 or 3 when
    ``|grad u| < 0.5``) and raises ``RuntimeError`` if it does not converge.
    """

    tol: float = 1e-7
    max_iter: int = 30

    def offset(self, points: np.ndarray, *, jacobian: bool = False) -> tuple[np.ndarray, Any]:
        """Displacement ``u`` at output points, and optionally its ``(N, 2, 2)`` Jacobian.

        Parameters
        ----------
        points : numpy.ndarray
            ``(N, 2)`` output points.
        jacobian : bool
            Also return ``du_i/dx_j`` as ``(N, 2, 2)``.

        Returns
        -------
        tuple
            ``(u, jac)``, ``jac`` None unless asked for.
        """
        raise NotImplementedError

    def inverse(self, points: np.ndarray) -> np.ndarray:
        """Map output points to input points: ``q + u(q)``."""
        q = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return q + self.offset(q)[0]

    def forward(self, points: np.ndarray) -> np.ndarray:
        """Map input points to output points (Newton's method on ``q + u(q) = p``)."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        q = p - self.offset(p)[0]
        for _ in range(self.max_iter):
            u, jac = self.offset(q, jacobian=True)
            res = q + u - p
            if len(res) == 0 or np.abs(res).max() <= self.tol:
                break
            a, b = 1.0 + jac[:, 0, 0], jac[:, 0, 1]
            c, d = jac[:, 1, 0], 1.0 + jac[:, 1, 1]
            det = a * d - b * c
            q[:, 0] -= (d * res[:, 0] - b * res[:, 1]) / det
            q[:, 1] -= (a * res[:, 1] - c * res[:, 0]) / det
        else:
            err = float(np.abs(q + self.offset(q)[0] - p).max())
            if not err <= 1e-4:
                raise RuntimeError(f"{type(self).__name__}.forward did not converge ({err} px)")
        return q


class GridDisplacementMap(OffsetMap):
    """``inverse(q) = q + u(q)`` with ``u`` the bilinear resize of a grid of nodes.

    Parameters
    ----------
    nodes : numpy.ndarray
        ``(h, w, 2)`` displacement ``(ux, uy)`` at the nodes (``cv2.resize``'s placement, see
        :func:`node_positions`), in output pixels.
    size : tuple of int
        ``(width, height)`` of the image (input and output have the same size).
    """

    def __init__(self, nodes: np.ndarray, size: tuple[int, int]) -> None:
        self.nodes = np.ascontiguousarray(nodes, dtype=np.float32)
        self.size = (int(size[0]), int(size[1]))
        self._planes = [np.ascontiguousarray(self.nodes[:, :, k]) for k in range(2)]
        self._interp = _Bilinear(self.nodes, self.size)

    def offset(self, points: np.ndarray, *, jacobian: bool = False) -> tuple[np.ndarray, Any]:
        """Bilinear displacement at output points (and its Jacobian)."""
        return self._interp(points, gradient=jacobian)

    def inverse_grid(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """``cv2.resize`` of the nodes plus the pixel grid (the same interpolant as points)."""
        if (width, height) != self.size:
            raise ValueError(f"map made for {self.size}, asked for {(width, height)}")
        mx = cv2.resize(self._planes[0], (width, height), interpolation=cv2.INTER_LINEAR)
        my = cv2.resize(self._planes[1], (width, height), interpolation=cv2.INTER_LINEAR)
        mx += np.arange(width, dtype=np.float32)[None, :]
        my += np.arange(height, dtype=np.float32)[:, None]
        return mx, my

    def max_slope(self) -> float:
        """Largest slope of the node field between neighbours: bounds ``|du_i/dx_j|``."""
        w, h = self.size
        gh, gw = self.nodes.shape[:2]
        sx, sy = w / gw, h / gh
        n = self.nodes.astype(np.float64)
        dx = np.abs(np.diff(n, axis=1)).max(initial=0.0) / sx
        dy = np.abs(np.diff(n, axis=0)).max(initial=0.0) / sy
        return float(max(dx, dy))


class _FastHomography(HomographyMap):
    """A :class:`HomographyMap` whose pixel grid is computed in float32 by broadcasting."""

    def inverse_grid(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Closed form of the inverse on the pixel grid (float32, about 1e-4 px)."""
        m = self.inv
        xs = np.arange(width, dtype=np.float64)
        ys = np.arange(height, dtype=np.float64)

        def plane(r: int) -> np.ndarray:
            row = (m[r, 0] * xs + m[r, 2]).astype(np.float32)[None, :]
            col = (m[r, 1] * ys).astype(np.float32)[:, None]
            return row + col

        mx, my = plane(0), plane(1)
        if abs(m[2, 0]) + abs(m[2, 1]) > 0 or m[2, 2] != 1.0:
            w = plane(2)
            cv2.divide(mx, w, dst=mx)
            cv2.divide(my, w, dst=my)
        return mx, my


def _smoothstep(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """C1 step from 0 (t <= -1) to 1 (t >= 1) and its derivative."""
    s = np.clip((t + 1.0) * 0.5, 0.0, 1.0)
    return s * s * (3.0 - 2.0 * s), np.where((t > -1) & (t < 1), 3.0 * s * (1.0 - s), 0.0)


class CreaseMap(OffsetMap):
    """Straight folds: a smoothed step of the paper across each fold line.

    ``u(q) = A q + b + sum_k a_k n_k S((n_k . q - c_k) / w_k)`` with ``S`` a C1 smooth step;
    the affine part keeps the paper's edges where they were (each fold takes up ``a_k`` px of
    paper, spread evenly over the page).

    Parameters
    ----------
    folds : list of tuple
        ``(nx, ny, c, a, w)`` per fold: unit normal, offset, step (px), half-width (px).
    size : tuple of int
        ``(width, height)``.
    """

    def __init__(self, folds: list[tuple[float, float, float, float, float]],
                 size: tuple[int, int]) -> None:  # fmt: skip
        self.folds = [tuple(float(v) for v in f) for f in folds]
        self.size = (int(size[0]), int(size[1]))
        w, h = self.size
        corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
        lin = np.zeros((2, 2))
        const = np.zeros(2)
        for nx, ny, _c, a, _w in self.folds:
            n = np.array([nx, ny])
            proj = corners @ n
            lo, hi = proj.min(), proj.max()
            # ramp from 0 at the low edge to 1 at the high edge, subtracted from the step
            lin -= a * np.outer(n, n) / (hi - lo)
            const += a * n * lo / (hi - lo)
        self.lin, self.const = lin, const

    def offset(self, points: np.ndarray, *, jacobian: bool = False) -> tuple[np.ndarray, Any]:
        """Displacement (and Jacobian) at output points."""
        q = np.asarray(points, dtype=np.float64)
        u = q @ self.lin.T + self.const
        jac = np.broadcast_to(self.lin, (len(q), 2, 2)).copy() if jacobian else None
        for nx, ny, c, a, w in self.folds:
            s, ds = _smoothstep((q[:, 0] * nx + q[:, 1] * ny - c) / w)
            u[:, 0] += a * nx * s
            u[:, 1] += a * ny * s
            if jac is not None:
                k = a * ds / w
                jac[:, 0, 0] += k * nx * nx
                jac[:, 0, 1] += k * nx * ny
                jac[:, 1, 0] += k * ny * nx
                jac[:, 1, 1] += k * ny * ny
        return u, jac

    def inverse_grid(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """The affine part by broadcasting, each fold's step only in the slab it changes."""
        xs = np.arange(width, dtype=np.float64)
        ys = np.arange(height, dtype=np.float64)
        lin, const = self.lin, self.const
        mx = ((1 + lin[0, 0]) * xs + const[0]).astype(np.float32)[None, :] + (
            lin[0, 1] * ys).astype(np.float32)[:, None]  # fmt: skip
        my = (lin[1, 0] * xs + const[1]).astype(np.float32)[None, :] + (
            (1 + lin[1, 1]) * ys).astype(np.float32)[:, None]  # fmt: skip
        for nx, ny, c, a, w in self.folds:
            for region, s in _fold_slabs(nx, ny, c, w, width, height):
                step = _smoothstep(s / w)[0] if s is not None else 1.0
                mx[region] += np.float32(a * nx) * step
                my[region] += np.float32(a * ny) * step
        return mx, my


def _fold_slabs(nx: float, ny: float, c: float, w: float, width: int, height: int,
                ) -> list[tuple[tuple[slice, slice], np.ndarray | None]]:  # fmt: skip
    """Where a fold's step is not 0: a slab (with the signed distance ``s`` in it) where it
    rises, and the rectangle (``s`` None) beyond it where it is 1."""
    out: list[tuple[tuple[slice, slice], np.ndarray | None]] = []
    vertical = abs(nx) >= abs(ny)
    # work on (along, across) = (rows, cols) for a vertical fold, transposed otherwise
    na, nc = (ny, nx) if vertical else (nx, ny)
    n_along, n_across = (height, width) if vertical else (width, height)
    along = np.arange(n_along, dtype=np.float64)
    # across coordinate where s = -w and s = +w, over all along positions
    ends = [(c + sv - na * along[[0, -1]]) / nc for sv in (-w, w)]
    lo = max(0, int(math.floor(min(e.min() for e in ends))) - 1)
    hi = min(n_across, int(math.ceil(max(e.max() for e in ends))) + 2)
    if lo < hi:
        across = np.arange(lo, hi, dtype=np.float64)
        s = (nc * across[None, :] + na * along[:, None] - c).astype(np.float32)
        if not vertical:
            s = s.T
        sl = (slice(None), slice(lo, hi)) if vertical else (slice(lo, hi), slice(None))
        out.append((sl, s))
    # the side where s > w: across > hi if nc > 0 else across < lo
    if nc > 0:
        rest = slice(max(hi, 0), n_across) if hi < n_across else None
    else:
        rest = slice(0, min(lo, n_across)) if lo > 0 else None
    if rest is not None and rest.start < rest.stop:
        sl = (slice(None), rest) if vertical else (rest, slice(None))
        out.append((sl, None))
    return out


# --------------------------------------------------------------------------- shading helpers


def _shade(image: np.ndarray, shade: np.ndarray) -> np.ndarray:
    """Multiply an RGB image by a grey shading field (any size: it is resized bilinearly).

    The factors are carried in steps of 1/200 (0 to 1.275): below a grey level of change.
    """
    h, w = image.shape[:2]
    s8 = np.clip(np.rint(shade * 200.0), 0, 255).astype(np.uint8)
    s3 = cv2.resize(cv2.merge([s8] * 3), (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(image, s3, scale=1 / 200)


def _noise_grid(rng: np.random.Generator, spacing: float, out: tuple[int, int]) -> np.ndarray:
    """Smooth noise of unit spread: random nodes about ``spacing`` cells apart, resized
    bicubically to ``out = (w, h)`` cells."""
    gw = max(3, math.ceil(out[0] / spacing) + 1)
    gh = max(3, math.ceil(out[1] / spacing) + 1)
    nodes = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(nodes, out, interpolation=cv2.INTER_CUBIC)


def _scale_for(page: Page) -> float:
    """Pixels per millimetre of the page, relative to 200 DPI."""
    return float(page.px_per_mm) / _REF_PPMM


# --------------------------------------------------------------------------- rotation


@register
class Rotation(Artifact):
    """A flatbed scan of a handled printout: small rotation, skew, scale and shift.

    Parameters drawn: ``angle_deg`` (about the centre), ``shear`` (x += shear * y), ``scale``,
    ``shift`` (fractions of width and height), ``fill_rgb`` (the scanner lid),
    ``edge_shadow`` (0-1 darkness of the thin shadow along the paper's edge).
    """

    name, family, stage = "rotation", "geometry", "capture"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the placement on the scanner glass."""
        s = float(strength)
        lid = rng.uniform(205, 252)
        tint = rng.uniform(-3, 3, 3)
        return {
            "angle_deg": _r(rng.uniform(-6, 6) * s),
            "shear": _r(rng.uniform(-0.02, 0.02) * s),
            "scale": _r(1.0 + rng.uniform(-0.04, 0.02) * s),
            "shift": [_r(rng.uniform(-0.02, 0.02) * s), _r(rng.uniform(-0.02, 0.02) * s)],
            "fill_rgb": [int(np.clip(round(lid + t), 0, 255)) for t in tint],
            "edge_shadow": _r(rng.uniform(0.1, 0.6) * min(1.0, 4 * s)),
        }

    @staticmethod
    def matrix(params: dict[str, Any], width: int, height: int) -> np.ndarray:
        """The 3x3 input-to-output matrix of these parameters for an image of this size."""
        a = math.radians(params["angle_deg"])
        k = params["scale"]
        cx, cy = (width - 1) / 2, (height - 1) / 2
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) * k
        lin = rot @ np.array([[1.0, params["shear"]], [0.0, 1.0]])
        centre = np.array([cx, cy])
        t = centre - lin @ centre + np.array(params["shift"]) * [width, height]
        return np.array([[*lin[0], t[0]], [*lin[1], t[1]], [0.0, 0.0, 1.0]])

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> HomographyMap:
        """The coordinate map these parameters apply to this page.

        Parameters
        ----------
        page : Page
            The page the artifact is applied to (its size and resolution).
        params : dict
            From :meth:`draw`.

        Returns
        -------
        CoordinateMap
        """
        h, w = page.image.shape[:2]
        return _FastHomography(self.matrix(params, w, h))

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Rotate/skew the page; the uncovered border shows the scanner lid."""
        h, w = page.image.shape[:2]
        cmap = self.coordinate_map(page, params)
        fill = tuple(int(v) for v in params["fill_rgb"])
        out = warp_page(page, cmap, fill_rgb=fill)
        if params["edge_shadow"] > 0:
            edge = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
            poly = np.rint(cmap.forward(edge) * 16).astype(np.int32)
            dark = tuple(int(v * (1 - 0.6 * params["edge_shadow"])) for v in fill)
            thick = max(1, int(round(_scale_for(page))))
            cv2.polylines(out.image, [poly], True, dark, thick, cv2.LINE_AA, 4)
        return out


# --------------------------------------------------------------------------- perspective

#: Procedural backgrounds a photographed page can lie on.
BACKGROUNDS = ("wood", "table", "cloth")

_BG_COLOURS: dict[str, list[tuple[tuple[int, int, int], tuple[int, int, int]]]] = {
    # (light, dark) pairs
    "wood": [((176, 128, 84), (122, 78, 44)), ((206, 168, 120), (160, 116, 72)),
             ((120, 80, 52), (74, 46, 30)), ((190, 150, 108), (140, 96, 60))],
    "table": [((150, 150, 148), (120, 120, 118)), ((200, 196, 186), (170, 164, 152)),
              ((70, 72, 76), (52, 54, 58)), ((226, 226, 222), (196, 196, 192))],
    "cloth": [((60, 80, 130), (36, 50, 90)), ((70, 110, 80), (44, 74, 52)),
              ((140, 50, 50), (96, 30, 32)), ((110, 110, 116), (80, 80, 86)),
              ((190, 170, 140), (150, 130, 104))],
}  # fmt: skip


def make_background(params: dict[str, Any], width: int, height: int,
                    quad: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """A procedural surface (desk wood, table, cloth) from parameters and a seed.

    Parameters
    ----------
    params : dict
        ``kind`` (one of :data:`BACKGROUNDS`), ``light_rgb``, ``dark_rgb``, ``seed``,
        ``angle_deg`` (grain or weave direction), ``period_px`` (grain/weave period),
        ``shadow`` (0-1 darkness of the soft shadow around the page), ``shadow_dir`` (unit
        vector the shadow is cast towards).
    width, height : int
        Size of the image.
    quad : numpy.ndarray, optional
        ``(4, 2)`` outline of the page lying on it (for its shadow).

    Returns
    -------
    numpy.ndarray
        ``(height, width, 3)`` uint8 RGB.
    """
    kind = params["kind"]
    if kind not in BACKGROUNDS:
        raise ValueError(f"unknown background {kind!r}; valid: {', '.join(BACKGROUNDS)}")
    rng = np.random.default_rng(params["seed"])
    f = 4  # textures are made at 1/4 resolution and resized
    lw, lh = math.ceil(width / f), math.ceil(height / f)
    period = float(params["period_px"]) / f
    a = math.radians(params["angle_deg"])
    xs = np.arange(lw, dtype=np.float32)[None, :]
    ys = np.arange(lh, dtype=np.float32)[:, None]
    across = xs * np.float32(-math.sin(a)) + ys * np.float32(math.cos(a))
    blotch = _noise_grid(rng, 60.0, (lw, lh))
    if kind == "wood":
        # growth rings: stripes along the grain, gently bent, with finer streaks in them
        warp = _noise_grid(rng, 150.0, (lw, lh)) * 0.7
        warp += _noise_grid(rng, 40.0, (lw, lh)) * 0.12
        grain = np.sin((across / period + warp) * np.float32(2 * math.pi))
        mix = 0.5 + 0.2 * grain + 0.2 * blotch
        # fine streaks along the grain and plank seams
        n_streak = int(abs(across).max() + lw + lh) + 2
        streak = rng.standard_normal(n_streak).astype(np.float32)
        streak = np.convolve(streak, np.ones(2, np.float32) / 2, mode="same")
        idx = np.clip((across - across.min()).astype(np.int64), 0, n_streak - 1)
        mix = mix + 0.18 * streak[idx]
        plank = float(rng.uniform(22, 40)) * period
        seam = np.abs(((across - float(rng.uniform(0, plank))) % plank) - plank / 2)
        mix = mix + 0.9 * np.clip(1.0 - (plank / 2 - seam) / 0.8, 0, 1)
    elif kind == "table":
        fine = _noise_grid(rng, 4.0, (lw, lh))
        mix = 0.5 + 0.25 * blotch + 0.08 * fine
    else:  # cloth: uneven threads both ways (a linen-like weave), with soft folds
        along = xs * np.float32(math.cos(a)) + ys * np.float32(math.sin(a))
        p = max(period, 1.0)
        threads = np.zeros((lh, lw), np.float32)
        for coord in (across, along):
            n = int(abs(coord).max() / p) + 2
            idx = np.clip(((coord - coord.min()) / p).astype(np.int64), 0, n - 1)
            threads += rng.standard_normal(n).astype(np.float32)[idx]
        folds = _noise_grid(rng, 120.0, (lw, lh))
        mix = 0.5 + 0.07 * threads + 0.35 * folds + 0.1 * blotch
    mix = np.clip(mix, 0.0, 1.3).astype(np.float32)
    light = np.asarray(params["light_rgb"], np.float32)
    dark = np.asarray(params["dark_rgb"], np.float32)
    low = light[None, None, :] + (dark - light)[None, None, :] * mix[:, :, None]
    if quad is not None and params.get("shadow", 0) > 0:
        mask = np.zeros((lh, lw), np.float32)
        d = np.asarray(params["shadow_dir"], float) * 6.0
        poly = np.rint(((np.asarray(quad, float) + 0.5) / f + d) * 16).astype(np.int32)
        cv2.fillPoly(mask, [poly], 1.0, cv2.LINE_AA, 4)
        mask = cv2.GaussianBlur(mask, (0, 0), 5.0)
        low *= (1.0 - float(params["shadow"]) * mask)[:, :, None]
    low = np.clip(low, 0, 255).astype(np.uint8)
    return cv2.resize(low, (width, height), interpolation=cv2.INTER_LINEAR)


@register
class Perspective(Artifact):
    """A phone photo: the page lying on a desk, seen by a hand-held camera.

    Parameters drawn: ``canvas`` (output ``[width, height]``, a 4:3 frame somewhat larger than
    the page), ``quad`` (where the page's corners land: top-left, top-right, bottom-right,
    bottom-left), ``background`` (see :func:`make_background`).
    """

    name, family, stage = "perspective", "geometry", "capture"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the camera pose and the desk."""
        s = float(strength)
        h, w = page.image.shape[:2]
        # a 4:3 frame around the page, in its orientation, with margins of desk
        margin = 0.02 + rng.uniform(0.03, 0.12) * s
        if w >= h:
            cw = w * (1 + 2 * margin)
            ch = max(cw * 3 / 4, h * (1 + 2 * margin))
        else:
            ch = h * (1 + 2 * margin)
            cw = max(ch * 3 / 4, w * (1 + 2 * margin))
        cw, ch = int(round(cw)), int(round(ch))
        # the page plane seen by a pinhole camera: tilt (pitch, yaw), roll, focal length
        pitch = math.radians(rng.uniform(-1, 1) * 18 * s)
        yaw = math.radians(rng.uniform(-1, 1) * 14 * s)
        roll = math.radians(rng.normal(0, 3) * s)
        focal = max(cw, ch) * rng.uniform(0.8, 1.4)
        src = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
        pts = np.c_[src - [(w - 1) / 2, (h - 1) / 2], np.zeros(4)]
        cr, sr = math.cos(roll), math.sin(roll)
        cp, sp = math.cos(pitch), math.sin(pitch)
        cy_, sy_ = math.cos(yaw), math.sin(yaw)
        rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
        rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
        ry = np.array([[cy_, 0, sy_], [0, 1, 0], [-sy_, 0, cy_]])
        cam = pts @ (ry @ rx @ rz).T + [0.0, 0.0, focal]
        proj = cam[:, :2] * (focal / cam[:, 2:3])
        # fit inside the frame, leaving a random margin of desk on every side
        lo, hi = proj.min(0), proj.max(0)
        room = np.array([cw, ch]) * (1 - 2 * rng.uniform(0.03, 0.6, 2) * margin)
        k = float(min(room / (hi - lo)))
        size = (hi - lo) * k
        slack = np.array([cw, ch]) - size
        off = slack * rng.uniform(0.3, 0.7, 2) - lo * k - 0.5
        quad = proj * k + off
        kind = str(rng.choice(BACKGROUNDS))
        pair = _BG_COLOURS[kind][int(rng.integers(len(_BG_COLOURS[kind])))]
        jitter = rng.uniform(-12, 12) + rng.uniform(-4, 4, 3)
        light_rgb, dark_rgb = (np.clip(np.rint(np.add(c, jitter)), 0, 255).astype(int).tolist()
                               for c in pair)  # fmt: skip
        if kind == "wood":
            period, angle = rng.uniform(14, 40), rng.uniform(-90, 90)
        elif kind == "cloth":
            period, angle = rng.uniform(6, 12), rng.uniform(-30, 30)
        else:
            period, angle = 8.0, 0.0
        ang = float(rng.uniform(0, 2 * math.pi))
        bg = {
            "kind": kind,
            "light_rgb": light_rgb,
            "dark_rgb": dark_rgb,
            "seed": int(rng.integers(2**31)),
            "angle_deg": _r(angle),
            "period_px": _r(period * _scale_for(page)),
            "shadow": _r(rng.uniform(0.1, 0.35)),
            "shadow_dir": [_r(math.cos(ang)), _r(math.sin(ang))],
        }
        return {
            "canvas": [cw, ch],
            "quad": [[_r(x, 4), _r(y, 4)] for x, y in quad],
            "background": bg,
        }

    @staticmethod
    def matrix(params: dict[str, Any], width: int, height: int) -> np.ndarray:
        """The homography taking the image's outline to ``params["quad"]``."""
        src = np.array([[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5],
                        [-0.5, height - 0.5]])  # fmt: skip
        dst = np.asarray(params["quad"], dtype=np.float64)
        a = np.zeros((8, 8))
        b = np.zeros(8)
        for i, ((x, y), (u, v)) in enumerate(zip(src, dst, strict=True)):
            a[2 * i] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
            a[2 * i + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y]
            b[2 * i], b[2 * i + 1] = u, v
        return np.append(np.linalg.solve(a, b), 1.0).reshape(3, 3)

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> HomographyMap:
        """The coordinate map these parameters apply to this page.

        Parameters
        ----------
        page : Page
            The page the artifact is applied to (its size and resolution).
        params : dict
            From :meth:`draw`.

        Returns
        -------
        CoordinateMap
        """
        h, w = page.image.shape[:2]
        cw, ch = (int(v) for v in params["canvas"])
        return _FastHomography(self.matrix(params, w, h), size=(cw, ch))

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Place the page on the background through the homography."""
        cw, ch = (int(v) for v in params["canvas"])
        cmap = self.coordinate_map(page, params)
        bg = make_background(params["background"], cw, ch, np.asarray(params["quad"]))
        return warp_page(page, cmap, background=bg)


# --------------------------------------------------------------------------- curl


def _curl_profile(t: np.ndarray, radius: float, theta_end: float) -> tuple[np.ndarray, ...]:
    """Material distance ``t`` (>= 0) beyond a curl's start, from its projected distance.

    The paper bends on a cylinder of ``radius`` up to the angle ``theta_end``, then (beyond
    the paper's edge) continues straight. Returns ``(t_material, theta)``.
    """
    tp = np.maximum(t, 0.0)
    edge = radius * math.sin(theta_end)
    on = tp <= edge
    theta = np.where(on, np.arcsin(np.clip(tp / radius, 0.0, 1.0)), theta_end)
    mat = np.where(on, radius * theta, radius * theta_end + (tp - edge) / math.cos(theta_end))
    return mat, theta


class _FieldArtifact(Artifact):
    """An artifact given by a displacement field and a shading field on the output grid."""

    def fields(self, params: dict[str, Any], width: int, height: int,
               px_per_mm: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Displacement nodes ``(h, w, 2)`` (output to input, px) and shading, ~1 mm apart.

        Parameters
        ----------
        params : dict
            From :meth:`draw`.
        width, height : int
            Image size.
        px_per_mm : float
            Resolution of the page.

        Returns
        -------
        tuple of numpy.ndarray
            float32 displacement nodes (for :class:`GridDisplacementMap`) and shading factors.
        """
        raise NotImplementedError

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> GridDisplacementMap:
        """The coordinate map these parameters apply to this page.

        Parameters
        ----------
        page : Page
            The page the artifact is applied to (its size and resolution).
        params : dict
            From :meth:`draw`.

        Returns
        -------
        CoordinateMap
        """
        h, w = page.image.shape[:2]
        return GridDisplacementMap(self.fields(params, w, h, float(page.px_per_mm))[0], (w, h))

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Displace the page through the field, then shade it (shading moves no truth)."""
        h, w = page.image.shape[:2]
        u, shade = self.fields(params, w, h, float(page.px_per_mm))
        out = warp_page(page, GridDisplacementMap(u, (w, h)))
        return with_image(out, _shade(out.image, shade))


@register
class Curl(_FieldArtifact):
    """Page curl or bend: the paper leaves the glass/desk on a cylinder, with shading.

    Parameters drawn: ``kind`` (``edge``: one edge curls up; ``corner``: a corner does;
    ``bend``: the whole page is bowed about a line), ``normal`` (unit vector across the bend
    axis, towards the curling part), ``start`` (``n . p`` where the bend begins, px),
    ``theta`` (angle the paper reaches at its far edge, radians), ``light`` (unit vector to the
    light), ``ambient`` (share of diffuse light), ``lift_dark`` (extra darkening as the paper
    rises off the glass).
    """

    name, family, stage = "curl", "geometry", "fold"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw where and how much the page curls."""
        s = float(strength)
        h, w = page.image.shape[:2]
        kind = str(rng.choice(["edge", "edge", "corner", "bend"]))
        corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
        if kind == "edge":
            side = int(rng.integers(4))
            normal = [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)][side]
            span = w if side < 2 else h
            start = float((corners @ normal).max()) - span * rng.uniform(0.08, 0.3)
            theta = rng.uniform(0.6, 1.0) * 0.82 * s
        elif kind == "corner":
            cx, cy = int(rng.integers(2)), int(rng.integers(2))
            ang = math.atan2((2 * cy - 1) * h, (2 * cx - 1) * w) + rng.uniform(-0.35, 0.35)
            normal = (math.cos(ang), math.sin(ang))
            start = float((corners @ normal).max()) - math.hypot(w, h) * rng.uniform(0.06, 0.2)
            theta = rng.uniform(0.6, 1.0) * 0.82 * s
        else:
            ang = rng.choice([0.0, math.pi / 2]) + rng.uniform(-0.15, 0.15)
            normal = (math.cos(ang), math.sin(ang))
            centre = np.array([(w - 1) / 2, (h - 1) / 2]) * (1 + rng.uniform(-0.3, 0.3, 2))
            start = float(centre @ normal)
            theta = rng.uniform(0.4, 1.0) * 0.6 * s
        la = rng.uniform(0, 2 * math.pi)
        lt = math.radians(rng.uniform(10, 40))
        light = (math.sin(lt) * math.cos(la), math.sin(lt) * math.sin(la), math.cos(lt))
        return {
            "kind": kind,
            "normal": [_r(normal[0]), _r(normal[1])],
            "start": _r(start, 3),
            "theta": _r(theta),
            "light": [_r(v) for v in light],
            "ambient": _r(rng.uniform(0.2, 0.5)),
            "lift_dark": _r(rng.uniform(0.1, 0.4) * s),
            "lift_mm": _r(rng.uniform(4.0, 15.0)),
        }

    @staticmethod
    def _extent(params: dict[str, Any], width: int, height: int) -> tuple[float, float]:
        """Largest material distance from the bend line over the page, on each side."""
        n = np.asarray(params["normal"], float)
        c = np.array([[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5],
                      [-0.5, height - 0.5]]) @ n - params["start"]  # fmt: skip
        return float(max(c.max(), 1.0)), float(max(-c.min(), 1.0))

    def fields(self, params: dict[str, Any], width: int, height: int, px_per_mm: float,
               ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Displacement nodes and shading of these parameters (see the base class)."""
        gw, gh = _grid_shape(width, height, 8.0 * px_per_mm / _REF_PPMM)
        xs, ys = node_positions(gw, width), node_positions(gh, height)
        n = np.asarray(params["normal"], float)
        tq = xs[None, :] * n[0] + ys[:, None] * n[1] - params["start"]  # projected
        reach_pos, reach_neg = self._extent(params, width, height)
        theta_end = float(params["theta"])
        tm = tq.copy()
        theta = np.zeros_like(tq)
        if theta_end > 1e-6:
            sides = [(1.0, reach_pos)]
            if params["kind"] == "bend":
                sides.append((-1.0, reach_neg))
            for sign, reach in sides:
                sel = sign * tq > 0
                radius = reach / theta_end
                mat, th = _curl_profile(sign * tq[sel], radius, theta_end)
                tm[sel] = sign * mat
                theta[sel] = sign * th
        u = (tm - tq)[:, :, None] * n[None, None, :]
        # Lambert shading relative to the flat paper; the normal tilts by theta along n
        lx, ly, lz = params["light"]
        ln = lx * n[0] + ly * n[1]
        lam = np.maximum(-np.sin(theta) * ln + np.cos(theta) * lz, 0.0)
        amb = params["ambient"]
        # paper lifted off the glass (or the desk) gets less light: height in mm
        lift = np.abs(tm) * np.where(theta != 0, (1 - np.cos(theta)) / np.maximum(
            np.abs(theta), 1e-9), 0.0) / px_per_mm  # fmt: skip
        shade = (amb + (1 - amb) * lam / max(lz, 1e-3)) * (
            1 - params["lift_dark"] * (1 - np.exp(-lift / params["lift_mm"])))  # fmt: skip
        return u.astype(np.float32), shade.astype(np.float32)


# --------------------------------------------------------------------------- wrinkles


def _crumple_slope(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray, count: int,
                   px_per_mm: float, light_deg: float) -> np.ndarray:  # fmt: skip
    """Slope towards the light of paper crumpled then flattened: ``count`` straight creases.

    Each crease is a kink ``a |s|`` across a random line (``s`` the distance to it), faded out
    along the line over a random length (and across it over 0.6 of that); its slope,
    ``a sign(s)`` across the line, flips at the crease, so the sheet reads as a mosaic of
    nearly flat facets bounded by straight crease lines. Returned on the grid ``xs`` x ``ys``
    (float32).
    """
    width, height = xs[-1] - xs[0], ys[-1] - ys[0]
    soft = np.float32(1.0 / (0.5 * px_per_mm))  # creases are about a millimetre wide
    la = math.radians(light_deg)
    out = np.zeros((len(ys), len(xs)), np.float32)
    for _ in range(count):
        cx, cy = xs[0] + rng.uniform(0, width), ys[0] + rng.uniform(0, height)
        ang = rng.uniform(0, math.pi)
        half = rng.uniform(40, 160) * px_per_mm
        a = rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 1.0)
        ca, sa = math.cos(ang), math.sin(ang)
        # the crease's facets reach `half` along it and `0.6 half` across: its bounding box
        ex, ey = half * abs(ca) + 0.6 * half * abs(sa), half * abs(sa) + 0.6 * half * abs(ca)
        c0, c1 = np.searchsorted(xs, [cx - ex, cx + ex])
        r0, r1 = np.searchsorted(ys, [cy - ey, cy + ey])
        if c1 <= c0 or r1 <= r0:
            continue
        xf = (xs[c0:c1] - cx).astype(np.float32)[None, :]
        yf = (ys[r0:r1] - cy).astype(np.float32)[:, None]
        along = (xf * np.float32(ca) + yf * np.float32(sa)) * np.float32(1 / half)
        across = yf * np.float32(ca) - xf * np.float32(sa)
        fade = np.cos(np.clip(along, -1, 1) * np.float32(math.pi / 2)) * np.cos(
            np.clip(across * np.float32(1 / (0.6 * half)), -1, 1) * np.float32(math.pi / 2)
        )
        towards = a * (-sa * math.cos(la) + ca * math.sin(la))  # across direction . light
        out[r0:r1, c0:c1] += np.float32(towards) * np.tanh(across * soft) * fade * fade
    return out


def _normalised(d: np.ndarray, amount: float) -> np.ndarray:
    """``amount * d / spread`` with the spread the 99th percentile of ``|d|`` (tails clipped)."""
    spread = float(np.percentile(np.abs(d), 99)) or 1.0
    return (np.float32(amount / spread) * np.clip(d, -2 * spread, 2 * spread)).astype(np.float32)


@register
class Wrinkles(_FieldArtifact):
    """Crumpled paper: a smooth random displacement of a few pixels and its shading.

    Parameters drawn: ``seed`` (for the random fields), ``amplitude_px`` (largest displacement),
    ``scale_mm`` (size of the larger undulations), ``light_deg`` (direction the light comes
    from), ``view_deg`` (direction of the camera's parallax: the height field whose slope
    shades the paper is the displacement's component along it), ``shade`` (strength of that
    smooth shading), ``creases`` (how many straight crumple creases) and ``crumple`` (strength
    of their facet shading; they are sub-pixel in displacement, so shading only).
    """

    name, family, stage = "wrinkles", "geometry", "fold"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the crumpling."""
        s = float(strength)
        return {
            "seed": int(rng.integers(2**31)),
            "amplitude_px": _r(rng.uniform(0.5, 1.0) * 6.0 * s * _scale_for(page)),
            "scale_mm": _r(rng.uniform(25, 60)),
            "light_deg": _r(rng.uniform(0, 360)),
            "view_deg": _r(rng.uniform(0, 360)),
            "shade": _r(rng.uniform(0.02, 0.06) * s),
            "creases": int(rng.integers(8, 30)),
            "crumple": _r(rng.uniform(0.02, 0.08) * s),
        }

    def fields(self, params: dict[str, Any], width: int, height: int, px_per_mm: float,
               ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Displacement nodes and shading of these parameters (see the base class)."""
        rng = np.random.default_rng(params["seed"])
        scale = params["scale_mm"] * px_per_mm  # px between random nodes of the big octave
        spacing = 8.0 * px_per_mm / _REF_PPMM
        gw, gh = _grid_shape(width, height, spacing)
        big = np.stack([_noise_grid(rng, scale / spacing, (gw, gh)) for _ in range(2)], -1)
        small = np.stack([_noise_grid(rng, scale / 3 / spacing, (gw, gh)) for _ in range(2)], -1)
        u = big + np.float32(0.25) * small
        gain = np.float32(params["amplitude_px"] / (float(np.abs(u).max()) or 1.0))
        # keep |grad u| well below 1 (the map stays invertible, forward converges)
        slope = GridDisplacementMap(u * gain, (width, height)).max_slope()
        gain *= np.float32(min(1.0, _MAX_SLOPE / slope) if slope > 0 else 1.0)
        u *= gain
        # the height whose slope shades the paper: the big undulations' parallax along view_deg
        # (the small ones would shade as a hammered-metal texture)
        v = math.radians(params["view_deg"])
        z = (big[:, :, 0] * math.cos(v) + big[:, :, 1] * math.sin(v)) * gain
        xs, ys = node_positions(gw, width), node_positions(gh, height)
        gy, gx = np.gradient(z, ys, xs)
        la = math.radians(params["light_deg"])
        # white paper cannot get whiter: centre the shading below 1 so both sides show
        shade = 1.0 - params["shade"] - params["crumple"] + _normalised(
            gx * math.cos(la) + gy * math.sin(la), params["shade"])  # fmt: skip
        crumple = _crumple_slope(rng, xs, ys, int(params["creases"]), px_per_mm,
                                 params["light_deg"])  # fmt: skip
        shade += _normalised(crumple, params["crumple"])
        return u, shade


# --------------------------------------------------------------------------- creases


@register
class Creases(Artifact):
    """Straight folds, as a letter is folded: a small step across each fold and its shading.

    Parameters drawn: ``pattern`` (``thirds``, ``half``, ``quarters`` or ``random``) and
    ``folds``, a list of ``{"normal": [nx, ny], "offset": c, "step_px", "width_px", "shadow",
    "shadow_px", "ridge", "line", "side", "seed"}``: the fold line is ``n . p = c``; the paper
    beyond it moves by ``step_px`` along ``n`` (smoothed over ``width_px``); the fold is a
    shallow groove whose flank on ``side`` (+1/-1 along ``n``) is darkened by up to ``shadow``
    (the other by 0.2 of it) fading over ``shadow_px``; ``ridge`` is a thin bright line on
    the lit flank, ``line`` a thin dark line on the fold; ``seed`` varies the shading along it.
    """

    name, family, stage = "creases", "geometry", "fold"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the folding pattern."""
        s = float(strength)
        h, w = page.image.shape[:2]
        k = _scale_for(page)
        long_is_x = w >= h
        pattern = str(rng.choice(["thirds", "half", "quarters", "random"]))
        lines: list[tuple[str, float]] = []  # (across the "L"ong or "S"hort side, fraction)
        if pattern == "thirds":
            lines = [("L", 1 / 3), ("L", 2 / 3)]
        elif pattern == "half":
            lines = [("L", 0.5)]
        elif pattern == "quarters":
            lines = [("L", 0.5), ("S", 0.5)]
        else:
            for _ in range(int(rng.integers(1, 4))):
                lines.append((str(rng.choice(["L", "S"])), float(rng.uniform(0.15, 0.85))))
        folds = []
        for which, frac in lines:
            vertical = (which == "L") == long_is_x  # a fold across the long side is vertical
            span, other = (w, h) if vertical else (h, w)
            tilt = math.radians(rng.normal(0, 0.6))
            pos = (frac + rng.normal(0, 0.01)) * span - 0.5
            n = (math.cos(tilt), math.sin(tilt)) if vertical else (-math.sin(tilt), math.cos(tilt))
            along_mid = (other - 1) / 2
            c = pos * (n[0] if vertical else n[1]) + along_mid * (n[1] if vertical else n[0])
            step = rng.uniform(0.5, 2.0) * s * k * rng.choice([-1.0, 1.0])
            folds.append({
                "normal": [_r(n[0]), _r(n[1])],
                "offset": _r(c, 4),
                "step_px": _r(step),
                "width_px": _r(max(2.5 * k, 1.6 * abs(step)) * rng.uniform(1.0, 1.6)),
                "shadow": _r(rng.uniform(0.04, 0.16) * s),
                "shadow_px": _r(rng.uniform(6, 30) * k),
                "ridge": _r(rng.uniform(0.02, 0.08) * s),
                "line": _r(rng.uniform(0.03, 0.15) * s),
                "side": int(rng.choice([-1, 1])),
                "seed": int(rng.integers(2**31)),
            })  # fmt: skip
        return {"pattern": pattern, "folds": folds}

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> CreaseMap:
        """The coordinate map these parameters apply to this page.

        Parameters
        ----------
        page : Page
            The page the artifact is applied to (its size and resolution).
        params : dict
            From :meth:`draw`.

        Returns
        -------
        CoordinateMap
        """
        height, width = page.image.shape[:2]
        folds = [(f["normal"][0], f["normal"][1], f["offset"], f["step_px"], f["width_px"])
                 for f in params["folds"]]  # fmt: skip
        return CreaseMap(folds, (width, height))

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Fold the page and shade along each fold."""
        h, w = page.image.shape[:2]
        k = _scale_for(page)
        out = warp_page(page, self.coordinate_map(page, params))
        image = out.image
        for f in params["folds"]:
            nx, ny = f["normal"]
            reach = 5.0 * f["shadow_px"] + 4.0 * k  # where the shading has faded out
            rng = np.random.default_rng(f["seed"])
            n_along = h if abs(nx) >= abs(ny) else w
            # the fold's strength varies along it (it is pressed harder in places)
            mod = 0.75 + 0.35 * _noise_grid(rng, 200.0 * k, (n_along, 1))[0]
            mod = np.clip(mod, 0.2, 1.4)
            for region, s in _fold_slabs(nx, ny, f["offset"], reach, w, h):
                if s is None:
                    continue
                # the flattened fold is a shallow V: the flank turned from the light is darker
                # (the other a little too: less light reaches the groove), fading with the
                # distance from the crease; a thin bright ridge and a dark crease line on it
                side = s * np.float32(f["side"])
                flank = np.tanh(side * np.float32(1.0 / (0.7 * k)))
                shade = 1.0 - f["shadow"] * np.exp(-np.abs(side) / f["shadow_px"]) * (
                    0.6 + 0.4 * flank)  # fmt: skip
                shade += f["ridge"] * np.exp(-np.square((side + 1.5 * k) / (0.8 * k)))
                shade -= f["line"] * np.exp(-np.square(side / (0.7 * k)))
                m = mod[:, None] if abs(nx) >= abs(ny) else mod[None, :]
                shade = 1.0 + (shade - 1.0) * m
                sub = image[region]
                image[region] = cv2.multiply(sub, cv2.merge([shade.astype(np.float32)] * 3),
                                             dtype=cv2.CV_8U)  # fmt: skip
        return out
