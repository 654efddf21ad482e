"""Coordinate maps of the paper's shape: displacement fields, folds, fast homographies.

Maps given as a displacement are defined on the OUTPUT grid: ``inverse(q) = q + u(q)``, so the
image is warped in closed form, and ``forward`` solves ``q + u(q) = p`` by Newton's method
(``|grad u| < 0.5`` keeps it a well-posed, quickly converging problem). Smooth fields are held
as a grid of nodes a few pixels apart; the image is warped through
``cv2.resize(..., INTER_LINEAR)`` of that grid and points through the very same bilinear
interpolant (:func:`bilinear_resize_at`), so the pixels and the truth agree to about 1e-5 px.

Every map is a :class:`~ecgkit.geometry.CoordinateMap`; coordinates follow
:mod:`ecgkit.geometry`: points ``(x, y)``, pixel centres at integers.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ecgkit.geometry import CoordinateMap, HomographyMap, image_corners

__all__ = [
    "CreaseMap",
    "FastHomographyMap",
    "GridDisplacementMap",
    "OffsetMap",
    "bilinear_resize_at",
    "fold_slabs",
    "grid_shape",
    "node_positions",
]


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

    def __call__(
        self,
        points: np.ndarray,
        *,
        gradient: bool = False,
    ) -> tuple[np.ndarray, np.ndarray | None]:
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


def grid_shape(width: int, height: int, spacing: float) -> tuple[int, int]:
    """``(w, h)`` of a grid with about ``spacing`` pixels between nodes (at least 4 x 4).

    Parameters
    ----------
    width, height : int
        Image size in pixels.
    spacing : float
        Pixels between nodes.

    Returns
    -------
    tuple of int
    """
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


class FastHomographyMap(HomographyMap):
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

    def __init__(
        self, folds: list[tuple[float, float, float, float, float]], size: tuple[int, int]
    ) -> None:
        self.folds = [tuple(float(v) for v in f) for f in folds]
        self.size = (int(size[0]), int(size[1]))
        w, h = self.size
        corners = image_corners(w, h)
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
            lin[0, 1] * ys
        ).astype(np.float32)[:, None]
        my = (lin[1, 0] * xs + const[1]).astype(np.float32)[None, :] + (
            (1 + lin[1, 1]) * ys
        ).astype(np.float32)[:, None]
        for nx, ny, c, a, w in self.folds:
            for region, s in fold_slabs(nx, ny, c, w, width, height):
                step = _smoothstep(s / w)[0] if s is not None else 1.0
                mx[region] += np.float32(a * nx) * step
                my[region] += np.float32(a * ny) * step
        return mx, my


def fold_slabs(
    nx: float,
    ny: float,
    c: float,
    w: float,
    width: int,
    height: int,
) -> list[tuple[tuple[slice, slice], np.ndarray | None]]:
    """Where a fold's step is not 0: a slab (with the signed distance ``s`` in it) where it
    rises, and the rectangle (``s`` None) beyond it where it is 1.

    Parameters
    ----------
    nx, ny : float
        Unit normal of the fold line ``n . p = c``.
    c : float
        Its offset.
    w : float
        Half-width of the slab, px.
    width, height : int
        Image size.

    Returns
    -------
    list of tuple
        ``(region, s)``: ``region`` a pair of slices into the image, ``s`` the float32 signed
        distance to the fold line over it, or None beyond the slab.
    """
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
