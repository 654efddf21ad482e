"""Procedural surfaces a photographed page lies on: desk wood, a table top, cloth.

:func:`make_background` builds one from JSON-able parameters and an integer seed, so a sample
replays byte for byte; :data:`BACKGROUNDS` lists the kinds.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ecgkit.artifacts.ink import noise_grid

__all__ = ["BACKGROUNDS", "BACKGROUND_COLOURS", "make_background"]

#: Procedural backgrounds a photographed page can lie on.
BACKGROUNDS = ("wood", "table", "cloth")

#: (light, dark) colour pairs of each background.
BACKGROUND_COLOURS: dict[str, list[tuple[tuple[int, int, int], tuple[int, int, int]]]] = {
    # (light, dark) pairs
    "wood": [
        ((176, 128, 84), (122, 78, 44)),
        ((206, 168, 120), (160, 116, 72)),
        ((120, 80, 52), (74, 46, 30)),
        ((190, 150, 108), (140, 96, 60)),
    ],
    "table": [
        ((150, 150, 148), (120, 120, 118)),
        ((200, 196, 186), (170, 164, 152)),
        ((70, 72, 76), (52, 54, 58)),
        ((226, 226, 222), (196, 196, 192)),
    ],
    "cloth": [
        ((60, 80, 130), (36, 50, 90)),
        ((70, 110, 80), (44, 74, 52)),
        ((140, 50, 50), (96, 30, 32)),
        ((110, 110, 116), (80, 80, 86)),
        ((190, 170, 140), (150, 130, 104)),
    ],
}


def make_background(
    params: dict[str, Any], width: int, height: int, quad: np.ndarray | None = None
) -> np.ndarray:
    """A procedural surface (desk wood, table, cloth) from parameters and a seed.

    Parameters
    ----------
    params : dict
        ``kind`` (one of :data:`BACKGROUNDS`), ``light_rgb``, ``dark_rgb``, ``seed``,
        ``angle_deg`` (grain or weave direction), ``period_px`` (grain/weave period),
        ``shadow`` (0-1 darkness of the soft shadow around the page), ``shadow_dir`` (unit
        vector the shadow is cast towards).
    width, height : int
        Size of the image.
    quad : numpy.ndarray, optional
        ``(4, 2)`` outline of the page lying on it (for its shadow).

    Returns
    -------
    numpy.ndarray
        ``(height, width, 3)`` uint8 RGB.
    """
    kind = params["kind"]
    if kind not in BACKGROUNDS:
        raise ValueError(f"unknown background {kind!r}; valid: {', '.join(BACKGROUNDS)}")
    rng = np.random.default_rng(params["seed"])
    f = 4  # textures are made at 1/4 resolution and resized
    lw, lh = math.ceil(width / f), math.ceil(height / f)
    period = float(params["period_px"]) / f
    a = math.radians(params["angle_deg"])
    xs = np.arange(lw, dtype=np.float32)[None, :]
    ys = np.arange(lh, dtype=np.float32)[:, None]
    across = xs * np.float32(-math.sin(a)) + ys * np.float32(math.cos(a))
    blotch = noise_grid(rng, 60.0, (lw, lh))
    if kind == "wood":
        # growth rings: stripes along the grain, gently bent, with finer streaks in them
        warp = noise_grid(rng, 150.0, (lw, lh)) * 0.7
        warp += noise_grid(rng, 40.0, (lw, lh)) * 0.12
        grain = np.sin((across / period + warp) * np.float32(2 * math.pi))
        mix = 0.5 + 0.2 * grain + 0.2 * blotch
        # fine streaks along the grain and plank seams
        n_streak = int(abs(across).max() + lw + lh) + 2
        streak = rng.standard_normal(n_streak).astype(np.float32)
        streak = np.convolve(streak, np.ones(2, np.float32) / 2, mode="same")
        idx = np.clip((across - across.min()).astype(np.int64), 0, n_streak - 1)
        mix = mix + 0.18 * streak[idx]
        plank = float(rng.uniform(22, 40)) * period
        seam = np.abs(((across - float(rng.uniform(0, plank))) % plank) - plank / 2)
        mix = mix + 0.9 * np.clip(1.0 - (plank / 2 - seam) / 0.8, 0, 1)
    elif kind == "table":
        fine = noise_grid(rng, 4.0, (lw, lh))
        mix = 0.5 + 0.25 * blotch + 0.08 * fine
    else:  # cloth: uneven threads both ways (a linen-like weave), with soft folds
        along = xs * np.float32(math.cos(a)) + ys * np.float32(math.sin(a))
        p = max(period, 1.0)
        threads = np.zeros((lh, lw), np.float32)
        for coord in (across, along):
            n = int(abs(coord).max() / p) + 2
            idx = np.clip(((coord - coord.min()) / p).astype(np.int64), 0, n - 1)
            threads += rng.standard_normal(n).astype(np.float32)[idx]
        folds = noise_grid(rng, 120.0, (lw, lh))
        mix = 0.5 + 0.07 * threads + 0.35 * folds + 0.1 * blotch
    mix = np.clip(mix, 0.0, 1.3).astype(np.float32)
    light = np.asarray(params["light_rgb"], np.float32)
    dark = np.asarray(params["dark_rgb"], np.float32)
    low = light[None, None, :] + (dark - light)[None, None, :] * mix[:, :, None]
    if quad is not None and params.get("shadow", 0) > 0:
        mask = np.zeros((lh, lw), np.float32)
        d = np.asarray(params["shadow_dir"], float) * 6.0
        poly = np.rint(((np.asarray(quad, float) + 0.5) / f + d) * 16).astype(np.int32)
        cv2.fillPoly(mask, [poly], 1.0, cv2.LINE_AA, 4)
        mask = cv2.GaussianBlur(mask, (0, 0), 5.0)
        low *= (1.0 - float(params["shadow"]) * mask)[:, :, None]
    low = np.clip(low, 0, 255).astype(np.uint8)
    return cv2.resize(low, (width, height), interpolation=cv2.INTER_LINEAR)
