"""Layout: which lead is where on a rectified page.

Works on the trace-ink probability of an axis-aligned page at a known scale. Rows are the
peaks of the ink's horizontal projection; each row's calibration pulse gives where the traces
start and the gain; the short separator ticks between columns say how many leads a row holds;
the number of rows and columns picks one of the layouts the generator makes (3x4 with 0, 1 or
3 rhythm strips, 6x2, 12x1, 2x6), in standard lead order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import find_peaks

SPEED = 25.0  # mm/s
GAIN = 10.0  # mm/mV
_PULSE_REGION_MM = 8.0  # stub + pulse + stub + gap before the trace (ecgkit.layout)

_ROWS_3X4 = [["I", "aVR", "V1", "V4"], ["II", "aVL", "V2", "V5"], ["III", "aVF", "V3", "V6"]]
_ROWS_6X2 = [["I", "V1"], ["II", "V2"], ["III", "V3"], ["aVR", "V4"], ["aVL", "V5"],
             ["aVF", "V6"]]  # fmt: skip
_ROWS_12 = [["I"], ["II"], ["III"], ["aVR"], ["aVL"], ["aVF"], ["V1"], ["V2"], ["V3"], ["V4"],
            ["V5"], ["V6"]]  # fmt: skip
_ROWS_2X6 = [["I", "II", "III", "aVR", "aVL", "aVF"], ["V1", "V2", "V3", "V4", "V5", "V6"]]
_RHYTHM = ["II", "V1", "V5"]


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
    peaks, _ = find_peaks(prof, distance=max(2, int(6 * px_per_mm)), height=0.12 * w,
                          prominence=0.06 * w)  # fmt: skip
    out = []
    for p in peaks:
        # refine to the mode of ink rows near the peak: the flat baseline of the trace
        lo, hi = max(0, p - int(4 * px_per_mm)), min(h, p + int(4 * px_per_mm) + 1)
        raw = binary[lo:hi].sum(axis=1)
        out.append(lo + float(np.argmax(raw)))
    return np.asarray(out)


def _row_extent(binary: np.ndarray, y: float, half: int, max_gap: int) -> tuple[int, int] | None:
    h, w = binary.shape
    band = binary[max(0, int(y) - half) : min(h, int(y) + half + 1)]
    cols = np.flatnonzero(band.any(axis=0))
    if len(cols) < 10:
        return None
    # the longest stretch of columns without a wide gap (text beside it is dropped; the gap
    # under a calibration pulse's top, 5 mm, is bridged)
    gaps = np.flatnonzero(np.diff(cols) > max_gap)
    starts = np.r_[0, gaps + 1]
    ends = np.r_[gaps, len(cols) - 1]
    k = int(np.argmax(cols[ends] - cols[starts]))
    return int(cols[starts[k]]), int(cols[ends[k]])


def _pulse(binary: np.ndarray, y: float, x_left: int,
           px_per_mm: float) -> tuple[float, float, float] | None:  # fmt: skip
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
    return bool(lo[a : int(y - 1.2 * px_per_mm)].mean() > 0.8 and
                lo[int(y + 1.2 * px_per_mm) : b].mean() > 0.8)  # fmt: skip


def detect_layout(ink: np.ndarray, px_per_mm: float, *, speed: float = SPEED,
                  gain: float = GAIN) -> PageLayout:  # fmt: skip
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

    Returns
    -------
    PageLayout
    """
    notes: list[str] = []
    binary = ink > 0.5
    rows = find_rows(ink, px_per_mm)
    if len(rows) == 0:
        return PageLayout("none", [], speed * px_per_mm, 0.0, [], ["no trace rows found"])
    # a row's band reaches most of the way to its neighbours: a lead's trace can sit several
    # mm off the row's zero line (an offset in the record) and must still count as the row's
    pitch = float(np.median(np.diff(rows))) if len(rows) > 1 else 40 * px_per_mm
    half = int(np.clip(0.4 * pitch, 4 * px_per_mm, 12 * px_per_mm))
    extents = [_row_extent(binary, y, half, int(7 * px_per_mm)) for y in rows]
    keep = [i for i, e in enumerate(extents) if e is not None]
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
        x_trace = rise - 1.0 * px_per_mm + _PULSE_REGION_MM * px_per_mm
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
                notes.append(f"calibration pulse {measured / px_per_mm:.1f} mm tall: "
                             f"assumed {gain:g} mm/mV")  # fmt: skip
    else:
        x_trace = float(np.median(lefts))
        notes.append("no calibration pulse found: traces start at the row's first ink, "
                     f"{gain:g} mm/mV, {speed:g} mm/s assumed")  # fmt: skip
    px_per_s = speed * px_per_mm
    right = float(np.median(rights))
    shown = max(0.5, round((right - x_trace) / px_per_s * 10) / 10)
    # columns per row from the separator ticks
    n_cols = []
    for y in rows:
        ticks = [_has_tick(binary, x_trace + f * shown * px_per_s, y, px_per_mm)
                 for f in (0.25, 0.5, 0.75, 1 / 6, 1 / 3, 2 / 3, 5 / 6)]  # fmt: skip
        if ticks[3] and ticks[4] and ticks[5]:
            n_cols.append(6)
        elif ticks[0] and ticks[2]:
            n_cols.append(4)
        elif ticks[1]:
            n_cols.append(2)
        else:
            n_cols.append(1)
    name, grid = _choose(len(rows), n_cols)
    if name == "unknown":
        notes.append(f"{len(rows)} rows with {n_cols} columns: not a known layout; "
                     "read as one lead per row in the 12x1 order")  # fmt: skip
    panels: list[PanelBox] = []
    for r, (y, leads) in enumerate(zip(rows, grid, strict=False)):
        k = len(leads)
        rhythm = k == 1 and name.startswith("3x4")
        for c, lead in enumerate(leads):
            t0 = shown * c / k
            t1 = shown * (c + 1) / k
            panels.append(PanelBox(lead, x_trace + t0 * px_per_s, x_trace + t1 * px_per_s,
                                   float(y), t0, t1, r, rhythm, px_per_mv))  # fmt: skip
    return PageLayout(name, panels, px_per_s, x_trace, [float(v) for v in rows], notes)


def _choose(n_rows: int, n_cols: list[int]) -> tuple[str, list[list[str]]]:
    four = sum(c == 4 for c in n_cols)
    if n_rows == 2 and sum(c == 6 for c in n_cols) >= 1:
        return "2x6", _ROWS_2X6
    if n_rows >= 3 and four >= 2:
        extra = n_rows - 3
        if extra == 0:
            return "3x4", _ROWS_3X4
        rhythm = _RHYTHM[:extra] if extra > 1 else ["II"]
        return "3x4+" + ",".join(rhythm), _ROWS_3X4 + [[lead] for lead in rhythm]
    if n_rows == 6:
        return "6x2", _ROWS_6X2
    if n_rows == 12:
        return "12x1", _ROWS_12
    if n_rows == 4:
        return "3x4+II", _ROWS_3X4 + [["II"]]
    if n_rows == 3:
        return "3x4", _ROWS_3X4
    return "unknown", _ROWS_12[:n_rows]
