"""Layout: which lead is where on a rectified page.

Works on the trace-ink probability of an axis-aligned page. The calibration pulses, found by
a matched filter (:func:`find_pulses`), give the rows, 0 mV (each pulse's foot), time 0 (the
rising edge), the speed and the gain, and, where the grid gave no scale, the scale
(:func:`pulse_scale`). Without pulses, rows are the peaks of the ink's horizontal projection.
The short separator ticks between columns say how many leads a row holds; the number of rows
and columns picks one of the layouts the generator makes (3x4 with 0 to 3 rhythm strips,
6x2, 12x1, 2x6); its leads come from the generator's own layout tables
(:func:`ecgkit.generate.layout.lead_grid`), in standard lead order unless told otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import maximum_filter, uniform_filter1d
from scipy.signal import find_peaks

from ecgkit.generate.layout import PULSE_SECONDS, STUB_MM, lead_grid, pulse_region_mm

SPEED = 25.0  # mm/s
GAIN = 10.0  # mm/mV

#: The 3x4 layouts by number of rhythm strips (more than 3 rows extra read as the last).
_THREE_BY_FOUR = ("3x4", "3x4+II", "3x4+II,V1", "3x4+II,V1,V5")


@dataclass
class PanelBox:
    """Where one lead is on the rectified page (pixels) and what time it shows (seconds)."""

    lead: str
    x0: float
    x1: float
    baseline: float
    t0: float
    t1: float
    row: int
    rhythm: bool
    px_per_mv: float


@dataclass
class PageLayout:
    """The detected layout: its name, the panels, and the scale used."""

    name: str
    panels: list[PanelBox]
    px_per_s: float
    x_trace: float
    rows: list[float]
    notes: list[str]
    #: x the grid's displacement is measured relative to (a pulse's rising edge)
    x_ref: float | None = None
    #: where the calibration pulses were: "left", "right", "both" or "none"
    pulse_side: str = "none"
    #: where px/mm came from: "grid", "pulses" or "assumed" (set by the caller for "grid")
    scale_source: str = "grid"
    #: the leads were named by the standard order of the layout, not read from labels
    order_assumed: bool = True
    speed: float = SPEED  # mm/s the signals are read at
    gain: float = GAIN  # mm/mV


def find_rows(ink: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Baselines of the trace rows: peaks of the horizontal ink projection.

    Parameters
    ----------
    ink : numpy.ndarray
        ``(H, W)`` float 0..1 trace-ink probability.
    px_per_mm : float

    Returns
    -------
    numpy.ndarray
        Row y positions (pixels), top to bottom.
    """
    h, w = ink.shape
    binary = ink > 0.5
    # rows of a trace are wide: count columns with ink in each row (text is short)
    prof = binary.sum(axis=1).astype(np.float64)
    prof = uniform_filter1d(prof, max(3, int(2 * px_per_mm)))
    if prof.max() <= 0:
        return np.zeros(0)
    peaks, _ = find_peaks(
        prof, distance=max(2, int(6 * px_per_mm)), height=0.12 * w, prominence=0.06 * w
    )
    out = []
    for p in peaks:
        # refine to the mode of ink rows near the peak: the flat baseline of the trace
        lo, hi = max(0, p - int(4 * px_per_mm)), min(h, p + int(4 * px_per_mm) + 1)
        raw = binary[lo:hi].sum(axis=1)
        out.append(lo + float(np.argmax(raw)))
    return np.asarray(out)


@dataclass
class Pulses:
    """Calibration pulses found on a page: one per row, all at the same x."""

    feet: np.ndarray  # y of each pulse's foot (0 mV), top to bottom
    x_stub: float  # x where the pulses' baseline stubs start (the left ones' where both)
    speed: float  # mm/s their width says
    gain: float  # mm/mV their height says
    score: np.ndarray  # template match of each
    side: str = "left"  # "left", "right" or "both": which end of the rows they are at
    x_end: float | None = None  # where "both": x where the right-hand pulses' stubs start


