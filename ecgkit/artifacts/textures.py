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

__all__ = ["BACKGROUNDS", "BACKGROUND_COLOURS", "PHOTO_BACKGROUNDS", "make_background"]

#: Procedural backgrounds a photographed page can lie on.
BACKGROUNDS = ("wood", "table", "cloth")

#: Every background :func:`make_background` makes: the desks above, then the surfaces of
#: :mod:`ecgkit.artifacts.capture` (a chair seat, a bed sheet, a checked tablecloth, a
#: clipboard under the page, the bezel of a monitor showing it).
PHOTO_BACKGROUNDS = (*BACKGROUNDS, "chair", "bedsheet", "plaid", "clipboard", "monitor")

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
    # upholstery: dark fabric (light = thread highlights)
    "chair": [
        ((62, 62, 66), (28, 28, 31)),
        ((54, 62, 92), (26, 30, 52)),
        ((104, 46, 44), (58, 24, 24)),
        ((96, 92, 84), (56, 54, 48)),
    ],
    # bed sheets: light, often pastel
    "bedsheet": [
        ((238, 238, 236), (196, 196, 196)),
        ((214, 226, 240), (164, 180, 204)),
        ((240, 226, 214), (198, 180, 164)),
        ((222, 236, 222), (172, 192, 172)),
    ],
    # (band colour, ground colour) of a checked cloth
    "plaid": [
        ((176, 36, 40), (236, 232, 226)),
        ((40, 70, 140), (232, 232, 230)),
        ((40, 110, 60), (226, 224, 210)),
        ((60, 60, 64), (200, 196, 188)),
    ],
    # hardboard or plastic board (the desk beyond is drawn from the seed)
    "clipboard": [
        ((170, 120, 74), (130, 86, 50)),
        ((150, 106, 66), (112, 76, 46)),
        ((60, 64, 72), (40, 42, 48)),
        ((70, 110, 170), (48, 80, 130)),
    ],
    # bezel (light = its highlight) around a screen; a dim room beyond
    "monitor": [
        ((46, 46, 50), (14, 14, 16)),
        ((70, 70, 74), (30, 30, 34)),
        ((200, 200, 204), (150, 150, 156)),
    ],
}


def make_background(
    params: dict[str, Any], width: int, height: int, quad: np.ndarray | None = None
) -> np.ndarray:
    """A procedural surface (desk wood, table, cloth) from parameters and a seed.

    Parameters
    ----------
    params : dict
        ``kind`` (one of :data:`PHOTO_BACKGROUNDS`), ``light_rgb``, ``dark_rgb``, ``seed``,
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
    if kind not in PHOTO_BACKGROUNDS:
        raise ValueError(f"unknown background {kind!r}; valid: {', '.join(PHOTO_BACKGROUNDS)}")
    if kind not in BACKGROUNDS:
        return _photo_background(params, width, height, quad)
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


# --------------------------------------------------------------------------------------------
# the surfaces of ecgkit.artifacts.capture: made at half resolution, from the seed alone


def _frame(quad: np.ndarray | None, width: int, height: int, f: int) -> np.ndarray:
    """Homography from the page's unit square (``u``, ``v`` in [0, 1]) to pixels reduced ``f``."""
    if quad is None:  # no page given: a centred one filling 80 % of the image
        mx, my = 0.1 * width, 0.1 * height
        quad = np.array([[mx, my], [width - mx, my], [width - mx, height - my], [mx, height - my]])
    src = np.float32([[0, 0], [1, 0], [1, 1], [0, 1]])
    dst = ((np.asarray(quad, np.float64) + 0.5) / f - 0.5).astype(np.float32)
    return cv2.getPerspectiveTransform(src, dst)


def _page_uv(hmat: np.ndarray, lw: int, lh: int) -> tuple[np.ndarray, np.ndarray]:
    """Page coordinates ``(u, v)`` of every reduced pixel (the homography inverted)."""
    inv = np.linalg.inv(hmat).astype(np.float32)
    xs = np.arange(lw, dtype=np.float32)[None, :]
    ys = np.arange(lh, dtype=np.float32)[:, None]
    den = inv[2, 0] * xs + inv[2, 1] * ys + inv[2, 2]
    den = np.where(np.abs(den) < 1e-6, np.float32(1e-6), den)
    u = (inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]) / den
    v = (inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]) / den
    return u.astype(np.float32), v.astype(np.float32)


def _rounded_outside(
    u: np.ndarray, v: np.ndarray, box: tuple[float, float, float, float], r: float
) -> np.ndarray:
    """Distance (page units) outside a rounded rectangle ``(u0, v0, u1, v1)``; < 0 inside."""
    u0, v0, u1, v1 = box
    cu, cv_ = (u0 + u1) / 2, (v0 + v1) / 2
    qu = np.abs(u - cu) - ((u1 - u0) / 2 - r)
    qv = np.abs(v - cv_) - ((v1 - v0) / 2 - r)
    out = np.hypot(np.maximum(qu, 0), np.maximum(qv, 0))
    return out + np.minimum(np.maximum(qu, qv), 0) - r


