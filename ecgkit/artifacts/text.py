"""Text an electrocardiograph prints besides the traces, and rubber stamps.

``printed_text`` adds what a cardiograph prints next to the traces: a measurement block (rate,
PR, QRS, QT/QTc, P-R-T axes: the record's own values when its metadata has them), machine
interpretation statements, an institution or device line and a page number, in one of several
fonts, placed where the header and the margins are free. ``stamp`` adds a rotated rubber stamp
in blue, red or purple ink with uneven, textured coverage.

Both are photometric (:func:`~ecgkit.artifacts.base.with_image`): ink is laid on by
multiplying (``image * (1 - alpha * (1 - ink))``), so whatever was printed before shows
through; the truth does not move. Every text drawn is recorded as a
:class:`~ecgkit.generate.render.TextBox` (tight box of the pixels it changed, ``(x0, y0, x1, y1)``
pixels, pixel centres at integers) on a copy of ``page.texts``. Work is done on crops around
each item, so an apply costs a few milliseconds.

:func:`load_font` and :func:`text_mask` set text in the fonts of :data:`FONT_FILES`; the ink
and noise helpers live in :mod:`ecgkit.artifacts.ink` (still importable from here).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ecgkit.artifacts import register
from ecgkit.artifacts.base import PhotometricArtifact, draw_seed, round_param, with_image
from ecgkit.artifacts.ink import blend_ink, smooth_noise
from ecgkit.generate.layout import mm_to_px
from ecgkit.generate.render import Page, TextBox, find_font_file, get_font
from ecgkit.geometry import Box

__all__ = [
    "FONT_FILES",
    "PrintedText",
    "Stamp",
    "blend_ink",
    "load_font",
    "smooth_noise",
    "text_mask",
]

#: Font name -> (file in matplotlib's ``mpl-data/fonts/ttf``, horizontal scale). A scale
#: below 1 makes a condensed variant by squeezing the rendered text.
FONT_FILES: dict[str, tuple[str, float]] = {
    "sans": ("DejaVuSans.ttf", 1.0),
    "sans-bold": ("DejaVuSans-Bold.ttf", 1.0),
    "sans-condensed": ("DejaVuSans.ttf", 0.82),
    "sans-bold-condensed": ("DejaVuSans-Bold.ttf", 0.8),
    "sans-oblique": ("DejaVuSans-Oblique.ttf", 1.0),
    "mono": ("DejaVuSansMono.ttf", 1.0),
    "mono-bold": ("DejaVuSansMono-Bold.ttf", 1.0),
    "mono-oblique": ("DejaVuSansMono-Oblique.ttf", 1.0),
    "serif": ("DejaVuSerif.ttf", 1.0),
    "serif-bold": ("DejaVuSerif-Bold.ttf", 1.0),
    "serif-condensed": ("DejaVuSerif.ttf", 0.82),
    "serif-italic": ("DejaVuSerif-Italic.ttf", 1.0),
    "times": ("STIXGeneral.ttf", 1.0),
    "times-bold": ("STIXGeneralBol.ttf", 1.0),
    "times-italic": ("STIXGeneralItalic.ttf", 1.0),
}

_PRINT_FONTS = (
    "sans",
    "sans",
    "sans-condensed",
    "sans-bold-condensed",
    "sans-bold",
    "mono",
    "mono-bold",
    "serif",
    "serif-condensed",
    "times",
)
_STAMP_FONTS = ("sans-bold", "sans-bold-condensed", "serif-bold", "times-bold", "mono-bold")


# --------------------------------------------------------------------------------------------
# shared helpers


@functools.lru_cache(maxsize=128)
def load_font(name: str, size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font from :data:`FONT_FILES` at a pixel size (matplotlib's DejaVu and STIX files).

    Parameters
    ----------
    name : str
        A key of :data:`FONT_FILES`.
    size_px : int
        Font size in pixels.

    Returns
    -------
    PIL.ImageFont.FreeTypeFont
        The file is looked up where :func:`~ecgkit.generate.render.get_font` looks
        (:func:`~ecgkit.generate.render.find_font_file`); falls back to ``get_font``'s family
        font when it is not installed.
    """
    if name not in FONT_FILES:
        raise ValueError(f"unknown font {name!r}; valid: {', '.join(FONT_FILES)}")
    path = find_font_file(FONT_FILES[name][0])
    if path is not None:
        return ImageFont.truetype(str(path), int(size_px))
    family = {"times": "serif"}.get(name.split("-")[0], name.split("-")[0])
    return get_font(family, int(size_px))


