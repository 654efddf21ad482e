"""Handwriting: notes, circles, arrows, underlines and signatures a reader adds to an ECG.

Fast and procedural, no neural model. Letters come from a small single-stroke font (centre
lines of hand-printed capitals, lower case, digits and punctuation, written here as a few
lines and arcs each). Every word is written with the writer's slant and size, and every
letter with its own jitter in size, baseline, spacing and angle; a smooth wobble moves every
point (the hand is not a plotter) and strokes of one letter need not meet exactly. Strokes are
drawn as anti-aliased polylines on a 3x supersampled crop (so the pen width varies smoothly,
about 0.3 to 0.7 mm) and laid on the page as translucent ballpoint ink whose density varies
along the strokes (pressure) with small skips.

The artifact is photometric (:func:`~ecgkit.artifacts.base.with_image`); every item adds a
``"handwriting"`` :class:`~ecgkit.generate.render.TextBox` (its text, or ``circle``, ``arrow``,
``underline``, ``strike-through``, ``tick`` or ``signature``) with the tight box of the pixels
it changed, so a digitizer can be scored fairly where the ink covers a trace.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import cv2
import numpy as np

from ecgkit.artifacts import register
from ecgkit.artifacts.base import PhotometricArtifact, draw_seed, round_param, with_image
from ecgkit.artifacts.ink import blend_ink, smooth_noise
from ecgkit.generate.render import Page, TextBox
from ecgkit.geometry import Box

__all__ = ["Handwriting", "glyph_strokes", "text_strokes"]

_F = 3  # supersampling factor for strokes

# Single-stroke font. Units: cap height 10, x-height 6, baseline 0, y up. Each glyph is
# (advance width, strokes); strokes are separated by ";" and built from "M x y" (move),
# "L x y" (line), "A cx cy rx ry a0 a1" (elliptic arc, degrees, counter-clockwise when
# a1 > a0) and "S x y x y ..." (smooth curve through the points).
_GLYPHS: dict[str, tuple[float, str]] = {
    "A": (7, "M0 0 L3.5 10 L7 0; M1.4 4 L5.6 4"),
    "B": (
        6,
        "M0 0 L0 10 L3.2 10 A3.2 7.6 2.4 2.4 90 -90 L0 5.2; "
        "M0 5.2 L3.4 5.2 A3.4 2.6 2.6 2.6 90 -90 L0 0",
    ),
    "C": (7, "A3.8 5 3.8 5 50 310"),
    "D": (6.5, "M0 0 L0 10 L2.5 10 A2.5 5 4 5 90 -90 L0 0"),
    "E": (5.5, "M5.5 10 L0 10 L0 0 L5.5 0; M0 5.2 L4.2 5.2"),
    "F": (5.5, "M5.5 10 L0 10 L0 0; M0 5.2 L4.2 5.2"),
    "G": (8, "A4 5 4 5 45 350 L8 5 L4.8 5"),
    "H": (6.5, "M0 0 L0 10; M6.5 0 L6.5 10; M0 5.2 L6.5 5.2"),
    "I": (0, "M0 0 L0 10"),
    "J": (5, "M5 10 L5 2.6 A2.5 2.6 2.5 2.6 0 -170"),
    "K": (6, "M0 0 L0 10; M6 10 L0 3.8; M2 5.6 L6 0"),
    "L": (5, "M0 10 L0 0 L5 0"),
    "M": (8, "M0 0 L0.3 10 L4 2.5 L7.7 10 L8 0"),
    "N": (6.5, "M0 0 L0 10 L6.5 0 L6.5 10"),
    "O": (8, "A4 5 4 5 100 460"),
    "P": (6, "M0 0 L0 10 L3.4 10 A3.4 7.4 2.6 2.6 90 -90 L0 4.8"),
    "Q": (8, "A4 5 4 5 100 460; M4.6 2.4 L8.2 -0.8"),
    "R": (6, "M0 0 L0 10 L3.4 10 A3.4 7.4 2.6 2.6 90 -90 L0 4.8; M2.8 4.8 L6.2 0"),
    "S": (6, "A3 7.5 2.8 2.5 20 270 A3 2.5 3.1 2.5 90 -160"),
    "T": (7, "M0 10 L7 10; M3.5 10 L3.5 0"),
    "U": (6.5, "M0 10 L0 3.2 A3.25 3.2 3.25 3.2 180 360 L6.5 10"),
    "V": (7, "M0 10 L3.5 0 L7 10"),
    "W": (10, "M0 10 L2.5 0 L5 7.5 L7.5 0 L10 10"),
    "X": (6.5, "M0 10 L6.5 0; M6.5 10 L0 0"),
    "Y": (7, "M0 10 L3.5 5 L7 10; M3.5 5 L3.5 0"),
    "Z": (6.5, "M0 10 L6.5 10 L0 0 L6.5 0"),
    "a": (5, "A2.5 3 2.5 3 20 380; M5 6 L5 0"),
    "b": (5, "M0 10 L0 0; A2.5 3 2.5 3 180 540"),
    "c": (4.8, "A2.8 3 2.8 3 45 315"),
    "d": (5, "A2.5 3 2.5 3 0 360; M5 10 L5 0"),
    "e": (5, "M0.2 3 L5.2 3 A2.6 3 2.6 3 0 320"),
    "f": (4, "M4.2 9.2 A3 8.2 1.4 1.6 40 180 L1.6 0; M0 6 L3.6 6"),
    "g": (5, "A2.5 3.5 2.5 2.5 20 380; M5 6 L5 -1.5 A2.6 -1.5 2.4 2.5 0 -170"),
    "h": (5, "M0 10 L0 0; M0 3.6 A2.5 3.6 2.5 2.4 180 0 L5 0"),
    "i": (0, "M0 6 L0 0; M0 8.6 L0.05 8.8"),
    "j": (2, "M2 6 L2 -2 A0.6 -2 1.4 2 0 -160; M2 8.6 L2.05 8.8"),
    "k": (4.6, "M0 10 L0 0; M4.6 6 L0 2.4; M1.7 3.6 L4.8 0"),
    "l": (0, "M0 10 L0 0"),
    "m": (8, "M0 6 L0 0; M0 4 A2 4 2 2 180 0 L4 0; M4 4 A6 4 2 2 180 0 L8 0"),
    "n": (5, "M0 6 L0 0; M0 3.6 A2.5 3.6 2.5 2.4 180 0 L5 0"),
    "o": (5.4, "A2.7 3 2.7 3 100 460"),
    "p": (5, "M0 6 L0 -4; A2.5 3 2.5 3 180 540"),
    "q": (5, "A2.5 3 2.5 3 0 360; M5 6 L5 -4"),
    "r": (3.6, "M0 6 L0 0; M0 3.4 A2.4 3.4 2.4 2.4 180 70"),
    "s": (4, "A2 4.5 1.9 1.5 20 270 A2 1.5 2.1 1.5 90 -160"),
    "t": (4, "M1.5 9 L1.5 1.2 A2.7 1.2 1.2 1.2 180 300; M0 6 L3.8 6"),
    "u": (5, "M0 6 L0 3 A2.5 3 2.5 3 180 360; M5 6 L5 0"),
    "v": (5, "M0 6 L2.5 0 L5 6"),
    "w": (8, "M0 6 L2 0 L4 4.5 L6 0 L8 6"),
    "x": (5, "M0 6 L5 0; M5 6 L0 0"),
    "y": (5, "M0 6 L2.5 0; M5 6 L1.2 -4"),
    "z": (5, "M0 6 L5 6 L0 0 L5 0"),
    "0": (5.6, "A2.8 5 2.8 5 100 460"),
    "1": (2.6, "M0 8 L2.6 10 L2.6 0"),
    "2": (5.6, "A2.8 7.3 2.7 2.7 160 -35 L0 0 L5.8 0"),
    "3": (5.6, "A2.7 7.6 2.5 2.4 150 -90 A2.7 2.6 2.9 2.6 90 -150"),
    "4": (6, "M4.4 0 L4.4 10 L0 3 L6 3"),
    "5": (5.6, "M5.2 10 L1.1 10 L0.6 5.6 A2.8 3.1 2.9 3.1 125 -150"),
    "6": (
        5.6,
        "M4.8 9.6 S3 10 1.4 8.8 0.4 6.5 0.1 4 0.4 1.6 1.5 0.2 3 0 4.5 0.6 5.4 2.2 "
        "5.2 4 4 5.4 2.6 5.6 1.2 5 0.3 3.6",
    ),
    "7": (5.6, "M0 10 L5.6 10 L1.8 0"),
    "8": (5.6, "A2.8 7.6 2.3 2.4 270 630 A2.8 2.6 2.8 2.6 90 450"),
    "9": (5.6, "A2.7 7 2.6 3 0 360 L5 0"),
    "?": (5, "A2.5 7.5 2.5 2.5 160 -60 L2.5 3.5; M2.5 0.2 L2.55 0"),
    "!": (0, "M0 10 L0 3; M0 0.2 L0.05 0"),
    ".": (0, "M0 0.2 L0.05 0"),
    ",": (0.5, "M0.5 0.5 L-0.3 -1.8"),
    ":": (0, "M0 5.2 L0.05 5; M0 0.2 L0.05 0"),
    ";": (0.5, "M0.5 5.2 L0.55 5; M0.5 0.5 L-0.3 -1.8"),
    "/": (4.5, "M0 -0.5 L4.5 10.5"),
    "-": (3.5, "M0 4.2 L3.5 4.2"),
    "+": (5, "M0 4.5 L5 4.5; M2.5 2 L2.5 7"),
    "=": (4.5, "M0 3 L4.5 3; M0 5.8 L4.5 5.8"),
    "(": (2, "A3.5 5 3.5 6 120 240"),
    ")": (2, "A-1.5 5 3.5 6 60 -60"),
    "'": (0, "M0 10 L0 7.5"),
    "%": (6, "A1.2 8.4 1.2 1.6 0 360; M6 10 L0 0; A4.8 1.6 1.2 1.6 0 360"),
    "#": (6.4, "M2 0 L2.8 10; M4 0 L4.8 10; M0.4 3.3 L6 3.3; M0.8 6.7 L6.4 6.7"),
    ">": (4, "M0 8 L4 5 L0 2"),
    "<": (4, "M4 8 L0 5 L4 2"),
    "*": (4, "M2 8 L2 4; M0.3 7 L3.7 5; M0.3 5 L3.7 7"),
}
_GAP = 1.8  # space between letters, units
_SPACE = 4.5  # word space, units


def _catmull_rom(points: np.ndarray, per_segment: int = 6) -> np.ndarray:
    """A smooth curve through ``points`` (centripetal-free uniform Catmull-Rom)."""
    if len(points) < 3:
        return points
    p = np.concatenate([points[:1], points, points[-1:]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(
            0.5
            * (
                (2 * p1)
                + (-p0 + p2) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
            )
        )
    out.append(points[-1:])
    return np.concatenate(out)


@functools.lru_cache(maxsize=256)
def glyph_strokes(char: str) -> tuple[float, tuple[np.ndarray, ...]]:
    """A letter of the single-stroke font.

    Parameters
    ----------
    char : str
        One character; upper case stands in for missing lower case and vice versa;
        unknown characters are blank.

    Returns
    -------
    tuple
        ``(advance, strokes)``: the glyph's width in font units (cap height 10) and its
        strokes, each an ``(n, 2)`` array of ``(x, y)`` points, y up.
    """
    spec = _GLYPHS.get(char) or _GLYPHS.get(char.upper()) or _GLYPHS.get(char.lower())
    if spec is None:
        return (_SPACE if char == " " else 3.0), ()
    width, text = spec
    strokes = []
    for part in text.split(";"):
        tokens = re.findall(r"[MLAS]|-?\d*\.?\d+", part)
        pts: list[list[float]] = []
        i = 0
        while i < len(tokens):
            op = tokens[i]
            if op in ("M", "L"):
                pts.append([float(tokens[i + 1]), float(tokens[i + 2])])
                i += 3
            elif op == "A":
                cx, cy, rx, ry, a0, a1 = (float(v) for v in tokens[i + 1 : i + 7])
                n = max(6, int(abs(a1 - a0) / 12))
                a = np.radians(np.linspace(a0, a1, n + 1))
                pts += np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], 1).tolist()
                i += 7
            elif op == "S":
                j = i + 1
                while j < len(tokens) and tokens[j] not in ("M", "L", "A", "S"):
                    j += 1
                vals = np.asarray([float(v) for v in tokens[i + 1 : j]]).reshape(-1, 2)
                curve = _catmull_rom(np.concatenate([np.asarray(pts[-1:]), vals]))
                pts += curve[1:].tolist()
                i = j
            else:
                raise ValueError(f"bad glyph token {op!r} in {char!r}")
        arr = np.asarray(pts, dtype=np.float64)
        arr.flags.writeable = False
        strokes.append(arr)
    return float(width), tuple(strokes)


def _wobble(rng: np.random.Generator, amp: float, scale: float) -> Any:
    """A smooth random displacement field (a few random sinusoids) in font units."""
    k = rng.normal(0, 1.0 / scale, (3, 2, 2))
    ph = rng.uniform(0, 2 * math.pi, (3, 2))

    def field(p: np.ndarray) -> np.ndarray:
        out = np.zeros_like(p)
        for j in range(3):
            for c in range(2):
                out[:, c] += np.sin(p @ k[j, c] + ph[j, c])
        return p + out * (amp / math.sqrt(3))

    return field


def text_strokes(
    text: str, rng: np.random.Generator, *, jitter: float = 1.0
) -> tuple[list[np.ndarray], float]:
    """Strokes of a handwritten line in font units (y up, baseline 0), with letter jitter.

    Parameters
    ----------
    text : str
        What to write.
    rng : numpy.random.Generator
        Source of the jitter.
    jitter : float
        0 (a plotter) to 2 (a hurried hand).

    Returns
    -------
    tuple
        ``(strokes, width)``.
    """
    strokes: list[np.ndarray] = []
    x = 0.0
    wob = _wobble(rng, 0.25 * jitter, 6.0)
    drift = rng.normal(0, 0.015 * jitter)  # baseline slope
    for ch in text:
        adv, glyph = glyph_strokes(ch)
        if not glyph:
            x += adv * (1 + 0.15 * jitter * rng.standard_normal()) + _GAP * 0.5
            continue
        sc = 1.0 + 0.05 * jitter * rng.standard_normal()
        rot = math.radians(3.0 * jitter * rng.standard_normal())
        dy = 0.35 * jitter * rng.standard_normal() + drift * x
        c, s = math.cos(rot), math.sin(rot)
        for st in glyph:
            p = st * sc
            p = np.stack([c * p[:, 0] - s * p[:, 1], s * p[:, 0] + c * p[:, 1]], 1)
            p = p + [x, dy] + 0.2 * jitter * rng.standard_normal(2)
            strokes.append(wob(p))
        x += adv * sc + _GAP * (1 + 0.25 * jitter * rng.standard_normal())
    return strokes, max(x - _GAP, 0.0)


def _densify(points: np.ndarray, step: float) -> np.ndarray:
    """Insert points so that no segment is longer than ``step``."""
    if len(points) < 2:
        return points
    seg = np.diff(points, axis=0)
    n = np.maximum(1, np.ceil(np.hypot(seg[:, 0], seg[:, 1]) / step).astype(int))
    idx = np.repeat(np.arange(len(seg)), n)
    t = (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + 1) / np.repeat(n, n)
    return np.concatenate([points[:1], points[idx] + seg[idx] * t[:, None]])


def _render(
    strokes: list[np.ndarray], width: float, rng: np.random.Generator, pressure: float
) -> tuple[np.ndarray, int, int] | None:
    """Draw page-coordinate strokes; coverage (float32, 0-1) and its top-left pixel."""
    strokes = [s for s in strokes if len(s) and np.isfinite(s).all()]
    if not strokes:
        return None
    allp = np.concatenate(strokes)
    pad = width + 3
    x0, y0 = int(math.floor(allp[:, 0].min() - pad)), int(math.floor(allp[:, 1].min() - pad))
    x1, y1 = int(math.ceil(allp[:, 0].max() + pad)), int(math.ceil(allp[:, 1].max() + pad))
    w, h = x1 - x0 + 1, y1 - y0 + 1
    canvas = np.zeros((h * _F, w * _F), np.uint8)
    chunk = 6
    for st in strokes:
        if len(st) == 1:
            st = np.repeat(st, 2, axis=0)
        hi = ((st - [x0, y0]) * _F + (_F - 1) / 2) * 16
        hi = np.round(hi).astype(np.int32)
        base = width * (1.0 + 0.12 * rng.standard_normal())
        for a in range(0, len(hi) - 1, chunk):
            seg = hi[a : a + chunk + 1]
            wd = base * (1.0 + 0.1 * pressure * rng.standard_normal())
            th = max(1, int(round(wd * _F)))
            cv2.polylines(canvas, [seg.reshape(-1, 1, 2)], False, 255, th, cv2.LINE_AA, 4)
    low = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    # ink density: pressure along the strokes and small skips of a ballpoint
    dens = 1.0 - pressure * 0.4 * np.clip(0.5 + 0.5 * smooth_noise(rng, h, w, 5 * width), 0, 1)
    skips = np.clip(
        cv2.GaussianBlur(
            rng.standard_normal((h, w)).astype(np.float32), (0, 0), max(0.6, width * 0.35)
        )
        * 2.5
        - 1.4,
        0,
        1,
    )
    low *= dens * (1.0 - 0.5 * pressure * skips)
    return np.clip(low * 1.15, 0, 1), x0, y0


def _place(
    points: np.ndarray, x: float, y: float, unit: float, slant: float, angle_deg: float
) -> np.ndarray:
    """Font units (y up) -> page pixels: slant, scale, rotate, move to the anchor."""
    u = points[:, 0] + slant * points[:, 1]
    v = -points[:, 1]
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.stack([x + unit * (c * u - s * v), y + unit * (s * u + c * v)], 1)


def _ellipse_strokes(item: dict[str, Any], rng: np.random.Generator) -> list[np.ndarray]:
    cx, cy = item["centre"]
    a, b = item["axes"]
    t0 = math.radians(item["start"])
    t = t0 + np.radians(np.linspace(0, item["sweep"], max(24, int(item["sweep"] / 5))))
    frac = (t - t0) / max(t[-1] - t0, 1e-9)
    n = smooth_noise(rng, 1, len(t), max(4, len(t) / 5))[0]
    r = 1.0 + item["wobble"] * n + item["spiral"] * frac
    ex, ey = a * r * np.cos(t), b * r * np.sin(t)
    ang = math.radians(item["angle"])
    c, s = math.cos(ang), math.sin(ang)
    return [np.stack([cx + c * ex - s * ey, cy + s * ex + c * ey], 1)]


def _arrow_strokes(item: dict[str, Any], rng: np.random.Generator) -> list[np.ndarray]:
    p0, p1 = np.asarray(item["start"], float), np.asarray(item["end"], float)
    d = p1 - p0
    length = float(np.hypot(*d)) or 1.0
    normal = np.array([-d[1], d[0]]) / length
    t = np.linspace(0, 1, 24)[:, None]
    shaft = p0 + d * t + normal * (item["bend"] * length * 4 * t * (1 - t))
    shaft += normal * (smooth_noise(rng, 1, len(t), 6)[0][:, None] * length * 0.006)
    tang = shaft[-1] - shaft[-3]
    tang = tang / (np.hypot(*tang) or 1.0)
    hl, ha = item["head"], math.radians(item["head_angle"])
    wings = []
    for sgn in (1, -1):
        c, s = math.cos(sgn * ha), math.sin(sgn * ha)
        back = -np.array([c * tang[0] - s * tang[1], s * tang[0] + c * tang[1]])
        wings.append(shaft[-1] + back * hl * (1 + 0.15 * rng.standard_normal()))
    head = np.stack([wings[0], shaft[-1], wings[1]])
    return [shaft, head]


def _line_strokes(item: dict[str, Any], rng: np.random.Generator) -> list[np.ndarray]:
    p0, p1 = np.asarray(item["start"], float), np.asarray(item["end"], float)
    d = p1 - p0
    length = float(np.hypot(*d)) or 1.0
    normal = np.array([-d[1], d[0]]) / length
    n = max(8, int(length / 12))
    t = np.linspace(0, 1, n)[:, None]
    out = []
    for k in range(int(item.get("count", 1))):
        off = normal * (k * item.get("spacing", 0.0))
        wave = smooth_noise(rng, 1, n, max(3, n / 4))[0][:, None] * item["wave"]
        curl = normal * (-item.get("curl", 0.0) * t**4 * length)
        out.append(p0 + off + d * t + normal * wave + curl)
    return out


def _scribble_strokes(item: dict[str, Any], rng: np.random.Generator) -> list[np.ndarray]:
    """A signature: a large initial, a run of looped cursive humps, maybe a flourish.

    The run is an oscillator: ``x = v t + a sin(2 pi t)``, ``y = b (1 - cos(2 pi t)) / 2``
    with per-cycle random heights ``b`` and loop widths ``a`` (loops where ``a > v / 2 pi``).
    """
    x, y, w, h = item["x"], item["y"], item["length"], item["height"]
    strokes = []
    adv, glyph = glyph_strokes(str(item.get("initial", "J")))
    cap = 1.25 * h / 10.0
    for st in glyph:
        p = st * cap + rng.normal(0, 0.03 * h, 2)
        strokes.append(np.stack([p[:, 0], p[:, 1]], 1))
    start = adv * cap * rng.uniform(0.5, 0.9) + 0.1 * h
    v = h * rng.uniform(0.24, 0.4)  # advance per cycle
    cycles = max(3, int((w - start) / v))
    per = 20
    t = np.arange(cycles * per + 1) / per
    centres = np.arange(cycles) + 0.5
    heights = h * rng.uniform(0.2, 0.5, cycles)
    tall = rng.random(cycles) < 0.2
    heights[tall] = h * rng.uniform(0.7, 1.0, int(tall.sum()))
    heights *= np.linspace(1.0, rng.uniform(0.5, 0.9), cycles)  # the hand tires
    loops = h * rng.uniform(0.0, 0.12, cycles)
    b = np.interp(t, centres, heights)
    a = np.interp(t, centres, loops)
    run = np.stack(
        [start + v * t + a * np.sin(2 * np.pi * t), b * 0.5 * (1 - np.cos(2 * np.pi * t))], 1
    )
    run[:, 1] += np.cumsum(rng.normal(0, 0.004 * h, len(t)))
    strokes.append(run)
    if item.get("flourish", True):
        end = run[-1]
        pts = np.array(
            [
                end,
                end + [0.15 * h, -0.35 * h],
                [w * 0.5, -0.45 * h],
                [w * 0.05, -0.3 * h],
                [w * rng.uniform(0.6, 1.0), -0.25 * h],
            ]
        )
        strokes.append(_catmull_rom(pts, 8))
    ang = math.radians(item["angle"])
    c, s = math.cos(ang), math.sin(ang)
    out = []
    for p in strokes:
        u, vv = p[:, 0] + item["slant"] * p[:, 1], -p[:, 1]
        out.append(np.stack([x + c * u - s * vv, y + s * u + c * vv], 1))
    return out


def _tick_strokes(item: dict[str, Any], rng: np.random.Generator) -> list[np.ndarray]:
    x, y, sz = item["x"], item["y"], item["size"]
    pts = np.array([[0.0, -0.45], [0.3, 0.0], [1.0, -1.05]]) * sz
    pts += rng.normal(0, 0.04 * sz, pts.shape)
    return [_catmull_rom(pts + [x, y], 5)]


def _item_strokes(item: dict[str, Any], rng: np.random.Generator) -> list[np.ndarray]:
    kind = item["type"]
    if kind == "text":
        strokes, _ = text_strokes(item["text"], rng, jitter=item["jitter"])
        unit = item["size"] / 10.0
        return [
            _place(s, item["x"], item["y"], unit, item["slant"], item["angle"]) for s in strokes
        ]
    if kind == "circle":
        return _ellipse_strokes(item, rng)
    if kind == "arrow":
        return _arrow_strokes(item, rng)
    if kind in ("underline", "strike-through"):
        return _line_strokes(item, rng)
    if kind == "signature":
        return _scribble_strokes(item, rng)
    if kind == "tick":
        return _tick_strokes(item, rng)
    raise ValueError(f"unknown handwriting item {kind!r}")


# --------------------------------------------------------------------------------------------
# what a reader writes

_PENS = {"blue": (20, 45, 150), "black": (28, 28, 38), "red": (165, 15, 30)}
_NOTES = (
    "AF?",
    "old MI",
    "STEMI",
    "repeat ECG",
    "cf. prior",
    "NSR",
    "LBBB",
    "RBBB",
    "ST elev.",
    "ST dep.",
    "Q waves",
    "LVH",
    "ischaemia?",
    "inf. MI",
    "ant. STEMI",
    "pericarditis?",
    "TWI",
    "normal",
    "no change",
    "see echo",
    "call cardio",
    "PVC",
    "AFL?",
    "SVT?",
    "1st deg AVB",
    "QTc long",
    "K+?",
    "trop?",
    "artefact",
    "lead reversal?",
    "post-PCI",
    "pre-op",
    "ECG #2",
    "seen",
    "ok",
    "LAD?",
    "WPW?",
    "Brugada?",
    "no acute change",
    "D/W Dr. K",
    "ST elevation",
    "sinus brady",
    "noisy",
    "repeat",
    "urgent",
    "N/A",
    "not paced",
)
_MARKS = ("STE", "Q", "?", "TWI", "PVC", "ST", "!", "delta", "STD", "P?", "U wave")
_INITIALS = ("JS", "A.K.", "MR", "T.B.", "RP", "LG", "HN", "dr. S", "KO")


def _hand_date(rng: np.random.Generator) -> str:
    d, m, y = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(5, 24))
    fmt = int(rng.integers(4))
    if fmt == 0:
        return f"{d}/{m:02d}/{y:02d}"
    if fmt == 1:
        return f"{d:02d}/{m:02d}/{y:02d}"
    if fmt == 2:
        return f"{d}.{m}.{y:02d}"
    return f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}"


def _boxes_overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _Planner:
    """Draws items for one writer, keeping notes from piling on top of each other."""

    def __init__(self, rng: np.random.Generator, page: Page, strength: float) -> None:
        self.rng, self.page, self.s = rng, page, strength
        self.ppmm = page.px_per_mm
        self.w, self.h = page.width, page.height
        pen = str(rng.choice(list(_PENS), p=[0.55, 0.3, 0.15]))
        self.pen = {"colour": list(_PENS[pen]), "pen": pen}
        self.width = round_param(rng.uniform(0.25, 0.55) * self.ppmm, 2)
        self.size = round_param(rng.uniform(3.2, 5.5) * self.ppmm, 2)  # cap height px
        self.slant = round_param(rng.uniform(-0.05, 0.4), 2)
        self.jitter = round_param(rng.uniform(0.5, 1.5), 2)
        self.opacity = round_param(rng.uniform(0.78, 0.95), 2)
        self.taken: list[Box] = []
        self.leads = [lt for lt in page.leads if lt.bbox is not None and np.isfinite(lt.x).any()]
        meta = page.record.metadata
        iv = meta.get("intervals_ms") or {}
        self.rate = None
        try:
            self.rate = int(round(60000.0 / float(iv["RR"])))
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            self.rate = None

    def _base(self, kind: str) -> dict[str, Any]:
        rng = self.rng
        return {
            "type": kind,
            **self.pen,
            "width": round_param(self.width * rng.uniform(0.9, 1.1), 2),
            "opacity": self.opacity,
            "pressure": round_param(rng.uniform(0.3, 1.0), 2),
            "seed": draw_seed(rng),
        }

    def note_text(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.15:  # the reader's own count: close to the record's rate when known
            rate = self.rate + int(rng.integers(-3, 4)) if self.rate else int(rng.integers(45, 130))
            return str(rng.choice(["HR ", "HR ", "rate ", ""])) + str(rate)
        return str(rng.choice(_NOTES))

    def text(
        self, text: str, x: float, y: float, size: float | None = None, angle: float | None = None
    ) -> dict[str, Any] | None:
        """A text item with its baseline-left at ``(x, y)``, kept on the page."""
        rng = self.rng
        size = size or self.size * rng.uniform(0.85, 1.15)
        angle = rng.normal(-2, 4) if angle is None else angle
        _, width = text_strokes(text, np.random.default_rng(0), jitter=0.0)
        wpx = width * size / 10.0 + self.slant * size
        x = float(np.clip(x, 4, max(5, self.w - wpx - 6)))
        y = float(np.clip(y, size + 4, self.h - 0.5 * size - 4))
        box = (x, y - size * 1.1, x + wpx, y + size * 0.45)
        for other in self.taken:
            if _boxes_overlap(box, other):
                return None
        self.taken.append(box)
        item = self._base("text")
        item.update(
            {
                "text": text,
                "x": round_param(x, 2),
                "y": round_param(y, 2),
                "size": round_param(size, 2),
                "angle": round_param(angle, 2),
                "slant": self.slant,
                "jitter": self.jitter,
            }
        )
        return item

    def lead_window(self) -> tuple[Any, np.ndarray, np.ndarray] | None:
        """A lead and the trace points of a short window around one of its complexes."""
        if not self.leads:
            return None
        rng = self.rng
        lt = self.leads[int(rng.integers(len(self.leads)))]
        ok = np.flatnonzero(np.isfinite(lt.x) & np.isfinite(lt.y))
        if len(ok) < 2:
            return None
        px_per_sample = max(float(np.median(np.diff(lt.x[ok]))), 1e-6)
        second = max(2, int(lt.px_per_second / px_per_sample))  # samples per second
        # the biggest deflection within a second of a random point: a QRS, mostly
        a = int(rng.integers(0, len(ok)))
        near = ok[max(0, a - second // 2) : a + second // 2 + 1]
        peak = int(np.argmax(np.abs(lt.y[near] - lt.baseline_y)))
        half = max(1, int(second * rng.uniform(0.08, 0.35)))
        k = int(np.searchsorted(ok, near[peak]))
        shift = int(rng.integers(-half // 2, half // 2 + 1))
        idx = ok[max(0, k - half + shift) : k + half + shift + 1]
        if len(idx) < 2:
            idx = ok[:2]
        return lt, lt.x[idx], lt.y[idx]

    def note(self) -> list[dict[str, Any]]:
        rng = self.rng
        text = self.note_text()
        found = self.lead_window()
        if found is None or rng.random() < 0.2:  # in a margin or the header
            x = rng.uniform(0.05, 0.8) * self.w
            y = rng.choice([rng.uniform(0.04, 0.12), rng.uniform(0.93, 0.98)]) * self.h
        else:
            lt, xs, ys = found
            x = float(xs[0]) + rng.uniform(-0.5, 1.0) * self.size
            if rng.random() < 0.35:  # right over the trace
                y = float(np.median(ys)) + rng.uniform(-0.3, 0.6) * self.size
            else:  # in the gap above it
                y = float(lt.bbox[1]) - rng.uniform(0.2, 1.2) * self.size * 0.5
        item = self.text(text, x, y)
        return [item] if item else []

    def circle(self) -> list[dict[str, Any]]:
        rng = self.rng
        found = self.lead_window()
        if found is None:
            return []
        lt, xs, ys = found
        pad = rng.uniform(1.5, 4.0) * self.ppmm
        cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
        a = (xs.max() - xs.min()) / 2 * 1.1 + pad
        b = max((ys.max() - ys.min()) / 2 * 1.15 + pad, 3 * self.ppmm)
        item = self._base("circle")
        item.update(
            {
                "centre": [round_param(cx, 2), round_param(cy, 2)],
                "axes": [round_param(a, 2), round_param(b, 2)],
                "angle": round_param(rng.normal(0, 6), 2),
                "start": round_param(rng.uniform(0, 360), 2),
                "sweep": round_param(rng.uniform(330, 420), 2),
                "wobble": round_param(rng.uniform(0.01, 0.05), 2),
                "spiral": round_param(rng.uniform(-0.07, 0.07), 3),
            }
        )
        out = [item]
        if rng.random() < 0.6:
            t = self.text(str(rng.choice(_MARKS)), cx + a * 0.75, cy - b * 0.8)
            if t:
                out.append(t)
        return out

    def arrow(self) -> list[dict[str, Any]]:
        rng = self.rng
        found = self.lead_window()
        if found is None:
            return []
        lt, xs, ys = found
        k = int(np.argmin(ys)) if rng.random() < 0.6 else int(rng.integers(len(xs)))
        tip = np.array([xs[k], ys[k]])
        length = rng.uniform(10, 25) * self.ppmm
        ang = math.radians(rng.uniform(-160, -20))  # from above the trace, mostly
        tail = tip - length * np.array([math.cos(ang), math.sin(ang)])
        tail = np.clip(tail, [10, 10], [self.w - 10, self.h - 10])
        tip = tip + (tail - tip) / (np.hypot(*(tail - tip)) or 1.0) * self.ppmm * 0.8
        item = self._base("arrow")
        item.update(
            {
                "start": [round_param(tail[0], 2), round_param(tail[1], 2)],
                "end": [round_param(tip[0], 2), round_param(tip[1], 2)],
                "bend": round_param(rng.uniform(-0.15, 0.15), 3),
                "head": round_param(rng.uniform(1.8, 3.5) * self.ppmm, 2),
                "head_angle": round_param(rng.uniform(20, 40), 2),
            }
        )
        out = [item]
        if rng.random() < 0.7:
            text = str(rng.choice(_MARKS + ("ST elev.", "PVC", "pacing?", "artefact")))
            ty = tail[1] - 0.25 * self.size if tail[1] < tip[1] else tail[1] + self.size
            t = self.text(text, tail[0] - self.size * 0.5 * len(text) * 0.5, ty)
            if t:
                out.append(t)
        return out

    def mark_printed(self) -> list[dict[str, Any]]:
        rng = self.rng
        printed = [
            t
            for t in self.page.texts
            if t.kind in ("printed", "header") and t.bbox[2] - t.bbox[0] > 20
        ]
        if not printed:
            return self.note()
        tb = printed[int(rng.integers(len(printed)))]
        x0, y0, x1, y1 = tb.bbox
        r = rng.random()
        if r < 0.5:
            item = self._base("underline")
            y = y1 + rng.uniform(0.15, 0.6) * (y1 - y0)
            item.update(
                {
                    "start": [
                        round_param(x0 - rng.uniform(0, 8), 2),
                        round_param(y + rng.normal(0, 2), 2),
                    ],
                    "end": [
                        round_param(x1 + rng.uniform(-10, 15), 2),
                        round_param(y + rng.normal(0, 3), 2),
                    ],
                    "wave": round_param(rng.uniform(0.3, 1.5), 2),
                    "curl": round_param(rng.uniform(0, 0.02), 3),
                    "count": int(1 + (rng.random() < 0.25)),
                    "spacing": round_param(rng.uniform(3, 6), 2),
                }
            )
            return [item]
        if r < 0.75:
            item = self._base("strike-through")
            y = (y0 + y1) / 2
            item.update(
                {
                    "start": [round_param(x0 - 4, 2), round_param(y + rng.normal(0, 2), 2)],
                    "end": [round_param(x1 + 4, 2), round_param(y + rng.normal(0, 2), 2)],
                    "wave": round_param(rng.uniform(0.2, 1.0), 2),
                    "count": 1,
                }
            )
            out = [item]
            t = self.text(
                str(rng.choice(["no", "disagree", "?", "abnormal", "wrong"])),
                x1 + self.size * 0.8,
                y1,
            )
            return out + ([t] if t else [])
        item = self._base("tick")
        sz = (y1 - y0) * rng.uniform(1.0, 1.6)
        item.update(
            {
                "x": round_param(x1 + rng.uniform(4, 12), 2),
                "y": round_param(y1, 2),
                "size": round_param(sz, 2),
            }
        )
        return [item]

    def signature(self) -> list[dict[str, Any]]:
        rng = self.rng
        h = rng.uniform(5, 9) * self.ppmm
        w = h * rng.uniform(2.5, 4.5)
        x = rng.uniform(0.55, 0.95) * self.w - w
        y = (rng.uniform(0.03, 0.1) if rng.random() < 0.4 else rng.uniform(0.9, 0.96)) * self.h
        y = float(np.clip(y, h + 4, self.h - 0.5 * h - 6))
        box = (x, y - h, x + w, y + 0.4 * h)
        if any(_boxes_overlap(box, o) for o in self.taken):
            return []
        self.taken.append(box)
        item = self._base("signature")
        item.update(
            {
                "x": round_param(x, 2),
                "y": round_param(y, 2),
                "length": round_param(w, 2),
                "height": round_param(h, 2),
                "angle": round_param(rng.normal(-3, 4), 2),
                "slant": self.slant,
                "flourish": bool(rng.random() < 0.6),
                "initial": str(rng.choice(list("ABCDEFGHJKLMNPRSTW"))),
            }
        )
        out = [item]
        if rng.random() < 0.6:
            t = self.text(_hand_date(rng), x + w + self.size, y, size=self.size * 0.8)
            if t:
                out.append(t)
        return out

    def date_or_initials(self) -> list[dict[str, Any]]:
        rng = self.rng
        text = _hand_date(rng) if rng.random() < 0.6 else str(rng.choice(_INITIALS))
        x = rng.uniform(0.1, 0.9) * self.w
        y = (rng.uniform(0.03, 0.11) if rng.random() < 0.6 else rng.uniform(0.9, 0.97)) * self.h
        t = self.text(text, x, y)
        return [t] if t else []


@register
class Handwriting(PhotometricArtifact):
    """Notes, circles, arrows, underlines and signatures in ballpoint pen.

    Parameters drawn: ``items``, each with ``type`` (``text``, ``circle``, ``arrow``,
    ``underline``, ``strike-through``, ``tick``, ``signature``), its geometry in pixels
    (``text``: ``text``, baseline-left ``x``/``y``, cap height ``size``, ``angle`` in
    degrees, ``slant`` (shear), ``jitter``; ``circle``: ``centre``, ``axes``, ``angle``,
    ``start``/``sweep`` in degrees, ``wobble``, ``spiral``; ``arrow``: ``start``, ``end``,
    ``bend``, ``head``, ``head_angle``; lines: ``start``, ``end``, ``wave``, ``count``...),
    the pen (``pen``, ``colour``, ``width`` px, ``opacity``, ``pressure`` variation) and a
    ``seed`` for the stroke jitter. Strength sets how many items (1 to about 8).
    """

    name = "handwriting"
    family = "handwriting"
    stage = "handwriting"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Choose a writer (pen, size, slant, neatness) and what they write where."""
        s = float(np.clip(strength, 0.0, 1.0))
        plan = _Planner(rng, page, s)
        n = 1 + int(round(s * rng.uniform(1.5, 6.0)))
        kinds = ["note", "circle", "arrow", "mark_printed", "signature", "date_or_initials"]
        probs = np.array([0.3, 0.2, 0.15, 0.12, 0.1, 0.13])
        items: list[dict[str, Any]] = []
        tries = 0
        while len(items) < n and tries < 4 * n:
            tries += 1
            kind = kinds[int(rng.choice(len(kinds), p=probs))]
            items += getattr(plan, kind)()
        if rng.random() < 0.2 * s and items:  # a second pen, for a second reader
            pen = str(rng.choice(list(_PENS)))
            for it in items[len(items) // 2 :]:
                it.update({"pen": pen, "colour": list(_PENS[pen])})
        return {"items": items}

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Write every item; one ``"handwriting"`` text box each."""
        image = page.image.copy()
        texts = list(page.texts)
        for item in params["items"]:
            rng = np.random.default_rng(int(item["seed"]))
            strokes = _item_strokes(item, rng)
            strokes = [_densify(s, 4.0) for s in strokes]
            rendered = _render(strokes, float(item["width"]), rng, float(item["pressure"]))
            if rendered is None:
                continue
            alpha, x0, y0 = rendered
            box = blend_ink(image, alpha * float(item["opacity"]), x0, y0, tuple(item["colour"]))
            if box is not None:
                label = item["text"] if item["type"] == "text" else item["type"]
                texts.append(TextBox(label, tuple(float(v) for v in box), "handwriting"))
        out = with_image(page, image)
        out.texts = texts
        return out
