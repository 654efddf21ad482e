"""What the homography leaves: the grid's local displacement across a rectified page.

A homography undoes rotation, skew and perspective of a flat page. A curled or wrinkled
photo, a scanner's uneven feed or a slightly wrong vanishing point leave the grid lines
displaced by a few pixels that vary across the page, enough to tilt a 10-second rhythm strip
off its zero line. The grid itself measures this: in every tile of the page, the phase of
the 1-mm line comb along y (horizontal lines) and along x (vertical lines) says where the
lines are, to a fraction of a pixel. Unwrapped across tiles, the phases give a smooth
displacement field; a traced point is moved back by its local displacement, relative to
where its row's calibration pulse is (0 mV and time 0 are read there).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import distance_transform_edt, map_coordinates

from ecgkit.digitize.rectify import line_map

_TILE_MM = 30.0  # window of one phase estimate
_STEP_MM = 10.0  # spacing of the estimates
_MIN_CONTRAST = 0.15  # comb strength (0..1) below which a tile says nothing
_MIN_RANGE_PX = 1.0  # a field that varies less than this across the page is not applied


@dataclass
class Displacement:
    """The grid's displacement (pixels) on a coarse lattice of a rectified page.

    Attributes
    ----------
    dx, dy : numpy.ndarray
        ``(rows, cols)`` displacement of the vertical and horizontal grid lines, each up to a
        constant; zero where the grid could not be measured.
    step : float
        Lattice spacing in pixels; node ``(i, j)`` is at ``x = j * step``, ``y = i * step``.
    valid : float
        Share of the lattice where the grid was measured.
    """

    dx: np.ndarray
    dy: np.ndarray
    step: float
    valid: float

    def at(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Displacement ``(dx, dy)`` at image points (bilinear between lattice nodes)."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        coords = np.stack([y / self.step, x / self.step])
        ddx = map_coordinates(self.dx, coords, order=1, mode="nearest")
        ddy = map_coordinates(self.dy, coords, order=1, mode="nearest")
        return ddx, ddy

    def correct(
        self, x: np.ndarray, y: np.ndarray, x_ref: float, y_ref: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points moved back by their displacement relative to that at ``(x_ref, y_ref)``.

        Parameters
        ----------
        x, y : numpy.ndarray
            Points in rectified pixels.
        x_ref, y_ref : float
            The reference (a row's calibration pulse), which stays where it is.

        Returns
        -------
        tuple
            Corrected ``(x, y)``.
        """
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        if len(x) == 0:
            return x, y
        ddx, ddy = self.at(x, y)
        rx, ry = self.at(np.array([x_ref]), np.array([y_ref]))
        ok = np.isfinite(x) & np.isfinite(y)
        out_x, out_y = x.copy(), y.copy()
        out_x[ok] = x[ok] - (ddx[ok] - rx[0])
        out_y[ok] = y[ok] - (ddy[ok] - ry[0])
        return out_x, out_y


def _phases(
    profile_map: np.ndarray, axis: int, period: float, step: int, tile: int
) -> tuple[np.ndarray, np.ndarray]:
    """Comb phase (radians) and strength per lattice node, along ``axis`` (0: y, 1: x)."""
    h, w = profile_map.shape
    ny, nx = h // step + 1, w // step + 1
    # the comb's Fourier coefficient at 1/period, per pixel, summed over each tile by a box
    # filter: the phase of the sum is the lines' position in the tile
    coord = np.arange(h if axis == 0 else w, dtype=np.float64)
    wave = np.exp(-2j * np.pi * coord / period)
    if axis == 0:
        re = profile_map * wave.real[:, None]
        im = profile_map * wave.imag[:, None]
    else:
        re = profile_map * wave.real[None, :]
        im = profile_map * wave.imag[None, :]
    k = (tile, tile)
    re_s = cv2.boxFilter(re.astype(np.float32), -1, k, normalize=False)
    im_s = cv2.boxFilter(im.astype(np.float32), -1, k, normalize=False)
    en = cv2.boxFilter(profile_map.astype(np.float32), -1, k, normalize=False)
    ys = np.minimum(np.arange(ny) * step, h - 1)
    xs = np.minimum(np.arange(nx) * step, w - 1)
    c = re_s[np.ix_(ys, xs)] + 1j * im_s[np.ix_(ys, xs)]
    strength = np.abs(c) / np.maximum(en[np.ix_(ys, xs)], 1e-6)
    return np.angle(c), strength


