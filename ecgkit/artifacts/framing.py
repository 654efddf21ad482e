"""Framing: how much of the page an image shows, and what is around it.

Two geometric artifacts (stage ``capture``, family ``framing``), each an exact axis-aligned
map, so every ground-truth point moves with the pixels:

* ``frame_crop``: a scan or an export that misses part of the page: the left margin through
  the calibration pulses, the first or the last row, or the right end of the traces; or a
  crop around one lead's panel (``single_lead``), as a lead is cut out of a page for a report;
* ``window_frame``: a screenshot of a viewer: the page scaled into a window with a title bar, a
  toolbar, side panels and maybe a status bar.

The crops are whole-pixel translations onto a smaller image (no resampling: every pixel keeps
its value). Where they cut the paper, the truth follows the same contract as
:class:`~ecgkit.artifacts.imagekit.ImageKitCrop` and every other geometric artifact
(:func:`~ecgkit.artifacts.base.warp_page`): the points of a lead are pushed through the map, so
those cropped off lie outside the image (``x < -0.5``, ``x > W - 0.5``, ...); a lead, label or
pulse box is clipped to the image, and is None where nothing of it is left; texts cut off
entirely are dropped. What is on the image is exactly the points inside it. Each lead's
``baseline_y`` (and, for ``window_frame``, its scales and the page's ``px_per_mm``) follow
the map too.

Where a crop goes is measured on the page as it is when the artifact applies (the leads'
points, the pulses' boxes), in millimetres of paper (``page.px_per_mm``); a page without
plotted points falls back to fractions of the image.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ecgkit.artifacts import register
from ecgkit.artifacts.base import GeometricArtifact, round_param, warp_page, with_image
from ecgkit.artifacts.maps import FastHomographyMap
from ecgkit.generate.render import Page, TextBox, get_font
from ecgkit.geometry import CoordinateMap, clip_box

__all__ = [
    "CROP_MODES",
    "FrameCrop",
    "WINDOW_THEMES",
    "WindowFrame",
    "row_lines",
]

#: What ``frame_crop`` cuts, and how often: the left margin through the calibration pulses,
#: the first row (and the header above it), the last row (often the rhythm strip), the right
#: end of the traces (and any pulses there), or all but one lead's panel.
CROP_MODES: dict[str, float] = {
    "pulses": 4.0,
    "first_row": 2.0,
    "last_row": 3.0,
    "right_end": 2.0,
    "single_lead": 1.0,
}
#: Window colours (RGB): title bar, toolbar, side panels, the canvas behind the page, text,
#: icons.
WINDOW_THEMES: dict[str, dict[str, tuple[int, int, int]]] = {
    "dark": {
        "title": (32, 32, 36),
        "toolbar": (46, 46, 52),
        "panel": (38, 38, 43),
        "canvas": (66, 66, 72),
        "text": (222, 222, 226),
        "icon": (150, 154, 164),
        "line": (24, 24, 28),
    },
    "light": {
        "title": (238, 238, 240),
        "toolbar": (250, 250, 251),
        "panel": (228, 230, 235),
        "canvas": (150, 152, 156),
        "text": (28, 28, 32),
        "icon": (96, 104, 120),
        "line": (205, 206, 210),
    },
}
_TITLES = ("{name} - ECG Viewer", "ECG Viewer - {name}.pdf", "{name}.png", "Report {name}")
_MIN_PX = 16  # the smallest side a crop leaves


def row_lines(page: Page) -> list[tuple[int, float, float, float]]:
    """Each trace row as it lies on the image now: its height and the x its traces span.

    Parameters
    ----------
    page : Page

    Returns
    -------
    list of tuple
        ``(row, y, x_start, x_end)`` top to bottom, ``y`` the median of the row's points
        (about its baseline); rows without a finite point are left out.
    """
    rows: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    for lt in page.leads:
        ok = np.isfinite(lt.x) & np.isfinite(lt.y)
        if ok.any():
            rows.setdefault(lt.row, []).append((lt.x[ok], lt.y[ok]))
    out = []
    for r, parts in rows.items():
        xs = np.concatenate([p[0] for p in parts])
        ys = np.concatenate([p[1] for p in parts])
        out.append((r, float(np.median(ys)), float(xs.min()), float(xs.max())))
    return sorted(out, key=lambda v: v[1])


def _pitch(page: Page, rows: list[tuple[int, float, float, float]]) -> float:
    """Distance between neighbouring rows in pixels (the layout's pitch when one row)."""
    if len(rows) > 1:
        return float(np.median(np.diff([r[1] for r in rows])))
    return max(float(page.layout.row_pitch_mm) * float(page.px_per_mm), 10.0)


def _crop_box(box: list[float], width: int, height: int) -> list[int]:
    """Whole pixels ``[x0, y0, x1, y1)`` whose centres lie in ``box``, at least 16 px a side."""
    x0, y0, x1, y1 = box
    c0 = int(np.clip(math.ceil(x0), 0, max(width - _MIN_PX, 0)))
    r0 = int(np.clip(math.ceil(y0), 0, max(height - _MIN_PX, 0)))
    c1 = int(np.clip(math.floor(x1) + 1, min(c0 + _MIN_PX, width), width))
    r1 = int(np.clip(math.floor(y1) + 1, min(r0 + _MIN_PX, height), height))
    return [c0, r0, c1, r1]


class _Crop(GeometricArtifact):
    """A whole-pixel crop ``params["box"] = [x0, y0, x1, y1)``: a translation, no resampling."""

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> FastHomographyMap:
        """The shift by ``(-x0, -y0)`` onto an image of the box's size."""
        x0, y0, x1, y1 = (int(v) for v in params["box"])
        m = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0], [0.0, 0.0, 1.0]])
        return FastHomographyMap(m, (x1 - x0, y1 - y0))

    def finish(self, warped: Page, page: Page, params: dict[str, Any], cmap: CoordinateMap) -> Page:
        """Shift every lead's ``baseline_y`` with the crop."""
        y0 = float(params["box"][1])
        for lt in warped.leads:
            lt.baseline_y = lt.baseline_y - y0
        return warped


