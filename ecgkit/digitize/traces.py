"""Traces: from a trace-ink probability map to a sub-pixel path per panel, then to mV.

The ink map comes from the trained model (:mod:`ecgkit.digitize.model`) or, without one, from
:func:`classical_ink` (dark, uncoloured ink on normalised paper). Following a trace
(:func:`follow`) works column by column on the vertical runs of ink: the run connected to the
previous column's is taken, so a trace is followed through its neighbours' spikes and text.
Each run is then read with sub-pixel precision (:func:`read_runs`): a flat run at its
probability-weighted centre; a steep run gives two points, where the stroke enters and leaves
the column (twice the horizontal resolution of the pixels); a peak or a trough its extreme
less half the pen.
"""

from __future__ import annotations

import cv2
import numpy as np

from ecgkit.digitize.layout_detect import PanelBox

_PULL = 0.25  # weight of the distance to the zero line when runs fork


def classical_ink(rgb: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Trace-ink probability without a model: dark, uncoloured pixels on normalised paper.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3)`` uint8.
    px_per_mm : float

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` float32 in 0..1.
    """
    img = rgb.astype(np.float32)
    maxc = img.max(axis=2)
    k = int(3 * px_per_mm) | 1
    paper = cv2.dilate(maxc, np.ones((k, k), np.uint8))
    # the paper's level varies slowly: blur it at an eighth of the resolution
    h, w = maxc.shape
    small = cv2.resize(paper, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), max(0.5, 4 * px_per_mm / 8))
    paper = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    rel = maxc / np.maximum(paper, 1.0)
    ink = np.clip((0.78 - rel) / 0.35, 0.0, 1.0).astype(np.float32)
    # a trace is black or grey; a stamp, handwriting or a coloured grid line is not
    chroma = maxc - img.min(axis=2)
    ink *= np.clip((90.0 - chroma) / 40.0, 0.0, 1.0)
    # grid lines printed dark (black-and-white grids): long straight lines across the page,
    # which no trace makes; remove them where they do not cross a trace
    long = int(40 * px_per_mm)
    hard = (ink > 0.3).astype(np.uint8)
    gap = int(0.6 * px_per_mm) | 1
    lines = cv2.morphologyEx(
        cv2.morphologyEx(hard, cv2.MORPH_CLOSE, np.ones((1, gap), np.uint8)),
        cv2.MORPH_OPEN,
        np.ones((1, long), np.uint8),
    )
    lines |= cv2.morphologyEx(
        cv2.morphologyEx(hard, cv2.MORPH_CLOSE, np.ones((gap, 1), np.uint8)),
        cv2.MORPH_OPEN,
        np.ones((long, 1), np.uint8),
    )
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8)) & hard
    # only a printed grid makes many of them (a flat trace can make one)
    n_rows_with_lines = int((lines.sum(axis=1) > long).sum())
    if n_rows_with_lines > 20 * 3:
        ink[lines.astype(bool)] = 0.0
    return ink


def pen_width(ink: np.ndarray, panels: list[PanelBox]) -> float:
    """The trace's stroke height on flat stretches (pixels).

    Parameters
    ----------
    ink : numpy.ndarray
        Ink probability.
    panels : list of PanelBox

    Returns
    -------
    float
    """
    heights = []
    for p in panels[:6]:
        y = int(round(p.baseline))
        for x in range(max(0, int(p.x0) + 2), min(ink.shape[1], int(p.x1) - 2), 7):
            col = ink[max(0, y - 12) : y + 13, x] > 0.5
            if col.any():
                heights.append(col.sum())
    if not heights:
        return 2.0
    return float(np.clip(np.percentile(heights, 30), 1.0, 12.0))


def follow(
    ink: np.ndarray,
    panel: PanelBox,
    up: int,
    down: int,
    threshold: float = 0.5,
    start_cols: int = 8,
    start_reach: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Follow one panel's trace column by column through its band.

    Parameters
    ----------
    ink : numpy.ndarray
        ``(H, W)`` probability.
    panel : PanelBox
    up, down : int
        Band above and below the baseline (pixels).
    threshold : float
        Ink probability that counts as ink.
    start_cols : int
        The trace is picked up in the column of the first ``start_cols`` whose run lies
        nearest the baseline.
    start_reach : float, optional
        How far from the baseline (pixels) the trace may start (default: half the band).

    Returns
    -------
    tuple
        ``(columns, top, bottom)``: the image column of each step and the run's rows
        (NaN where the trace was lost).
    """
    h, w = ink.shape
    y0 = max(0, int(panel.baseline) - up)
    y1 = min(h, int(panel.baseline) + down + 1)
    c0 = max(0, int(np.ceil(panel.x0)))
    c1 = min(w, int(np.floor(panel.x1)) + 1)
    band = ink[y0:y1, c0:c1] >= threshold
    n = c1 - c0
    top = np.full(n, np.nan)
    bot = np.full(n, np.nan)
    prev: tuple[float, float] | None = None
    base = panel.baseline - y0
    if start_reach is None:
        start_reach = max(up, down) * 0.5
    lost = 0
    # the runs of every column at once: starts and ends in column order
    d = np.diff(np.pad(band, ((1, 1), (0, 0))).astype(np.int8), axis=0).T
    s_col, s_row = np.nonzero(d == 1)
    e_row = np.nonzero(d == -1)[1] - 1
    bounds = np.searchsorted(s_col, np.arange(n + 1))
    all_runs = np.stack([s_row, e_row], axis=1)
    # start in the column, of the first few, whose run lies nearest the zero line: the
    # trace's very first column can be faint, and a label or a line of text then be nearer
    # (a column crossed by a broken grid line, many runs, and one-pixel specks are no start)
    first = -1
    best = start_reach
    for i in range(min(n, start_cols)):
        runs = all_runs[bounds[i] : bounds[i + 1]]
        runs = runs[runs[:, 1] > runs[:, 0]]
        if 0 < len(runs) <= 4:
            d_min = float(np.min(np.abs((runs[:, 0] + runs[:, 1]) / 2 - base)))
            if d_min < best - 2:
                first, best = i, d_min
    if first >= 0:
        runs = all_runs[bounds[first] : bounds[first + 1]]
        runs = runs[runs[:, 1] > runs[:, 0]]
        j = int(np.argmin(np.abs((runs[:, 0] + runs[:, 1]) / 2 - base)))
        top[first], bot[first] = runs[j]
        prev = (float(runs[j, 0]), float(runs[j, 1]))
    first = max(first + 1, 0)
    for i in range(first, n):
        runs = all_runs[bounds[i] : bounds[i + 1]]
        if len(runs) == 0:
            lost += 1
            continue
        if prev is None:
            # start on the run nearest the baseline, and not on a label or a line of text
            # far off it (a column where only those show is skipped)
            d = np.abs((runs[:, 0] + runs[:, 1]) / 2 - base)
            j = int(np.argmin(d))
            if d[j] > start_reach:
                continue
        else:
            pt, pb = prev
            gap = np.maximum(runs[:, 0] - pb, pt - runs[:, 1])  # <= 1 means touching
            touching = np.flatnonzero(gap <= 1 + lost)
            if len(touching) == 1:
                j = int(touching[0])
            elif len(touching) > 1:
                # several (the trace parts from a neighbour's that crossed it): the one
                # nearest the previous centre, drawn a little towards the row's zero line,
                # where a trace returns and a neighbour's spike or wander leaves
                mid = (pt + pb) / 2
                centres = (runs[touching, 0] + runs[touching, 1]) / 2
                d = np.abs(centres - mid) + _PULL * np.abs(centres - base)
                # a speck of noise or a grid dot beside a steep stroke touches it too: the
                # stroke's continuation overlaps the previous run most
                overlap = np.minimum(runs[touching, 1], pb) - np.maximum(runs[touching, 0], pt)
                best = overlap.max()
                d[overlap < best - 2] = np.inf
                j = int(touching[np.argmin(d)])
            else:
                mid = (pt + pb) / 2
                d = np.abs((runs[:, 0] + runs[:, 1]) / 2 - mid)
                j = int(np.argmin(d))
                if d[j] > 25 + 5 * lost:  # nothing near: lost for this column
                    lost += 1
                    continue
        top[i], bot[i] = runs[j]
        prev = (float(runs[j, 0]), float(runs[j, 1]))
        lost = 0
    cols = np.arange(c0, c1, dtype=np.float64)
    return cols, top + y0, bot + y0


def read_runs(
    ink: np.ndarray, cols: np.ndarray, top: np.ndarray, bot: np.ndarray, pen: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel points of the stroke's centre line from the followed runs.

    Parameters
    ----------
    ink : numpy.ndarray
        ``(H, W)`` probability.
    cols, top, bot : numpy.ndarray
        From :func:`follow`.
    pen : float
        Stroke height on flat stretches (pixels).

    Returns
    -------
    tuple
        ``(x, y)`` sorted by x.
    """
    n = len(cols)
    xs: list[float] = []
    ys: list[float] = []
    half = pen / 2.0
    steep = pen + 1.5
    ok = np.isfinite(top)
    for i in range(n):
        if not ok[i]:
            continue
        t, b = top[i], bot[i]
        c = cols[i]
        height = b - t + 1
        has_l = i > 0 and ok[i - 1]
        has_r = i < n - 1 and ok[i + 1]
        tl = top[i - 1] if has_l else t
        tr = top[i + 1] if has_r else t
        bl = bot[i - 1] if has_l else b
        br = bot[i + 1] if has_r else b
        if height <= steep:
            rows = np.arange(int(t), int(b) + 1)
            wts = ink[rows, int(c)].astype(np.float64)
            # the weak anti-aliased edges of the run's neighbours count too
            lo, hi = int(t) - 1, int(b) + 1
            ext = [r for r in (lo, hi) if 0 <= r < ink.shape[0]]
            rows = np.r_[rows, ext]
            wts = np.r_[wts, ink[ext, int(c)]]
            ys.append(float((rows * wts).sum() / max(wts.sum(), 1e-9)))
            xs.append(c)
            continue
        is_peak = t <= tl and t <= tr  # the top edge is highest here: a peak inside
        is_trough = b >= bl and b >= br
        if is_peak and not is_trough:
            xs.append(c)
            ys.append(t + half)
            continue
        if is_trough and not is_peak:
            xs.append(c)
            ys.append(b - half)
            continue
        if is_peak and is_trough:  # a spike up and down inside one column
            xs += [c, c]
            ys += [t + half, b - half]
            continue
        # steep: enters on one side, leaves on the other
        left_mid = (tl + bl) / 2 if has_l else (t + b) / 2
        right_mid = (tr + br) / 2 if has_r else (t + b) / 2
        if right_mid < left_mid:  # rising on the page (y decreasing)
            xs += [c - 0.5, c + 0.5]
            ys += [b - half, t + half]
        else:
            xs += [c - 0.5, c + 0.5]
            ys += [t + half, b - half]
    x = np.asarray(xs)
    y = np.asarray(ys)
    order = np.argsort(x, kind="stable")
    return x[order], y[order]


def to_signal(
    x: np.ndarray, y: np.ndarray, panel: PanelBox, px_per_s: float, fs: float, n_total: int
) -> tuple[np.ndarray, float]:
    """Resample a traced path to the record's rate over the panel's window.

    Parameters
    ----------
    x, y : numpy.ndarray
        Path in pixels, sorted by x.
    panel : PanelBox
    px_per_s : float
        Horizontal scale.
    fs : float
        Output rate.
    n_total : int
        Samples of the whole record.

    Returns
    -------
    tuple
        ``(signal, coverage)``: ``n_total`` values in mV, NaN outside the panel's window or
        where the trace was lost for more than 20 ms; the share of the window covered.
    """
    out = np.full(n_total, np.nan)
    a = int(np.ceil(panel.t0 * fs - 1e-6))
    b = min(n_total, int(np.ceil(panel.t1 * fs - 1e-6)))
    if len(x) < 2 or b <= a:
        return out, 0.0
    t = np.arange(a, b) / fs
    xt = panel.x0 + (t - panel.t0) * px_per_s
    # merge points at the same x (average) so interpolation sees a function
    # (within a twentieth of a pixel: the same column read twice, moved apart by a shade)
    key = np.round(x * 20.0)
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    count = np.bincount(inv)
    ux = np.bincount(inv, weights=x) / count
    uy = np.bincount(inv, weights=y) / count
    v = np.interp(xt, ux, uy)
    # gaps: samples far from any traced point
    idx = np.clip(np.searchsorted(ux, xt), 1, len(ux) - 1)
    near = np.minimum(np.abs(ux[idx] - xt), np.abs(ux[idx - 1] - xt))
    lost = near > 0.02 * px_per_s
    v[lost] = np.nan
    mv = (panel.baseline - v) / panel.px_per_mv
    out[a:b] = mv
    return out, float(1.0 - lost.mean())
