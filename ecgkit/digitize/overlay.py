"""Drawing what the digitizer found over the rectified page (for looking, not for measuring)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ecgkit.digitize.pipeline import Digitized
from ecgkit.generate.overlay import LEAD_COLOURS
from ecgkit.io import LEADS

GRID_COLOUR = (0, 170, 200)  # RGB: cyan, apart from every paper grid colour


def _number(value: Any, axis: int) -> float | None:
    """A finite float from a scalar or from an ``(x, y)`` pair (``axis`` 0 or 1)."""
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) == 2:
        value = value[axis]
    if isinstance(value, (int, float, np.floating, np.integer)) and np.isfinite(value):
        return float(value)
    return None


def _measured_phase(ink: np.ndarray, step: float, axis: int) -> float:
    """Offset of the darkest lines repeating every ``step`` px along x (0) or y (1).

    The median across the other axis keeps grid lines (ink in nearly every row or column) and
    drops traces and text; each line is sampled at its best of three neighbouring pixels, so a
    line between two pixels is not missed.
    """
    profile = np.median(ink, axis=axis)
    if profile.size < 2 * step:
        return 0.0
    wide = np.maximum(profile, np.maximum(np.roll(profile, 1), np.roll(profile, -1)))
    best, best_score = 0.0, -1.0
    for offset in np.arange(0.0, step, 0.5):
        idx = np.round(np.arange(offset, profile.size - 1, step)).astype(int)
        score = float(wide[idx].mean())
        if score > best_score:
            best, best_score = float(offset), score
    return best


def _draw_grid(out: np.ndarray, result: Digitized) -> None:
    grid = result.grid
    if (grid is not None and not grid.found) or not (result.px_per_mm and result.px_per_mm > 0):
        return
    h, w = out.shape[:2]
    boxes = np.array([lr.box for lr in result.leads], float).reshape(-1, 4)
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    if boxes.size:  # where the leads are: the grid under the traces, not the margins
        x0, y0 = np.clip(boxes[:, :2].min(axis=0), 0, [w - 1, h - 1]).astype(int)
        x1, y1 = np.clip(boxes[:, 2:].max(axis=0), 0, [w - 1, h - 1]).astype(int)
    else:
        x0, y0, x1, y1 = 0, 0, w - 1, h - 1
    if x1 - x0 < 10 or y1 - y0 < 10:
        return
    ink = 255.0 - out[y0 : y1 + 1, x0 : x1 + 1].min(axis=2).astype(np.float32)
    layer = out.copy()
    for axis in (0, 1):
        period = _number(grid.period_px, axis) if grid is not None else None
        minor = period or float(result.px_per_mm)
        step = 5.0 * minor  # major lines: 5 mm
        lo, hi = (x0, x1) if axis == 0 else (y0, y1)
        if step < 4 or (hi - lo) / step > 400:
            continue
        start = lo + _measured_phase(ink, step, axis)
        for pos in np.arange(start, hi + 0.5, step):
            p = int(round(pos))
            if axis == 0:
                cv2.line(layer, (p, y0), (p, y1), GRID_COLOUR, 1)
            else:
                cv2.line(layer, (x0, p), (x1, p), GRID_COLOUR, 1)
    cv2.addWeighted(layer, 0.5, out, 0.5, 0, dst=out)


def _dashed_hline(out: np.ndarray, x0: int, x1: int, y: int, colour: tuple[int, int, int]) -> None:
    for x in range(x0, x1, 12):
        cv2.line(out, (x, y), (min(x + 6, x1), y), colour, 1)


def draw_digitized(result: Digitized, *, grid: bool = True, labels: bool = True) -> np.ndarray:
    """The rectified page with the detected grid, lead boxes, baselines and traced signals.

    Parameters
    ----------
    result : Digitized
        What :func:`ecgkit.digitize.digitize` returned.
    grid : bool
        Draw the detected major grid faintly in cyan over the lead area: every 5 mm at the
        measured period (``result.grid.period_px``, else ``px_per_mm``), from the offset at
        which the page's darkest lines repeat.
    labels : bool
        Write each panel's lead name and confidence at its top-left corner.

    Returns
    -------
    numpy.ndarray
        A new ``(H, W, 3)`` uint8 RGB image: each lead's box (2 px, or 1 px where the
        confidence is under 0.5), its 0 mV baseline (dashed) and its traced path (a gap where
        the trace was lost) in the lead's colour (:data:`ecgkit.generate.overlay.LEAD_COLOURS`).
    """
    base = np.asarray(result.rectified)
    if base.ndim == 2:
        base = np.repeat(base[:, :, None], 3, axis=2)
    out = np.ascontiguousarray(base[:, :, :3], dtype=np.uint8).copy()
    h, w = out.shape[:2]
    if grid:
        _draw_grid(out, result)
    scale = 16  # sub-pixel polylines: 4 fractional bits
    font_scale = max(0.4, min(1.2, h / 2000))
    for lr in result.leads:
        colour = LEAD_COLOURS[LEADS.index(lr.lead)] if lr.lead in LEADS else (90, 90, 90)
        x0, y0, x1, y1 = (int(round(v)) for v in lr.box)
        x0, x1 = max(0, min(x0, w - 1)), max(0, min(x1, w - 1))
        y0, y1 = max(0, min(y0, h - 1)), max(0, min(y1, h - 1))
        thickness = 2 if lr.confidence >= 0.5 else 1
        cv2.rectangle(out, (x0, y0), (x1, y1), colour, thickness, cv2.LINE_AA)
        if np.isfinite(lr.baseline_y):
            _dashed_hline(out, x0, x1, int(round(lr.baseline_y)), colour)
        x, y = np.asarray(lr.x, float), np.asarray(lr.y, float)
        ok = np.isfinite(x) & np.isfinite(y)
        # one polyline per run of finite points, so a lost stretch stays a gap
        edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            if b - a >= 2:
                pts = np.round(np.stack([x[a:b], y[a:b]], 1) * scale).astype(np.int32)
                cv2.polylines(out, [pts.reshape(-1, 1, 2)], False, colour, 2, cv2.LINE_AA, 4)
        if labels:
            text = f"{lr.lead} {lr.confidence:.2f}"
            org = (x0 + 4, max(y0 + int(22 * font_scale), 12))
            cv2.putText(
                out,
                text,
                org,
                cv2.FONT_HERSHEY_SIMPLEX,
                font_scale,
                (255, 255, 255),
                3,
                cv2.LINE_AA,
            )
            cv2.putText(
                out, text, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, colour, 1, cv2.LINE_AA
            )
    return out
