"""What the digitizer found, as data: the object ``ecgkit digitize --json`` writes.

:func:`to_json_dict` maps every lead's box from the rectified page back to the input image's
pixels (through the inverse of :attr:`Digitized.homography`, which maps input -> rectified),
so the boxes can be drawn on the image the user gave. The page's download is the same object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ecgkit.geometry import HomographyMap

if TYPE_CHECKING:
    from ecgkit.digitize.pipeline import Digitized

#: Version of the JSON layout (bump it when a key changes meaning or goes away).
REPORT_FORMAT = 1


def box_to_input(box: Any, homography: np.ndarray, shape: tuple[int, ...] | None = None) -> Any:
    """A rectified-page box ``(x0, y0, x1, y1)`` as the input image's enclosing box.

    Parameters
    ----------
    box : tuple or None
        Box in rectified pixels.
    homography : numpy.ndarray
        ``3x3``: input pixels -> rectified pixels.
    shape : tuple, optional
        The input image's shape; the box is clipped to it.

    Returns
    -------
    list of float or None
        ``[x0, y0, x1, y1]`` in input pixels; None where ``box`` is None or not finite.
    """
    if box is None or not np.all(np.isfinite(np.asarray(box, float))):
        return None
    x0, y0, x1, y1 = (float(v) for v in box)
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
    pts = HomographyMap(homography).inverse(corners)
    if not np.isfinite(pts).all():
        return None
    bx0, by0 = pts.min(axis=0)
    bx1, by1 = pts.max(axis=0)
    if shape is not None:
        h, w = shape[:2]
        bx0, bx1 = np.clip([bx0, bx1], 0.0, w - 1.0)
        by0, by1 = np.clip([by0, by1], 0.0, h - 1.0)
    return [round(float(v), 2) for v in (bx0, by0, bx1, by1)]


def to_json_dict(result: Digitized, *, image: str | None = None) -> dict[str, Any]:
    """The layout, each lead's boxes, the scale, the confidences and the notes, as JSON data.

    Parameters
    ----------
    result : Digitized
        What :func:`ecgkit.digitize.digitize` returned.
    image : str, optional
        The image's file name, recorded as given.

    Returns
    -------
    dict
        Plain JSON types only. Boxes are ``[x0, y0, x1, y1]`` in the input image's pixels:
        ``box`` the traced ink of the lead's panel, ``panel_box`` the panel's time window
        and the band searched for its trace, ``label_box`` the printed label (None: not read).
    """
    hom = np.asarray(result.homography, np.float64)
    shape = result.input_shape
    leads = []
    for lr in result.leads:
        ok = np.isfinite(lr.x) & np.isfinite(lr.y)
        trace = None
        if ok.any():
            trace = (lr.x[ok].min(), lr.y[ok].min(), lr.x[ok].max(), lr.y[ok].max())
        leads.append(
            {
                "lead": lr.lead,
                "rhythm": bool(lr.rhythm),
                "box": box_to_input(trace, hom, shape),
                "panel_box": box_to_input(lr.box, hom, shape),
                "label_box": box_to_input(lr.label_box, hom, shape),
                "t0_s": round(float(lr.t0), 4),
                "confidence": round(float(lr.confidence), 4),
            }
        )
    return {
        "format": REPORT_FORMAT,
        "image": image,
        "image_size": None if shape is None else [int(shape[1]), int(shape[0])],
        "layout": result.layout,
        "pulses": result.pulse_side,
        "scale": {
            "px_per_mm": round(float(result.px_per_mm), 4),
            "speed_mm_s": float(result.speed),
            "gain_mm_mv": float(result.gain),
            "source": result.scale_source,
            "coordinates": "boxes in the input image's pixels (x right, y down)",
        },
        "homography": [[float(v) for v in row] for row in hom],
        "confidence": {k: round(float(v), 4) for k, v in result.confidence.items()},
        "leads": leads,
        "notes": list(result.notes),
        "seconds": round(float(result.seconds), 3),
    }
