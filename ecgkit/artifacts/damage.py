"""Badly kept paper: mould colonies and heavy spills.

* ``mould`` (paper): greenish-grey to black fuzzy colonies, each a dark centre with a hairy,
  irregular rim and a faint yellowed halo, in clusters with satellite specks;
* ``heavy_stains`` (paper): large spills (coffee, tea, rust, dried blood, grime) with lobed,
  irregular outlines, a darker pooled side, a tide line and splashed droplets.

Both are photometric and translucent (multiplied in with
:func:`~ecgkit.artifacts.ink.blend_ink`, as ``stains`` and ``spots`` are): whatever was
printed shows through, the truth and the lead mask stay. Computed on crops (spills at half
resolution), well under 0.1 s at 200 DPI.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ecgkit.artifacts import register
from ecgkit.artifacts.base import PhotometricArtifact, draw_seed, round_param, with_image
from ecgkit.artifacts.ink import blend_ink, smooth_noise
from ecgkit.generate.render import Page

__all__ = ["HeavyStains", "Mould"]

_MOULD_RGB = [(92, 108, 84), (52, 60, 50), (118, 128, 104), (78, 104, 98), (70, 70, 62)]
_SPILL_RGB = {
    "coffee": (120, 76, 42),
    "tea": (176, 128, 66),
    "rust": (160, 86, 44),
    "blood": (122, 44, 38),
    "grime": (104, 100, 86),
}


def _bounds(cx: float, cy: float, reach: float, w: int, h: int) -> tuple[int, int, int, int] | None:
    x0, y0 = max(int(math.floor(cx - reach)), 0), max(int(math.floor(cy - reach)), 0)
    x1, y1 = min(int(math.ceil(cx + reach)) + 1, w), min(int(math.ceil(cy + reach)) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


@register
class Mould(PhotometricArtifact):
    """Mould: clusters of fuzzy greenish-grey colonies with dark centres and hairy rims.

    Parameters drawn: ``clusters``, each with ``centre`` (px), ``spread`` (px, how far its
    colonies scatter), ``count`` (colonies), ``size`` (median colony radius, px), ``colour``
    (RGB), ``darkness`` (0-1), ``halo`` (yellow-brown discoloration around them, 0-1) and
    ``seed`` (positions, sizes, the hairy outlines, satellite specks).
    """

    name, family, stage = "mould", "damage", "paper"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw 1-4 clusters of colonies."""
        s = float(np.clip(strength, 0.0, 1.0))
        ppmm = page.px_per_mm
        n = 1 + int(round(s * rng.uniform(0, 3)))
        clusters = []
        for _ in range(n):
            base = np.asarray(_MOULD_RGB[int(rng.integers(len(_MOULD_RGB)))], float)
            base = base + rng.normal(0, 6, 3)
            clusters.append(
                {
                    "centre": [
                        round_param(rng.uniform(0, page.width), 1),
                        round_param(rng.uniform(0, page.height), 1),
                    ],
                    "spread": round_param(rng.uniform(4, 12 + 25 * s) * ppmm, 1),
                    "count": int(rng.integers(3, 8 + int(30 * s))),
                    "size": round_param(rng.uniform(0.8, 1.5 + 3.0 * s) * ppmm, 2),
                    "colour": [int(np.clip(v, 30, 200)) for v in base],
                    "darkness": round_param((0.45 + 0.5 * s) * rng.uniform(0.7, 1.0), 4),
                    "halo": round_param(rng.uniform(0.05, 0.2), 4),
                    "seed": draw_seed(rng),
                }
            )
        return {"clusters": clusters}

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Each cluster's colonies drawn on its crop, then multiplied in."""
        image = page.image.copy()
        h, w = image.shape[:2]
        for cl in params["clusters"]:
            rng = np.random.default_rng(int(cl["seed"]))
            n = int(cl["count"])
            off = rng.normal(0, cl["spread"], (n, 2)) * rng.uniform(0.2, 1.0, (n, 1))
            radii = cl["size"] * rng.lognormal(0, 0.5, n)
            n_sat = int(n * rng.uniform(2, 6))
            sat = rng.normal(0, cl["spread"] * 1.3, (n_sat, 2))
            sat_r = cl["size"] * rng.uniform(0.1, 0.35, n_sat)
            reach = float(max(np.abs(off).max() + radii.max() * 2.5, np.abs(sat).max()) + 8)
            b = _bounds(cl["centre"][0], cl["centre"][1], reach, w, h)
            if b is None:
                continue
            x0, y0, x1, y1 = b
            cw, ch = x1 - x0, y1 - y0
            alpha = np.zeros((ch, cw), np.float32)
            for (ox, oy), rad in zip(off, radii, strict=True):
                cx, cy = cl["centre"][0] + ox - x0, cl["centre"][1] + oy - y0
                r_out = rad * 2.2
                c0, r0 = max(int(cx - r_out), 0), max(int(cy - r_out), 0)
                c1, r1 = min(int(cx + r_out) + 2, cw), min(int(cy + r_out) + 2, ch)
                if c1 <= c0 or r1 <= r0:
                    continue
                xs = np.arange(c0, c1, dtype=np.float32)[None, :] - np.float32(cx)
                ys = np.arange(r0, r1, dtype=np.float32)[:, None] - np.float32(cy)
                th = np.arctan2(ys, xs)
                lobes = np.zeros_like(th)
                for k in (3, 5, 9, 17):
                    lobes += np.float32(rng.normal(0, 0.5 / math.sqrt(k))) * np.sin(
                        k * th + np.float32(rng.uniform(0, 2 * math.pi))
                    )
                rr = np.hypot(xs, ys) / (rad * (1 + 0.25 * lobes))
                fuzz = rng.standard_normal((r1 - r0, c1 - c0)).astype(np.float32)
                hairs = 0.35 * cv2.GaussianBlur(fuzz, (0, 0), 0.8) * 2.0
                body = np.clip(1.3 - rr + hairs, 0, 1)  # fuzzy edge fading with the hairs
                core = np.clip(1 - rr / 0.45, 0, 1) ** 0.7  # the dark, dense centre
                ring = np.exp(-(((rr - 0.75) / 0.12) ** 2)) * 0.35  # a sporulating ring
                a = np.clip(0.55 * body + 0.45 * core + ring * body, 0, 1)
                np.maximum(alpha[r0:r1, c0:c1], a, out=alpha[r0:r1, c0:c1])
            for (ox, oy), rad in zip(sat, sat_r, strict=True):
                c = (
                    int(round((cl["centre"][0] + ox - x0) * 16)),
                    int(round((cl["centre"][1] + oy - y0) * 16)),
                )
                cv2.circle(alpha, c, int(round(max(rad, 0.7) * 16)), 0.8, -1, cv2.LINE_AA, 4)
            alpha = cv2.GaussianBlur(alpha, (0, 0), 0.6)
            f = 4  # the halo is smooth: blur a reduced copy
            small = cv2.resize(
                alpha, (max(1, cw // f), max(1, ch // f)), interpolation=cv2.INTER_AREA
            )
            small = cv2.GaussianBlur(small, (0, 0), max(0.5, 3.0 * cl["size"] / f))
            halo = cv2.resize(small, (cw, ch), interpolation=cv2.INTER_LINEAR)
            blend_ink(image, np.clip(cl["halo"] * 2.5 * halo, 0, 1), x0, y0, (190, 160, 90))
            blend_ink(image, np.clip(cl["darkness"] * alpha, 0, 1), x0, y0, tuple(cl["colour"]))
        return with_image(page, image)


@register
class HeavyStains(PhotometricArtifact):
    """Heavy spills: big, dark, lobed stains with a pooled side, a tide line and droplets.

    Parameters drawn: ``stains`` (1-3), each with ``kind`` (``coffee``, ``tea``, ``rust``,
    ``blood`` or ``grime``), ``colour`` (RGB), ``centre`` and ``radius`` (px), ``darkness``
    (0-1 inside), ``rim`` and ``rim_width`` (px: the darker tide line), ``irregularity``
    (lobes of the outline), ``pool`` and ``pool_angle`` (darker where the liquid pooled),
    ``droplets`` (how many splashes around) and ``seed``.
    """

    name, family, stage = "heavy_stains", "damage", "paper"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw 1-3 spills."""
        s = float(np.clip(strength, 0.0, 1.0))
        ppmm = page.px_per_mm
        n = 1 + int(rng.random() < 0.3 + 0.3 * s) + int(rng.random() < 0.2 * s)
        stains = []
        for _ in range(n):
            kind = str(rng.choice(list(_SPILL_RGB), p=[0.4, 0.2, 0.12, 0.1, 0.18]))
            colour = np.asarray(_SPILL_RGB[kind], float) + rng.normal(0, 8, 3)
            stains.append(
                {
                    "kind": kind,
                    "colour": [int(v) for v in np.clip(np.rint(colour), 30, 230)],
                    "centre": [
                        round_param(rng.uniform(0.05, 0.95) * page.width, 1),
                        round_param(rng.uniform(0.05, 0.95) * page.height, 1),
                    ],
                    "radius": round_param(rng.uniform(25, 25 + 50 * s) * ppmm, 1),
                    "darkness": round_param((0.35 + 0.5 * s) * rng.uniform(0.7, 1.0), 4),
                    "rim": round_param(rng.uniform(0.1, 0.3), 4),
                    "rim_width": round_param(rng.uniform(0.8, 2.5) * ppmm, 2),
                    "irregularity": round_param(rng.uniform(0.1, 0.25), 4),
                    "pool": round_param(rng.uniform(0.1, 0.4), 4),
                    "pool_angle": round_param(rng.uniform(0, 2 * math.pi), 4),
                    "droplets": int(rng.integers(0, 6 + int(20 * s))),
                    "seed": draw_seed(rng),
                }
            )
        return {"stains": stains}

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Each spill's coverage at half resolution on its crop, multiplied in."""
        image = page.image.copy()
        h, w = image.shape[:2]
        for st in params["stains"]:
            rng = np.random.default_rng(int(st["seed"]))
            R = float(st["radius"])
            reach = R * 1.9 + 8
            b = _bounds(st["centre"][0], st["centre"][1], reach, w, h)
            if b is None:
                continue
            x0, y0, x1, y1 = b
            q = 2
            gw, gh = math.ceil((x1 - x0) / q), math.ceil((y1 - y0) / q)
            xs = (x0 + (np.arange(gw, dtype=np.float32) + 0.5) * q - 0.5)[None, :]
            ys = (y0 + (np.arange(gh, dtype=np.float32) + 0.5) * q - 0.5)[:, None]
            dx, dy = xs - st["centre"][0], ys - st["centre"][1]
            r = np.hypot(dx, dy) / R
            irr = float(st["irregularity"])
            lobed = smooth_noise(rng, gh, gw, R / q / 1.5) + 0.35 * smooth_noise(
                rng, gh, gw, R / q / 5
            )
            field = (1.0 - r) + irr * lobed  # > 0 inside the spill
            soft = 1.5 / (R / q)
            inside = np.clip(field / soft + 0.5, 0, 1)
            # droplets splashed around it
            drops = np.zeros((gh, gw), np.float32)
            for _ in range(int(st["droplets"])):
                ang = rng.uniform(0, 2 * math.pi)
                dist = R * rng.uniform(0.9, 1.7)
                cx = (st["centre"][0] + dist * math.cos(ang) - x0 + 0.5) / q - 0.5
                cy = (st["centre"][1] + dist * math.sin(ang) - y0 + 0.5) / q - 0.5
                rad = R * rng.uniform(0.01, 0.06) / q
                c = (int(round(cx * 16)), int(round(cy * 16)))
                cv2.circle(drops, c, int(round(max(rad, 0.6) * 16)), 1.0, -1, cv2.LINE_AA, 4)
            inside = np.maximum(inside, drops)
            mottle = np.clip(0.88 + 0.12 * smooth_noise(rng, gh, gw, R / q / 6), 0.5, 1.2)
            pa = float(st["pool_angle"])
            pool = 1 + float(st["pool"]) * np.clip(
                (dx * math.cos(pa) + dy * math.sin(pa)) / R, -1, 1
            )
            rim_w = float(st["rim_width"]) / R
            rim = np.exp(-np.maximum(field, 0) / rim_w) * inside
            alpha = float(st["darkness"]) * inside * mottle * pool + float(st["rim"]) * rim
            alpha = np.clip(alpha, 0, 1).astype(np.float32)
            full = cv2.resize(alpha, (gw * q, gh * q), interpolation=cv2.INTER_LINEAR)
            blend_ink(image, full[: y1 - y0, : x1 - x0], x0, y0, tuple(st["colour"]))
        return with_image(page, image)
