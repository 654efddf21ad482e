"""Image geometry shared by the generator and the digitizer: one convention, maps and boxes.

Coordinate convention (every module of ecgkit uses it)
------------------------------------------------------
* A point is ``(x, y)`` in pixels: ``x`` to the right (the column), ``y`` downwards (the row).
  Points are float (ground truth is sub-pixel); many points are an ``(N, 2)`` float array.
* Pixel centres lie at integer coordinates: pixel ``image[r, c]`` (image arrays are indexed
  ``[y, x]``, rows first) is centred at ``(c, r)`` and covers ``[c - 0.5, c + 0.5] x
  [r - 0.5, r + 0.5]``. An image of ``W x H`` pixels covers ``[-0.5, W - 0.5] x
  [-0.5, H - 0.5]``; its outline (:func:`image_corners`) is the paper's corners on a clean
  page. A paper point ``m`` mm from the sheet's edge is at ``m * px_per_mm - 0.5`` px
  (:func:`ecgkit.generate.layout.mm_to_px`).
* Sizes are ``(width, height)`` (OpenCV's order); array shapes are ``(height, width)``.
* A :data:`Box` is ``(x0, y0, x1, y1)`` in the same coordinates, ``x0 <= x1`` and
  ``y0 <= y1``; tight boxes around pixels run along pixel edges (``c - 0.5``).
* Only the ECG-Image-Kit-compatible JSON keys are written ``[y, x]``, as that tool writes them.

Maps
----
A :class:`CoordinateMap` is a smooth, invertible map from input-image to output-image
coordinates, after scikit-image's ``_GeometricTransform``: :meth:`~CoordinateMap.forward`
(also ``__call__``) maps input points to output points, :meth:`~CoordinateMap.inverse` the
other way. An image is warped through the inverse (:meth:`~CoordinateMap.inverse_grid` gives
the ``cv2.remap`` maps) and points are pushed forward through the same object, so pixels and
ground truth cannot drift apart. Maps compose (``a.then(b)`` or :func:`compose`: first ``a``,
then ``b``) and invert (:meth:`~CoordinateMap.inverse_map`). :class:`HomographyMap` is the
projective case (a 3x3 matrix acting on ``(x, y, 1)``), with least-squares estimation from
point pairs (:meth:`HomographyMap.estimate`) and reprojection residuals.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from typing import overload

import numpy as np

from ecgkit.errors import EcgkitError

__all__ = [
    "Box",
    "ComposedMap",
    "CoordinateMap",
    "HomographyMap",
    "IdentityMap",
    "InverseMap",
    "clip_box",
    "compose",
    "image_corners",
    "map_box",
    "map_xy",
]

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels

#: Methods :meth:`HomographyMap.estimate` knows.
ESTIMATE_METHODS = ("dlt", "affine")


def image_corners(width: int, height: int) -> np.ndarray:
    """The outline of a ``width x height`` image: its four corners (pixel edges).

    Parameters
    ----------
    width, height : int
        Image size in pixels.

    Returns
    -------
    numpy.ndarray
        ``(4, 2)`` float: top-left, top-right, bottom-right, bottom-left.
    """
    return np.array(
        [[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5], [-0.5, height - 0.5]]
    )


def clip_box(box: Box, width: int, height: int) -> Box:
    """A box clipped to the image ``[-0.5, width - 0.5] x [-0.5, height - 0.5]``.

    Parameters
    ----------
    box : tuple of float
        ``(x0, y0, x1, y1)``.
    width, height : int
        Image size in pixels.

    Returns
    -------
    tuple of float
        The clipped box (it may be empty, ``x1 <= x0``, where the box lies off the image).
    """
    x0, y0, x1, y1 = box
    return (
        float(max(x0, -0.5)),
        float(max(y0, -0.5)),
        float(min(x1, width - 0.5)),
        float(min(y1, height - 0.5)),
    )


class CoordinateMap(ABC):
    """A smooth, invertible map between input-image and output-image pixel coordinates.

    Subclasses implement :meth:`forward` and :meth:`inverse`; they may override
    :meth:`output_size` (the default keeps the input's) and :meth:`inverse_grid` (the
    default evaluates :meth:`inverse` on every pixel centre).
    """

    @abstractmethod
    def forward(self, points: np.ndarray) -> np.ndarray:
        """Map ``(N, 2)`` input points ``(x, y)`` to output points."""

    @abstractmethod
    def inverse(self, points: np.ndarray) -> np.ndarray:
        """Map ``(N, 2)`` output points ``(x, y)`` back to input points."""

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Same as :meth:`forward`."""
        return self.forward(points)

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """Size ``(width, height)`` of the output image for an input of this size."""
        return width, height

    def inverse_grid(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Input coordinates of every output pixel centre, as float32 maps for ``cv2.remap``.

        Subclasses with a cheap closed form may override this; the default evaluates
        :meth:`inverse` on every pixel.

        Parameters
        ----------
        width, height : int
            Size of the output image.

        Returns
        -------
        tuple of numpy.ndarray
            ``(map_x, map_y)``, each ``(height, width)`` float32.
        """
        xs, ys = np.meshgrid(
            np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64)
        )
        src = self.inverse(np.stack([xs.ravel(), ys.ravel()], axis=1))
        return (
            src[:, 0].reshape(height, width).astype(np.float32),
            src[:, 1].reshape(height, width).astype(np.float32),
        )

    def then(self, other: CoordinateMap) -> CoordinateMap:
        """This map followed by ``other``: forward ``other(self(p))``.

        Parameters
        ----------
        other : CoordinateMap
            Applied to this map's output.

        Returns
        -------
        CoordinateMap
            See :func:`compose`.
        """
        return compose(self, other)

    def inverse_map(self) -> CoordinateMap:
        """This map's inverse as a map (forward and inverse swapped).

        Returns
        -------
        CoordinateMap
            Its :meth:`output_size` keeps the input's size (the size of this map's input is
            not known to it); :class:`InverseMap` takes an explicit one.
        """
        return InverseMap(self)


def _points(points: np.ndarray) -> np.ndarray:
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


class IdentityMap(CoordinateMap):
    """The map that moves nothing (a neutral element for :func:`compose`)."""

    def forward(self, points: np.ndarray) -> np.ndarray:
        """A float64 copy of the points."""
        return _points(points).copy()

    def inverse(self, points: np.ndarray) -> np.ndarray:
        """A float64 copy of the points."""
        return _points(points).copy()

    def inverse_grid(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """The pixel grid itself."""
        mx = np.broadcast_to(np.arange(width, dtype=np.float32)[None, :], (height, width))
        my = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None], (height, width))
        return np.ascontiguousarray(mx), np.ascontiguousarray(my)


class ComposedMap(CoordinateMap):
    """Maps applied one after the other: forward ``maps[-1](... maps[0](p))``.

    Parameters
    ----------
    maps : sequence of CoordinateMap
        In the order they apply to input points.
    """

    def __init__(self, *maps: CoordinateMap) -> None:
        self.maps: tuple[CoordinateMap, ...] = tuple(maps)

    def forward(self, points: np.ndarray) -> np.ndarray:
        """Each map's forward, first to last."""
        p = _points(points)
        for m in self.maps:
            p = m.forward(p)
        return p

    def inverse(self, points: np.ndarray) -> np.ndarray:
        """Each map's inverse, last to first."""
        p = _points(points)
        for m in reversed(self.maps):
            p = m.inverse(p)
        return p

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The size after every map in turn."""
        for m in self.maps:
            width, height = m.output_size(width, height)
        return width, height


class InverseMap(CoordinateMap):
    """The inverse of a map: its forward is the map's inverse and the other way round.

    Parameters
    ----------
    base : CoordinateMap
        The map to invert.
    size : tuple of int, optional
        Output ``(width, height)`` (the base map's input size); defaults to the input's.
    """

    def __init__(self, base: CoordinateMap, size: tuple[int, int] | None = None) -> None:
        self.base = base
        self.size = size

    def forward(self, points: np.ndarray) -> np.ndarray:
        """The base map's inverse."""
        return self.base.inverse(points)

    def inverse(self, points: np.ndarray) -> np.ndarray:
        """The base map's forward."""
        return self.base.forward(points)

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The given size, or the input's."""
        return self.size or (width, height)

    def inverse_map(self) -> CoordinateMap:
        """The base map itself."""
        return self.base


class HomographyMap(CoordinateMap):
    """A projective (or affine) map given by a 3x3 matrix acting on ``(x, y, 1)``.

    Parameters
    ----------
    matrix : array-like
        3x3, maps input to output points.
    size : tuple of int, optional
        Output ``(width, height)``; defaults to the input's.
    """

    def __init__(self, matrix: np.ndarray, size: tuple[int, int] | None = None) -> None:
        self.matrix = np.asarray(matrix, dtype=np.float64)
        if self.matrix.shape != (3, 3):
            raise ValueError(f"a homography is 3x3, got {self.matrix.shape}")
        self.size = size

    @functools.cached_property
    def inv(self) -> np.ndarray:
        """The inverse matrix (output to input points), computed once when first needed."""
        return np.linalg.inv(self.matrix)

    @classmethod
    def translation(
        cls,
        dx: float,
        dy: float,
        size: tuple[int, int] | None = None,
    ) -> HomographyMap:
        """The shift ``(x + dx, y + dy)``.

        Parameters
        ----------
        dx, dy : float
            The shift in pixels.
        size : tuple of int, optional
            Output ``(width, height)``.

        Returns
        -------
        HomographyMap
        """
        return cls(np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1.0]]), size)

    @classmethod
    def scaling(
        cls,
        sx: float,
        sy: float,
        size: tuple[int, int] | None = None,
    ) -> HomographyMap:
        """The scaling ``(sx x, sy y)`` about the origin (the centre of pixel ``[0, 0]``).

        Parameters
        ----------
        sx, sy : float
            Scale factors along x and y.
        size : tuple of int, optional
            Output ``(width, height)``.

        Returns
        -------
        HomographyMap
        """
        return cls(np.diag([sx, sy, 1.0]), size)

    @classmethod
    def estimate(
        cls,
        src: np.ndarray,
        dst: np.ndarray,
        *,
        method: str = "dlt",
        size: tuple[int, int] | None = None,
    ) -> HomographyMap:
        """The least-squares map taking ``src`` points to ``dst`` points.

        Both point sets are normalised (centred, mean distance sqrt(2)) before solving, as
        Hartley's normalised DLT does, so the answer does not depend on where the origin is.

        Parameters
        ----------
        src, dst : numpy.ndarray
            ``(N, 2)`` corresponding points ``(x, y)``.
        method : str
            ``"dlt"``: a projective map (N >= 4, the smallest singular vector of the DLT
            system); ``"affine"``: an affine map (N >= 3, ordinary least squares).
        size : tuple of int, optional
            Output ``(width, height)`` of the map.

        Returns
        -------
        HomographyMap
            With ``matrix[2, 2] == 1``.
        """
        if method not in ESTIMATE_METHODS:
            raise ValueError(f"unknown method {method!r}; valid: {', '.join(ESTIMATE_METHODS)}")
        s, d = _points(src), _points(dst)
        if len(s) != len(d):
            raise ValueError(f"src has {len(s)} points, dst {len(d)}")
        need = 4 if method == "dlt" else 3
        ok = np.isfinite(s).all(axis=1) & np.isfinite(d).all(axis=1)
        s, d = s[ok], d[ok]
        if len(s) < need:
            raise EcgkitError(
                f"cannot estimate a {method} map from {len(s)} point pairs: give at least {need}"
            )
        ts, td = _normaliser(s), _normaliser(d)
        ps = s @ ts[:2, :2].T + ts[:2, 2]
        pd = d @ td[:2, :2].T + td[:2, 2]
        if method == "dlt":
            n = len(ps)
            a = np.zeros((2 * n, 9))
            x, y, u, v = ps[:, 0], ps[:, 1], pd[:, 0], pd[:, 1]
            a[0::2, 0], a[0::2, 1], a[0::2, 2] = -x, -y, -1.0
            a[0::2, 6], a[0::2, 7], a[0::2, 8] = u * x, u * y, u
            a[1::2, 3], a[1::2, 4], a[1::2, 5] = -x, -y, -1.0
            a[1::2, 6], a[1::2, 7], a[1::2, 8] = v * x, v * y, v
            sv, vt = np.linalg.svd(a)[1:]
            if len(sv) >= 8 and sv[7] <= 1e-10 * sv[0]:
                raise EcgkitError(
                    "cannot estimate a homography: the points are collinear or "
                    "repeated; give 4 or more points in general position"
                )
            h = vt[-1].reshape(3, 3)
        else:
            design = np.c_[ps, np.ones(len(ps))]
            sol, _, rank, _ = np.linalg.lstsq(design, pd, rcond=None)
            if rank < 3:
                raise EcgkitError(
                    "cannot estimate an affine map: the points are collinear "
                    "or repeated; give 3 or more points in general position"
                )
            h = np.eye(3)
            h[:2, :] = sol.T
        m = np.linalg.inv(td) @ h @ ts
        if not np.isfinite(m).all() or abs(m[2, 2]) < 1e-15:
            raise EcgkitError("cannot estimate a homography from these points")
        return cls(m / m[2, 2], size)

    @staticmethod
    def _apply(m: np.ndarray, points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, dtype=np.float64)
        h = p @ m[:, :2].T + m[:, 2]
        return h[:, :2] / h[:, 2:3]

    def forward(self, points: np.ndarray) -> np.ndarray:
        """Map input points to output points."""
        return self._apply(self.matrix, points)

    def inverse(self, points: np.ndarray) -> np.ndarray:
        """Map output points to input points."""
        return self._apply(self.inv, points)

    def residuals(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Reprojection error of point pairs: ``|forward(src) - dst|`` per point, in pixels.

        Parameters
        ----------
        src, dst : numpy.ndarray
            ``(N, 2)`` corresponding points.

        Returns
        -------
        numpy.ndarray
            ``(N,)`` distances (NaN where a point is not finite).
        """
        diff = self.forward(_points(src)) - _points(dst)
        return np.hypot(diff[:, 0], diff[:, 1])

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The given size, or the input's."""
        return self.size or (width, height)

    def inverse_grid(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Closed form of the inverse on the pixel grid (float64, then float32)."""
        xs = np.arange(width, dtype=np.float64)[None, :]
        ys = np.arange(height, dtype=np.float64)[:, None]
        m = self.inv
        w = m[2, 0] * xs + m[2, 1] * ys + m[2, 2]
        mx = (m[0, 0] * xs + m[0, 1] * ys + m[0, 2]) / w
        my = (m[1, 0] * xs + m[1, 1] * ys + m[1, 2]) / w
        return mx.astype(np.float32), my.astype(np.float32)

    @overload
    def then(self, other: HomographyMap) -> HomographyMap: ...

    @overload
    def then(self, other: CoordinateMap) -> CoordinateMap: ...

    def then(self, other: CoordinateMap) -> CoordinateMap:
        """This map followed by ``other`` (one :class:`HomographyMap` when ``other`` is one).

        Parameters
        ----------
        other : CoordinateMap

        Returns
        -------
        CoordinateMap
            See :func:`compose`.
        """
        return compose(self, other)

    def inverse_map(self, size: tuple[int, int] | None = None) -> HomographyMap:
        """The inverse homography (the two matrices swapped, nothing recomputed).

        Parameters
        ----------
        size : tuple of int, optional
            Its output ``(width, height)`` (this map's input size); defaults to the input's.

        Returns
        -------
        HomographyMap
            Of the same class as this map.
        """
        out = type(self).__new__(type(self))
        out.matrix, out.size = self.inv, size
        out.__dict__["inv"] = self.matrix
        return out


def _normaliser(p: np.ndarray) -> np.ndarray:
    """The similarity taking points to mean 0 and mean distance sqrt(2) from it."""
    c = p.mean(axis=0)
    d = float(np.hypot(*(p - c).T).mean())
    k = np.sqrt(2.0) / d if d > 0 else 1.0
    return np.array([[k, 0.0, -k * c[0]], [0.0, k, -k * c[1]], [0.0, 0.0, 1.0]])


@overload
def compose(first: HomographyMap, *rest: HomographyMap) -> HomographyMap: ...


@overload
def compose(*maps: CoordinateMap) -> CoordinateMap: ...


def compose(*maps: CoordinateMap) -> CoordinateMap:
    """Maps applied one after the other, first to last: ``compose(a, b)(p) == b(a(p))``.

    Homographies compose into one :class:`HomographyMap` whose matrix is the product
    ``M_last @ ... @ M_first``, evaluated left to right (as numpy evaluates that expression,
    so a product written out by hand gives the same bits); identities are dropped; anything
    else gives a :class:`ComposedMap`.

    Parameters
    ----------
    *maps : CoordinateMap
        In the order they apply.

    Returns
    -------
    CoordinateMap
        Its inverse is ``maps[0].inverse(... maps[-1].inverse(q))``.
    """
    flat: list[CoordinateMap] = []
    for m in maps:
        flat.extend(m.maps if isinstance(m, ComposedMap) else (m,))
    flat = [m for m in flat if not isinstance(m, IdentityMap)]
    if not flat:
        return IdentityMap()
    if len(flat) == 1:
        return flat[0]
    if all(isinstance(m, HomographyMap) for m in flat):
        homs: list[HomographyMap] = flat  # type: ignore[assignment]
        matrix = functools.reduce(
            lambda acc, h: acc @ h.matrix, reversed(homs[:-1]), homs[-1].matrix
        )
        size = next((h.size for h in reversed(homs) if h.size is not None), None)
        return HomographyMap(matrix, size)
    return ComposedMap(*flat)


def map_xy(cmap: CoordinateMap, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Push separate ``x`` and ``y`` arrays forward through a map; NaN points stay NaN.

    Parameters
    ----------
    cmap : CoordinateMap
    x, y : numpy.ndarray
        Float arrays of the same shape (NaN where a point is absent).

    Returns
    -------
    tuple of numpy.ndarray
        The mapped ``(x, y)``.
    """
    ok = np.isfinite(x) & np.isfinite(y)
    nx, ny = np.full_like(x, np.nan), np.full_like(y, np.nan)
    if ok.any():
        out = cmap.forward(np.stack([x[ok], y[ok]], axis=1))
        nx[ok], ny[ok] = out[:, 0], out[:, 1]
    return nx, ny


def map_box(cmap: CoordinateMap, box: Box | None, width: int, height: int) -> Box | None:
    """The axis-aligned box around the mapped outline of ``box``, clipped to the output image.

    The box's edges are sampled densely (17 points each), so a curved map is followed.

    Parameters
    ----------
    cmap : CoordinateMap
    box : tuple of float or None
        ``(x0, y0, x1, y1)`` in input coordinates.
    width, height : int
        Size of the output image.

    Returns
    -------
    tuple of float or None
        None where ``box`` is None or is mapped off the image.
    """
    if box is None:
        return None
    x0, y0, x1, y1 = box
    t = np.linspace(0.0, 1.0, 17)
    outline = np.concatenate(
        [
            np.stack([x0 + (x1 - x0) * t, np.full_like(t, y0)], 1),
            np.stack([np.full_like(t, x1), y0 + (y1 - y0) * t], 1),
            np.stack([x0 + (x1 - x0) * t, np.full_like(t, y1)], 1),
            np.stack([np.full_like(t, x0), y0 + (y1 - y0) * t], 1),
        ]
    )
    p = cmap.forward(outline)
    bx0, by0 = max(float(p[:, 0].min()), -0.5), max(float(p[:, 1].min()), -0.5)
    bx1, by1 = min(float(p[:, 0].max()), width - 0.5), min(float(p[:, 1].max()), height - 0.5)
    if bx1 <= bx0 or by1 <= by0:
        return None  # mapped off the image
    return (bx0, by0, bx1, by1)
