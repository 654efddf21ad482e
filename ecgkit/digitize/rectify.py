"""Rectification: undo rotation, skew and perspective from the grid, and fix the scale.

The ECG grid is two families of parallel lines on a flat sheet. In the image each family meets
at a vanishing point (at infinity for a scan). :func:`rectify` finds long line segments
(:func:`line_segments`), splits them into the near-horizontal and near-vertical family, fits the
two vanishing points, builds the homography that sends them to infinity along the x and y
axes, then measures the grid period along each axis (:func:`grid_period`) and scales both axes
to the same pixels per mm. Where no grid is found it falls back to the paper's edges, then to
the identity; the result says which.

Coordinates follow :mod:`ecgkit.generate.layout`: ``(x, y)`` with pixel centres at integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from ecgkit.geometry import HomographyMap, compose, image_corners

#: Pixels per mm of the rectified page (200 DPI, the generator's default).
TARGET_PX_PER_MM = 200.0 / 25.4
_MAX_SIDE = 1400  # line detection runs on a copy at most this large
_MIN_STRENGTH = 0.5  # grid_period strength of a real grid


@dataclass(frozen=True)
class GridInfo:
    """What rectification measured of the page's grid.

    Attributes
    ----------
    found : bool
        A grid period was measured on both axes (and the two agree).
    scale_measured : bool
        A grid period was measured on at least one axis (else the scale is assumed from a
        200-DPI page).
    period_px : tuple of float
        ``(x, y)`` grid period (pixels per mm) measured before scaling.
    strength : tuple of float
        ``(x, y)`` share of the grid lines on the fitted comb (0 where no grid).
    angle_deg : float
        Rotation of the grid in the input image.
    method : str
        How the page was rectified (``"grid lines"``, ``"none"``; `` (no period)`` appended
        where no grid was found).
    segments : int
        Line segments detected.
    """

    found: bool
    scale_measured: bool
    period_px: tuple[float, float]
    strength: tuple[float, float] = (0.0, 0.0)
    angle_deg: float = 0.0
    method: str = "grid lines"
    segments: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The grid information as a JSON-able dict (pairs as lists).

        Returns
        -------
        dict
            ``period_px``, ``strength``, ``angle_deg``, ``method``, ``found``,
            ``scale_measured``, ``segments``.
        """
        return {
            "period_px": list(self.period_px),
            "strength": list(self.strength),
            "angle_deg": self.angle_deg,
            "method": self.method,
            "found": self.found,
            "scale_measured": self.scale_measured,
            "segments": self.segments,
        }


@dataclass
class Rectified:
    """A page brought to a fronto-parallel view at a known scale.

    Attributes
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB, the grid axis-aligned.
    homography : numpy.ndarray
        ``3x3``, input pixels -> rectified pixels.
    px_per_mm : float
        Rectified pixels per mm.
    grid : GridInfo or None
        What was measured of the grid (None: not known).
    notes : list of str
    """

    image: np.ndarray
    homography: np.ndarray
    px_per_mm: float
    grid: GridInfo | None = None
    notes: list[str] = field(default_factory=list)