def _pulse_masks(speed: float, gain: float, ppmm: float) -> tuple[list[np.ndarray], float, float]:
    """Masks of one pulse shape at ``ppmm``: line, inside, above, rows inside; stub x, foot y.

    The first three are normalised to sum 1, so correlating one with an ink map gives the
    mean ink over it; the last, correlated with a map of horizontal strokes, counts the
    strokes that cross the pulse's inside (two stacked pulses look like one twice as tall,
    but for the stroke between them).
    """
    stub, width, height = STUB_MM * ppmm, PULSE_SECONDS * speed * ppmm, gain * ppmm
    m = max(3.0, 2.0 * ppmm)
    w = int(np.ceil(2 * stub + width + 2 * m)) + 1
    h = int(np.ceil(height + 2 * m)) + 1
    foot = h - 1 - m
    top = foot - height
    xs = np.array([0, stub, stub, stub + width, stub + width, 2 * stub + width]) + m
    ys = np.array([foot, foot, top, top, foot, foot])
    line = np.zeros((h, w), np.uint8)
    pts = np.round(np.stack([xs, ys], 1)).astype(np.int32)
    cv2.polylines(line, [pts], False, 1, 1, cv2.LINE_8)
    near = cv2.dilate(line, np.ones((5, 5), np.uint8))
    x0, x1 = int(np.ceil(m + stub)), int(m + stub + width)
    inside = np.zeros((h, w), np.uint8)
    inside[int(top) : int(foot), x0 : x1 + 1] = 1
    above = np.zeros((h, w), np.uint8)
    above[: int(top), x0 + 2 : x1 - 1] = 1  # between the edges (a 12x1 ladder's are there)
    masks = []
    for mk in (line, inside & (1 - near), above & (1 - near)):
        masks.append((mk / max(1, mk.sum())).astype(np.float32))
    # the same inside, summed along each row only: how many lines cross it
    rows_in = (inside & (1 - near)).astype(np.float32)
    masks.append(rows_in / max(1, x1 - x0 - 3))
    return masks, m, foot


#: Most trace ink (mm of columns) allowed beyond a row's pulse on the far side from the
#: traces: a lead label or a speck, not a panel (a separator tick a column in shows a whole
#: column of trace on its left; chosen on the real development scans, 2026-12).
BEYOND_PULSE_MM = 10.0
#: Least median match of a set of pulses: drawn pulses score about 1.0 (0.96 on the real EMS
#: export of the development scans), chance alignments of QRS spikes and ticks on a page
#: without pulses 0.5-0.6 (a generated pulse-free page; chosen on those, 2026-12).
PULSE_MIN_SCORE = 0.7
#: Part of the page width searched for pulses at each end.
PULSE_SEARCH_PART = 0.4


def find_pulses(ink: np.ndarray, px_per_mm: float) -> Pulses | None:
    """The page's calibration pulses, by matched filtering at both ends of the rows.

    A cart prints a 1 mV, 0.2 s pulse at the same x on every row: at the left end, the right
    end, or both. Matching a drawn pulse (for 12.5/25/50 mm/s and 5/10/20 mm/mV) against the
    ink map finds them through fading, breaks and noise, where the ink's row projection can
    merge rows or take a line of text or the page's border for one. A match needs ink along
    the pulse's line (a flat top 0.2 s wide, back to the baseline) and blank paper inside and
    above it, so a QRS spike, a separator tick or a grid remnant scores low; and the pulses
    must sit at their rows' end (little trace ink beyond them, :data:`BEYOND_PULSE_MM`), so
    the ticks between columns are not taken for them.

    Parameters
    ----------
    ink : numpy.ndarray
        ``(H, W)`` trace-ink probability of the rectified page.
    px_per_mm : float

    Returns
    -------
    Pulses or None
        None where fewer than two pulses line up at either end.
    """
    w = ink.shape[1]
    binary = ink > 0.5
    part = int(w * PULSE_SEARCH_PART)
    left = _match_pulses(ink, px_per_mm, 0, part)
    right = _match_pulses(ink, px_per_mm, w - part, w)
    left, right = (
        None if p is None or float(np.median(p.score)) < PULSE_MIN_SCORE else p
        for p in (left, right)
    )
    if left is not None and not _at_row_end(binary, left, px_per_mm, "left"):
        left = None
    if right is not None and not _at_row_end(binary, right, px_per_mm, "right"):
        right = None
    if right is not None:
        right.side = "right"
    if left is not None and right is not None:
        tol = 2.0 * px_per_mm
        same = [np.min(np.abs(right.feet - y)) < tol for y in left.feet]
        if sum(same) >= 2 and (left.speed, left.gain) == (right.speed, right.gain):
            left.side, left.x_end = "both", right.x_stub
            return left
        # two sets that disagree: the better match
        return left if float(np.median(left.score)) >= float(np.median(right.score)) else right
    return left if right is None else right