def _photo_background(
    params: dict[str, Any], width: int, height: int, quad: np.ndarray | None
) -> np.ndarray:
    """The surfaces added for phone photos (see :data:`PHOTO_BACKGROUNDS`)."""
    kind = params["kind"]
    rng = np.random.default_rng(params["seed"])
    f = 3
    lw, lh = math.ceil(width / f), math.ceil(height / f)
    a = math.radians(params["angle_deg"])
    xs = np.arange(lw, dtype=np.float32)[None, :]
    ys = np.arange(lh, dtype=np.float32)[:, None]
    across = xs * np.float32(-math.sin(a)) + ys * np.float32(math.cos(a))
    along = xs * np.float32(math.cos(a)) + ys * np.float32(math.sin(a))
    p = max(float(params["period_px"]) / f, 1.5)
    light = np.asarray(params["light_rgb"], np.float32)
    dark = np.asarray(params["dark_rgb"], np.float32)
    blotch = noise_grid(rng, 80.0, (lw, lh))
    fine = noise_grid(rng, 1.5, (lw, lh))
    shadow = float(params.get("shadow", 0.0))
    if kind == "chair":
        # a basket weave of round threads, each thread a little brighter or darker
        ia, ib = np.floor(across / p), np.floor(along / p)
        fa, fb = across / p - ia, along / p - ib
        na = rng.standard_normal(int(np.ptp(ia)) + 2).astype(np.float32)
        nb = rng.standard_normal(int(np.ptp(ib)) + 2).astype(np.float32)
        top = ((ia + ib) % 2) == 0
        bump = np.where(top, np.sin(np.pi * fa), np.sin(np.pi * fb))
        tone = np.where(
            top, na[(ia - ia.min()).astype(np.int64)], nb[(ib - ib.min()).astype(np.int64)]
        )
        mix = 0.6 - 0.4 * bump + 0.07 * tone + 0.12 * blotch + 0.05 * fine
        # the seat's cushion: darker towards its rounded edges, a piped seam along them
        cx, cy = lw * rng.uniform(0.35, 0.65), lh * rng.uniform(0.35, 0.65)
        rx, ry = lw * rng.uniform(0.6, 1.0), lh * rng.uniform(0.6, 1.0)
        cushion = ((xs - cx) / rx) ** 4 + ((ys - cy) / ry) ** 4
        seam_at = rng.uniform(0.55, 0.9)
        mix = mix + 0.45 * np.clip(cushion - seam_at, 0, 1) ** 0.5
        seam = np.exp(-(((cushion - seam_at) / 0.02) ** 2))
        mix = mix + 0.5 * seam - 0.3 * np.exp(-(((cushion - seam_at + 0.05) / 0.02) ** 2))
        low = light + (dark - light) * np.clip(mix, 0.0, 1.4)[:, :, None]
    elif kind == "bedsheet":
        # long soft folds (smooth noise stretched along the drape) with a few sharper creases,
        # lit from one side
        stretch = rng.uniform(2.5, 5.0)
        sw = max(3, math.ceil(max(lw, lh) * 1.5 / stretch))
        sl = math.ceil(max(lw, lh) * 1.5)
        z = noise_grid(rng, 70.0 / f, (sw, sl)) * np.float32(2.0)
        z += (1.0 - np.abs(noise_grid(rng, 30.0 / f, (sw, sl)))) * np.float32(0.6)
        z = cv2.resize(z, (sl, sl), interpolation=cv2.INTER_LINEAR)
        rot = cv2.getRotationMatrix2D((sl / 2, sl / 2), float(params["angle_deg"]), 1.0)
        rot[:, 2] += [(lw - sl) / 2, (lh - sl) / 2]
        z = cv2.warpAffine(z, rot, (lw, lh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        gy, gx = np.gradient(z)
        la = rng.uniform(0, 2 * math.pi)
        slope = gx * np.float32(math.cos(la)) + gy * np.float32(math.sin(la))
        spread = float(np.percentile(np.abs(slope[::4, ::4]), 98)) or 1.0
        mix = 0.3 + 0.4 * np.clip(slope / spread, -1.2, 1.2) + 0.06 * blotch + 0.03 * fine
        low = light + (dark - light) * np.clip(mix, 0.0, 1.2)[:, :, None]
        if rng.random() < 0.35:  # a striped sheet
            period = p * rng.uniform(8, 20)
            stripe = (np.sin(across / period * np.float32(2 * math.pi)) > 0.6).astype(np.float32)
            stripe = cv2.GaussianBlur(stripe, (0, 0), 0.8)
            tint = np.asarray(rng.uniform(0.75, 0.95, 3), np.float32)
            low = low * (1 - stripe[:, :, None] * (1 - tint))
    elif kind == "plaid":
        # a checked cloth, not quite flat: its coordinates wander, folds shade it
        wa = across + noise_grid(rng, 120.0, (lw, lh)) * np.float32(3.0)
        wb = along + noise_grid(rng, 120.0, (lw, lh)) * np.float32(3.0)
        period = p * rng.uniform(6, 20)
        duty = rng.uniform(0.35, 0.5)

        def band(c: np.ndarray) -> np.ndarray:
            ph = c / period - np.floor(c / period)
            return np.clip((duty / 2 - np.abs(ph - 0.5)) * period + 0.5, 0, 1)

        alpha = (0.5 * band(wa) + 0.5 * band(wb))[:, :, None]
        low = dark * (1 - alpha) + light * alpha
        weave = 0.05 * fine + 0.03 * np.sin(along * np.float32(2 * math.pi / 1.3))
        folds = 0.1 * noise_grid(rng, 100.0, (lw, lh))
        low = low * (1.0 + weave + folds)[:, :, None]
    else:  # clipboard or monitor: a frame around the page, in the page's perspective
        hmat = _frame(quad, width, height, f)
        u, v = _page_uv(hmat, lw, lh)
        # the page's own scale in reduced pixels (for soft edges)
        unit = max(float(np.hypot(*(hmat[:2, 0] / hmat[2, 2]))), 1.0)
        desk_rgb = np.asarray(rng.uniform(40, 200) + rng.uniform(-12, 12, 3), np.float32)
        if kind == "clipboard":
            mx, mt, mb = rng.uniform(0.025, 0.06), rng.uniform(0.09, 0.14), rng.uniform(0.025, 0.05)
            d = _rounded_outside(u, v, (-mx, -mt, 1 + mx, 1 + mb), 0.03)
            inside = np.clip(0.5 - d * unit, 0, 1)[:, :, None]
            board = (
                light + (dark - light) * np.clip(0.5 + 0.25 * blotch + 0.2 * fine, 0, 1)[:, :, None]
            )
            bevel = np.exp(-(((d + 0.004) * unit / 1.2) ** 2))[:, :, None]
            board = board * (1 + 0.25 * bevel)
            desk = desk_rgb * (1 + 0.08 * noise_grid(rng, 60.0, (lw, lh)))[:, :, None]
            drop = np.exp(-np.clip(d, 0, None) * unit / 6.0)[:, :, None] * (1 - inside)
            low = board * inside + desk * (1 - 0.35 * drop) * (1 - inside)
            # the metal clip at the top of the board
            cw = rng.uniform(0.1, 0.18)
            dc = _rounded_outside(u, v, (0.5 - cw, -mt * 0.85, 0.5 + cw, -0.004), 0.01)
            clip = np.clip(0.5 - dc * unit, 0, 1)[:, :, None]
            metal = 150 + 80 * np.cos((v + mt * 0.85) / (mt * 0.85) * np.float32(math.pi * 1.5))
            metal = (metal + 10 * fine)[:, :, None] * np.asarray([1.0, 1.0, 1.03], np.float32)
            sh = np.exp(-np.clip(dc, 0, None) * unit / 3.0)[:, :, None] * (1 - clip)
            low = low * (1 - 0.3 * sh) * (1 - clip) + metal * clip
        else:  # monitor: a bezel (a thicker chin below) in a dim room
            bx = rng.uniform(0.012, 0.035)
            chin = bx * (rng.uniform(1.0, 3.0) if rng.random() < 0.5 else 1.0)
            d = _rounded_outside(u, v, (-bx, -bx * 1.2, 1 + bx, 1 + chin), 0.008)
            inside = np.clip(0.5 - d * unit, 0, 1)[:, :, None]
            grad = np.clip(0.5 + 0.6 * (v - 0.5) + 0.1 * blotch, 0, 1)[:, :, None]
            bezel = light + (dark - light) * grad
            rim = np.exp(-(((d + 0.0015) * unit / 1.0) ** 2))[:, :, None]
            bezel = bezel * (1 + 0.6 * rim)
            room = noise_grid(rng, 300.0, (lw, lh)) * 0.5 + noise_grid(rng, 60.0, (lw, lh)) * 0.15
            dim = rng.uniform(0.15, 0.5)
            room_rgb = desk_rgb * dim * np.clip(1.0 + room, 0.3, 2.0)[:, :, None]
            low = bezel * inside + room_rgb * (1 - inside)
            shadow = 0.0
    if quad is not None and shadow > 0:
        mask = np.zeros((lh, lw), np.float32)
        d = np.asarray(params["shadow_dir"], float) * 12.0
        poly = np.rint(((np.asarray(quad, float) + 0.5) / f + d) * 16).astype(np.int32)
        cv2.fillPoly(mask, [poly], 1.0, cv2.LINE_AA, 4)
        mask = cv2.GaussianBlur(mask, (0, 0), 10.0)
        low = low * (1.0 - shadow * mask)[:, :, None]
    low8 = np.clip(low + 0.5, 0, 255).astype(np.uint8)
    return cv2.resize(low8, (width, height), interpolation=cv2.INTER_LINEAR)