def line_map(rgb: np.ndarray) -> np.ndarray:
    """Thin lines darker or more saturated than the paper around them, as 0..255.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3)`` uint8.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` uint8: high on grid lines and traces.
    """
    rgb = rgb.astype(np.int16)
    chroma = rgb.max(axis=2) - rgb.min(axis=2)
    # a grid line is darker than the paper in its weakest channel and/or more coloured
    weak = rgb.min(axis=2)
    signal = np.maximum(255 - weak, chroma * 2).clip(0, 255).astype(np.uint8)
    k = max(3, int(round(min(rgb.shape[:2]) / 150)) | 1)
    background = cv2.morphologyEx(signal, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    return cv2.subtract(signal, background)


def line_segments(rgb: np.ndarray) -> np.ndarray:
    """Long straight segments (grid lines, mostly) in the image.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3)`` uint8.

    Returns
    -------
    numpy.ndarray
        ``(n, 4)`` float: ``x0, y0, x1, y1`` in input pixels (detection runs on a copy at
        most ``_MAX_SIDE`` pixels on a side; the segments are mapped back).
    """
    h, w = rgb.shape[:2]
    scale = min(1.0, _MAX_SIDE / max(h, w))
    small = (
        rgb
        if scale == 1.0
        else cv2.resize(rgb, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    )
    lines = line_map(small)
    thr = max(12, int(np.percentile(lines, 90)))
    binary = (lines >= thr).astype(np.uint8) * 255
    side = min(small.shape[:2])
    found = cv2.HoughLinesP(
        binary,
        1,
        np.pi / 720,
        threshold=int(side * 0.08),
        minLineLength=int(side * 0.15),
        maxLineGap=int(side * 0.01) + 2,
    )
    if found is None:
        return np.zeros((0, 4))
    segs = found.reshape(-1, 4).astype(np.float64)
    # pixel centres: (c + 0.5) / scale - 0.5
    return (segs + 0.5) / scale - 0.5


def _homogeneous_lines(segs: np.ndarray, centre: np.ndarray, norm: float) -> np.ndarray:
    p = (segs[:, :2] - centre) / norm
    q = (segs[:, 2:] - centre) / norm
    lines = np.cross(np.c_[p, np.ones(len(p))], np.c_[q, np.ones(len(q))])
    return lines / np.linalg.norm(lines[:, :2], axis=1, keepdims=True)


def _vanishing_point(lines: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Least-squares common point of homogeneous lines, robustly reweighted."""
    w = weights.copy()
    v = np.array([1.0, 0.0, 0.0])
    for _ in range(6):
        m = (lines * w[:, None]).T @ lines
        _, vecs = np.linalg.eigh(m)
        v = vecs[:, 0]
        # residual: angle between each line and the direction to v
        r = np.abs(lines @ v) / max(np.linalg.norm(v), 1e-12)
        scale = np.median(r[w > 0]) * 3 + 1e-9 if (w > 0).any() else 1.0
        w = weights * (r < scale)
        if w.sum() == 0:
            break
    return v / np.linalg.norm(v)


def _direction(seg: np.ndarray) -> np.ndarray:
    return np.arctan2(seg[:, 3] - seg[:, 1], seg[:, 2] - seg[:, 0])


def vanishing_points(
    segs: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, float, int, int]:
    """The vanishing points of the near-horizontal and near-vertical line families.

    Parameters
    ----------
    segs : numpy.ndarray
        ``(n, 4)`` segments.
    shape : tuple
        ``(H, W)`` of the image.

    Returns
    -------
    tuple
        ``(vx, vy, angle_deg, n_horizontal, n_vertical)``: homogeneous vanishing points in
        normalised coordinates (centre of the image at 0, longer side 2), the dominant angle,
        and the number of segments in each family.
    """
    h, w = shape
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    norm = max(h, w) / 2
    ang = _direction(segs)
    length = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    # dominant orientation modulo 90 degrees, weighted by length
    a4 = np.exp(4j * ang)
    theta = np.angle((a4 * length).sum()) / 4
    d = np.angle(np.exp(2j * (ang - theta))) / 2  # in (-pi/2, pi/2]
    horiz = np.abs(d) < np.radians(20)
    vert = np.abs(np.abs(d) - np.pi / 2) < np.radians(20)
    lines = _homogeneous_lines(segs, centre, norm)
    vx = _vanishing_point(lines[horiz], length[horiz]) if horiz.sum() >= 2 else None
    vy = _vanishing_point(lines[vert], length[vert]) if vert.sum() >= 2 else None
    c, s = np.cos(theta), np.sin(theta)
    if vx is None:
        vx = np.array([c, s, 0.0])
    if vy is None:
        vy = np.array([-s, c, 0.0])
    return vx, vy, float(np.degrees(theta)), int(horiz.sum()), int(vert.sum())


def _rectifying(vx: np.ndarray, vy: np.ndarray) -> np.ndarray:
    """Homography (normalised coords) sending vx to the x direction and vy to the y direction."""
    line_inf = np.cross(vx, vy)
    if abs(line_inf[2]) < 1e-12:
        h1 = np.eye(3)
    else:
        vl = line_inf / line_inf[2]
        # keep only a modest projective part (a far vanishing line is almost affine)
        h1 = np.array([[1.0, 0, 0], [0, 1.0, 0], [vl[0], vl[1], 1.0]])
        if np.hypot(vl[0], vl[1]) > 0.9:  # the vanishing line crosses the image: not a page view
            h1 = np.eye(3)
    dx = (h1 @ vx)[:2]
    dy = (h1 @ vy)[:2]
    if dx[0] < 0:
        dx = -dx
    if dy[1] < 0:
        dy = -dy
    a = np.linalg.inv(np.c_[dx / np.linalg.norm(dx), dy / np.linalg.norm(dy)])
    out = np.eye(3)
    out[:2, :2] = a
    return out @ h1


def grid_period(lines: np.ndarray, axis: int) -> tuple[float, float]:
    """The grid's pixels per mm along one axis of an axis-aligned page.

    Keeps only long straight lines across ``axis`` (a morphological opening: traces and text
    go, grid lines stay), finds them in the profile, and fits ``position = a + p * n`` to
    their positions. Where every fifth line is stronger the spacing is the 1-mm minor
    period; where no such pattern shows (faded minor lines) it is the 5-mm major one, unless
    that would make the image longer than half a metre.

    Parameters
    ----------
    lines : numpy.ndarray
        ``(H, W)`` line map (:func:`line_map`) of the axis-aligned page.
    axis : int
        0 for the period along x (vertical grid lines), 1 along y.

    Returns
    -------
    tuple
        ``(px_per_mm, strength)``: strength is the share of the found lines that lie on the
        fitted comb (0 where no grid).
    """
    from scipy.signal import find_peaks

    h, w = lines.shape
    length = max(15, min(h, w) // 12)
    kernel = np.ones((length, 1), np.uint8) if axis == 0 else np.ones((1, length), np.uint8)
    opened = cv2.morphologyEx(lines, cv2.MORPH_OPEN, kernel).astype(np.float64)
    profile = opened.sum(axis=0 if axis == 0 else 1)
    if profile.max() <= 0:
        return float("nan"), 0.0
    peaks, props = find_peaks(profile, distance=2, prominence=profile.max() * 0.04)
    if len(peaks) < 8:
        return float("nan"), 0.0
    # sub-pixel line centres
    pos = peaks.astype(np.float64)
    inner = (peaks > 0) & (peaks < len(profile) - 1)
    a, b, c = (profile[peaks[inner] - 1], profile[peaks[inner]], profile[peaks[inner] + 1])
    den = a - 2 * b + c
    pos[inner] += np.where(den != 0, 0.5 * (a - c) / np.where(den != 0, den, 1), 0.0)
    gaps = np.diff(pos)
    d = float(np.median(gaps))
    near = np.abs(gaps - d) < 0.3 * d
    d = float(gaps[near].mean()) if near.any() else d
    if d < 1.5:
        return float("nan"), 0.0
    n = np.rint((pos - pos[0]) / d)
    on = np.abs((pos - pos[0]) - n * d) < 0.25 * d
    if on.sum() >= 3:
        fit = np.polyfit(n[on], pos[on], 1)
        d = float(fit[0])
        n = np.rint((pos - fit[1]) / d)
        on = np.abs(pos - (fit[1] + n * d)) < 0.2 * d
    strength = float(on.mean())
    # every fifth line stronger: minor spacing. Fold the line heights by n mod 5.
    heights = props["prominences"][on]
    phase = (n[on].astype(int)) % 5
    means = np.array([heights[phase == k].mean() if (phase == k).any() else 0 for k in range(5)])
    counts = np.bincount(phase, minlength=5)
    minor = counts.min() >= 2 and means.max() > 1.5 * np.median(means)
    # a faded grid can hide the fifth-line pattern of its minor lines: where reading the
    # lines as 5 mm apart makes the image over half a metre long, they are 1 mm apart
    if not minor and max(h, w) / (d / 5.0) > 500.0:
        minor = True
    return (d if minor else d / 5.0), strength


def _warp_size(hom: HomographyMap, shape: tuple[int, int]) -> tuple[HomographyMap, int, int]:
    """``hom`` shifted so the whole mapped image starts at pixel 0, and the output size."""
    h, w = shape
    mapped = cv2.perspectiveTransform(image_corners(w, h)[None], hom.matrix)[0]
    x0, y0 = mapped.min(axis=0)
    x1, y1 = mapped.max(axis=0)
    shift = HomographyMap.translation(-x0 - 0.5, -y0 - 0.5)
    return hom.then(shift), int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0))


def _warp(rgb: np.ndarray, hom: HomographyMap, size: tuple[int, int]) -> np.ndarray:
    white = (255, 255, 255)
    return cv2.warpPerspective(
        rgb,
        hom.matrix,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=white,
    )


def _content_box(lines: np.ndarray) -> tuple[float, float, float, float] | None:
    """``(x0, y0, x1, y1)`` of where the grid and ink are in a line map, or None."""
    strong = lines > max(20, np.percentile(lines, 95))
    rows = np.flatnonzero(strong.mean(axis=1) > 0.01)
    cols = np.flatnonzero(strong.mean(axis=0) > 0.01)
    if len(rows) < 10 or len(cols) < 10:
        return None
    return float(cols[0]), float(rows[0]), float(cols[-1]), float(rows[-1])


def rectify(rgb: np.ndarray, *, target_px_per_mm: float = TARGET_PX_PER_MM) -> Rectified:
    """Bring a page to a fronto-parallel, axis-aligned view at ``target_px_per_mm``.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB.
    target_px_per_mm : float
        Scale of the output.

    Returns
    -------
    Rectified
    """
    h, w = rgb.shape[:2]
    notes: list[str] = []
    segs = line_segments(rgb)
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    norm = max(h, w) / 2
    # normalised coordinates: the image centre at 0, the longer side 2
    t_norm = HomographyMap(
        np.array([[1 / norm, 0, -centre[0] / norm], [0, 1 / norm, -centre[1] / norm], [0, 0, 1.0]])
    )
    method = "grid lines"
    angle = 0.0
    if len(segs) >= 4:
        vx, vy, angle, nh, nv = vanishing_points(segs, (h, w))
        hn = _rectifying(vx, vy)
        if nh < 2 or nv < 2:
            notes.append("few grid lines found in one direction: corrected rotation only")
    else:
        hn = np.eye(3)
        method = "none"
        notes.append("no grid lines found: the image is used as it is")
    hom = compose(t_norm, HomographyMap(hn), t_norm.inverse_map())
    # first pass at the input's own scale to measure the grid period along each axis
    hom, ww, hh = _warp_size(hom, (h, w))
    if ww * hh > 4 * h * w or ww > 3 * w or hh > 3 * h:
        notes.append("perspective estimate rejected (it would blow the page up): kept rotation")
        c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        rot = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1.0]])
        hom, ww, hh = _warp_size(compose(t_norm, HomographyMap(rot), t_norm.inverse_map()), (h, w))
    probe = _warp(rgb, hom, (ww, hh))
    lines = line_map(probe)
    px, sx = grid_period(lines, 0)
    py, sy = grid_period(lines, 1)
    found = min(sx, sy) > _MIN_STRENGTH and abs(np.log(px / py)) < 0.25
    measured = found
    if not found:
        if max(sx, sy) > _MIN_STRENGTH:
            px = py = px if sx >= sy else py
            measured = True
            notes.append("grid period found along one axis only; used for both")
        else:
            notes.append("no grid period found: scale assumed from a 200-DPI page")
            px = py = TARGET_PX_PER_MM * max(ww, hh) / 2200.0
    scale_map = HomographyMap.scaling(target_px_per_mm / px, target_px_per_mm / py)
    scale = scale_map.matrix
    box = _content_box(lines)
    if box is None:
        hom2, ww2, hh2 = _warp_size(hom.then(scale_map), (h, w))
    else:
        # warp only the content (the grid and ink, plus a margin), measured on the probe
        margin = 5 * target_px_per_mm
        x0, y0 = scale[0, 0] * box[0] - margin, scale[1, 1] * box[1] - margin
        x1, y1 = scale[0, 0] * box[2] + margin, scale[1, 1] * box[3] + margin
        x0, y0 = np.floor(max(x0, 0.0)), np.floor(max(y0, 0.0))
        x1, y1 = min(x1, scale[0, 0] * (ww - 1)), min(y1, scale[1, 1] * (hh - 1))
        hom2 = compose(hom, scale_map, HomographyMap.translation(-x0, -y0))
        ww2, hh2 = int(np.ceil(x1 - x0)) + 1, int(np.ceil(y1 - y0)) + 1
    out = _warp(rgb, hom2, (ww2, hh2))
    grid = GridInfo(
        found=bool(found),
        scale_measured=bool(measured),
        period_px=(px, py),
        strength=(sx, sy),
        angle_deg=angle,
        method=method if found else method + " (no period)",
        segments=int(len(segs)),
    )
    return Rectified(out, hom2.matrix, float(target_px_per_mm), grid, notes)
