"""Drawing what the digitizer found over the rectified page (for looking, not for measuring)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ecgkit.digitize.pipeline import Digitized
from ecgkit.overlay import LEAD_COLOURS
from ecgkit.record import LEADS

GRID_COLOUR = (0, 170, 200)  # RGB: cyan, apart from every paper grid colour


def _phase(grid: dict[str, Any], axis: int) -> float:
    """The grid's offset along x (axis 0) or y (axis 1) in pixels, 0 where not measured."""
    for key in (("phase_x", "phase_y")[axis], ("x0", "y0")[axis]):
        value = grid.get(key)
        if isinstance(value, (int, float)) and np.isfinite(value):
            return float(value)
    value = grid.get("phase")
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) == 2:
        v = float(value[axis])
        return v if np.isfinite(v) else 0.0
    if isinstance(value, (int, float)) and np.isfinite(value):
        return float(value)
    return 0.0


def _draw_grid(out: np.ndarray, result: Digitized) -> None:
    grid = result.grid or {}
    if grid.get("found") is False or not (result.px_per_mm and result.px_per_mm > 0):
        return
    step = 5.0 * float(result.px_per_mm)  # major lines: 5 mm
    h, w = out.shape[:2]
    if step < 4 or w / step > 400 or h / step > 400:
        return
    layer = out.copy()
    for axis, size in ((0, w), (1, h)):
        start = _phase(grid, axis) % step
        for pos in np.arange(start, size, step):
            p = int(round(pos))
            if axis == 0:
                cv2.line(layer, (p, 0), (p, h - 1), GRID_COLOUR, 1)
            else:
                cv2.line(layer, (0, p), (w - 1, p), GRID_COLOUR, 1)
    cv2.addWeighted(layer, 0.35, out, 0.65, 0, dst=out)


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
        Draw the detected major grid (every 5 mm at ``result.px_per_mm``, from the measured
        phase) faintly in cyan.
    labels : bool
        Write each panel's lead name and confidence at its top-left corner.

    Returns
    -------
    numpy.ndarray
        A new ``(H, W, 3)`` uint8 RGB image: each lead's box (2 px, or 1 px where the
        confidence is under 0.5), its 0 mV baseline (dashed) and its traced path (a gap where
        the trace was lost) in the lead's colour (:data:`ecgkit.overlay.LEAD_COLOURS`).
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
            cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), 3,
                        cv2.LINE_AA)  # fmt: skip
            cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, colour, 1,
                        cv2.LINE_AA)  # fmt: skip
    return out