def _at_row_end(binary: np.ndarray, pulses: Pulses, px_per_mm: float, side: str) -> bool:
    """Whether pulses sit at their rows' end: little trace ink beyond them (far side)."""
    h, w = binary.shape
    beyond = []
    width = (2 * STUB_MM + PULSE_SECONDS * pulses.speed) * px_per_mm
    for foot in pulses.feet:
        band = binary[max(0, int(foot - 6 * px_per_mm)) : min(h, int(foot + 4 * px_per_mm))]
        if band.size == 0:
            continue
        cols = band.any(axis=0)
        if side == "left":
            far = cols[: max(0, int(pulses.x_stub - px_per_mm))]
        else:
            far = cols[min(w, int(pulses.x_stub + width + px_per_mm)) :]
        beyond.append(int(far.sum()))
    return bool(beyond) and float(np.median(beyond)) <= BEYOND_PULSE_MM * px_per_mm


def _match_pulses(ink: np.ndarray, px_per_mm: float, xa: int, xb: int) -> Pulses | None:
    """The best set of pulses (one shape, one x) in columns ``xa:xb`` of the ink map."""
    h, w = ink.shape
    f = 0.5  # matched at half resolution
    part = np.ascontiguousarray(ink[:, xa:xb], np.float32)
    if part.size == 0:
        return None
    small = cv2.resize(part, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    pm = px_per_mm * f
    # a one-pixel line template forgives a pixel of misplacement on a dilated map; squared,
    # so faint grid remnants count little along the line
    soft = cv2.dilate(small, np.ones((3, 3), np.uint8)) ** 2
    hard = (small > 0.5).astype(np.uint8)
    best: tuple[tuple[float, int], Pulses] | None = None
    for speed in (25.0, 50.0, 12.5):
        # horizontal strokes at least 60 % of the pulse's width (for the crossing count)
        run = max(3, int(0.12 * speed * pm))
        strokes = cv2.morphologyEx(hard, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
        strokes = strokes.astype(np.float32)
        for gain in (10.0, 5.0, 20.0):
            (line, inside, above, rows_in), m, foot = _pulse_masks(speed, gain, pm)
            if line.shape[0] >= small.shape[0] or line.shape[1] >= small.shape[1]:
                continue
            r = cv2.matchTemplate(soft, line, cv2.TM_CCORR)
            blank = np.maximum(
                cv2.matchTemplate(small, inside, cv2.TM_CCORR),
                cv2.matchTemplate(small, above, cv2.TM_CCORR),
            )
            crossing = cv2.matchTemplate(strokes, rows_in, cv2.TM_CCORR)
            r = r - 2.0 * blank - 0.5 * np.clip(crossing, 0.0, 2.0)
            size = (int(4 * pm) | 1, int(4 * pm) | 1)
            py, px = np.nonzero((r == maximum_filter(r, size=size)) & (r > 0.5))
            if len(py) < 2:
                continue
            sc = r[py, px]
            # the pulses share one x: the largest group within 3 mm, the stronger on ties
            groups = []
            for i in range(len(px)):
                near = np.abs(px - px[i]) <= 3 * pm
                groups.append((int(near.sum()), float(sc[near].sum()), i))
            n_in, _, i0 = max(groups)
            if n_in < 2:
                continue
            idx = np.flatnonzero(np.abs(px - px[i0]) <= 3 * pm)
            # pulses do not overlap: drop weaker peaks less than a pulse's height from a stronger
            # one (two stacked pulses of a 12x1 page also match one twice as tall, less often)
            keep: list[int] = []
            for i in idx[np.argsort(-sc[idx])]:
                if all(abs(int(py[i]) - int(py[j])) > 0.9 * gain * pm for j in keep):
                    keep.append(int(i))
            if len(keep) < 2:
                continue
            k = np.array(sorted(keep, key=lambda i: py[i]))
            # the best shape: the better median match, then the more pulses
            key = (round(float(np.median(sc[k])), 1), len(k))
            if best is None or key > best[0]:
                x_stub = xa + (float(np.median(px[k])) + m + 0.5) / f - 0.5
                coarse = (py[k] + foot + 0.5) / f - 0.5
                rises = [_refine_rise(ink, x_stub + px_per_mm, y, gain, px_per_mm) for y in coarse]
                x_stub = float(np.median(rises)) - px_per_mm
                feet = [_refine_foot(ink, x_stub, y, px_per_mm) for y in coarse]
                best = (key, Pulses(np.array(feet), x_stub, speed, gain, sc[k]))
    return None if best is None else best[1]


def _refine_rise(ink: np.ndarray, x: float, foot: float, gain: float, px_per_mm: float) -> float:
    """The rising edge's column to a fraction of a pixel: the ink centroid along its middle."""
    h, w = ink.shape
    ya, yb = int(foot - 0.8 * gain * px_per_mm), int(foot - 0.2 * gain * px_per_mm)
    xa, xb = int(x - 1.2 * px_per_mm), int(x + 1.2 * px_per_mm) + 1
    if xa < 0 or xb > w or ya < 0 or yb > h or yb <= ya:
        return float(x)
    prof = ink[ya:yb, xa:xb].mean(axis=0).astype(np.float64)
    return float(x) if prof.max() < 0.2 else xa + _stroke_centre(prof, int(round(x)) - xa)


def _refine_foot(ink: np.ndarray, x_stub: float, foot: float, px_per_mm: float) -> float:
    """The foot's row to a fraction of a pixel: the ink centroid of the baseline stub."""
    xa, xb = x_stub + 0.15 * px_per_mm, x_stub + 0.6 * px_per_mm
    return _refine_row(ink, xa, xb, foot, px_per_mm)


def _refine_row(ink: np.ndarray, xa: float, xb: float, y: float, px_per_mm: float) -> float:
    """Row of a horizontal stroke between columns ``xa`` and ``xb`` near row ``y``."""
    h, w = ink.shape
    xa_i, xb_i = int(round(xa)), int(round(xb))
    ya, yb = int(y - 1.2 * px_per_mm), int(y + 1.2 * px_per_mm) + 1
    if xa_i < 0 or xb_i > w or ya < 0 or yb > h or xb_i <= xa_i:
        return float(y)
    prof = ink[ya:yb, xa_i:xb_i].mean(axis=1).astype(np.float64)
    return float(y) if prof.max() < 0.2 else ya + _stroke_centre(prof, int(round(y)) - ya)


def _stroke_centre(prof: np.ndarray, c: int) -> float:
    """Ink-weighted centre of the stroke (run above 30 % of the peak) nearest index ``c``."""
    runs = _runs(prof >= 0.3 * prof.max())
    a, b = runs[int(np.argmin([min(abs(a - c), abs(b - c)) for a, b in runs]))]
    idx = np.arange(a, b + 1)
    return float((idx * prof[a : b + 1]).sum() / prof[a : b + 1].sum())


def pulse_scale(ink: np.ndarray, pulses: Pulses, px_per_mm: float) -> tuple[float, float]:
    """Pixels per mm along x and y, measured on the pulses (their width and height).

    For a page whose grid gave no scale: the pulses are ``0.2 * speed`` mm wide and ``gain``
    mm tall, measured edge centre to edge centre and foot to top.

    Parameters
    ----------
    ink : numpy.ndarray
        Ink probability of the rectified page.
    pulses : Pulses
        From :func:`find_pulses` (at the assumed scale ``px_per_mm``).
    px_per_mm : float
        The scale assumed so far.

    Returns
    -------
    tuple
        ``(px_per_mm_x, px_per_mm_y)``.
    """
    width_mm, height_mm = PULSE_SECONDS * pulses.speed, pulses.gain
    rise = pulses.x_stub + px_per_mm
    widths, heights = [], []
    for foot in pulses.feet:
        fall = _refine_rise(ink, rise + width_mm * px_per_mm, foot, height_mm, px_per_mm)
        r = _refine_rise(ink, rise, foot, height_mm, px_per_mm)
        top = _refine_row(
            ink,
            r + 0.25 * (fall - r),
            fall - 0.25 * (fall - r),
            foot - height_mm * px_per_mm,
            px_per_mm,
        )
        widths.append(fall - r)
        heights.append(foot - top)
    sx = float(np.median(widths)) / width_mm
    sy = float(np.median(heights)) / height_mm
    if abs(np.log(sx / sy)) < 0.03:  # square pixels, as a scanner or camera gives
        sx = sy = (sx + 2 * sy) / 3  # the height is twice as long: weigh it so
    return sx, sy


def _runs(col: np.ndarray) -> list[tuple[int, int]]:
    """Start and end (inclusive) of the runs of True in a boolean array."""
    d = np.diff(np.r_[0, col.astype(np.int8), 0])
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1, strict=True))


