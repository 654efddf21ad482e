"""The artifact interface: draw parameters, then apply them; geometry moves image AND truth.

Every artifact splits its randomness from its effect (albumentations' ``get_params`` ->
``apply`` split): :meth:`Artifact.draw` takes the image's ``numpy.random.Generator`` and
returns JSON-able parameters; :meth:`Artifact.apply` is a pure function of the page and those
parameters. Noise that needs many random numbers draws one integer ``seed`` into its
parameters and makes its own generator from it in ``apply``, so a sample's JSON holds all it
takes to replay the image byte for byte.

A geometric artifact is a :class:`CoordinateMap` (scikit-image's ``_GeometricTransform`` is the
model): ``forward`` maps points of the input image to the output image, ``inverse`` the other
way. :func:`warp_page` warps the image and the lead mask through the inverse and pushes every
ground-truth point, box and paper corner forward through the same object, so pixels and truth
cannot drift apart. Coordinates follow :mod:`ecgkit.generate.layout`: ``(x, y)``, pixel centres at
integers.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import cv2
import numpy as np

from ecgkit.generate.render import Box, Page


class CoordinateMap(ABC):
    """A smooth, invertible map between input-image and output-image pixel coordinates."""

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
        """
        xs, ys = np.meshgrid(np.arange(width, dtype=np.float64),
                             np.arange(height, dtype=np.float64))  # fmt: skip
        src = self.inverse(np.stack([xs.ravel(), ys.ravel()], axis=1))
        return (src[:, 0].reshape(height, width).astype(np.float32),
                src[:, 1].reshape(height, width).astype(np.float32))  # fmt: skip


def _map_points(cmap: CoordinateMap, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(x) & np.isfinite(y)
    nx, ny = np.full_like(x, np.nan), np.full_like(y, np.nan)
    if ok.any():
        out = cmap.forward(np.stack([x[ok], y[ok]], axis=1))
        nx[ok], ny[ok] = out[:, 0], out[:, 1]
    return nx, ny


def _map_box(cmap: CoordinateMap, box: Box | None, width: int, height: int) -> Box | None:
    """The axis-aligned box around the mapped outline of ``box`` (edges sampled densely)."""
    if box is None:
        return None
    x0, y0, x1, y1 = box
    t = np.linspace(0.0, 1.0, 17)
    outline = np.concatenate([
        np.stack([x0 + (x1 - x0) * t, np.full_like(t, y0)], 1),
        np.stack([np.full_like(t, x1), y0 + (y1 - y0) * t], 1),
        np.stack([x0 + (x1 - x0) * t, np.full_like(t, y1)], 1),
        np.stack([np.full_like(t, x0), y0 + (y1 - y0) * t], 1),
    ])  # fmt: skip
    p = cmap.forward(outline)
    bx0, by0 = max(float(p[:, 0].min()), -0.5), max(float(p[:, 1].min()), -0.5)
    bx1, by1 = min(float(p[:, 0].max()), width - 0.5), min(float(p[:, 1].max()), height - 0.5)
    if bx1 <= bx0 or by1 <= by0:
        return None  # mapped off the image
    return (bx0, by0, bx1, by1)


def warp_page(
    page: Page,
    cmap: CoordinateMap,
    *,
    fill_rgb: tuple[int, int, int] = (255, 255, 255),
    background: np.ndarray | None = None,
) -> Page:
    """Warp a page through a coordinate map: image and mask through the inverse, truth forward.

    Parameters
    ----------
    page : Page
        The page to distort (not modified).
    cmap : CoordinateMap
        The map; its ``output_size`` gives the new image size.
    fill_rgb : tuple of int
        Colour of output pixels that come from outside the input image.
    background : numpy.ndarray, optional
        ``(H', W', 3)`` uint8 image of the output size shown where the page is not (a desk
        under a photographed page); overrides ``fill_rgb``.

    Returns
    -------
    Page
        A new page: image, mask, every lead's points and boxes, text boxes and paper corners
        mapped; ``px_per_mm`` is left as the nominal paper resolution.
    """
    h, w = page.image.shape[:2]
    out_w, out_h = cmap.output_size(w, h)
    map_x, map_y = cmap.inverse_grid(out_w, out_h)
    if background is not None:
        if background.shape[:2] != (out_h, out_w):
            raise ValueError(f"background is {background.shape[:2]}, need {(out_h, out_w)}")
        image = cv2.remap(page.image, map_x, map_y, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        # where the output comes from outside the page, show the background
        outside = cv2.remap(np.full((h, w), 255, np.uint8), map_x, map_y, cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
        cv2.bitwise_not(outside, dst=outside)
        cv2.copyTo(background, outside, image)
    else:
        fill = tuple(int(v) for v in fill_rgb)
        image = cv2.remap(page.image, map_x, map_y, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=fill)  # fmt: skip
    mask = cv2.remap(page.mask, map_x, map_y, cv2.INTER_NEAREST,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
    out = copy.copy(page)
    out.image, out.mask = image, mask
    out.leads = []
    for lt in page.leads:
        nlt = copy.copy(lt)
        nlt.x, nlt.y = _map_points(cmap, lt.x, lt.y)
        nlt.bbox = _map_box(cmap, lt.bbox, out_w, out_h)
        nlt.label_bbox = _map_box(cmap, lt.label_bbox, out_w, out_h)
        out.leads.append(nlt)
    out.texts = []
    for t in page.texts:
        box = _map_box(cmap, t.bbox, out_w, out_h)
        if box is not None:
            out.texts.append(copy.copy(t))
            out.texts[-1].bbox = box
    out.corners = cmap.forward(np.asarray(page.corners, float))
    out.parameters = dict(page.parameters)
    return out


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
        self.inv = np.linalg.inv(self.matrix)
        self.size = size

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


class Artifact(ABC):
    """One kind of distortion, drawn then applied.

    Subclasses set ``name`` (the key used in presets and JSON), ``family`` (the module it
    belongs to: ``text``, ``handwriting``, ``paper``, ``geometry``, ``light``, ``sensor``) and
    ``stage`` (when it applies, see :data:`ecgkit.artifacts.STAGES`).
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    stage: ClassVar[str] = ""  # a key of ecgkit.artifacts.STAGES: when in the pipeline

    @abstractmethod
    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw this artifact's parameters for one page.

        Parameters
        ----------
        rng : numpy.random.Generator
            The image's generator (the only source of randomness).
        page : Page
            The page as it is at this point of the pipeline (sizes, boxes...).
        strength : float
            0 (barely visible) to 1 (as strong as the family goes).

        Returns
        -------
        dict
            JSON-able parameters; everything :meth:`apply` needs.
        """

    @abstractmethod
    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Apply the artifact with drawn parameters; pure, returns a new page.

        Parameters
        ----------
        page : Page
        params : dict
            From :meth:`draw` (possibly read back from a sample's JSON).

        Returns
        -------
        Page
        """


def with_image(page: Page, image: np.ndarray) -> Page:
    """A shallow copy of ``page`` with a new image (for photometric artifacts).

    Parameters
    ----------
    page : Page
    image : numpy.ndarray
        Same size as ``page.image``.

    Returns
    -------
    Page
    """
    if image.shape[:2] != page.image.shape[:2]:
        raise ValueError("a photometric artifact must keep the image size")
    out = copy.copy(page)
    out.image = image
    return out
