"""Phone photos as they are taken: steep angles, odd surfaces, fingers, flash, screens, low res.

* ``phone_perspective`` (capture, geometric): the page photographed at up to about 35 degrees
  of tilt by a wide-angle phone camera, lying on a desk, a chair, a bed sheet, a checked cloth
  or a clipboard (:data:`~ecgkit.artifacts.textures.PHOTO_BACKGROUNDS`);
* ``screen_perspective`` (capture, geometric): a monitor showing the page, its bezel and a dim
  room around it;
* ``tear`` (capture): a piece torn out of one edge of the paper, the surface under it showing
  through (mirrored from just beyond the edge, or a flat colour when the page fills the image);
* ``finger`` (capture): the thumb or finger holding the page, over one of its edges, out of
  focus, with its soft shadow;
* ``flash_glare`` (light): the flash's specular reflection on glossy paper, washing out ink
  and grid;
* ``screen_moire`` (paper: the surface the ECG is shown on): a screen's pixels and RGB
  subpixels, the moire bands a camera makes of them, a reflection on the glass;
* ``low_resolution`` (resample, geometric): a photo sent through a messaging app, its long
  side down to about 700 px.

Photometric ones never move the truth; ``tear`` and ``finger`` clear the lead mask where the
ink is gone or hidden and record an ``"occlusion"`` text box (as ``holes`` and
``torn_corner`` do), ``flash_glare`` where it washes the ink out. Everything is computed on
crops or coarse grids (well under 0.1 s at 200 DPI).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ecgkit.artifacts import register
from ecgkit.artifacts.base import PhotometricArtifact, draw_seed, round_param, with_image
from ecgkit.artifacts.geometry import Perspective
from ecgkit.artifacts.ink import noise_grid, smooth_noise
from ecgkit.artifacts.paper import BACKGROUNDS as FLAT_BACKGROUNDS
from ecgkit.artifacts.sensor import Downsample
from ecgkit.artifacts.textures import BACKGROUND_COLOURS
from ecgkit.generate.render import Page, TextBox
from ecgkit.geometry import Box, image_corners

__all__ = [
    "FingerOcclusion",
    "FlashGlare",
    "LowResolution",
    "PhonePerspective",
    "ScreenMoire",
    "ScreenPerspective",
    "Tear",
]

_SEED_HIGH = 2**31
_REF_PPMM = 200 / 25.4


# --------------------------------------------------------------------------------------------
# helpers


def _paper_scale(page: Page) -> float:
    """Pixels per millimetre of the paper as it appears in the image (from its corners)."""
    q = np.asarray(page.corners, float)
    perim = float(np.sum(np.hypot(*(np.roll(q, -1, axis=0) - q).T)))
    paper = page.layout.paper
    return perim / (2.0 * (paper.width_mm + paper.height_mm))


def _edge(page: Page, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Start point, unit direction, unit inward normal and length of the paper's edge ``k``.

    Edges run top (0), right (1), bottom (2), left (3) between the corners.
    """
    q = np.asarray(page.corners, float)
    a, b = q[k], q[(k + 1) % 4]
    t = b - a
    length = float(np.hypot(*t))
    t = t / max(length, 1e-9)
    n = np.array([-t[1], t[0]])
    if np.dot(q.mean(axis=0) - a, n) < 0:
        n = -n
    return a, t, n, length


def _crop(
    x0: float, y0: float, x1: float, y1: float, w: int, h: int
) -> tuple[int, int, int, int] | None:
    c0, r0 = max(int(math.floor(x0)), 0), max(int(math.floor(y0)), 0)
    c1, r1 = min(int(math.ceil(x1)) + 1, w), min(int(math.ceil(y1)) + 1, h)
    if c1 <= c0 or r1 <= r0:
        return None
    return c0, r0, c1, r1


def _box_of(sel: np.ndarray, x0: int, y0: int) -> Box | None:
    """Tight box (pixel edges, image coordinates) of the selected pixels of a crop."""
    rows, cols = np.flatnonzero(sel.any(axis=1)), np.flatnonzero(sel.any(axis=0))
    if len(rows) == 0:
        return None
    return (
        x0 + float(cols[0]) - 0.5,
        y0 + float(rows[0]) - 0.5,
        x0 + float(cols[-1]) + 0.5,
        y0 + float(rows[-1]) + 0.5,
    )


def _occluded(
    page: Page,
    image: np.ndarray,
    label: str,
    box: Box | None,
    hidden: np.ndarray | None,
    x0: int,
    y0: int,
) -> Page:
    """The page with its new image, an occlusion box and the hidden ink out of the mask."""
    out = with_image(page, image)
    out.texts = [*page.texts, *([TextBox(label, box, "occlusion")] if box else [])]
    if hidden is not None and hidden.any():
        out.mask = page.mask.copy()
        sub = out.mask[y0 : y0 + hidden.shape[0], x0 : x0 + hidden.shape[1]]
        sub[hidden] = 0
    return out