def _row_extent(binary: np.ndarray, y: float, half: int, max_gap: int) -> tuple[int, int] | None:
    h, w = binary.shape
    band = binary[max(0, int(y) - half) : min(h, int(y) + half + 1)]
    # a column inked over the whole band is a grid line or the page's edge, and a lone
    # pixel a speck of noise: neither is a trace
    count = band.sum(axis=0)
    cols = np.flatnonzero((count >= 2) & (count < 0.8 * band.shape[0]))
    if len(cols) < 10:
        return None
    # the longest stretch of columns without a wide gap (text beside it is dropped; the gap
    # under a calibration pulse's top, 5 mm, is bridged)
    gaps = np.flatnonzero(np.diff(cols) > max_gap)
    starts = np.r_[0, gaps + 1]
    ends = np.r_[gaps, len(cols) - 1]
    k = int(np.argmax(cols[ends] - cols[starts]))
    run = cols[starts[k] : ends[k] + 1]
    # a trace ends in a stroke, not in specks: drop short bits after a gap at the right
    short = max(3, max_gap // 3)
    while len(run) > 10:
        cut = np.flatnonzero(np.diff(run) > 2)
        if len(cut) == 0 or run[-1] - run[cut[-1] + 1] >= short:
            break
        run = run[: cut[-1] + 1]
    return int(run[0]), int(run[-1])


def _pulse(
    binary: np.ndarray, y: float, x_left: int, px_per_mm: float
) -> tuple[float, float, float] | None:
    """A calibration pulse near the row's left end: (rise x, height px, foot y) or None.

    The pulse is two vertical edges about 5 mm apart rising from the baseline; stray grid
    remnants or text to its left are skipped by searching the first 40 mm for such a pair.
    """
    h, w = binary.shape
    up = int(14 * px_per_mm)
    y0, y1 = max(0, int(y) - up), min(h, int(y) + int(1.5 * px_per_mm))
    xa = max(0, x_left - int(2 * px_per_mm))
    xb = min(w, x_left + int(40 * px_per_mm))
    region = binary[y0:y1, xa:xb]
    if region.size == 0:
        return None
    heights = region.sum(axis=0)
    tall = heights > 6 * px_per_mm
    d = np.diff(np.r_[0, tall.astype(np.int8), 0])
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1
    for i in range(len(starts) - 1):
        for j in range(i + 1, min(i + 3, len(starts))):
            span = ((starts[j] + ends[j]) - (starts[i] + ends[i])) / 2 / px_per_mm
            if 3.0 <= span <= 7.5:  # 5 mm wide at 25 mm/s
                rise = xa + (starts[i] + ends[i]) / 2
                col = region[:, starts[i] : ends[i] + 1].any(axis=1)
                rows = np.flatnonzero(col)
                if len(rows) == 0:
                    return None
                height = float(rows[-1] - rows[0])
                # the foot: the centre of the stroke's lowest run in the rising edge
                foot = _foot(region, int(starts[i]), int(rows[-1]), px_per_mm)
                return float(rise), height, y0 + foot
    return None


def _foot(region: np.ndarray, rise: int, low: int, px_per_mm: float) -> float:
    """Row (within ``region``) of the centre of the pulse's foot, 0 mV.

    Read on the baseline stub just left of the rising edge (column ``rise``); where there is
    none, half a pen above the edge's lowest ink (row ``low``).
    """
    xs = range(max(0, rise - int(0.8 * px_per_mm)), max(0, rise - int(0.35 * px_per_mm)))
    centres = []
    for x in xs:
        col = region[:, x]
        rows = np.flatnonzero(col[max(0, low - int(1.5 * px_per_mm)) : low + 2])
        if len(rows):
            rows = rows + max(0, low - int(1.5 * px_per_mm))
            # the run that holds the lowest ink
            last = rows[-1]
            run = rows[rows >= last - int(1.2 * px_per_mm)]
            centres.append((run[0] + run[-1]) / 2)
    if centres:
        return float(np.median(centres))
    return float(low) - 1.0


def _has_tick(binary: np.ndarray, x: float, y: float, px_per_mm: float) -> bool:
    """A separator tick (a vertical mark 3 mm above and below the baseline) at column x."""
    h, w = binary.shape
    xi = int(round(x))
    if not 1 <= xi < w - 1:
        return False
    lo = binary[:, xi - 1 : xi + 2].any(axis=1)
    a = int(y - 2.5 * px_per_mm)
    b = int(y + 2.5 * px_per_mm)
    if a < 0 or b >= h:
        return False
    return bool(
        lo[a : int(y - 1.2 * px_per_mm)].mean() > 0.8
        and lo[int(y + 1.2 * px_per_mm) : b].mean() > 0.8
    )


def _band(rows: np.ndarray, px_per_mm: float) -> int:
    """Half-height of a row's band: most of the way to its neighbours.

    A lead's trace can sit several mm off its row's zero line (an offset in the record) and
    must still count as the row's.
    """
    pitch = float(np.median(np.diff(rows))) if len(rows) > 1 else 40 * px_per_mm
    return int(np.clip(0.4 * pitch, 4 * px_per_mm, 12 * px_per_mm))


def _fill_rows(feet: np.ndarray) -> np.ndarray:
    """Rows at the pulses, and where a gap between two is a whole number of pitches, between."""
    feet = np.sort(np.asarray(feet, float))
    if len(feet) < 3:
        return feet
    diffs = np.diff(feet)
    pitch = float(np.median(diffs))
    out = [feet[0]]
    for y, d in zip(feet[1:], diffs, strict=True):
        k = int(round(d / pitch))
        if k >= 2 and abs(d / k / pitch - 1) < 0.05:
            out += [out[-1] + d * j / k for j in range(1, k)]  # a pulse hidden or unreadable
        out.append(y)
    return np.asarray(out)


def _rows_from_projection(
    ink: np.ndarray,
    binary: np.ndarray,
    px_per_mm: float,
    speed: float,
    gain: float,
    notes: list[str],
) -> tuple | None:
    """Rows from the ink's projection where no pulses line up: rows, x_trace, rights, px/mV."""
    rows = find_rows(ink, px_per_mm)
    if len(rows) == 0:
        return None
    half = _band(rows, px_per_mm)
    extents = [_row_extent(binary, y, half, int(7 * px_per_mm)) for y in rows]
    keep = [i for i, e in enumerate(extents) if e is not None]
    if not keep:  # peaks of text or grid remnants, no trace along them
        return None
    rows = rows[keep]
    extents = [extents[i] for i in keep]
    lefts = np.array([e[0] for e in extents], float)
    rights = np.array([e[1] for e in extents], float)
    # rows of a page start at the same x: drop stray rows (a line of text) far off the median
    med_l, med_r = np.median(lefts), np.median(rights)
    ok = (np.abs(lefts - med_l) < 15 * px_per_mm) & (np.abs(rights - med_r) < 15 * px_per_mm)
    rows, lefts, rights = rows[ok], lefts[ok], rights[ok]
    pulses = [_pulse(binary, y, int(x), px_per_mm) for y, x in zip(rows, lefts, strict=True)]
    found = [p for p in pulses if p is not None]
    # 0 mV is the pulse's foot, which the trace need not touch (an offset in the record)
    rows = np.array([p[2] if p is not None else y for p, y in zip(pulses, rows, strict=True)])
    px_per_mv = gain * px_per_mm
    if found:
        rise = float(np.median([p[0] for p in found]))
        x_trace = rise - STUB_MM * px_per_mm + pulse_region_mm(speed) * px_per_mm
        heights = np.array([p[1] for p in found])
        heights = heights[heights > 2 * px_per_mm]
        if len(heights):
            measured = float(np.median(heights))  # 1 mV and a pen's width
            for g in (5.0, 10.0, 20.0):
                if abs(measured / (g * px_per_mm) - 1) < 0.15:
                    # the gains a cart prints are these: the grid measures them better than
                    # the pulse's stroke does
                    px_per_mv = g * px_per_mm
                    break
            else:
                notes.append(
                    f"calibration pulse {measured / px_per_mm:.1f} mm tall: assumed {gain:g} mm/mV"
                )
    else:
        x_trace = float(np.median(lefts))
        notes.append(
            "no calibration pulse found: traces start at the row's first ink, "
            f"{gain:g} mm/mV, {speed:g} mm/s assumed"
        )
    return rows, x_trace, rights, px_per_mv


def detect_layout(
    ink: np.ndarray,
    px_per_mm: float,
    *,
    speed: float = SPEED,
    gain: float = GAIN,
    scale_known: bool = True,
    order: str = "standard",
) -> PageLayout:
    """Find the rows, the trace start and the panels of a rectified page.

    Parameters
    ----------
    ink : numpy.ndarray
        ``(H, W)`` trace-ink probability 0..1 of the rectified page.
    px_per_mm : float
        Its scale.
    speed, gain : float
        Paper speed (mm/s) and gain (mm/mV) to assume where the calibration pulse does not
        say otherwise.
    scale_known : bool
        Whether ``px_per_mm`` was measured (on the grid). Where not, the time and voltage
        scales are measured on the calibration pulses, where there are any.
    order : str
        Lead order of the candidate layouts (``"standard"`` or ``"cabrera"``, as
        :func:`ecgkit.generate.layout.make_layout` takes it).

    Returns
    -------
    PageLayout
    """
    notes: list[str] = []
    binary = ink > 0.5
    scale_source = "grid" if scale_known else "assumed"
    pulses = find_pulses(ink, px_per_mm)
    if pulses is not None:
        speed, gain = pulses.speed, pulses.gain
        rows = _fill_rows(pulses.feet)
        sx = sy = px_per_mm
        if not scale_known:
            scale_source = "pulses"
            sx, sy = pulse_scale(ink, pulses, px_per_mm)
            notes.append(
                f"scale from the calibration pulses: {sx * 25.4:.0f} x {sy * 25.4:.0f} DPI"
            )
        px_per_mv = gain * sy
        half = _band(rows, px_per_mm)
        extents = [_row_extent(binary, y, half, int(7 * px_per_mm)) for y in rows]
        lefts = np.array([e[0] for e in extents if e is not None], float)
        rights = np.array([e[1] for e in extents if e is not None], float)
        if len(rights) == 0:
            rights = np.array([ink.shape[1] - 1.0])
        x_ref = None  # the caller's default: a left pulse's rising edge
        if pulses.side == "right":
            x_ref = pulses.x_stub + STUB_MM * sx  # the rising edge
            # the traces start at the rows' left end and run up to the pulses
            x_trace = float(np.median(lefts)) if len(lefts) else 0.0
            rights = np.array([pulses.x_stub - 0.5 * sx])
            notes.append("calibration pulses at the right end of the rows")
        else:
            x_trace = pulses.x_stub + pulse_region_mm(speed) * sx
            if pulses.side == "both" and pulses.x_end is not None:
                rights = np.array([pulses.x_end - 0.5 * sx])
                notes.append("calibration pulses at both ends of the rows")
    else:
        found = _rows_from_projection(ink, binary, px_per_mm, speed, gain, notes)
        if found is None:
            return PageLayout("none", [], speed * px_per_mm, 0.0, [], ["no trace rows found"])
        rows, x_trace, rights, px_per_mv = found
        sx = px_per_mm
        x_ref = None
    px_per_s = speed * sx
    right = float(np.median(rights))
    shown = max(0.5, round((right - x_trace) / px_per_s * 10) / 10)
    # columns per row from the separator ticks
    n_cols = []
    for y in rows:
        ticks = [
            _has_tick(binary, x_trace + f * shown * px_per_s, y, px_per_mm)
            for f in (0.25, 0.5, 0.75, 1 / 6, 1 / 3, 2 / 3, 5 / 6)
        ]
        if ticks[3] and ticks[4] and ticks[5]:
            n_cols.append(6)
        elif ticks[0] and ticks[2]:
            n_cols.append(4)
        elif ticks[1]:
            n_cols.append(2)
        else:
            n_cols.append(1)
    name, grid = _choose(len(rows), n_cols, order)
    if name == "unknown":
        notes.append(
            f"{len(rows)} trace rows with {', '.join(map(str, n_cols))} columns: "
            "not a layout this digitizer knows"
        )
    panels: list[PanelBox] = []
    for r, (y, leads) in enumerate(zip(rows, grid, strict=False)):
        k = len(leads)
        rhythm = k == 1 and name.startswith("3x4")
        for c, lead in enumerate(leads):
            t0 = shown * c / k
            t1 = shown * (c + 1) / k
            panels.append(
                PanelBox(
                    lead,
                    x_trace + t0 * px_per_s,
                    x_trace + t1 * px_per_s,
                    float(y),
                    t0,
                    t1,
                    r,
                    rhythm,
                    px_per_mv,
                )
            )
    return PageLayout(
        name,
        panels,
        px_per_s,
        x_trace,
        [float(v) for v in rows],
        notes,
        x_ref=x_ref,
        pulse_side="none" if pulses is None else pulses.side,
        scale_source=scale_source,
        order_assumed=name != "unknown",
        speed=float(speed),
        gain=float(gain),
    )


def _choose(n_rows: int, n_cols: list[int], order: str = "standard") -> tuple[str, list[list[str]]]:
    """The layout name the rows and their columns say, and its leads per row (the generator's)."""
    four = sum(c == 4 for c in n_cols)
    if n_rows == 2 and sum(c == 6 for c in n_cols) >= 1:
        name = "2x6"
    elif n_rows >= 3 and four >= 2:
        name = _THREE_BY_FOUR[min(n_rows - 3, len(_THREE_BY_FOUR) - 1)]
    elif n_rows == 6:
        name = "6x2"
    elif n_rows == 12:
        name = "12x1"
    elif n_rows == 4:
        name = "3x4+II"
    elif n_rows == 3:
        name = "3x4"
    else:
        return "unknown", lead_grid("12x1", order)[:n_rows]
    return name, lead_grid(name, order)
