"""Ink and noise helpers shared by the artifact families.

:func:`blend_ink` lays translucent ink on an image (printed text, stamps, handwriting, stains
and spots); :func:`smooth_noise` and :func:`noise_grid` make smooth random fields (paper
texture, uneven ink, desk textures, fold shading) from a generator. Coordinates follow
:mod:`ecgkit.geometry`: ``(x, y)``, pixel centres at integers.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ecgkit.geometry import Box

__all__ = ["blend_ink", "noise_grid", "smooth_noise"]


def blend_ink(
    image: np.ndarray, alpha: np.ndarray, x0: int, y0: int, rgb: tuple[float, float, float]
) -> Box | None:
    """Lay translucent ink on ``image`` in place: ``image *= 1 - alpha * (1 - rgb / 255)``.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8, modified in place.
    alpha : numpy.ndarray
        ``(h, w)`` float coverage in [0, 1]; its top-left pixel lands on image pixel
        ``(x0, y0)``; parts outside the image are ignored.
    x0, y0 : int
        Image column and row of ``alpha[0, 0]``.
    rgb : tuple of float
        Ink colour.

    Returns
    -------
    tuple or None
        Tight box ``(x0, y0, x1, y1)`` (pixel edges) of the pixels that may have changed
        (``alpha`` above half a grey level), or None when nothing was drawn.
    """
    hh, ww = image.shape[:2]
    h, w = alpha.shape
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x0 + w, ww), min(y0 + h, hh)
    if ix1 <= ix0 or iy1 <= iy0:
        return None
    a = alpha[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0].astype(np.float32)
    a = np.where(a * 255.0 >= 0.5, np.minimum(a, 1.0), 0.0).astype(np.float32)
    rows, cols = np.flatnonzero(a.max(axis=1) > 0), np.flatnonzero(a.max(axis=0) > 0)
    if len(rows) == 0:
        return None
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    a = a[r0:r1, c0:c1, None]
    sub = image[iy0 + r0 : iy0 + r1, ix0 + c0 : ix0 + c1]
    ink = 1.0 - np.asarray(rgb, np.float32) / 255.0
    out = sub.astype(np.float32) * (1.0 - a * ink) + 0.5
    sub[:] = np.clip(out, 0, 255).astype(np.uint8)
    return (ix0 + c0 - 0.5, iy0 + r0 - 0.5, ix0 + c1 - 0.5, iy0 + r1 - 0.5)


def smooth_noise(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """Smooth random field (about unit standard deviation) with features ``cell`` px across.

    Parameters
    ----------
    rng : numpy.random.Generator
    height, width : int
        Output size.
    cell : float
        Spacing of the random control values, in pixels.

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` float32.
    """
    gh = max(2, int(math.ceil(height / max(cell, 1.0))) + 2)
    gw = max(2, int(math.ceil(width / max(cell, 1.0))) + 2)
    coarse = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(coarse, (max(width, 1), max(height, 1)), interpolation=cv2.INTER_CUBIC)


def noise_grid(rng: np.random.Generator, spacing: float, out: tuple[int, int]) -> np.ndarray:
    """Smooth noise of unit spread: random nodes about ``spacing`` cells apart, resized
    bicubically to ``out = (w, h)`` cells.

    Parameters
    ----------
    rng : numpy.random.Generator
    spacing : float
        Cells between random nodes.
    out : tuple of int
        ``(width, height)`` of the result.

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` float32.
    """
    gw = max(3, math.ceil(out[0] / spacing) + 1)
    gh = max(3, math.ceil(out[1] / spacing) + 1)
    nodes = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(nodes, out, interpolation=cv2.INTER_CUBIC)