@register
class FrameCrop(_Crop):
    """A scan or an export that misses part of the page.

    Parameters drawn: ``mode`` (one of :data:`CROP_MODES`, with its weights), ``depth`` (how
    far the cut goes, ``0.2 + 0.8 * strength * U(0.3, 1)``) and ``box`` (the pixels kept,
    ``[x0, y0, x1, y1)``; but for ``single_lead``, the other three sides keep the whole image):

    * ``pulses``: the left edge falls ``depth`` of the way through the left calibration
      pulses; without left pulses, it falls in the last ``(1 - depth) * 6`` mm of paper
      before the traces;
    * ``first_row``: the top edge falls from 0.4 row pitch above the first row's baseline
      (``depth`` 0: the tallest waves cut) to 0.5 pitch below it (``depth`` 1: the row gone);
    * ``last_row``: the bottom edge, the same way for the last row;
    * ``right_end``: the right edge falls ``depth * 40`` mm before the end of the traces;
    * ``single_lead``: one panel (uniformly among those with most of their points on the
      image; its ``lead`` and ``lead_index`` are in the parameters), its label and, for a
      first-column panel half the time, the row's left pulse; ``0.5 + 4 * depth * U(0, 1)`` mm
      of paper before the trace and ``0.2 + 1.3 * depth * U(0, 1)`` mm after it (where the
      next panel starts), ``U(0.4, 0.6)`` row pitch above and below its baseline.
    """

    name, family, stage = "frame_crop", "framing", "capture"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw what is cut and how deep, then measure the box on the page."""
        s = float(np.clip(strength, 0.0, 1.0))
        modes = list(CROP_MODES)
        weights = np.asarray([CROP_MODES[m] for m in modes], float)
        mode = modes[int(rng.choice(len(modes), p=weights / weights.sum()))]
        depth = round_param(0.2 + 0.8 * s * rng.uniform(0.3, 1.0), 6)
        h, w = page.image.shape[:2]
        ppmm = float(page.px_per_mm)
        rows = row_lines(page)
        box = [-0.5, -0.5, w - 0.5, h - 0.5]
        if not rows:  # nothing plotted: fractions of the image
            side = {"pulses": 0, "first_row": 1, "last_row": 3, "right_end": 2}[mode]
            size = w if side in (0, 2) else h
            cut = 0.05 + 0.2 * depth
            box[side] = cut * size if side < 2 else (1 - cut) * size
        elif mode == "pulses":
            left = [p.bbox for p in page.pulses if p.side == "left" and p.bbox is not None]
            if left:
                p0, p1 = min(b[0] for b in left), max(b[2] for b in left)
                box[0] = p0 + depth * (p1 - p0)
            else:
                x_trace = min(r[2] for r in rows)
                box[0] = x_trace - (1.0 - depth) * 6.0 * ppmm
        elif mode in ("first_row", "last_row"):
            pitch = _pitch(page, rows)
            if mode == "first_row":
                box[1] = rows[0][1] - 0.4 * pitch + depth * 0.9 * pitch
            else:
                box[3] = rows[-1][1] + 0.4 * pitch - depth * 0.9 * pitch
        elif mode == "right_end":
            box[2] = max(r[3] for r in rows) - depth * 40.0 * ppmm
        else:
            return {"mode": mode, "depth": depth, **_single_lead(rng, page, depth, rows)}
        return {"mode": mode, "depth": depth, "box": _crop_box(box, w, h)}


def _single_lead(
    rng: np.random.Generator, page: Page, depth: float, rows: list[tuple[int, float, float, float]]
) -> dict[str, Any]:
    """``frame_crop``'s ``single_lead`` box: one panel, its label and maybe its pulse."""
    h, w = page.image.shape[:2]
    ppmm = float(page.px_per_mm)
    candidates = []
    for i, lt in enumerate(page.leads):
        ok = np.isfinite(lt.x) & np.isfinite(lt.y)
        inside = ok & (lt.x >= 0) & (lt.x <= w - 1) & (lt.y >= 0) & (lt.y <= h - 1)
        if ok.any() and inside.sum() >= 0.5 * ok.sum():
            candidates.append(i)
    index = int(candidates[int(rng.integers(len(candidates)))]) if candidates else -1
    keep_pulse = bool(rng.random() < 0.5)
    pads = rng.uniform(0.0, 1.0, 2)
    reach = rng.uniform(0.4, 0.6, 2)
    if index < 0:  # nothing plotted on the image: the middle third
        box = [w / 3, h / 3, 2 * w / 3, 2 * h / 3]
        return {"lead_index": index, "lead": "", "box": _crop_box(box, w, h)}
    lt = page.leads[index]
    ok = np.isfinite(lt.x) & np.isfinite(lt.y)
    x0, x1 = float(lt.x[ok].min()), float(lt.x[ok].max())
    y_mid = float(np.median(lt.y[ok]))
    pitch = _pitch(page, rows)
    # more paper before the trace (its separator, label) than after (the next panel)
    pad = [(0.5 + 4.0 * depth * pads[0]) * ppmm, (0.2 + 1.3 * depth * pads[1]) * ppmm]
    box = [x0 - pad[0], y_mid - reach[0] * pitch, x1 + pad[1], y_mid + reach[1] * pitch]
    extras = [lt.label_bbox]
    if keep_pulse and lt.col == 0:
        extras += [p.bbox for p in page.pulses if p.row == lt.row and p.side == "left"]
    for b in extras:
        if b is not None:
            box = [min(box[0], b[0]), min(box[1], b[1]), max(box[2], b[2]), max(box[3], b[3])]
    return {"lead_index": index, "lead": lt.lead, "box": _crop_box(box, w, h)}


