"""What happens to the paper: tone and yellowing, fading, stains, foxing, punch holes, corners.

All six are photometric (:func:`~ecgkit.artifacts.base.with_image`): they change pixel values
and never the ground truth. Colour changes are multiplicative (the paper's reflectance times
the ink's), so whatever was printed shows through a stain. Whole-page fields (tone, fading)
are computed on a coarse grid and resized; local marks (stains, spots, holes, corners) are
computed on crops around them. ``holes`` and ``torn_corner`` hide part of the page: each adds
an ``"occlusion"`` :class:`~ecgkit.generate.render.TextBox` (tight box of the pixels changed) on a
copy of ``page.texts``, so a digitizer can be scored fairly where the trace is missing.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ecgkit.artifacts import register
from ecgkit.artifacts.base import PhotometricArtifact, draw_seed, round_param, with_image
from ecgkit.artifacts.ink import blend_ink, smooth_noise
from ecgkit.generate.render import Page, TextBox
from ecgkit.geometry import Box

__all__ = ["Fading", "Holes", "PaperTone", "Spots", "Stains", "TornCorner"]

_STEP = 8  # coarse-grid spacing of whole-page fields, px

#: What shows through a hole or beyond a torn corner (a scanner lid, a desk, a folder).
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "scanner-lid": (236, 236, 233),
    "grey": (196, 196, 194),
    "black": (24, 24, 27),
    "dark-desk": (66, 54, 46),
    "wood": (138, 98, 64),
    "folder": (92, 112, 142),
}


def _coarse_size(width: int, height: int) -> tuple[int, int]:
    return max(2, math.ceil(width / _STEP)), max(2, math.ceil(height / _STEP))


def _edge_distance(width: int, height: int) -> np.ndarray:
    """Distance (px) of every coarse-grid cell centre to the nearest page edge."""
    cw, ch = _coarse_size(width, height)
    xs = (np.arange(cw, dtype=np.float32) + 0.5) * (width / cw)
    ys = (np.arange(ch, dtype=np.float32) + 0.5) * (height / ch)
    return np.minimum(
        np.minimum(xs[None, :], width - xs[None, :]), np.minimum(ys[:, None], height - ys[:, None])
    )


def _multiply_field(image: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """``image * field`` with a coarse ``(h, w, 3)`` float32 field resized to the image."""
    h, w = image.shape[:2]
    field = cv2.resize(coarse.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(image, field, dtype=cv2.CV_8U)


def _crop_bounds(
    cx: float, cy: float, rx: float, ry: float, w: int, h: int
) -> tuple[int, int, int, int] | None:
    x0, y0 = max(int(math.floor(cx - rx)), 0), max(int(math.floor(cy - ry)), 0)
    x1, y1 = min(int(math.ceil(cx + rx)) + 1, w), min(int(math.ceil(cy + ry)) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _changed_box(before: np.ndarray, after: np.ndarray, x0: int, y0: int) -> Box | None:
    """Tight box (pixel edges, page coordinates) of the pixels that differ."""
    diff = np.any(before != after, axis=2)
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    if len(rows) == 0:
        return None
    return (
        x0 + float(cols[0]) - 0.5,
        y0 + float(rows[0]) - 0.5,
        x0 + float(cols[-1]) + 0.5,
        y0 + float(rows[-1]) + 0.5,
    )


def _with_texts(
    page: Page, image: np.ndarray, extra: list[TextBox], hidden: np.ndarray | None = None
) -> Page:
    out = with_image(page, image)
    out.texts = [*page.texts, *extra]
    if hidden is not None and hidden.any():  # ink that can no longer be seen is not ink
        out.mask = page.mask.copy()
        out.mask[hidden] = 0
    return out


# --------------------------------------------------------------------------------------------
# paper tone


_TONES = {
    "cream": (0.99, 0.975, 0.93),
    "thermal-yellow": (0.985, 0.94, 0.78),
    "yellowed": (0.96, 0.9, 0.72),
    "brown": (0.92, 0.84, 0.68),
    "grey": (0.93, 0.93, 0.91),
    "bright": (0.965, 0.98, 1.0),
}


@register
class PaperTone(PhotometricArtifact):
    """The colour of the paper: cream, bright white, grey or yellowed and browned with age.

    Parameters drawn: ``tone`` (name) and ``tint`` (R, G, B multipliers of the whole sheet),
    ``unevenness`` (relative brightness variation of blotches ``cell`` px across, plus a finer
    mottle), ``edge`` and ``edge_width`` (extra yellow-brown darkening towards the sheet's
    edges, where old paper ages first, over this fraction of the shorter side) and ``seed``.
    Strength moves the tint from white towards the drawn tone.
    """

    name = "paper_tone"
    family = "paper"
    stage = "paper"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the tone, how uneven it is and how much the edges have aged."""
        s = float(np.clip(strength, 0.0, 1.0))
        tone = str(rng.choice(list(_TONES), p=[0.22, 0.25, 0.18, 0.1, 0.12, 0.13]))
        base = np.asarray(_TONES[tone])
        amount = s * rng.uniform(0.6, 1.1)
        tint = np.clip(1.0 - amount * (1.0 - base), 0.5, 1.0)
        aged = tone in ("thermal-yellow", "yellowed", "brown")
        return {
            "tone": tone,
            "tint": [round_param(v, 4) for v in tint],
            "unevenness": round_param(s * rng.uniform(0.01, 0.045), 4),
            "cell": round_param(min(page.width, page.height) * rng.uniform(0.08, 0.3), 1),
            "edge": round_param(
                s * rng.uniform(0.03, 0.15) if aged else s * rng.uniform(0, 0.04), 4
            ),
            "edge_width": round_param(rng.uniform(0.02, 0.1), 4),
            "seed": draw_seed(rng),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Multiply the image by the (coarse, resized) paper colour field."""
        h, w = page.image.shape[:2]
        cw, ch = _coarse_size(w, h)
        rng = np.random.default_rng(int(params["seed"]))
        blot = smooth_noise(rng, ch, cw, params["cell"] / _STEP)
        mottle = smooth_noise(rng, ch, cw, 3.0)
        bright = 1.0 - params["unevenness"] * np.clip(0.5 + 0.4 * blot + 0.25 * mottle, 0, 1.5)
        d = _edge_distance(w, h) / max(params["edge_width"] * min(w, h), 1.0)
        ramp = np.clip(1.0 - d, 0.0, 1.0) ** 2 * (0.75 + 0.25 * np.clip(blot, -1, 1))
        field = np.empty((ch, cw, 3), np.float32)
        for c, (t, k) in enumerate(zip(params["tint"], (0.45, 0.7, 1.0), strict=True)):
            field[:, :, c] = t * bright * (1.0 - params["edge"] * k * ramp)
        return with_image(page, _multiply_field(page.image, field))


# --------------------------------------------------------------------------------------------
# fading


@register
class Fading(PhotometricArtifact):
    """Faded thermal print: dark ink (and less so the grid) loses contrast, unevenly.

    The image is read as paper x coloured ink (the grid) x black ink (the traces and text):
    ``image = (255 - K) * P`` with ``K = 255 - max(R, G, B)`` the black and ``P`` the
    normalised colour. Fading keeps ``ink_left`` of ``K`` (``ink`` lost on average) and
    ``grid_left`` of the colour's depth, both varying over the page (``variation`` in blotches
    ``cell`` px across, and a ``gradient`` along ``angle``: the end that lay in the light).
    Faded thermal ink turns brownish (``warm``). Parameters also hold ``seed``.
    """

    name = "fading"
    family = "paper"
    stage = "paper"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw how much ink and grid fade and how unevenly."""
        s = float(np.clip(strength, 0.0, 1.0))
        return {
            "ink": round_param(s * rng.uniform(0.25, 0.7), 4),
            "grid": round_param(s * rng.uniform(0.0, 0.45), 4),
            "variation": round_param(rng.uniform(0.2, 0.6), 4),
            "cell": round_param(min(page.width, page.height) * rng.uniform(0.1, 0.35), 1),
            "gradient": round_param(s * rng.uniform(0.0, 0.35), 4),
            "angle": round_param(rng.uniform(0, 2 * math.pi), 4),
            "warm": round_param(s * rng.uniform(0.0, 0.6), 4),
            "seed": draw_seed(rng),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Recombine paper, faded colour and faded black."""
        h, w = page.image.shape[:2]
        cw, ch = _coarse_size(w, h)
        rng = np.random.default_rng(int(params["seed"]))
        n1 = smooth_noise(rng, ch, cw, params["cell"] / _STEP)
        n2 = smooth_noise(rng, ch, cw, params["cell"] / _STEP)
        xs = (np.arange(cw, dtype=np.float32) + 0.5) / cw
        ys = (np.arange(ch, dtype=np.float32) + 0.5) / ch
        proj = math.cos(params["angle"]) * xs[None, :] + math.sin(params["angle"]) * ys[:, None]
        proj = (proj - proj.min()) / max(float(np.ptp(proj)), 1e-6)
        var = params["variation"]
        ink = params["ink"] * (1 + var * np.clip(n1, -1.5, 1.5)) + params["gradient"] * proj
        grid = params["grid"] * (1 + var * np.clip(n2, -1.5, 1.5)) + 0.5 * params["gradient"] * proj
        il8 = cv2.resize(np.clip((1 - ink) * 255 + 0.5, 13, 255).astype(np.uint8), (w, h))
        gl8 = cv2.resize(np.clip((1 - grid) * 255 + 0.5, 25, 255).astype(np.uint8), (w, h))
        # 8-bit arithmetic in reused buffers (cv2 rounds every step): ~10x faster than float
        chans = list(cv2.split(page.image))
        mx = cv2.max(cv2.max(chans[0], chans[1]), chans[2])
        ki = cv2.multiply(cv2.bitwise_not(mx), il8, scale=1 / 255.0)  # black that stays
        # near-black pixels have no colour to speak of: fade it less there (weight max / 96)
        reliable = cv2.convertScaleAbs(mx, alpha=255.0 / 96.0)
        gm = cv2.bitwise_not(cv2.multiply(cv2.bitwise_not(gl8), reliable, scale=1 / 255.0))
        mx1 = cv2.max(mx, 1, dst=mx)
        black, colour = np.empty_like(ki), np.empty_like(ki)
        warm = params["warm"]
        for c, wk in enumerate((1 - 0.3 * warm, 1 - 0.12 * warm, 1.0)):
            cv2.convertScaleAbs(ki, dst=black, alpha=wk)
            cv2.bitwise_not(black, dst=black)
            cv2.divide(chans[c], mx1, dst=colour, scale=255.0)
            cv2.bitwise_not(colour, dst=colour)  # 255 (1 - P): depth of the colour
            cv2.multiply(colour, gm, dst=colour, scale=1 / 255.0)
            cv2.bitwise_not(colour, dst=colour)
            cv2.multiply(black, colour, dst=chans[c], scale=1 / 255.0)
        return with_image(page, cv2.merge(chans))


# --------------------------------------------------------------------------------------------
# stains


def _coffee_alpha(
    spec: dict[str, Any], xs: np.ndarray, ys: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Coffee ring: dark sharp outer edge fading inwards, faint fill, partial arc."""
    cx, cy = spec["centre"]
    dx, dy = xs - cx, ys - cy
    r = np.hypot(dx, dy)
    th = np.arctan2(dy, dx)
    R = spec["radius"]
    wob = np.zeros_like(th)
    for k, (amp, ph) in enumerate(zip(spec["wobble"], spec["phase"], strict=True)):
        wob += amp * np.sin((k + 2) * th + ph)
    d = r - R * (1.0 + wob)  # > 0 outside
    w = spec["ring_width"]
    inside = d <= 0
    ring = np.where(inside, np.exp(np.minimum(d, 0) / w), np.exp(-((d / (0.35 * w)) ** 2)))
    along = 0.55 + 0.45 * np.sin(3 * th + spec["phase"][0]) * np.cos(5 * th + spec["phase"][1])
    # partial ring: arc of `arc` degrees starting at `arc_start`, with soft ends
    rel = np.mod(np.degrees(th) - spec["arc_start"], 360.0)
    arc = spec["arc"]
    ends = np.clip(np.minimum(rel, arc - rel) / 25.0, 0, 1) if arc < 360 else 1.0
    ends = np.where(rel <= arc, ends, 0.0) if arc < 360 else ends
    n = smooth_noise(rng, xs.shape[0], xs.shape[1], max(4.0, R / 6))
    fill = spec["fill"] * np.clip(0.7 + 0.3 * n, 0, 1) * np.clip(-d / 3.0, 0, 1)
    return np.clip(spec["darkness"] * ring * along * ends + fill, 0, 1)


def _water_alpha(
    spec: dict[str, Any], xs: np.ndarray, ys: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Water mark: an irregular blot, barely tinted inside, with a darker tide line."""
    cx, cy = spec["centre"]
    R = spec["radius"]
    r = np.hypot(xs - cx, ys - cy) / R
    n = smooth_noise(rng, xs.shape[0], xs.shape[1], max(4.0, spec["cell"]))
    field = (1.0 - r) + spec["irregularity"] * n  # > 0 inside
    soft = 2.0 / R
    inside = np.clip(field / soft + 0.5, 0, 1)
    rim = np.exp(-np.maximum(field, 0) / (spec["rim_width"] / R)) * inside
    along = np.clip(0.65 + 0.35 * smooth_noise(rng, xs.shape[0], xs.shape[1], R / 5), 0.2, 1.0)
    return np.clip(spec["fill"] * inside + spec["rim"] * rim * along, 0, 1)


@register
class Stains(PhotometricArtifact):
    """Coffee rings and water marks, translucent (multiplied), 1 to 3 per page.

    Parameters drawn: ``stains``, each with ``type`` (``"coffee"`` or ``"water"``),
    ``centre`` and ``radius`` (px), ``colour`` (RGB of the dried liquid), ``seed`` and,
    for coffee, ``ring_width`` (px), ``darkness`` (ring), ``fill``, ``arc``/``arc_start``
    (degrees of ring present), ``wobble``/``phase`` (out-of-round harmonics); for water,
    ``fill``, ``rim``/``rim_width`` (the tide line), ``irregularity`` and ``cell``.
    """

    name = "stains"
    family = "paper"
    stage = "paper"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw 1-3 stains, their kind, size, place and colour."""
        s = float(np.clip(strength, 0.0, 1.0))
        ppmm = page.px_per_mm
        n = 1 + int(rng.random() < 0.3 + 0.4 * s) + int(rng.random() < 0.25 * s)
        stains = []
        for _ in range(n):
            kind = "coffee" if rng.random() < 0.6 else "water"
            cx = rng.uniform(-0.05, 1.05) * page.width
            cy = rng.uniform(-0.05, 1.05) * page.height
            spec: dict[str, Any] = {
                "type": kind,
                "centre": [round_param(cx, 1), round_param(cy, 1)],
                "seed": draw_seed(rng),
            }
            if kind == "coffee":
                brown = np.array([150, 98, 52]) + rng.normal(0, 10, 3)
                spec.update(
                    {
                        "radius": round_param(rng.uniform(18, 42) * ppmm, 1),
                        "ring_width": round_param(rng.uniform(0.6, 2.2) * ppmm, 2),
                        "darkness": round_param((0.15 + 0.5 * s) * rng.uniform(0.6, 1.0), 4),
                        "fill": round_param((0.02 + 0.1 * s) * rng.uniform(0.3, 1.0), 4),
                        "arc": round_param(
                            360.0 if rng.random() < 0.5 else rng.uniform(120, 330), 1
                        ),
                        "arc_start": round_param(rng.uniform(0, 360), 1),
                        "wobble": [round_param(v, 5) for v in rng.normal(0, 0.008, 3)],
                        "phase": [round_param(v, 4) for v in rng.uniform(0, 2 * math.pi, 3)],
                        "colour": [int(np.clip(v, 60, 220)) for v in brown],
                    }
                )
            else:
                tone = np.array([172, 152, 112]) + rng.normal(0, 8, 3)
                radius = rng.uniform(12, 40) * ppmm
                spec.update(
                    {
                        "radius": round_param(radius, 1),
                        "fill": round_param((0.015 + 0.05 * s) * rng.uniform(0.4, 1.0), 4),
                        "rim": round_param((0.2 + 0.55 * s) * rng.uniform(0.6, 1.0), 4),
                        "rim_width": round_param(rng.uniform(0.3, 1.1) * ppmm, 2),
                        "irregularity": round_param(rng.uniform(0.12, 0.35), 4),
                        "cell": round_param(radius * rng.uniform(0.25, 0.6), 1),
                        "colour": [int(np.clip(v, 90, 235)) for v in tone],
                    }
                )
            stains.append(spec)
        return {"stains": stains}

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Multiply each stain's colour in, computed at half resolution on its crop."""
        image = page.image.copy()
        h, w = image.shape[:2]
        for spec in params["stains"]:
            rng = np.random.default_rng(int(spec["seed"]))
            reach = spec["radius"] * (1.45 if spec["type"] == "water" else 1.1) + 6
            b = _crop_bounds(spec["centre"][0], spec["centre"][1], reach, reach, w, h)
            if b is None:
                continue
            x0, y0, x1, y1 = b
            q = 2  # fields are smooth: compute on every other pixel, then resize
            gw, gh = math.ceil((x1 - x0) / q), math.ceil((y1 - y0) / q)
            xs = (x0 + (np.arange(gw, dtype=np.float32) + 0.5) * q - 0.5)[None, :]
            ys = (y0 + (np.arange(gh, dtype=np.float32) + 0.5) * q - 0.5)[:, None]
            xs, ys = np.broadcast_to(xs, (gh, gw)), np.broadcast_to(ys, (gh, gw))
            fn = _coffee_alpha if spec["type"] == "coffee" else _water_alpha
            coarse = fn(spec, xs, ys, rng).astype(np.float32)
            alpha = cv2.resize(coarse, (gw * q, gh * q), interpolation=cv2.INTER_LINEAR)
            blend_ink(image, alpha[: y1 - y0, : x1 - x0], x0, y0, tuple(spec["colour"]))
        return with_image(page, image)


# --------------------------------------------------------------------------------------------
# spots (foxing, mould)


@register
class Spots(PhotometricArtifact):
    """Foxing and mould: clusters of small brownish (or grey-green) dots with faint halos.

    Parameters drawn: ``clusters``, each with ``centre``, ``spread`` (px, the cluster's
    standard deviation), ``count`` (dots), ``size`` (median dot radius, px), ``colour``,
    ``darkness`` and ``seed`` (dot positions, sizes and intensities).
    """

    name = "spots"
    family = "paper"
    stage = "paper"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the clusters."""
        s = float(np.clip(strength, 0.0, 1.0))
        ppmm = page.px_per_mm
        n = 1 + int(round(s * rng.uniform(1, 6)))
        clusters = []
        for _ in range(n):
            mould = rng.random() < 0.2
            base = np.array([95, 102, 84] if mould else [158, 108, 60]) + rng.normal(0, 10, 3)
            clusters.append(
                {
                    "centre": [
                        round_param(rng.uniform(0, page.width), 1),
                        round_param(rng.uniform(0, page.height), 1),
                    ],
                    "spread": round_param(rng.uniform(2, 14) * ppmm, 1),
                    "count": int(rng.integers(5, 15 + int(60 * s))),
                    "size": round_param(rng.uniform(0.12, 0.4) * ppmm, 2),
                    "colour": [int(np.clip(v, 40, 220)) for v in base],
                    "darkness": round_param((0.25 + 0.55 * s) * rng.uniform(0.6, 1.0), 4),
                    "mould": bool(mould),
                    "seed": draw_seed(rng),
                }
            )
        return {"clusters": clusters}

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Draw every dot (a soft disc with a halo) on the cluster's crop and multiply it in."""
        image = page.image.copy()
        h, w = image.shape[:2]
        for cl in params["clusters"]:
            rng = np.random.default_rng(int(cl["seed"]))
            n = int(cl["count"])
            off = rng.normal(0, cl["spread"], (n, 2)) * rng.uniform(0.3, 1.0, (n, 1))
            radii = cl["size"] * rng.lognormal(0, 0.55, n)
            inten = rng.uniform(0.35, 1.0, n)
            reach = float(np.abs(off).max() + radii.max() * 3 + 6)
            b = _crop_bounds(cl["centre"][0], cl["centre"][1], reach, reach, w, h)
            if b is None:
                continue
            x0, y0, x1, y1 = b
            core = np.zeros((y1 - y0, x1 - x0), np.float32)
            halo = np.zeros_like(core)
            sh = 4
            for (ox, oy), rad, a in zip(off, radii, inten, strict=True):
                c = (
                    int(round((cl["centre"][0] + ox - x0) * (1 << sh))),
                    int(round((cl["centre"][1] + oy - y0) * (1 << sh))),
                )
                cv2.circle(
                    core, c, int(round(max(rad, 0.6) * (1 << sh))), float(a), -1, cv2.LINE_AA, sh
                )
                cv2.circle(
                    halo,
                    c,
                    int(round(max(rad, 0.6) * 2.4 * (1 << sh))),
                    float(a),
                    -1,
                    cv2.LINE_AA,
                    sh,
                )
            core = cv2.GaussianBlur(core, (0, 0), 0.7)
            halo = cv2.GaussianBlur(halo, (0, 0), 2.0 + cl["size"])
            blot = 0.5 if cl["mould"] else 0.25
            alpha = np.clip(cl["darkness"] * (np.minimum(core, 1.0) + blot * halo), 0, 1)
            blend_ink(image, alpha, x0, y0, tuple(cl["colour"]))
        return with_image(page, image)


# --------------------------------------------------------------------------------------------
# punch holes


@register
class Holes(PhotometricArtifact):
    """Punch holes (2 or 3) along one edge, showing what lies under the page.

    Parameters drawn: ``edge`` (``left``, ``right``, ``top``, ``bottom``), ``centres``
    (px), ``radius`` (px), ``background`` (name) and ``background_rgb``, ``shadow``
    (darkening of the background by the paper edge's shadow), ``shadow_offset`` (px, along
    ``shadow_angle``), ``ragged`` (out-of-round tear of the hole edge) and ``seed``. Every hole
    adds an ``"occlusion"`` text box ``"hole"``.
    """

    name = "holes"
    family = "paper"
    stage = "paper"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Choose the edge, the hole pattern (ISO 80 mm or US 108 mm) and what shows."""
        s = float(np.clip(strength, 0.0, 1.0))
        ppmm = page.px_per_mm
        w, h = page.width, page.height
        edge = str(rng.choice(["left", "top", "right", "bottom"], p=[0.4, 0.35, 0.1, 0.15]))
        length = (h if edge in ("left", "right") else w) / ppmm
        three = length >= 240 and rng.random() < 0.5
        spacing = 108.0 if three else float(rng.choice([80.0, 70.0]))
        count = 3 if three else 2
        along0 = length / 2 + rng.normal(0, 4) - spacing * (count - 1) / 2
        inset = rng.uniform(9, 14)
        skew = rng.normal(0, 0.6)
        centres = []
        for k in range(count):
            a = (along0 + k * spacing) * ppmm
            d = (inset + skew * (k - (count - 1) / 2) + rng.normal(0, 0.2)) * ppmm
            x, y = {"left": (d, a), "right": (w - d, a), "top": (a, d), "bottom": (a, h - d)}[edge]
            centres.append([round_param(x, 2), round_param(y, 2)])
        bg = str(rng.choice(list(BACKGROUNDS), p=[0.35, 0.15, 0.2, 0.12, 0.1, 0.08]))
        return {
            "edge": edge,
            "centres": centres,
            "radius": round_param(rng.uniform(2.7, 3.4) * ppmm, 2),
            "background": bg,
            "background_rgb": list(BACKGROUNDS[bg]),
            "shadow": round_param(0.15 + 0.4 * s * rng.uniform(0.5, 1.0), 4),
            "shadow_offset": round_param(rng.uniform(0.2, 0.8) * ppmm, 2),
            "shadow_angle": round_param(rng.uniform(0, 2 * math.pi), 4),
            "ragged": round_param(s * rng.uniform(0.0, 0.02) if rng.random() < 0.3 else 0.0, 4),
            "seed": draw_seed(rng),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Replace each hole's disc by the background, shadowed on one side."""
        image = page.image.copy()
        h, w = image.shape[:2]
        rng = np.random.default_rng(int(params["seed"]))
        R = float(params["radius"])
        bg = np.asarray(params["background_rgb"], np.float32)
        ox = params["shadow_offset"] * math.cos(params["shadow_angle"])
        oy = params["shadow_offset"] * math.sin(params["shadow_angle"])
        boxes = []
        hidden = np.zeros((h, w), bool)
        for cx, cy in params["centres"]:
            b = _crop_bounds(cx, cy, R + 4, R + 4, w, h)
            harm = rng.normal(0, 1, 4)
            if b is None:
                continue
            x0, y0, x1, y1 = b
            xs = np.arange(x0, x1, dtype=np.float32)[None, :] - cx
            ys = np.arange(y0, y1, dtype=np.float32)[:, None] - cy
            th = np.arctan2(ys, xs)
            wave = harm[0] * np.sin(3 * th + harm[1]) + harm[2] * np.sin(7 * th + harm[3])
            rr = R * (1 + params["ragged"] * wave / 2)
            dist = np.hypot(xs, ys) - rr
            inside = np.clip(0.5 - dist, 0, 1)
            # the shadow of the hole's edge falls on the background, offset from the hole
            lit = np.clip(0.5 - (np.hypot(xs - ox, ys - oy) - rr), 0, 1)
            shade = cv2.GaussianBlur((1 - lit).astype(np.float32), (0, 0), 1.0 + R * 0.08)
            hole = bg[None, None, :] * (1 - params["shadow"] * shade[:, :, None])
            rim = np.exp(-(dist**2) / 0.8)[:, :, None] * 0.25  # the cut paper edge
            crop = image[y0:y1, x0:x1]
            before = crop.copy()
            paper = crop.astype(np.float32) * (1 - rim)
            a = inside[:, :, None]
            crop[:] = np.clip(paper * (1 - a) + hole * a + 0.5, 0, 255).astype(np.uint8)
            box = _changed_box(before, crop, x0, y0)
            if box is not None:
                boxes.append(TextBox("hole", box, "occlusion"))
            hidden[y0:y1, x0:x1] |= inside > 0.5
        return _with_texts(page, image, boxes, hidden)


# --------------------------------------------------------------------------------------------
# torn or folded corner


def _to_corner(a: np.ndarray, corner: str) -> np.ndarray:
    """Flip a crop so that the page corner is at its top-left (an involution)."""
    if corner in ("tr", "br"):
        a = a[:, ::-1]
    if corner in ("bl", "br"):
        a = a[::-1]
    return a


@register
class TornCorner(PhotometricArtifact):
    """A torn-off corner (ragged edge, fibres, background beyond) or a corner folded over.

    Parameters drawn: ``corner`` (``tl``, ``tr``, ``br``, ``bl``), ``mode`` (``torn`` or
    ``folded``), ``a``/``b`` (px from the corner along the horizontal and vertical edges where
    the tear or fold line meets them), ``background`` / ``background_rgb``, ``back_rgb``
    (the paper's back, seen on a folded flap), ``bulge`` (a tear curving into the page),
    ``roughness`` (px), ``fibre`` (width of the white torn fibres, px), ``shadow`` and
    ``seed``. Adds an ``"occlusion"`` text box ``"torn corner"`` around everything changed.
    """

    name = "torn_corner"
    family = "paper"
    stage = "paper"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Choose the corner, the kind of damage, its size and what shows through."""
        s = float(np.clip(strength, 0.0, 1.0))
        ppmm = page.px_per_mm
        size = (8 + 32 * s * rng.uniform(0.5, 1.0)) * ppmm
        ratio = math.exp(float(np.clip(rng.normal(0, 0.3), -0.5, 0.5)))
        mode = "torn" if rng.random() < 0.55 else "folded"
        bg = str(rng.choice(list(BACKGROUNDS), p=[0.35, 0.15, 0.2, 0.12, 0.1, 0.08]))
        corner_px = page.image[min(5, page.height - 1), min(5, page.width - 1)].astype(float)
        back = np.clip(corner_px * rng.uniform(0.9, 0.97), 0, 255)
        return {
            "corner": str(rng.choice(["tl", "tr", "br", "bl"])),
            "mode": mode,
            "a": round_param(size * math.sqrt(ratio), 2),
            "b": round_param(size / math.sqrt(ratio), 2),
            "background": bg,
            "background_rgb": list(BACKGROUNDS[bg]),
            "back_rgb": [int(v) for v in back],
            "bulge": round_param(rng.uniform(-0.1, 0.25) if mode == "torn" else 0.0, 4),
            "roughness": round_param(rng.uniform(0.4, 1.2) * ppmm, 2),
            "fibre": round_param(rng.uniform(0.2, 0.6) * ppmm, 2),
            "shadow": round_param(rng.uniform(0.2, 0.45), 4),
            "seed": draw_seed(rng),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Tear or fold the corner on a crop around it."""
        image = page.image.copy()
        h, w = image.shape[:2]
        a, b = float(params["a"]), float(params["b"])
        margin = 3 * params["roughness"] + 8 + 0.1 * math.hypot(a, b)
        if params["mode"] == "folded":  # the flap reaches the corner's mirror image
            reach_u = max(a, 2 * a * b * b / (a * a + b * b))
            reach_v = max(b, 2 * a * a * b / (a * a + b * b))
        else:
            reach_u, reach_v = a, b
        cw = min(int(math.ceil(reach_u + margin)), w)
        ch = min(int(math.ceil(reach_v + margin)), h)
        corner = params["corner"]
        xs0 = 0 if corner in ("tl", "bl") else w - cw
        ys0 = 0 if corner in ("tl", "tr") else h - ch
        crop = image[ys0 : ys0 + ch, xs0 : xs0 + cw]
        before = crop.copy()
        local = _to_corner(crop, corner).astype(np.float32)
        rng = np.random.default_rng(int(params["seed"]))
        u = np.arange(cw, dtype=np.float32)[None, :] + 0.5  # distance from the side edge
        v = np.arange(ch, dtype=np.float32)[:, None] + 0.5  # distance from the top edge
        norm = math.hypot(a, b)
        n = np.array([b / norm, a / norm], np.float32)  # unit normal, into the page
        sdist = (u * n[0] + v * n[1]) - a * b / norm  # signed distance to the line, px
        bg = np.asarray(params["background_rgb"], np.float32)
        if params["mode"] == "torn":
            out = self._torn(local, u, v, sdist, a, b, params, rng, bg)
        else:
            out = self._folded(local, u, v, sdist, n, params, bg)
        crop[:] = _to_corner(np.clip(out + 0.5, 0, 255).astype(np.uint8), corner)
        box = _changed_box(before, crop, xs0, ys0)
        extra = [TextBox("torn corner", box, "occlusion")] if box is not None else []
        hidden = np.zeros((h, w), bool)  # where the paper is gone or folded over
        diff = np.abs(crop.astype(np.int16) - before.astype(np.int16)).max(axis=2)
        hidden[ys0 : ys0 + ch, xs0 : xs0 + cw] = diff > 24
        return _with_texts(page, image, extra, hidden)

    @staticmethod
    def _torn(
        local: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        sdist: np.ndarray,
        a: float,
        b: float,
        params: dict[str, Any],
        rng: np.random.Generator,
        bg: np.ndarray,
    ) -> np.ndarray:
        ch, cw = local.shape[:2]
        norm = math.hypot(a, b)
        tau = np.clip(((a - u) * a + v * b) / (norm * norm), -0.2, 1.2)  # position along it
        idx = np.clip(((tau + 0.2) / 1.4 * 255).astype(np.int32), 0, 255)
        line = (
            smooth_noise(rng, 1, 256, 24)[0] * params["roughness"]
            + smooth_noise(rng, 1, 256, 4)[0] * params["roughness"] * 0.45
        )
        off = line[idx] - params["bulge"] * norm * 4 * tau * (1 - tau)
        fine = smooth_noise(rng, ch, cw, 2.0) * params["roughness"] * 0.2
        d = sdist + off + fine  # > 0: paper left
        keep = np.clip(d + 0.5, 0, 1)[:, :, None]
        fib = smooth_noise(rng, 1, 256, 8)[0][idx] * 0.5 + 1.0
        fibre_w = np.maximum(params["fibre"] * fib, 0.3)
        fibres = (np.clip(1 - d / fibre_w, 0, 1) * (d > -0.5))[:, :, None] * 0.75
        white = np.asarray([250, 249, 244], np.float32)
        paper = local * (1 - fibres) + white * fibres
        shadow = params["shadow"] * np.exp(np.minimum(d, 0) / (0.4 * params["roughness"] + 1.5))
        beyond = bg * (1 - shadow[:, :, None])
        return paper * keep + beyond * (1 - keep)

    @staticmethod
    def _folded(
        local: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        sdist: np.ndarray,
        n: np.ndarray,
        params: dict[str, Any],
        bg: np.ndarray,
    ) -> np.ndarray:
        # the flap is the corner triangle reflected across the fold line
        ru = u - 2 * sdist * n[0]
        rv = v - 2 * sdist * n[1]
        on_flap = np.clip(np.minimum(ru, rv) + 0.5, 0, 1) * np.clip(sdist + 0.5, 0, 1)
        gone = np.clip(0.5 - sdist, 0, 1)  # the corner itself is folded away
        # the flap shows the paper's back, shaded across it, with the print showing through
        map_x = (ru - 0.5).astype(np.float32)
        map_y = (rv - 0.5).astype(np.float32)
        front = cv2.remap(
            local,
            np.broadcast_to(map_x, sdist.shape).copy(),
            np.broadcast_to(map_y, sdist.shape).copy(),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        back = np.asarray(params["back_rgb"], np.float32)
        diag = float(np.max(np.abs(sdist))) + 1.0
        shade = (0.93 + 0.07 * np.clip(sdist / diag * 3, 0, 1))[:, :, None]
        show = 0.12 * (1 - front / 255.0)
        flap = back * shade * (1 - show)
        crease = np.exp(-(sdist**2) / 2.0)[:, :, None] * 0.1  # a bright line along the fold
        flap = flap * (1 - crease) + 255 * crease
        # the flap casts a soft shadow on the page just beyond its free edges
        dist_out = np.maximum(-np.minimum(ru, rv), 0)
        cast = params["shadow"] * np.exp(-dist_out / 3.0) * (sdist > 0) * (1 - on_flap)
        page_part = local * (1 - cast[:, :, None])
        bgs = bg * (1 - params["shadow"] * np.exp(np.minimum(sdist, 0) / 4.0))[:, :, None]
        fl = on_flap[:, :, None]
        out = page_part * (1 - fl) + flap * fl
        g = gone[:, :, None]
        return out * (1 - g) + bgs * g
