"""The digitizer pipeline: rectify, scale, layout, traces, signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ecgkit.record import Record

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in rectified pixels


@dataclass
class LeadResult:
    """One traced panel.

    Attributes
    ----------
    lead : str
        Canonical lead name.
    box : tuple
        ``(x0, y0, x1, y1)`` of the panel in the rectified image.
    x, y : numpy.ndarray
        The traced path in rectified pixels (NaN where the trace was lost).
    baseline_y : float
        Row of 0 mV in the rectified image.
    t0 : float
        Seconds from the record start of the panel's left edge.
    confidence : float
        0 (unreadable) to 1.
    rhythm : bool
        A full-length rhythm strip.
    """

    lead: str
    box: Box
    x: np.ndarray
    y: np.ndarray
    baseline_y: float
    t0: float
    confidence: float
    rhythm: bool = False


@dataclass
class Digitized:
    """What the digitizer found in one image.

    Attributes
    ----------
    record : Record
        12 canonical leads in mV at the requested rate; a lead that could not be read is NaN.
    confidence : dict
        Lead name -> 0..1 (0 where the lead is NaN).
    rectified : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB page after rectification (what ``leads`` refer to).
    homography : numpy.ndarray
        ``3x3``: input image pixels -> rectified pixels.
    px_per_mm : float
        Scale of the rectified image.
    layout : str
        The detected layout name (``"3x4+II"``...).
    leads : list of LeadResult
        Every traced panel.
    grid : dict
        What was measured of the grid (period in px, angle, phase, found or not).
    notes : list of str
        Anything the user should know (a lead not found, a fallback taken).
    seconds : float
        Wall time of the call.
    """

    record: Record
    confidence: dict[str, float]
    rectified: np.ndarray
    homography: np.ndarray
    px_per_mm: float
    layout: str
    leads: list[LeadResult]
    grid: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def digitize(image: Any, *, fs: float = 500.0, name: str = "digitized",
             model: Any = None) -> Digitized:  # fmt: skip
    """Digitize one image of a paper ECG.

    Parameters
    ----------
    image : numpy.ndarray, str, Path or bytes
        ``(H, W, 3)`` uint8 RGB, ``(H, W)`` grey, or a file path / encoded bytes that
        :func:`ecgkit.digitize.io.load_image` reads.
    fs : float
        Sampling rate of the returned record.
    name : str
        Name of the returned record.
    model : str, Path or onnxruntime.InferenceSession, optional
        The trace model (default: the shipped weights).

    Returns
    -------
    Digitized
    """
    raise NotImplementedError("digitizer core not landed yet")