@register
class WindowFrame(GeometricArtifact):
    """A screenshot of an ECG viewer: the page scaled into a window.

    The window has a title bar (the file's name; Windows buttons at the right or macOS lights
    at the left), a toolbar (icons and the zoom), a dark or light side panel at the left (a
    thumbnail of the page), maybe a properties panel at the right and a status bar; the page
    lies on the viewer's canvas between them, scaled by ``zoom`` about its top-left corner:
    ``x' = zoom * (x + 0.5) - 0.5 + offset_x``. Like ``downsample``, the page is low-pass
    filtered before a reduction, and the page's ``px_per_mm`` and every lead's
    ``baseline_y``, ``px_per_second`` and ``px_per_mv`` follow the map. The window's texts are
    recorded as text boxes of kind ``"window"``.

    Parameters drawn: ``theme`` (:data:`WINDOW_THEMES`), ``buttons`` (``"windows"`` or
    ``"mac"``), ``title`` (the title text), ``zoom`` (``1 - U(0, 0.3) * strength``), the bars'
    and panels' sizes in pixels (``title_px``, ``toolbar_px``, ``left_px``, ``right_px``,
    ``status_px``; the side panels grow with strength), ``offset`` (where the page's top-left
    corner lands), ``canvas`` (the window's ``[width, height]``) and ``icons`` (toolbar icons).
    """

    name, family, stage = "window_frame", "framing", "capture"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the window's look and sizes, then place the page in it."""
        s = float(np.clip(strength, 0.0, 1.0))
        h, w = page.image.shape[:2]
        theme = "dark" if rng.random() < 0.6 else "light"
        buttons = "windows" if rng.random() < 0.7 else "mac"
        title = _TITLES[int(rng.integers(len(_TITLES)))].format(name=page.record.name)
        zoom = round_param(1.0 - rng.uniform(0.0, 0.3) * s, 4)
        title_px = int(rng.integers(26, 38))
        toolbar_px = int(rng.integers(30, 50))
        status_px = int(rng.integers(18, 26)) if rng.random() < 0.5 else 0
        left_px = int(round(w * (0.04 + 0.14 * s * rng.uniform(0.4, 1.0))))
        right_px = int(round(w * 0.12 * s * rng.uniform(0.0, 1.0)))
        pad = rng.integers(6, 40, 4)  # canvas around the page: left, top, right, bottom
        page_w, page_h = w * zoom, h * zoom
        offset = [int(left_px + pad[0]), int(title_px + toolbar_px + pad[1])]
        canvas = [
            int(math.ceil(offset[0] + page_w + pad[2] + right_px)),
            int(math.ceil(offset[1] + page_h + pad[3] + status_px)),
        ]
        return {
            "theme": theme,
            "buttons": buttons,
            "title": title,
            "zoom": zoom,
            "title_px": title_px,
            "toolbar_px": toolbar_px,
            "left_px": left_px,
            "right_px": right_px,
            "status_px": status_px,
            "offset": offset,
            "canvas": canvas,
            "icons": int(rng.integers(5, 11)),
        }

    @staticmethod
    def matrix(zoom: float, offset: tuple[float, float]) -> np.ndarray:
        """The input-to-output matrix: scale by ``zoom`` about the page's corner, then shift."""
        z = float(zoom)
        ox, oy = (float(v) for v in offset)
        return np.array([[z, 0.0, ox + 0.5 * z - 0.5], [0.0, z, oy + 0.5 * z - 0.5], [0, 0, 1.0]])

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> FastHomographyMap:
        """The page scaled and placed on the window's canvas."""
        size = (int(params["canvas"][0]), int(params["canvas"][1]))
        return FastHomographyMap(self.matrix(params["zoom"], params["offset"]), size)

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Low-pass (when reduced), warp image and truth onto the canvas, then draw the window.

        Parameters
        ----------
        page : Page
        params : dict
            From :meth:`draw`.

        Returns
        -------
        Page
        """
        z = float(params["zoom"])
        if not 0.05 <= z <= 4.0:
            raise ValueError(f"window_frame zoom must be in [0.05, 4], got {z}")
        colours = WINDOW_THEMES[params["theme"]]
        cmap = self.coordinate_map(page, params)
        src = page
        if z < 1.0:
            sigma = 0.45 * math.sqrt(1.0 / (z * z) - 1.0)
            if sigma > 0.1:
                src = with_image(page, cv2.GaussianBlur(page.image, (0, 0), sigma))
        out = warp_page(src, cmap, fill_rgb=colours["canvas"])
        out.px_per_mm = page.px_per_mm * z
        oy = float(params["offset"][1])
        for lt in out.leads:
            lt.baseline_y = z * (lt.baseline_y + 0.5) - 0.5 + oy
            lt.px_per_second *= z
            lt.px_per_mv *= z
        return self.finish(out, page, params, cmap)

    def finish(self, warped: Page, page: Page, params: dict[str, Any], cmap: CoordinateMap) -> Page:
        """Draw the window around the canvas (never over the page: the truth stays exact)."""
        c = WINDOW_THEMES[params["theme"]]
        img = warped.image
        cw, ch = int(params["canvas"][0]), int(params["canvas"][1])
        tb, tl = int(params["title_px"]), int(params["toolbar_px"])
        lp, rp, sp = int(params["left_px"]), int(params["right_px"]), int(params["status_px"])
        top = tb + tl
        img[:tb] = c["title"]
        img[tb:top] = c["toolbar"]
        img[top - 1] = c["line"]
        img[top:, :lp] = c["panel"]
        if lp:
            img[top:, lp - 1] = c["line"]
        if rp:
            img[top:, cw - rp :] = c["panel"]
            img[top:, cw - rp] = c["line"]
        if sp:
            img[ch - sp :] = c["toolbar"]
            img[ch - sp] = c["line"]
        texts: list[TextBox] = []
        # title bar: the window's buttons and its title
        x_title = 12
        if params["buttons"] == "mac":
            for i, rgb in enumerate(((236, 95, 90), (245, 190, 80), (98, 196, 85))):
                centre = (14 + 20 * i, tb // 2)
                cv2.circle(img, centre, max(tb // 5, 4), rgb, -1, cv2.LINE_AA)
            x_title = 14 + 20 * 3 + 8
        else:
            cell = max(int(tb * 1.4), 30)
            cy, r = tb // 2, max(tb // 6, 4)
            for i in range(3):
                cx = cw - cell * (3 - i) + cell // 2
                if i == 0:
                    cv2.line(img, (cx - r, cy), (cx + r, cy), c["text"], 1, cv2.LINE_AA)
                elif i == 1:
                    cv2.rectangle(img, (cx - r, cy - r), (cx + r, cy + r), c["text"], 1)
                else:
                    for sgn in (1, -1):
                        p0, p1 = (cx - r, cy - sgn * r), (cx + r, cy + sgn * r)
                        cv2.line(img, p0, p1, c["text"], 1, cv2.LINE_AA)
            cv2.rectangle(img, (8, tb // 2 - 7), (21, tb // 2 + 6), (40, 110, 220), -1)
            x_title = 30
        font_px = max(int(round(tb * 0.45)), 8)
        texts.append(_text(img, (x_title, tb // 2), params["title"], font_px, c["text"]))
        # toolbar: icons, then the zoom at the right
        size = max(tl - 16, 10)
        y_icon = tb + (tl - size) // 2
        for i in range(int(params["icons"])):
            x = 10 + i * (size + 12) + (12 if i >= 3 else 0)
            if x + size > cw - 120:
                break
            cv2.rectangle(img, (x, y_icon), (x + size, y_icon + size), c["icon"], 1, cv2.LINE_AA)
            cv2.rectangle(
                img, (x + 4, y_icon + 4), (x + size - 4, y_icon + size - 4), c["icon"], -1
            )
        zoom_text = f"{round(float(params['zoom']) * 100)}%"
        texts.append(_text(img, (cw - 80, tb + tl // 2), zoom_text, font_px, c["text"]))
        # the left panel: a thumbnail of the page, and empty slots for more
        if lp > 24:
            tw = lp - 20
            h, w = page.image.shape[:2]
            th = max(int(round(tw * h / w)), 1)
            y = top + 12
            if y + th < ch - sp - 4:
                thumb = cv2.resize(page.image, (tw, th), interpolation=cv2.INTER_AREA)
                img[y : y + th, 10 : 10 + tw] = thumb
                cv2.rectangle(img, (8, y - 2), (11 + tw, y + th + 1), (60, 130, 230), 2)
                y += th + 14
            while y + th < ch - sp - 4:
                cv2.rectangle(img, (10, y), (10 + tw, y + th), c["line"], 1)
                y += th + 14
        # the right panel: property rows (bars where the text would be)
        if rp > 40:
            y = top + 16
            k = 0
            while y + 10 < ch - sp - 10:
                x0 = cw - rp + 10
                length = int((rp - 20) * (0.35 + 0.5 * ((k * 37) % 11) / 10))
                cv2.rectangle(img, (x0, y), (x0 + length, y + 6), c["icon"], -1)
                y, k = y + 22, k + 1
        if sp:
            texts.append(_text(img, (10, ch - sp // 2), "Page 1 of 1", font_px, c["text"]))
        out = with_image(warped, img)
        out.texts = list(warped.texts) + [t for t in texts if t is not None]
        return out


def _text(
    image: np.ndarray, xy: tuple[int, int], text: str, size_px: int, rgb: tuple[int, int, int]
) -> TextBox | None:
    """Draw ``text`` left-middle anchored at ``xy`` (on a crop); its box, or None if off."""
    font = get_font("sans", int(size_px))
    left, top, right, bottom = font.getbbox(text, anchor="lm")
    height, width = image.shape[:2]
    c0, r0 = max(int(xy[0] + left) - 2, 0), max(int(xy[1] + top) - 2, 0)
    c1 = min(int(math.ceil(xy[0] + right)) + 3, width)
    r1 = min(int(math.ceil(xy[1] + bottom)) + 3, height)
    if c1 <= c0 or r1 <= r0:
        return None
    crop = Image.fromarray(image[r0:r1, c0:c1])
    ImageDraw.Draw(crop).text((xy[0] - c0, xy[1] - r0), text, fill=rgb, font=font, anchor="lm")
    image[r0:r1, c0:c1] = np.asarray(crop)
    box = (xy[0] + left, xy[1] + top, xy[0] + right, xy[1] + bottom)
    return TextBox(text, clip_box(tuple(float(v) for v in box), width, height), "window")