def _unwrap_field(phase: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Unwrap a lattice of phases (radians) where ``ok``, from its best-measured middle."""
    ny, nx = phase.shape
    out = np.full(phase.shape, np.nan)
    if not ok.any():
        return np.zeros(phase.shape)
    # breadth-first from the node nearest the centre: each new node takes the 2 pi branch
    # nearest the mean of its already unwrapped neighbours
    cy, cx = ny // 2, nx // 2
    cand = np.argwhere(ok)
    start = cand[np.argmin(np.abs(cand[:, 0] - cy) + np.abs(cand[:, 1] - cx))]
    out[tuple(start)] = phase[tuple(start)]
    frontier = [tuple(start)]
    while frontier:
        nxt = []
        for i, j in frontier:
            for di, dj in ((0, 1), (0, -1), (1, 0), (-1, 0)):
                a, b = i + di, j + dj
                if 0 <= a < ny and 0 <= b < nx and ok[a, b] and np.isnan(out[a, b]):
                    block = out[max(0, a - 1) : a + 2, max(0, b - 1) : b + 2]
                    ref = float(np.nanmean(block))
                    turns = np.round((ref - phase[a, b]) / (2 * np.pi))
                    out[a, b] = phase[a, b] + 2 * np.pi * turns
                    nxt.append((a, b))
        frontier = nxt
    return out


def _fill(field: np.ndarray) -> np.ndarray:
    """Replace NaN nodes by the nearest measured one; all-NaN gives zeros."""
    bad = ~np.isfinite(field)
    if bad.all():
        return np.zeros(field.shape)
    if not bad.any():
        return field
    idx = distance_transform_edt(bad, return_distances=False, return_indices=True)
    return field[tuple(idx)]


def grid_displacement(
    rgb: np.ndarray, px_per_mm: float, ink: np.ndarray | None = None
) -> Displacement:
    """Measure the grid's local displacement across a rectified page.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3)`` uint8 rectified page.
    px_per_mm : float
        Its scale (the grid's 1-mm period in pixels).
    ink : numpy.ndarray, optional
        Trace-ink probability: trace pixels are left out of the grid's lines.

    Returns
    -------
    Displacement
    """
    # measured at half resolution (the comb's phase is sub-pixel either way): a quarter of
    # the cost
    f = 0.5 if px_per_mm >= 6 else 1.0
    if f != 1.0:
        rgb = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        if ink is not None:
            ink = cv2.resize(ink, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_AREA)
    px_per_mm = px_per_mm * f
    lines = line_map(rgb).astype(np.float32) / 255.0
    if ink is not None:
        lines *= (ink < 0.3).astype(np.float32)
    run = max(5, int(3 * px_per_mm))
    horiz = cv2.morphologyEx(lines, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    vert = cv2.morphologyEx(lines, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8))
    step = max(4, int(round(_STEP_MM * px_per_mm)))
    tile = max(8, int(round(_TILE_MM * px_per_mm)))
    period = float(px_per_mm)
    fields = []
    valid = 1.0
    for m, axis in ((vert, 1), (horiz, 0)):
        ph, st = _phases(m, axis, period, step, tile)
        ok = st > _MIN_CONTRAST
        # a tile that reaches past the grid's edge (the header, the margin) is biased by
        # it: trust nodes whose whole tile is on the grid, and extend them outwards
        inner = cv2.erode(ok.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        if inner.sum() >= 4:
            ok = inner
        un = _unwrap_field(ph, ok)
        # phase -> position of the lines: y0 = -phase * period / (2 pi)
        pos = -un * period / (2 * np.pi) / f  # in full-resolution pixels
        pos = _fill(np.where(ok, pos, np.nan))
        pos = cv2.GaussianBlur(pos.astype(np.float32), (3, 3), 0).astype(np.float64)
        pos -= np.median(pos)
        # a flat page's field is measuring noise (tenths of a pixel) that would only
        # jitter the steep QRS strokes: leave it out
        if np.percentile(pos, 97) - np.percentile(pos, 3) < _MIN_RANGE_PX:
            pos[:] = 0.0
        fields.append(pos)
        valid = min(valid, float(ok.mean()))
    return Displacement(fields[0], fields[1], float(step) / f, valid)
