"""Drawing a page's ground truth over its image (for looking, not for training)."""

from __future__ import annotations

import cv2
import numpy as np

from ecgkit.generate.render import Page

#: One colour per lead (RGB), in standard lead order.
LEAD_COLOURS: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (23, 190, 207),
    (188, 189, 34),
    (0, 0, 128),
    (0, 128, 128),
    (128, 0, 128),
)


def draw_overlay(page: Page, *, boxes: bool = True, text: bool = True) -> np.ndarray:
    """The page image with every lead's ground-truth points drawn over it in colour.

    Parameters
    ----------
    page : Page
        A rendered page.
    boxes : bool
        Also draw each lead's bounding box, its label box and each calibration pulse's box.
    text : bool
        Also draw the boxes of printed text (header, footer).

    Returns
    -------
    numpy.ndarray
        A new ``(H, W, 3)`` uint8 RGB image.
    """
    from ecgkit.generate.layout import PAGE_LEADS

    out = page.image.copy()
    scale = 16
    for lt in page.leads:
        # the extra leads of a 15-lead page (V4R, V8, V9) take the colours over again
        colour = LEAD_COLOURS[PAGE_LEADS.index(lt.lead) % len(LEAD_COLOURS)]
        ok = np.isfinite(lt.x) & np.isfinite(lt.y)
        if ok.any():
            pts = np.round(np.stack([lt.x[ok], lt.y[ok]], 1) * scale).astype(np.int32)
            cv2.polylines(out, [pts.reshape(-1, 1, 2)], False, colour, 1, cv2.LINE_AA, 4)
        if boxes:
            for box in (lt.bbox, lt.label_bbox):
                if box is not None:
                    _rect(out, box, colour)
        for pulse in page.pulses:
            if pulse.bbox is not None:
                _rect(out, pulse.bbox, (0, 150, 150))
    if text:
        for t in page.texts:
            if t.kind != "label":
                _rect(out, t.bbox, (90, 90, 90))
    return out


def _rect(
    image: np.ndarray, box: tuple[float, float, float, float], colour: tuple[int, int, int]
) -> None:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    cv2.rectangle(image, (x0, y0), (x1, y1), colour, 1, cv2.LINE_AA)