# --------------------------------------------------------------------------------------------
# perspective: steep angles, more surfaces


_PHONE_SURFACES = ("wood", "table", "cloth", "chair", "bedsheet", "plaid", "clipboard")
_PHONE_WEIGHTS = (0.2, 0.16, 0.1, 0.12, 0.14, 0.1, 0.18)


@register
class PhonePerspective(Perspective):
    """A hand-held phone photo at a steep angle: tilt up to about 35 degrees, a wide lens.

    The same camera model as ``perspective`` (pitch, yaw, roll, focal length; the quad the
    page's corners land on) with wider ranges: the page's plane is tilted by up to
    ``35 * strength`` degrees in a random direction, rolled by a few degrees (up to about
    15), seen through a focal length of 0.7-1.2 frame widths (a phone's main camera), and
    fills 55-95 % (``screen_perspective``: 70-95 %) of a 4:3 frame 1.1-1.35 times the page's
    long side. The surface under it is one of ``wood``, ``table``,
    ``cloth``, ``chair``, ``bedsheet``, ``plaid`` or ``clipboard``. Parameters recorded are
    those of ``perspective`` (``canvas``, ``quad``, ``background``) plus ``tilt_deg``.
    """

    name, family, stage = "phone_perspective", "capture", "capture"
    surfaces: tuple[str, ...] = _PHONE_SURFACES
    weights: tuple[float, ...] = _PHONE_WEIGHTS
    max_tilt_deg = 35.0
    fill = (0.55, 0.95)

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the camera pose and the surface under the page."""
        s = float(np.clip(strength, 0.0, 1.0))
        h, w = page.image.shape[:2]
        fill = rng.uniform(*self.fill)
        # the frame is at most 1.35 times the page's long side (the page is scaled into it,
        # down to about 0.6 when it fills little of the frame): big frames cost time downstream
        long = max(w, h) * rng.uniform(1.1, 1.35)
        cw, ch = (long, long * 3 / 4) if w >= h else (long * 3 / 4, long)
        cw, ch = int(round(cw)), int(round(ch))
        tilt = math.radians(self.max_tilt_deg * s * math.sqrt(rng.uniform(0.15, 1.0)))
        towards = rng.uniform(0, 2 * math.pi)
        pitch, yaw = tilt * math.cos(towards), tilt * math.sin(towards)
        roll = math.radians(float(np.clip(rng.normal(0, 5), -15, 15)) * s)
        focal = max(cw, ch) * rng.uniform(0.7, 1.2)
        src = image_corners(w, h)
        pts = np.c_[src - [(w - 1) / 2, (h - 1) / 2], np.zeros(4)]
        cr, sr = math.cos(roll), math.sin(roll)
        cp, sp = math.cos(pitch), math.sin(pitch)
        cy_, sy_ = math.cos(yaw), math.sin(yaw)
        rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
        rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
        ry = np.array([[cy_, 0, sy_], [0, 1, 0], [-sy_, 0, cy_]])
        cam = pts @ (ry @ rx @ rz).T + [0.0, 0.0, focal * 1.2]
        proj = cam[:, :2] * (focal / cam[:, 2:3])
        lo, hi = proj.min(0), proj.max(0)
        k = float(min(np.array([cw, ch]) * fill / (hi - lo)))
        slack = np.array([cw, ch]) - (hi - lo) * k
        off = slack * rng.uniform(0.2, 0.8, 2) - lo * k - 0.5
        quad = proj * k + off
        kind = str(rng.choice(self.surfaces, p=np.asarray(self.weights) / sum(self.weights)))
        pair = BACKGROUND_COLOURS[kind][int(rng.integers(len(BACKGROUND_COLOURS[kind])))]
        jitter = rng.uniform(-10, 10) + rng.uniform(-4, 4, 3)
        light_rgb, dark_rgb = (
            np.clip(np.rint(np.add(c, jitter)), 0, 255).astype(int).tolist() for c in pair
        )
        res = float(page.px_per_mm) / _REF_PPMM
        period = {"wood": rng.uniform(14, 40), "cloth": rng.uniform(6, 12)}.get(kind, 8.0)
        if kind in ("chair", "plaid", "bedsheet"):
            period = rng.uniform(6, 12)
        ang = float(rng.uniform(0, 2 * math.pi))
        bg = {
            "kind": kind,
            "light_rgb": light_rgb,
            "dark_rgb": dark_rgb,
            "seed": draw_seed(rng, _SEED_HIGH),
            "angle_deg": round_param(rng.uniform(-90, 90), 6),
            "period_px": round_param(period * res * k, 6),
            "shadow": round_param(rng.uniform(0.1, 0.35), 6),
            "shadow_dir": [round_param(math.cos(ang), 6), round_param(math.sin(ang), 6)],
        }
        return {
            "canvas": [cw, ch],
            "quad": [[round_param(x, 4), round_param(y, 4)] for x, y in quad],
            "background": bg,
            "tilt_deg": round_param(math.degrees(tilt), 4),
        }


@register
class ScreenPerspective(PhonePerspective):
    """A phone photo of a monitor showing the page: tilt up to 25 degrees, bezel, dim room.

    Parameters as ``phone_perspective`` (the surface is always ``monitor``: the screen's
    bezel, a thicker chin below it on some, a dim room around).
    """

    name = "screen_perspective"
    surfaces = ("monitor",)
    weights = (1.0,)
    max_tilt_deg = 25.0
    fill = (0.7, 0.95)


# --------------------------------------------------------------------------------------------
# a piece torn out of an edge


@register
class Tear(PhotometricArtifact):
    """A piece torn out of one edge of the paper; what lies under the page shows through.

    Applied after the page is placed in the photo (capture stage), so the surface beyond the
    edge is known: the missing piece shows it mirrored across the edge (where that lies in the
    image) or, when the page fills the image (a scan), the flat ``background_rgb``.
    Parameters drawn: ``edge`` (0 top, 1 right, 2 bottom, 3 left), ``start`` and ``end``
    (fractions along it), ``depth`` (how far the tear reaches into the paper, fraction of the
    shorter side), ``skew`` (where along the piece it is deepest, 0-1), ``roughness`` and
    ``fibre`` (mm, the ragged line and its white torn fibres), ``shadow`` (darkening of the
    surface by the paper's edge), ``background`` / ``background_rgb`` and ``seed``. Adds an
    ``"occlusion"`` text box ``"tear"``.
    """

    name, family, stage = "tear", "capture", "capture"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the edge, the size and shape of the piece and what shows through."""
        s = float(np.clip(strength, 0.0, 1.0))
        width = (0.06 + 0.22 * s) * rng.uniform(0.5, 1.0)
        start = rng.uniform(0.03, 0.97 - width)
        bg = str(rng.choice(list(FLAT_BACKGROUNDS), p=[0.35, 0.15, 0.2, 0.12, 0.1, 0.08]))
        return {
            "edge": int(rng.integers(4)),
            "start": round_param(start, 4),
            "end": round_param(start + width, 4),
            "depth": round_param((0.03 + 0.12 * s) * rng.uniform(0.5, 1.0), 4),
            "skew": round_param(rng.uniform(0.25, 0.75), 4),
            "roughness": round_param(rng.uniform(0.5, 1.5), 3),
            "fibre": round_param(rng.uniform(0.25, 0.6), 3),
            "shadow": round_param(rng.uniform(0.2, 0.45), 4),
            "background": bg,
            "background_rgb": list(FLAT_BACKGROUNDS[bg]),
            "seed": draw_seed(rng),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Cut the piece out on a crop around it; show the surface beyond the edge."""
        h, w = page.image.shape[:2]
        ppmm = _paper_scale(page)
        a, t, n, length = _edge(page, int(params["edge"]))
        q = np.asarray(page.corners, float)
        short = min(np.hypot(*(q[1] - q[0])), np.hypot(*(q[2] - q[1])))
        depth = float(params["depth"]) * short
        u0, u1 = float(params["start"]) * length, float(params["end"]) * length
        rough = float(params["roughness"]) * ppmm
        reach = depth + 4 * rough + 8
        ends = [a + t * u0, a + t * u1, a + t * u0 + n * reach, a + t * u1 + n * reach]
        ends += [a + t * u0 - n * 4, a + t * u1 - n * 4]
        pts = np.asarray(ends)
        b = _crop(*(pts.min(0) - 4), *(pts.max(0) + 4), w, h)
        image = page.image.copy()
        if b is None:
            return _occluded(page, image, "tear", None, None, 0, 0)
        x0, y0, x1, y1 = b
        xs = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(a[0])
        ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(a[1])
        along = xs * np.float32(t[0]) + ys * np.float32(t[1])
        inward = xs * np.float32(n[0]) + ys * np.float32(n[1])
        rng = np.random.default_rng(int(params["seed"]))
        span = max(u1 - u0, 1.0)
        tau = np.clip((along - u0) / span, -0.2, 1.2)
        # the outline: a bite deepest at `skew`, ragged at two scales
        sk = float(params["skew"])
        tt = np.where(tau < sk, tau / sk * 0.5, 0.5 + (tau - sk) / (1 - sk) * 0.5)
        prof = np.clip(np.sin(np.clip(tt, 0, 1) * np.float32(math.pi)), 0, 1)
        n_line = 512
        idx = np.clip(((tau + 0.2) / 1.4 * (n_line - 1)).astype(np.int32), 0, n_line - 1)
        line = smooth_noise(rng, 1, n_line, 40)[0] * 0.12 * depth
        line = line + smooth_noise(rng, 1, n_line, 12)[0] * (0.6 * rough)
        fine = smooth_noise(rng, y1 - y0, x1 - x0, 2.0) * (0.3 * rough)
        cut = depth * prof + line[idx] * (prof > 0.02) + fine  # paper gone up to here
        d = inward - cut  # > 0: paper left
        keep = np.clip(d + 0.5, 0, 1)
        keep = np.where((tau <= 0) | (tau >= 1), 1.0, keep).astype(np.float32)
        # what shows: the surface mirrored across the edge, or a flat colour
        # mirrored about a line 2 px beyond the edge (the edge's own pixels are paper)
        mx = (xs - 2 * (inward + 2) * np.float32(n[0]) + np.float32(a[0])).astype(np.float32)
        my = (ys - 2 * (inward + 2) * np.float32(n[1]) + np.float32(a[1])).astype(np.float32)
        gone = keep < 0.999
        valid = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
        if gone.any() and valid[gone].mean() > 0.98:
            beyond = cv2.remap(
                page.image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            ).astype(np.float32)
        else:
            beyond = np.empty((y1 - y0, x1 - x0, 3), np.float32)
            beyond[:] = np.asarray(params["background_rgb"], np.float32)
        shadow = float(params["shadow"]) * np.exp(np.minimum(d, 0) / (0.6 * rough + 1.5))
        beyond *= (1 - shadow)[:, :, None]
        fib = np.maximum(float(params["fibre"]) * ppmm * (1 + 0.5 * line[idx] / max(rough, 1)), 0.3)
        fibres = np.clip(1 - d / fib, 0, 1) * (d > -0.5) * (keep < 1) * 0.75
        crop = image[y0:y1, x0:x1].astype(np.float32)
        white = np.asarray([250, 249, 244], np.float32)
        paper = crop * (1 - fibres[:, :, None]) + white * fibres[:, :, None]
        k3 = keep[:, :, None]
        out = paper * k3 + beyond * (1 - k3)
        out = np.where((inward < 0)[:, :, None], crop, out)  # beyond the edge: as it was
        new = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        changed = np.any(new != image[y0:y1, x0:x1], axis=2)
        image[y0:y1, x0:x1] = new
        return _occluded(page, image, "tear", _box_of(changed, x0, y0), keep < 0.5, x0, y0)


# --------------------------------------------------------------------------------------------
# a finger over the edge


_SKIN = [
    (236, 196, 170),
    (224, 172, 140),
    (198, 144, 110),
    (166, 114, 82),
    (120, 80, 56),
    (88, 58, 42),
]


@register
class FingerOcclusion(PhotometricArtifact):
    """The thumb or finger holding the page, over one of its edges, nearer the lens.

    A rounded, slightly tapering cylinder of skin enters over a paper edge from outside the
    page, shaded across its width (lit from one side, a soft highlight, redder at its
    flanks), with a nail near the tip on some, knuckle creases, out of focus (it is much
    nearer the camera than the page) and casting a soft shadow on the paper. Parameters drawn:
    ``edge`` (0 top, 1 right, 2 bottom, 3 left), ``position`` (fraction along it), ``angle``
    (radians from the inward normal), ``width`` and ``reach`` (mm on the paper), ``skin_rgb``,
    ``light`` (-1..1, which flank is lit), ``nail`` (bool), ``blur`` (mm), ``shadow``
    (darkness), ``shadow_offset`` (mm, along ``shadow_angle``) and ``seed``. Adds an
    ``"occlusion"`` text box ``"finger"``; the lead mask loses the ink it covers.
    """

    name, family, stage = "finger", "capture", "capture"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw which edge, where, how big and what the finger looks like."""
        s = float(np.clip(strength, 0.0, 1.0))
        tone = int(rng.choice(len(_SKIN), p=[0.22, 0.24, 0.2, 0.14, 0.11, 0.09]))
        skin = np.asarray(_SKIN[tone], float) + rng.normal(0, 6, 3)
        return {
            "edge": int(rng.choice(4, p=[0.15, 0.3, 0.3, 0.25])),
            "position": round_param(rng.uniform(0.1, 0.9), 4),
            "angle": round_param(rng.normal(0, 0.35), 4),
            "width": round_param(rng.uniform(17, 25), 3),
            "reach": round_param((5 + 30 * s) * rng.uniform(0.4, 1.0), 3),
            "skin_rgb": [int(v) for v in np.clip(np.rint(skin), 0, 255)],
            "light": round_param(rng.uniform(-1, 1), 4),
            "nail": bool(rng.random() < 0.75),
            "blur": round_param(rng.uniform(0.2, 0.9) * (0.5 + s), 4),
            "shadow": round_param(rng.uniform(0.2, 0.5), 4),
            "shadow_offset": round_param(rng.uniform(1.0, 5.0), 3),
            "shadow_angle": round_param(rng.uniform(0, 2 * math.pi), 4),
            "seed": draw_seed(rng),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Paint the finger and its shadow on a crop around it."""
        h, w = page.image.shape[:2]
        ppmm = _paper_scale(page)
        a, t, n, length = _edge(page, int(params["edge"]))
        ang = float(params["angle"])
        ca, sa = math.cos(ang), math.sin(ang)
        d = n * ca + t * sa  # the finger's direction, into the page
        r = 0.5 * float(params["width"]) * ppmm
        base = a + t * float(params["position"]) * length
        tip = base + d * float(params["reach"]) * ppmm
        back = 2.0 * max(w, h)  # the finger comes from outside the frame
        blur = float(params["blur"]) * ppmm
        off = float(params["shadow_offset"]) * ppmm
        pad = 1.3 * r + 3 * blur + off + 4 * ppmm
        far = tip - d * back
        b = _crop(
            min(tip[0], far[0]) - pad,
            min(tip[1], far[1]) - pad,
            max(tip[0], far[0]) + pad,
            max(tip[1], far[1]) + pad,
            w,
            h,
        )
        image = page.image.copy()
        if b is None:
            return _occluded(page, image, "finger", None, None, 0, 0)
        x0, y0, x1, y1 = b
        q = 2  # out of focus anyway: computed on every other pixel, then enlarged
        gw, gh = math.ceil((x1 - x0) / q), math.ceil((y1 - y0) / q)
        xs = (x0 + (np.arange(gw, dtype=np.float32) + 0.5) * q - 0.5)[None, :] - np.float32(tip[0])
        ys = (y0 + (np.arange(gh, dtype=np.float32) + 0.5) * q - 0.5)[:, None] - np.float32(tip[1])
        ax = -(xs * np.float32(d[0]) + ys * np.float32(d[1]))  # 0 at the tip, > 0 towards hand
        cr = xs * np.float32(-d[1]) + ys * np.float32(d[0])  # across
        radius = r * (1.0 + 0.3 * np.clip(ax / (6 * r), 0, 1) ** 1.5)  # wider towards the hand
        tipd = np.hypot(np.minimum(ax, 0) * 1.15, cr)  # a slightly flattened round tip
        dist = np.where(ax < 0, tipd, np.abs(cr)) - radius
        rng = np.random.default_rng(int(params["seed"]))
        alpha = np.clip(0.5 - dist / q, 0, 1).astype(np.float32)
        # shading across the cylinder: lit flank, soft highlight, redder flanks
        c = np.clip(cr / radius, -1, 1)
        tip_round = np.clip(-ax / r, 0, 1)
        nz = np.sqrt(np.clip(1 - c * c - tip_round * tip_round * 0.8, 0, 1))
        lit = float(params["light"])
        lam = np.clip(0.35 * lit * c + 0.75 * nz, 0, 1)
        shade = 0.45 + 0.6 * lam
        hl = 0.25 * np.exp(-(((c + 0.35 * lit) / 0.18) ** 2)) * np.clip(ax / r + 0.5, 0, 1)
        texture = 1 + 0.035 * smooth_noise(rng, gh, gw, max(2.0, 0.15 * r / q))
        skin = np.asarray(params["skin_rgb"], np.float32)
        flank = np.clip(np.abs(c), 0, 1) ** 3
        col = skin[None, None, :] * (shade * texture)[:, :, None]
        col *= 1 - flank[:, :, None] * np.asarray([0.0, 0.18, 0.22], np.float32)
        col += (255 * hl)[:, :, None]
        # knuckle creases across the finger
        for at in (2.3, 2.55, 4.6):
            crease = np.exp(-(((ax / r - at) / 0.04) ** 2)) * (np.abs(c) < 0.8)
            col *= (1 - 0.18 * crease)[:, :, None]
        if params["nail"]:
            nu = (ax / r - 0.7) / 0.8  # along the nail, -1 at its free edge
            nail = np.clip((1 - np.hypot(nu, c / 0.6)) * r * 0.3 / q, 0, 0.85) * (np.abs(cr) < r)
            nail_col = np.clip(skin * 0.8 + np.asarray([45, 38, 40], np.float32), 0, 255)
            nail_col = nail_col[None, None, :] * (0.8 + 0.25 * nz[:, :, None])
            free = np.clip((-nu - 0.75) * 4, 0, 1)[:, :, None]
            nail_col = nail_col * (1 - free) + np.float32(238) * free
            col = col * (1 - nail[:, :, None]) + nail_col * nail[:, :, None]
        # out of focus: the finger is much nearer the lens
        if blur > 0.3 * q:
            alpha = cv2.GaussianBlur(alpha, (0, 0), blur / q)
            col = cv2.GaussianBlur(col.astype(np.float32), (0, 0), blur / q)
        sa_ = float(params["shadow_angle"])
        m = np.float32([[1, 0, off * math.cos(sa_) / q], [0, 1, off * math.sin(sa_) / q]])
        shadow = cv2.warpAffine(alpha, m, (gw, gh), borderMode=cv2.BORDER_REPLICATE)
        shadow = cv2.GaussianBlur(shadow, (0, 0), (1.5 * ppmm + blur) / q)

        def full(a: np.ndarray) -> np.ndarray:
            big = cv2.resize(a.astype(np.float32), (gw * q, gh * q), interpolation=cv2.INTER_LINEAR)
            return big[: y1 - y0, : x1 - x0]

        alpha, col, shadow = full(alpha), full(col), full(shadow)
        crop = image[y0:y1, x0:x1].astype(np.float32)
        a3 = alpha[:, :, None]
        under = crop * (1 - float(params["shadow"]) * shadow[:, :, None])
        out = under * (1 - a3) + col * a3
        new = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        changed = np.any(new != image[y0:y1, x0:x1], axis=2)
        image[y0:y1, x0:x1] = new
        box = _box_of(changed & (alpha > 0.05), x0, y0)
        return _occluded(page, image, "finger", box, alpha > 0.5, x0, y0)


# --------------------------------------------------------------------------------------------
# flash glare


@register
class FlashGlare(PhotometricArtifact):
    """The flash's reflection on glossy (thermal) paper: a bright blob that washes ink out.

    An irregular ellipse whose core is clipped white (no ink or grid shows through), fading
    over a soft edge and a faint, wide halo; glossy fibres make the edge of the highlight
    sparkle. Parameters drawn: ``centre`` (px, inside the paper), ``radius`` (px, mean radius
    of the fall-off), ``aspect`` and ``angle`` (its ellipse), ``peak`` (above 1: a clipped
    core), ``halo``, ``tint`` (RGB of the light, near white), ``irregularity`` and ``seed``.
    Adds an ``"occlusion"`` text box ``"glare"`` around the washed-out core; the lead mask
    loses the ink there.
    """

    name, family, stage = "flash_glare", "capture", "light"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw where the reflection is, its size, shape and brightness."""
        s = float(np.clip(strength, 0.0, 1.0))
        q = np.asarray(page.corners, float)
        # on the paper, nearer the image centre than not (the flash is next to the lens)
        wts = rng.dirichlet(np.ones(4) * 2.0)
        centre = wts @ q
        centre = 0.6 * centre + 0.4 * np.array([page.width, page.height]) / 2 * rng.uniform(
            0.8, 1.2, 2
        )
        short = min(np.hypot(*(q[1] - q[0])), np.hypot(*(q[2] - q[1])))
        return {
            "centre": [round_param(centre[0], 2), round_param(centre[1], 2)],
            "radius": round_param(short * (0.04 + 0.1 * s) * rng.uniform(0.6, 1.2), 2),
            "aspect": round_param(rng.uniform(1.0, 1.8), 4),
            "angle": round_param(rng.uniform(0, math.pi), 4),
            "peak": round_param(0.8 + 1.6 * s * rng.uniform(0.6, 1.0), 4),
            "halo": round_param(rng.uniform(0.05, 0.2) * (0.5 + s), 4),
            "tint": [int(v) for v in np.clip(np.rint(250 + rng.normal(0, 3, 3)), 230, 255)],
            "irregularity": round_param(rng.uniform(0.05, 0.3), 4),
            "seed": draw_seed(rng),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """``image (1 - a) + tint a``: a smooth field on a coarse grid, sparkle at full size."""
        h, w = page.image.shape[:2]
        cx, cy = params["centre"]
        rad = float(params["radius"])
        reach = 3.0 * rad * float(params["aspect"])
        b = _crop(cx - reach, cy - reach, cx + reach, cy + reach, w, h)
        image = page.image.copy()
        if b is None:
            return _occluded(page, image, "glare", None, None, 0, 0)
        x0, y0, x1, y1 = b
        rng = np.random.default_rng(int(params["seed"]))
        step = 4
        gw, gh = max(2, math.ceil((x1 - x0) / step)), max(2, math.ceil((y1 - y0) / step))
        gx = (x0 + (np.arange(gw, dtype=np.float32) + 0.5) * step - 0.5)[None, :] - cx
        gy = (y0 + (np.arange(gh, dtype=np.float32) + 0.5) * step - 0.5)[:, None] - cy
        ca, sa = math.cos(params["angle"]), math.sin(params["angle"])
        u = (gx * ca + gy * sa) / params["aspect"]
        v = -gx * sa + gy * ca
        r = np.hypot(u, v) / rad
        wobble = noise_grid(rng, max(2.0, rad / step / 1.5), (gw, gh))
        r = r * (1 + float(params["irregularity"]) * wobble)
        core = float(params["peak"]) * np.exp(-0.5 * r * r * 2.2)
        halo = float(params["halo"]) * np.exp(-r / 1.6)
        field = np.clip(core + halo, 0, 1).astype(np.float32)
        # glossy fibres sparkle where the highlight fades
        sparkle = rng.standard_normal((gh, gw)).astype(np.float32)
        field = np.clip(field + 0.15 * field * (1 - field) * 4 * sparkle, 0, 1)
        a8 = cv2.resize(
            np.rint(field * 255).astype(np.uint8),
            (gw * step, gh * step),
            interpolation=cv2.INTER_LINEAR,
        )[: y1 - y0, : x1 - x0]
        crop = image[y0:y1, x0:x1]
        a3 = cv2.merge([a8, a8, a8])
        keep = cv2.multiply(crop, cv2.bitwise_not(a3), scale=1 / 255.0)
        tint = np.asarray(params["tint"], np.float32)
        light = np.clip(a3.astype(np.float32) * (tint / 255.0) + 0.5, 0, 255).astype(np.uint8)
        crop[:] = cv2.add(keep, light)
        box = _box_of(a8 > 127, x0, y0)
        return _occluded(page, image, "glare", box, a8 > 153, x0, y0)


# --------------------------------------------------------------------------------------------
# a photo of a screen


@register
class ScreenMoire(PhotometricArtifact):
    """The page shown on a screen: pixels, RGB subpixels, moire bands, a reflection.

    The page is shown at the screen's resolution (each screen pixel ``pitch`` px of the page
    wide: the average of what it covers), each pixel lit as three vertical R, G, B stripes
    with a dark gap between rows (``depth`` of that structure, 0-1; white saturates in the
    stripes, as a camera exposing for the screen sees it). A camera sampling that grid makes
    moire: coloured bands ``moire_period`` px apart along ``moire_angle``, bent by a smooth
    field (``moire_bend``), of contrast ``moire``, with a weaker second family across them.
    The glass reflects a window or lamp: a soft-edged bright quadrilateral (``reflection``,
    its strength, ``reflection_quad`` in fractions of the image). ``black`` lifts the blacks
    (a lit screen is never black), ``white_rgb`` is the screen's white point. Parameters also
    hold ``seed``. Apply it on the flat page, before ``screen_perspective``.
    """

    name, family, stage = "screen_moire", "capture", "paper"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the screen's pixel pitch, the moire and the reflection."""
        s = float(np.clip(strength, 0.0, 1.0))
        res = float(page.px_per_mm) / _REF_PPMM
        cx, cy = rng.uniform(0.1, 0.9, 2)
        half = rng.uniform(0.12, 0.35, 2)
        tilt = rng.uniform(-0.4, 0.4)
        quad = []
        for ux, uy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            px = cx + ux * half[0] + tilt * uy * half[1] + rng.normal(0, 0.03)
            py = cy + uy * half[1] + rng.normal(0, 0.03)
            quad.append([round_param(px, 4), round_param(py, 4)])
        cool = rng.uniform(0, 0.08)
        return {
            "pitch": round_param(res * rng.uniform(2.6, 6.0), 4),
            "depth": round_param((0.15 + 0.5 * s) * rng.uniform(0.6, 1.0), 4),
            "gap": round_param(rng.uniform(0.1, 0.3), 4),
            "moire": round_param((0.04 + 0.22 * s) * rng.uniform(0.5, 1.0), 4),
            "moire_period": round_param(res * rng.uniform(12, 70), 3),
            "moire_angle": round_param(rng.uniform(0, math.pi), 4),
            "moire_bend": round_param(rng.uniform(0.5, 3.0), 4),
            "moire_chroma": round_param(rng.uniform(0.3, 1.0), 4),
            "reflection": round_param(s * rng.uniform(0.05, 0.35) if rng.random() < 0.7 else 0, 4),
            "reflection_quad": quad,
            "black": round_param(rng.uniform(8, 20 + 30 * s), 3),
            "white_rgb": [
                int(round(255 * (1 - 1.5 * cool))),
                int(round(255 * (1 - 0.5 * cool))),
                255,
            ],
            "seed": draw_seed(rng),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Pixelate, subpixel mask and moire (one gain field), reflection, black level."""
        img = page.image
        h, w = img.shape[:2]
        pitch = max(float(params["pitch"]), 1.0)
        sw, sh = max(1, round(w / pitch)), max(1, round(h / pitch))
        small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
        # each page pixel shows the screen pixel its centre falls in
        shown = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        # subpixel stripes (columns) and the black matrix between rows
        phx = ((np.arange(w) + 0.5) * sw / w) % 1.0
        phy = ((np.arange(h) + 0.5) * sh / h) % 1.0
        soft = min(0.5, 1.0 / pitch)
        cols = np.empty((w, 3), np.float64)
        for c in range(3):
            dist = np.abs(((phx - (c + 0.5) / 3 + 0.5) % 1.0) - 0.5)  # to the stripe's centre
            cols[:, c] = np.clip((0.14 - dist) / soft + 0.5, 0, 1)
        cols /= np.maximum(cols.mean(axis=0, keepdims=True), 1e-3)
        gap = float(params["gap"])
        rows = np.clip((np.minimum(phy, 1 - phy) - gap / 2) / soft + 0.5, 0, 1)
        rows /= max(rows.mean(), 1e-3)
        depth = float(params["depth"])
        colg = (1 - depth + depth * cols).astype(np.float32)
        rowg = (1 - depth + depth * rows).astype(np.float32)
        # moire: bent, coloured bands on a coarse grid
        rng = np.random.default_rng(int(params["seed"]))
        step = 4
        gw, gh = max(2, math.ceil(w / step)), max(2, math.ceil(h / step))
        gx = (np.arange(gw, dtype=np.float32) * step)[None, :]
        gy = (np.arange(gh, dtype=np.float32) * step)[:, None]
        ang, per = float(params["moire_angle"]), float(params["moire_period"])
        bend = noise_grid(rng, 60.0, (gw, gh)) * np.float32(params["moire_bend"])
        ph1 = (gx * math.cos(ang) + gy * math.sin(ang)) / per * 2 * math.pi + bend
        per2 = per * rng.uniform(1.3, 2.5)
        ph2 = (-gx * math.sin(ang) + gy * math.cos(ang)) / per2 * 2 * math.pi + 0.5 * bend
        m, chroma = float(params["moire"]), float(params["moire_chroma"])
        moire = np.empty((gh, gw, 3), np.float32)
        for c in range(3):
            off = chroma * c * 2 * math.pi / 3
            band = 0.5 + 0.5 * np.cos(ph1 + off) * 0.75 + 0.25 * np.cos(ph2 + off)
            moire[:, :, c] = 1 - m * band
        moire *= np.asarray(params["white_rgb"], np.float32)[None, None, :] / 255.0
        field = cv2.resize(moire, (w, h), interpolation=cv2.INTER_LINEAR)
        np.multiply(field, colg[None, :, :], out=field)
        np.multiply(field, rowg[:, None, None], out=field)
        out = cv2.multiply(shown, field, dtype=cv2.CV_8U)
        # black level, then the reflection on the glass (veiling light)
        black = float(params["black"])
        lut = np.clip(np.rint(black + np.arange(256) * (1 - black / 255.0)), 0, 255)
        out = cv2.LUT(out, lut.astype(np.uint8))
        if params["reflection"] > 0:
            rw, rh = max(2, math.ceil(w / 8)), max(2, math.ceil(h / 8))
            mask = np.zeros((rh, rw), np.float32)
            poly = np.asarray(params["reflection_quad"], float) * [rw, rh]
            cv2.fillPoly(mask, [np.rint(poly * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
            mask = cv2.GaussianBlur(mask, (0, 0), 0.04 * max(rw, rh))
            grad = np.linspace(1.0, 0.5, rw, dtype=np.float32)[None, :]
            veil = (float(params["reflection"]) * mask * grad).astype(np.float32)
            veil = cv2.resize(veil, (w, h), interpolation=cv2.INTER_LINEAR)
            v8 = np.clip(veil * 255 + 0.5, 0, 255).astype(np.uint8)
            inv = cv2.merge([255 - v8] * 3)
            out = cv2.add(cv2.multiply(out, inv, scale=1 / 255.0), cv2.merge([v8] * 3))
        return with_image(page, out)


# --------------------------------------------------------------------------------------------
# low resolution


@register
class LowResolution(Downsample):
    """A photo made small (a messaging app, a thumbnail): the long side down to about 700 px.

    The same exact scaling as ``downsample`` (low-pass, then a map that moves the truth with
    the pixels); only the draw differs: the target long side is ``700 + (long - 700) (1 -
    strength U(0.5, 1))`` px, so strength 1 gives 700-1450 px for a 2200 px page (never larger
    than the image). Parameters drawn: ``factor`` and ``long_px`` (the target).
    """

    name, family, stage = "low_resolution", "capture", "resample"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the target size of the long side."""
        s = float(np.clip(strength, 0.0, 1.0))
        long = max(page.width, page.height)
        target = 700 + max(long - 700, 0) * (1 - s * rng.uniform(0.5, 1.0))
        target = min(round(target), long)
        return {"factor": round_param(target / long, 6), "long_px": int(target)}