@functools.lru_cache(maxsize=512)
def text_mask(text: str, font: str, size_px: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Coverage of ``text`` set in ``font``, and where its baseline-left anchor lies in it.

    Parameters
    ----------
    text : str
        One line of text.
    font : str
        A key of :data:`FONT_FILES` (condensed variants are squeezed horizontally).
    size_px : int
        Font size in pixels.

    Returns
    -------
    tuple
        ``(mask, (ax, ay))``: ``mask`` a read-only ``(h, w)`` uint8 array (255 = ink), and
        the anchor pixel; the mask is tight around the ink (at least 1x1).
    """
    f = load_font(font, size_px)
    left, top, right, bottom = f.getbbox(text, anchor="ls")
    w, h = int(right - left) + 4, int(bottom - top) + 4
    img = Image.new("L", (max(w, 1), max(h, 1)), 0)
    ImageDraw.Draw(img).text((2 - left, 2 - top), text, fill=255, font=f, anchor="ls")
    mask = np.asarray(img, dtype=np.uint8)
    ax, ay = 2.0 - left, 2.0 - top
    hscale = FONT_FILES.get(font, ("", 1.0))[1]
    if hscale != 1.0:
        nw = max(1, int(round(mask.shape[1] * hscale)))
        mask = cv2.resize(mask, (nw, mask.shape[0]), interpolation=cv2.INTER_AREA)
        ax = (ax + 0.5) * hscale - 0.5
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        out = np.zeros((1, 1), np.uint8)
        out.flags.writeable = False
        return out, (0, 0)
    mask = np.ascontiguousarray(mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    mask.flags.writeable = False
    return mask, (int(round(ax)) - int(cols[0]), int(round(ay)) - int(rows[0]))


def _union(a: Box | None, b: Box | None) -> Box | None:
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _float_box(box: Box) -> Box:
    return tuple(float(v) for v in box)  # type: ignore[return-value]


def _draw_line(
    image: np.ndarray,
    text: str,
    font: str,
    size: int,
    x: int,
    y: int,
    rgb: tuple[float, float, float],
    opacity: float,
) -> Box | None:
    """Draw one line of text with its baseline-left anchor at pixel ``(x, y)``."""
    mask, (ax, ay) = text_mask(text, font, size)
    alpha = mask.astype(np.float32) * (opacity / 255.0)
    return blend_ink(image, alpha, x - ax, y - ay, rgb)


# --------------------------------------------------------------------------------------------
# printed text


_STATEMENTS_OTHER = (
    "Nonspecific T wave abnormality",
    "Nonspecific ST and T wave abnormality",
    "Nonspecific intraventricular conduction delay",
    "Incomplete right bundle branch block",
    "Left ventricular hypertrophy",
    "Possible left atrial enlargement",
    "Inferior infarct, age undetermined",
    "Septal infarct, age undetermined",
    "Anterior infarct, age undetermined",
    "Possible lateral ischemia",
    "ST elevation, consider early repolarization",
    "Low voltage QRS",
    "Poor R wave progression",
    "T wave inversion in lateral leads",
    "Abnormal QRS-T angle",
    "with occasional premature ventricular complexes",
    "with premature atrial complexes",
)
_SUMMARY = ("Normal ECG", "Otherwise normal ECG", "Borderline ECG", "Abnormal ECG")
_TRAILER = (
    "Unconfirmed report",
    "Unconfirmed analysis",
    "UNCONFIRMED REPORT - physician review required",
    "No previous ECGs available",
    "When compared with ECG of {date},",
    "No significant change was found",
    "Confirmed by {doctor} on {date}",
    "Referred by: {doctor}",
)
_DOCTORS = (
    "Dr. A. Smith",
    "Dr. M. Keller",
    "Dr. R. Patel",
    "Dr. J. Nguyen",
    "Dr. L. Garcia",
    "Dr. S. Okafor",
    "Dr. K. Johansson",
    "Dr. P. Rossi",
    "Dr. H. Tanaka",
)
_PLACES = (
    "St. Mary's",
    "Royal",
    "City",
    "University",
    "Memorial",
    "Mercy",
    "Riverside",
    "County",
    "St. Vincent's",
    "Northside",
    "General",
)
_INSTITUTIONS = ("Hospital", "Medical Center", "Heart Institute", "Clinic", "Infirmary")
_DEPARTMENTS = (
    "Cardiology",
    "Emergency Department",
    "Internal Medicine",
    "Cardiac ICU",
    "ECG Laboratory",
    "Pre-operative Assessment",
    "Chest Pain Unit",
)
_DEVICES = (
    "MAC 5500 HD",
    "MAC 2000",
    "MAC 1600",
    "PageWriter TC70",
    "PageWriter TC50",
    "ELI 280",
    "ELI 250c",
    "CardioSoft V7",
    "Cardiovit AT-102 plus",
    "CP 150",
    "ECG-2550",
    "Cardiofax M",
)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _finite(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _measurements(meta: dict[str, Any], rng: np.random.Generator) -> tuple[dict[str, int], bool]:
    """Rate, PR, QRS, QT, QTc (ms) and P/QRS/T axes (deg): the record's own or plausible."""
    iv = meta.get("intervals_ms") or {}
    sp = meta.get("synth_params") or {}
    from_record = all(_finite(iv.get(k)) for k in ("RR", "PR", "QRS", "QT", "QTc"))
    if from_record:
        vals = {k: int(round(float(iv[k]))) for k in ("PR", "QRS", "QT", "QTc")}
        vals["rate"] = int(round(60000.0 / max(float(iv["RR"]), 1.0)))
    else:
        rate = int(rng.integers(48, 118))
        qtc = float(rng.uniform(385, 465))
        vals = {
            "rate": rate,
            "PR": int(rng.integers(118, 212)),
            "QRS": int(rng.integers(76, 124)),
            "QT": int(round(qtc * math.sqrt(60.0 / rate))),
            "QTc": int(round(qtc)),
        }
    axis = float(sp["axis"]) if _finite(sp.get("axis")) else float(rng.uniform(-35, 95))
    vals["axis_QRS"] = int(round(axis))
    vals["axis_P"] = int(round(float(np.clip(rng.normal(50, 15), -20, 85))))
    vals["axis_T"] = int(round(axis * 0.5 + rng.normal(20, 15)))
    return vals, from_record


def _measurement_lines(vals: dict[str, int], style: str) -> list[list[str]]:
    """The measurement block as lines of columns (``[label, value]`` or ``[text]``)."""
    p, q, t = vals["axis_P"], vals["axis_QRS"], vals["axis_T"]
    if style == "table":
        return [
            ["Vent. rate", f"{vals['rate']} BPM"],
            ["PR interval", f"{vals['PR']} ms"],
            ["QRS duration", f"{vals['QRS']} ms"],
            ["QT/QTc", f"{vals['QT']}/{vals['QTc']} ms"],
            ["P-R-T axes", f"{p} {q} {t}"],
        ]
    if style == "table-short":
        return [
            ["HR", f"{vals['rate']} bpm"],
            ["PR", f"{vals['PR']} ms"],
            ["QRSD", f"{vals['QRS']} ms"],
            ["QT", f"{vals['QT']} ms"],
            ["QTc", f"{vals['QTc']} ms"],
            ["Axis", f"{p} / {q} / {t}"],
        ]
    if style == "two-lines":
        return [
            [
                f"Rate {vals['rate']}   PR {vals['PR']}   QRSD {vals['QRS']}   "
                f"QT {vals['QT']}   QTc {vals['QTc']}"
            ],
            [f"-- Axis --   P {p}   QRS {q}   T {t}"],
        ]
    return [
        [
            f"HR {vals['rate']} bpm  PR {vals['PR']} ms  QRS {vals['QRS']} ms  "
            f"QT/QTc {vals['QT']}/{vals['QTc']} ms  P/QRS/T {p}/{q}/{t}"
        ]
    ]


def _date(meta: dict[str, Any], rng: np.random.Generator, days_before: int = 0) -> str:
    d = str(meta.get("date") or "")
    try:
        year, month, day = (int(v) for v in d.split("-"))
    except ValueError:
        year, month, day = int(rng.integers(2008, 2024)), int(rng.integers(1, 13)), 0
        day = int(rng.integers(1, 29))
    if days_before:
        month = (month - 1 - days_before // 30) % 12 + 1
        year -= days_before // 365 + (1 if days_before % 365 > 200 else 0)
    return f"{day:02d}-{_MONTHS[month - 1]}-{year}"


def _statements(
    vals: dict[str, int], meta: dict[str, Any], rng: np.random.Generator, n: int
) -> list[str]:
    """Machine interpretation statements consistent with the measurements."""
    dx = meta.get("dx")
    out: list[str] = []
    if isinstance(dx, str) and any(c.isalpha() for c in dx) and not dx.strip().isdigit():
        out.append(dx.strip()[:48])
    else:
        rate = vals["rate"]
        if rate < 50:
            out.append("Marked sinus bradycardia")
        elif rate < 60:
            out.append("Sinus bradycardia")
        elif rate > 100:
            out.append("Sinus tachycardia")
        else:
            out.append(str(rng.choice(["Normal sinus rhythm", "Sinus rhythm"])))
    if vals["PR"] > 200:
        out[-1] += " with 1st degree A-V block"
    if vals["axis_QRS"] < -30:
        out.append("Left axis deviation")
    elif vals["axis_QRS"] > 100:
        out.append("Right axis deviation")
    if vals["QRS"] >= 120:
        out.append(
            str(
                rng.choice(
                    [
                        "Right bundle branch block",
                        "Left bundle branch block",
                        "Nonspecific intraventricular conduction delay",
                    ]
                )
            )
        )
    if vals["QTc"] > 470:
        out.append("Prolonged QT")
    n_other = max(0, n - len(out) - 1)
    if n_other:
        k = int(rng.integers(0, n_other + 1))
        for i in rng.choice(len(_STATEMENTS_OTHER), size=k, replace=False):
            out.append(_STATEMENTS_OTHER[int(i)])
    abnormal = len(out) > 1
    out.append(str(rng.choice(_SUMMARY[2:] if abnormal else _SUMMARY[:3])))
    while len(out) < n:
        tpl = str(rng.choice(_TRAILER))
        line = tpl.format(
            date=_date(meta, rng, int(rng.integers(30, 900))), doctor=str(rng.choice(_DOCTORS))
        )
        if line not in out:
            out.append(line)
        else:
            break
    return out[: max(n, 2)]


def _px_box_of_mm(box: tuple[float, float, float, float], ppmm: float) -> Box:
    return tuple(float(mm_to_px(v, ppmm)) for v in box)  # type: ignore[return-value]


def _occupied(page: Page) -> list[Box]:
    boxes: list[Box] = [t.bbox for t in page.texts if t.bbox is not None]
    boxes += [lt.bbox for lt in page.leads if lt.bbox is not None]
    return [b for b in boxes if b[2] > b[0] and b[3] > b[1]]


def _free_spot(
    occupied: list[Box], region: Box, size: tuple[float, float], prefer: str, step: int = 4
) -> tuple[int, int] | None:
    """Top-left corner of a ``size`` box inside ``region`` that meets no occupied box."""
    x0, y0, x1, y1 = region
    w, h = size
    xs = np.arange(math.ceil(x0), math.floor(x1 - w) + 1, step)
    ys = np.arange(math.ceil(y0), math.floor(y1 - h) + 1, step)
    if len(xs) == 0 or len(ys) == 0:
        return None
    gx, gy = np.meshgrid(xs, ys)
    ok = np.ones(gx.shape, bool)
    for ox0, oy0, ox1, oy1 in occupied:
        ok &= ~((gx < ox1) & (gx + w > ox0) & (gy < oy1) & (gy + h > oy0))
    if not ok.any():
        return None
    iy, ix = np.nonzero(ok)
    if prefer == "left":
        k = np.lexsort((iy, ix))[0]
    elif prefer == "right":
        k = np.lexsort((iy, -ix))[0]
    elif prefer == "right-bottom":
        k = np.lexsort((-iy, -ix))[0]
    else:  # left-bottom
        k = np.lexsort((-iy, ix))[0]
    return int(gx[iy[k], ix[k]]), int(gy[iy[k], ix[k]])


def _line_extent(parts: list[str], font: str, size: int, tab: float) -> tuple[float, float, float]:
    """Width, ascent and descent of one line (columns ``tab`` px apart)."""
    width, asc, desc = 0.0, 0.0, 0.0
    for i, text in enumerate(parts):
        mask, (ax, ay) = text_mask(text, font, size)
        width = max(width, i * tab + mask.shape[1] - ax)
        asc, desc = max(asc, ay), max(desc, mask.shape[0] - ay)
    return width, asc, desc


def _layout_block(
    rows: list[list[str]], font: str, size: int
) -> tuple[list[dict[str, Any]], float, float]:
    """Lines positioned relative to the block's top-left, and the block's size."""
    tab = 0.0
    if any(len(r) > 1 for r in rows):
        tab = max(text_mask(r[0], font, size)[0].shape[1] for r in rows if len(r) > 1)
        tab += size * 0.9
    pitch = round(size * 1.3)
    ext = [_line_extent(r, font, size, tab) for r in rows]
    asc = max(e[1] for e in ext)
    lines, width = [], 0.0
    for i, (r, e) in enumerate(zip(rows, ext, strict=True)):
        base = round(asc + i * pitch)
        lines.append({"parts": [[t, round(j * tab)] for j, t in enumerate(r)], "dy": base})
        width = max(width, e[0])
    height = asc + (len(rows) - 1) * pitch + max(e[2] for e in ext)
    return lines, width, height


@register
class PrintedText(PhotometricArtifact):
    """What an electrocardiograph prints besides the traces.

    Parameters drawn: ``font`` (a key of :data:`FONT_FILES`), ``size`` (px), ``colour``
    (RGB), ``opacity``, ``values`` (the measurements printed: ``rate``, ``PR``, ``QRS``,
    ``QT``, ``QTc`` in ms, ``axis_P``/``axis_QRS``/``axis_T`` in degrees; from the record's
    ``intervals_ms`` and ``synth_params`` when present, ``from_record`` says so), and
    ``items``: blocks (``kind`` one of ``measurements``, ``statements``, ``institution``,
    ``device``, ``page``) with ``x``, ``y`` (block top-left, px) and ``lines`` (each
    ``{"parts": [[text, dx], ...], "dy": baseline offset}``). Strength sets how many blocks
    and statements are printed.
    """

    name = "printed_text"
    family = "text"
    stage = "print"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Compose the blocks and find free places for them in the header and margins."""
        s = float(np.clip(strength, 0.0, 1.0))
        meta = dict(page.record.metadata)
        ppmm = page.px_per_mm
        vals, from_record = _measurements(meta, rng)
        font = str(rng.choice(_PRINT_FONTS))
        size = max(8, int(round(rng.uniform(2.2, 3.1) * ppmm)))
        grey = int(rng.integers(0, 50))
        ink = page.style.ink_rgb if rng.random() < 0.7 else (grey, grey, grey)
        colour = [int(min(255, v + grey * 0.5)) for v in ink]
        opacity = round_param(rng.uniform(0.82, 1.0), 4)

        blocks: list[tuple[str, list[list[list[str]]], list[str]]] = []
        if rng.random() < 0.55 + 0.45 * s:
            style = str(
                rng.choice(
                    ["table", "table-short", "two-lines", "one-line"], p=[0.4, 0.25, 0.2, 0.15]
                )
            )
            forms = [
                _measurement_lines(vals, st)
                for st in dict.fromkeys([style, "two-lines", "one-line"])
            ]
            blocks.append(("measurements", forms, ["top-left", "bottom-left"]))
        n_stmt = int(round(1 + s * rng.uniform(1.5, 5.0)))
        if rng.random() < 0.4 + 0.6 * s or not blocks:
            st = _statements(vals, meta, rng, n_stmt)
            forms = [[[x] for x in st], [[x] for x in st[:2]], [["  ".join(st[:2])]]]
            blocks.append(("statements", forms, ["top-left", "bottom-left"]))
        if rng.random() < 0.25 + 0.6 * s:
            place = f"{rng.choice(_PLACES)} {rng.choice(_INSTITUTIONS)}"
            dept = str(rng.choice(_DEPARTMENTS))
            forms = [[[place], [dept]], [[f"{place} - {dept}"]], [[place]]]
            blocks.append(("institution", forms, ["top-right", "bottom-right"]))
        if rng.random() < 0.25 + 0.6 * s:
            dev = (
                f"{rng.choice(_DEVICES)}  {rng.choice(['v2.4', '010A', '12SL v241', 'C'])}"
                f"   Loc {int(rng.integers(1, 40))}   Room {rng.choice(['ER', 'A', 'B'])}"
                f"{int(rng.integers(1, 30))}"
            )
            if rng.random() < 0.5:
                tech = f"{rng.choice(list('ABCDJKMRST'))}{rng.choice(list('ABDKLMS'))}"
                dev += f"   Technician: {tech}"
            forms = [[[dev]], [[dev.split("   ")[0]]]]
            blocks.append(("device", forms, ["bottom-right", "top-right"]))
        if rng.random() < 0.2 + 0.6 * s:
            txt = str(rng.choice(["Page 1 of 1", "Page 1", "1/1", "Page 1/1", "- 1 -"]))
            blocks.append(("page", [[[txt]]], ["bottom-right", "top-right"]))

        w, h = page.width, page.height
        layout = page.layout
        margin = max(layout.header_box_mm[0] * ppmm, 8.0)
        gx0, gy0, gx1, gy1 = _px_box_of_mm(layout.grid_box_mm, ppmm)
        footer = [t.bbox[1] for t in page.texts if t.kind == "footer"]
        bands = {
            "top": (margin, margin * 0.8, w - margin, max(gy0, margin * 0.8)),
            "bottom": (margin, min([gy1, *footer]) - 2, w - margin, h - margin * 0.5),
        }
        pad = 1.5 * ppmm
        boxes = _occupied(page)
        header = [t.bbox for t in page.texts if t.kind == "header"]
        if header:  # the patient header is one column: keep clear of all of it
            boxes.append(
                (
                    min(b[0] for b in header),
                    min(b[1] for b in header),
                    max(b[2] for b in header),
                    max(b[3] for b in header),
                )
            )
        occupied = [(b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad) for b in boxes]
        items = []
        for kind, forms, prefs in blocks:
            placed = None
            for scale in (1.0, 0.85, 0.72):
                sz = max(8, int(round(size * scale)))
                for rows in forms:
                    lines, bw, bh = _layout_block(rows, font, sz)
                    for pref in prefs:
                        band, side = pref.split("-")
                        region = bands[band]
                        spot = _free_spot(
                            occupied,
                            region,
                            (bw + 2, bh + 2),
                            side if band == "top" else f"{side}-bottom",
                        )
                        if spot is not None and side == "right":
                            # right-hand blocks belong at the right edge, not in any gap
                            if spot[0] + bw < region[2] - 0.25 * (region[2] - region[0]):
                                spot = None
                        if spot is not None:
                            placed = (sz, lines, spot, bw, bh)
                            break
                    if placed:
                        break
                if placed:
                    break
            if placed is None:
                continue
            sz, lines, (x, y), bw, bh = placed
            occupied.append((x - pad * 2, y - pad, x + bw + pad * 2, y + bh + pad))
            items.append({"kind": kind, "x": x + 1, "y": y + 1, "size": sz, "lines": lines})
        return {
            "font": font,
            "colour": colour,
            "opacity": opacity,
            "values": vals,
            "from_record": from_record,
            "items": items,
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Print every line; one ``"printed"`` text box per line."""
        image = page.image.copy()
        texts = list(page.texts)
        rgb = tuple(float(v) for v in params["colour"])
        for item in params["items"]:
            for line in item["lines"]:
                box = None
                for text, dx in line["parts"]:
                    b = _draw_line(
                        image,
                        text,
                        params["font"],
                        int(item["size"]),
                        int(item["x"] + dx),
                        int(item["y"] + line["dy"]),
                        rgb,
                        float(params["opacity"]),
                    )
                    box = _union(box, b)
                if box is not None:
                    label = "  ".join(t for t, _ in line["parts"])
                    texts.append(TextBox(label, _float_box(box), "printed"))
        out = with_image(page, image)
        out.texts = texts
        return out


# --------------------------------------------------------------------------------------------
# stamps

_INKS = {
    "blue": (40, 70, 170),
    "red": (200, 40, 50),
    "purple": (110, 50, 140),
    "black": (40, 40, 50),
}
_STAMP_WORDS = (
    "RECEIVED",
    "COPY",
    "REVIEWED",
    "SCANNED",
    "FILED",
    "CONFIDENTIAL",
    "ENTERED",
    "URGENT",
    "VERIFIED",
)


def _stamp_canvas(spec: dict[str, Any]) -> np.ndarray:
    """The unrotated stamp as a float32 coverage mask (1 = ink)."""
    font = spec["font"]
    bw = max(1, int(spec["border"]))
    if spec["type"] == "round":
        r = int(spec["radius"])
        size = 2 * r + 8
        m = np.zeros((size, size), np.uint8)
        c = (size // 2, size // 2)
        cv2.circle(m, c, r, 255, bw, cv2.LINE_AA)
        r_in = int(r - bw - spec["ring_px"])
        cv2.circle(m, c, r_in, 255, max(1, bw // 2 + 1), cv2.LINE_AA)
        text_r = (r + r_in) / 2
        for text, top in ((spec["ring_top"], True), (spec["ring_bottom"], False)):
            _arc_text(m, text, font, int(spec["ring_size"]), c, text_r, top)
        centre = spec["lines"]
        ys = (np.arange(len(centre)) - (len(centre) - 1) / 2) * spec["size"] * 1.2
        for text, dy in zip(centre, ys, strict=True):
            tm, (ax, ay) = text_mask(text, font, int(spec["size"]))
            x0 = int(round(c[0] - tm.shape[1] / 2))
            y0 = int(round(c[1] + dy - tm.shape[0] / 2))
            _paste_max(m, tm, x0, y0)
        return m.astype(np.float32) / 255.0
    masks = [
        text_mask(t, font, int(sz))[0] for t, sz in zip(spec["lines"], spec["sizes"], strict=True)
    ]
    gap = int(spec["pad"] * 0.6)
    inner_w = max(tm.shape[1] for tm in masks)
    inner_h = sum(tm.shape[0] for tm in masks) + gap * (len(masks) - 1)
    pad = int(spec["pad"])
    frame = bw * (3 if spec["double"] else 1) + pad
    W, H = inner_w + 2 * frame + 4, inner_h + 2 * frame + 4
    m = np.zeros((H, W), np.uint8)
    y = frame + 2
    for tm in masks:
        _paste_max(m, tm, (W - tm.shape[1]) // 2, y)
        y += tm.shape[0] + gap
    if spec["frame"]:
        cv2.rectangle(m, (2, 2), (W - 3, H - 3), 255, bw, cv2.LINE_AA)
        if spec["double"]:
            o = 2 * bw + 2
            cv2.rectangle(m, (o, o), (W - 1 - o, H - 1 - o), 255, max(1, bw // 2), cv2.LINE_AA)
    return m.astype(np.float32) / 255.0


def _paste_max(dst: np.ndarray, src: np.ndarray, x0: int, y0: int) -> None:
    h, w = src.shape
    ix0, iy0 = max(x0, 0), max(y0, 0)
    ix1, iy1 = min(x0 + w, dst.shape[1]), min(y0 + h, dst.shape[0])
    if ix1 <= ix0 or iy1 <= iy0:
        return
    sub = src[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0]
    np.maximum(dst[iy0:iy1, ix0:ix1], sub, out=dst[iy0:iy1, ix0:ix1])


def _arc_text(
    m: np.ndarray, text: str, font: str, size: int, c: tuple[int, int], radius: float, top: bool
) -> None:
    """Set ``text`` along a circle: over the top (clockwise) or along the bottom."""
    glyphs = [text_mask(ch, font, size) if ch.strip() else None for ch in text]
    cap = text_mask("H", font, size)[0].shape[0]
    space = size * 0.35
    widths = [g[0].shape[1] if g is not None else space for g in glyphs]
    track = size * 0.12
    total = sum(widths) + track * (len(widths) - 1)
    span = total / radius  # radians
    pos = -span / 2
    for g, wdt in zip(glyphs, widths, strict=True):
        ang = pos + (wdt / 2) / radius
        pos += (wdt + track) / radius
        if g is None:
            continue
        tm, (_, ay) = g
        # the baseline lies on a circle half a cap height inside (top) or outside (bottom)
        # the text circle; the glyph is turned so its baseline is tangent to it
        lift = ay - tm.shape[0] / 2  # glyph centre above its baseline, px
        if top:
            theta = -math.pi / 2 + ang  # clockwise from the top
            rot = math.degrees(ang)
            rr = radius - cap / 2 + lift
        else:
            theta = math.pi / 2 - ang  # left to right along the bottom
            rot = -math.degrees(ang)
            rr = radius + cap / 2 - lift
        gx = c[0] + rr * math.cos(theta)
        gy = c[1] + rr * math.sin(theta)
        hh, ww = tm.shape
        d = int(math.ceil(math.hypot(hh, ww))) + 2
        mat = cv2.getRotationMatrix2D((ww / 2 - 0.5, hh / 2 - 0.5), -rot, 1.0)
        mat[:, 2] += (d / 2 - ww / 2, d / 2 - hh / 2)
        rotated = cv2.warpAffine(np.asarray(tm), mat, (d, d), flags=cv2.INTER_LINEAR)
        _paste_max(m, rotated, int(round(gx - d / 2 + 0.5)), int(round(gy - d / 2 + 0.5)))


def _rotated(mask: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate a mask about its centre into a canvas that holds all of it."""
    h, w = mask.shape
    a = math.radians(angle_deg)
    nw = int(math.ceil(abs(w * math.cos(a)) + abs(h * math.sin(a)))) + 4
    nh = int(math.ceil(abs(w * math.sin(a)) + abs(h * math.cos(a)))) + 4
    mat = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle_deg, 1.0)
    mat[:, 2] += ((nw - w) / 2, (nh - h) / 2)
    return cv2.warpAffine(mask, mat, (nw, nh), flags=cv2.INTER_LINEAR)


def _stamp_texture(mask: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """Uneven pressure, paper grain and ink spread applied to a stamp mask."""
    rng = np.random.default_rng(int(spec["seed"]))
    h, w = mask.shape
    m = cv2.GaussianBlur(mask, (0, 0), float(spec["spread"]))
    # ragged stroke edges: the rubber and the paper are not flat
    edge = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.2)
    m = np.clip((m - 0.5 + 0.35 * edge) * 2.2 + 0.5, 0.0, 1.0) * np.minimum(m * 4.0, 1.0)
    pressure = smooth_noise(rng, h, w, max(h, w) / 3.0)
    ga = float(spec["tilt_angle"])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    proj = ((xx - w / 2) * math.cos(ga) + (yy - h / 2) * math.sin(ga)) / (max(h, w) / 2)
    cover = 1.0 - float(spec["unevenness"]) * np.clip(0.5 + 0.35 * pressure, 0, 1)
    cover -= float(spec["tilt"]) * np.clip(proj, 0, 1)
    grain = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.0)
    grain = np.clip((float(spec["grain_threshold"]) - grain) * 4.0, 0.0, 1.0)
    alpha = m * np.clip(cover, 0.05, 1.0) * (0.25 + 0.75 * grain) * float(spec["opacity"])
    return np.clip(alpha * 1.25, 0.0, 1.0)


def _stamp_date(rng: np.random.Generator, meta: dict[str, Any]) -> str:
    d = str(meta.get("date") or "")
    try:
        year, month, day = (int(v) for v in d.split("-"))
    except ValueError:
        year, month, day = int(rng.integers(2008, 2024)), int(rng.integers(1, 13)), 1
        day = int(rng.integers(1, 29))
    day = min(28, day + int(rng.integers(0, 4)))
    fmt = int(rng.integers(3))
    if fmt == 0:
        return f"{day:02d} {_MONTHS[month - 1]} {year}"
    if fmt == 1:
        return f"{day:02d}/{month:02d}/{year}"
    return f"{_MONTHS[month - 1]} {day:02d} {year}"


@register
class Stamp(PhotometricArtifact):
    """A rubber stamp: ``RECEIVED`` / ``COPY`` / ``REVIEWED`` + date, or a round stamp.

    Parameters drawn: ``stamps``, a list (1, or 2 at high strength) of specs with ``type``
    (``"box"`` or ``"round"``), the text (``lines`` with ``sizes`` px; round stamps also
    ``ring_top``/``ring_bottom``), ``font``, ``border`` (px), ``frame``/``double`` (box
    outline), ``centre`` (px), ``angle`` (deg), ``colour`` (blue, red, purple or black ink),
    ``opacity``, texture (``unevenness``, ``tilt``/``tilt_angle`` (one side pressed harder),
    ``grain_threshold`` (ink gaps from the paper grain), ``spread`` (px)) and ``seed``.
    Stamps often land on the traces; each adds a ``"stamp"`` text box.
    """

    name = "stamp"
    family = "text"
    stage = "print"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Choose each stamp's wording, shape, ink, texture, place and angle."""
        s = float(np.clip(strength, 0.0, 1.0))
        ppmm = page.px_per_mm
        meta = dict(page.record.metadata)
        n = 1 + int(rng.random() < 0.35 * s)
        stamps = []
        for _ in range(n):
            ink = str(rng.choice(list(_INKS), p=[0.5, 0.25, 0.17, 0.08]))
            font = str(rng.choice(_STAMP_FONTS))
            border = max(2, int(round(rng.uniform(0.5, 1.0) * ppmm)))
            spec: dict[str, Any] = {
                "font": font,
                "border": border,
                "colour": list(_INKS[ink]),
                "ink": ink,
            }
            if rng.random() < 0.3:
                radius = int(round(rng.uniform(14, 21) * ppmm))
                dept = str(rng.choice(_DEPARTMENTS)).upper()
                place = f"{rng.choice(_PLACES)} {rng.choice(_INSTITUTIONS)}".upper()
                spec.update(
                    {
                        "type": "round",
                        "radius": radius,
                        "ring_px": int(round(radius * rng.uniform(0.24, 0.3))),
                        "ring_top": f"{dept}",
                        "ring_bottom": f"* {place} *",
                        "ring_size": int(round(radius * rng.uniform(0.15, 0.18))),
                        "lines": [
                            str(rng.choice(["ECG", "CARDIOLOGY", "RECEIVED", "COPY"])),
                            _stamp_date(rng, meta),
                        ],
                        "size": int(round(radius * rng.uniform(0.14, 0.18))),
                    }
                )
                # shrink the ring text until it fits its half circle
                text_r = radius - border - spec["ring_px"] / 2
                for key in ("ring_top", "ring_bottom"):
                    while spec["ring_size"] > 8:
                        wtot = sum(
                            text_mask(ch, font, spec["ring_size"])[0].shape[1] * 1.12
                            if ch.strip()
                            else spec["ring_size"] * 0.35
                            for ch in spec[key]
                        )
                        if wtot < math.pi * text_r * 0.85:
                            break
                        spec["ring_size"] -= 1
            else:
                used = {st["lines"][0] for st in stamps if st["type"] == "box"}
                word = str(rng.choice([wd for wd in _STAMP_WORDS if wd not in used]))
                big = int(round(rng.uniform(5.5, 9.0) * ppmm))
                small = int(round(big * rng.uniform(0.45, 0.6)))
                lines, sizes = [word], [big]
                if (
                    word in ("RECEIVED", "REVIEWED", "SCANNED", "FILED", "ENTERED", "VERIFIED")
                    or rng.random() < 0.3
                ):
                    lines.append(_stamp_date(rng, meta))
                    sizes.append(small)
                if word == "REVIEWED" and rng.random() < 0.6:
                    lines.append("BY: ________")
                    sizes.append(small)
                elif rng.random() < 0.3:
                    lines.insert(0, str(rng.choice(_DEPARTMENTS)).upper())
                    sizes.insert(0, small)
                spec.update(
                    {
                        "type": "box",
                        "lines": lines,
                        "sizes": sizes,
                        "pad": int(round(big * rng.uniform(0.25, 0.45))),
                        "frame": bool(rng.random() < 0.85),
                        "double": bool(rng.random() < 0.3),
                    }
                )
            spec.update(
                {
                    "angle": round_param(
                        rng.normal(0, 9) if rng.random() < 0.8 else rng.uniform(-35, 35), 4
                    ),
                    "opacity": round_param(0.55 + 0.4 * s * rng.uniform(0.6, 1.0), 4),
                    "unevenness": round_param(rng.uniform(0.15, 0.6), 4),
                    "tilt": round_param(rng.uniform(0.0, 0.6), 4),
                    "tilt_angle": round_param(rng.uniform(0, 2 * math.pi), 4),
                    "grain_threshold": round_param(rng.uniform(0.35, 1.2), 4),
                    "spread": round_param(rng.uniform(0.4, 0.9), 4),
                    "seed": draw_seed(rng),
                }
            )
            m = _rotated(_stamp_canvas(spec), spec["angle"])
            hh, ww = m.shape
            w, h = page.width, page.height
            if rng.random() < 0.25 + 0.5 * s:  # anywhere, often on the traces
                cx = rng.uniform(ww / 2, max(ww / 2 + 1, w - ww / 2))
                cy = rng.uniform(hh / 2, max(hh / 2 + 1, h - hh / 2))
            else:  # near the top or bottom edge, right-hand side
                cx = rng.uniform(max(ww / 2, w * 0.45), max(ww / 2 + 1, w - ww / 2))
                top = rng.random() < 0.7
                lo = hh / 2 + 0.02 * h
                cy = rng.uniform(lo, lo + 0.08 * h) if top else h - rng.uniform(lo, lo + 0.08 * h)
            spec["centre"] = [round_param(cx, 2), round_param(cy, 2)]
            stamps.append(spec)
        return {"stamps": stamps}

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Ink every stamp; one ``"stamp"`` text box each."""
        image = page.image.copy()
        texts = list(page.texts)
        for spec in params["stamps"]:
            alpha = _stamp_texture(_rotated(_stamp_canvas(spec), float(spec["angle"])), spec)
            h, w = alpha.shape
            x0 = int(round(spec["centre"][0] - w / 2))
            y0 = int(round(spec["centre"][1] - h / 2))
            box = blend_ink(image, alpha, x0, y0, tuple(spec["colour"]))
            if box is not None:
                words = list(spec["lines"])
                if spec["type"] == "round":
                    words = [spec["ring_top"], *words, spec["ring_bottom"]]
                texts.append(TextBox(" ".join(words), _float_box(box), "stamp"))
        out = with_image(page, image)
        out.texts = texts
        return out
