"""Light: uneven illumination, soft shadows of a hand or a phone, colour casts.

All three are photometric (:func:`~ecgkit.artifacts.base.with_image`): they change pixel
values and never the ground truth. The physics is multiplicative: what the camera or scanner
records is the paper's reflectance times the light falling on it, so a darker region darkens
the ink and the paper alike (in the gamma-encoded sRGB domain a power-law gamma keeps a
product a product). Smooth fields are evaluated on a coarse grid and resized, so every apply
costs a few milliseconds at 200 DPI.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ecgkit.artifacts import register
from ecgkit.artifacts.base import PhotometricArtifact, round_param, with_image
from ecgkit.generate.render import Page

__all__ = ["ColorTemperature", "Illumination", "Shadow", "blackbody_rgb"]

_FIELD_STEP = 8  # smooth fields are computed on a grid this many pixels apart
_SHADOW_STEP = 4  # shadows have sharper edges: a finer grid


def _coarse_coords(width: int, height: int, step: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Coarse-grid coordinates in units of the page's longer side, and the grid size.

    Coarse pixel ``i`` covers full-resolution pixels whose centres lie around
    ``(i + 0.5) * step' - 0.5`` (the half-pixel convention ``cv2.resize`` uses), so the
    coordinate returned is ``(i + 0.5) / n * W / max(W, H)``.
    """
    sw, sh = max(2, math.ceil(width / step)), max(2, math.ceil(height / step))
    d = max(width, height)
    xs = ((np.arange(sw, dtype=np.float32) + 0.5) / sw * (width / d))[None, :]
    ys = ((np.arange(sh, dtype=np.float32) + 0.5) / sh * (height / d))[:, None]
    return xs, ys, sw, sh


def _multiply(image: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """``image * field`` with the coarse ``(h, w, 3)`` float32 field resized to the image."""
    h, w = image.shape[:2]
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(image, field, dtype=cv2.CV_8U)


# --------------------------------------------------------------------------------------------
# illumination


@register
class Illumination(PhotometricArtifact):
    """Uneven lighting: a linear gradient, vignetting and a hot spot, optionally a glare.

    Parameters drawn (all positions in units of the page's longer side, origin top-left):
    ``angle`` (radians, direction in which light falls off), ``gradient`` (darkening at the
    far side, 0-0.35), ``power`` (shape of the fall-off), ``vignette`` (darkening at the
    farthest corner), ``vignette_centre``, ``hot`` / ``hot_centre`` / ``hot_radius`` (a
    brighter region nearer the lamp), ``max_dark`` (the field never darkens more than
    this, at most 0.4), ``glare`` / ``glare_centre`` / ``glare_radius`` (an additive, ink
    washing specular spot; 0 on most pages). The field is normalised so its brightest point
    is 1: the camera exposes for the best-lit part of the page.
    """

    name = "illumination"
    family = "light"
    stage = "light"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the lighting field (see the class docstring)."""
        s = float(np.clip(strength, 0.0, 1.0))
        w, h = page.width, page.height
        aw, ah = w / max(w, h), h / max(w, h)
        glare = s * rng.uniform(0.15, 0.5) if rng.random() < 0.25 else 0.0
        return {
            "angle": round_param(rng.uniform(0, 2 * math.pi), 6),
            "gradient": round_param(s * rng.uniform(0.08, 0.35), 6),
            "power": round_param(rng.uniform(0.8, 2.0), 6),
            "vignette": round_param(s * rng.uniform(0.0, 0.25), 6),
            "vignette_centre": [
                round_param(aw * rng.uniform(0.3, 0.7), 6),
                round_param(ah * rng.uniform(0.3, 0.7), 6),
            ],
            "hot": round_param(s * rng.uniform(0.0, 0.2), 6),
            "hot_centre": [
                round_param(aw * rng.uniform(0.0, 1.0), 6),
                round_param(ah * rng.uniform(0.0, 1.0), 6),
            ],
            "hot_radius": round_param(rng.uniform(0.15, 0.5), 6),
            "max_dark": round_param(0.4 * s, 6),
            "glare": round_param(glare, 6),
            "glare_centre": [
                round_param(aw * rng.uniform(0.1, 0.9), 6),
                round_param(ah * rng.uniform(0.1, 0.9), 6),
            ],
            "glare_radius": round_param(rng.uniform(0.03, 0.09), 6),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Multiply the image by the lighting field (and add the glare, if any)."""
        h, w = page.image.shape[:2]
        xs, ys, _, _ = _coarse_coords(w, h, _FIELD_STEP)
        aw, ah = w / max(w, h), h / max(w, h)
        ca, sa = math.cos(params["angle"]), math.sin(params["angle"])
        corners = np.array([0.0, aw * ca, ah * sa, aw * ca + ah * sa])
        proj = xs * ca + ys * sa
        ramp = np.clip((proj - corners.min()) / max(np.ptp(corners), 1e-9), 0.0, 1.0)
        field = 1.0 - params["gradient"] * ramp ** params["power"]
        vx, vy = params["vignette_centre"]
        far = max((cx - vx) ** 2 + (cy - vy) ** 2 for cx in (0, aw) for cy in (0, ah))
        field = field * (1.0 - params["vignette"] * ((xs - vx) ** 2 + (ys - vy) ** 2) / far)
        hx, hy = params["hot_centre"]
        bump = np.exp(-((xs - hx) ** 2 + (ys - hy) ** 2) / (2 * params["hot_radius"] ** 2))
        field = field * (1.0 + params["hot"] * bump)
        field = field / field.max()
        dark = 1.0 - float(field.min())
        if dark > params["max_dark"] > 0:
            field = 1.0 - (1.0 - field) * (params["max_dark"] / dark)
        elif params["max_dark"] <= 0:
            field = np.ones_like(field)
        field = field.astype(np.float32)
        image = _multiply(page.image, cv2.merge([field, field, field]))
        if params["glare"] > 0:
            gx, gy = params["glare_centre"]
            r2 = ((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * params["glare_radius"] ** 2)
            wash = (params["glare"] * np.exp(-r2)).astype(np.float32)
            # out = image * (1 - wash) + 255 * wash, on the coarse grid then resized
            image = _multiply(image, cv2.merge([1.0 - wash] * 3))
            add = cv2.resize(
                np.clip(255.0 * wash + 0.5, 0, 255).astype(np.uint8),
                (w, h),
                interpolation=cv2.INTER_LINEAR,
            )
            image = cv2.add(image, cv2.merge([add, add, add]))
        return with_image(page, image)


# --------------------------------------------------------------------------------------------
# shadow


def _ellipse(cx: float, cy: float, a: float, b: float, angle: float, n: int = 20) -> list:
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    ca, sa = math.cos(angle), math.sin(angle)
    x, y = a * np.cos(t), b * np.sin(t)
    return [
        [round_param(cx + ca * xi - sa * yi, 5), round_param(cy + sa * xi + ca * yi, 5)]
        for xi, yi in zip(x, y, strict=True)
    ]


def _rect(cx: float, cy: float, length: float, width: float, angle: float) -> list:
    ca, sa = math.cos(angle), math.sin(angle)
    pts = []
    for u, v in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x, y = u * length / 2, v * width / 2
        pts.append([round_param(cx + ca * x - sa * y, 5), round_param(cy + sa * x + ca * y, 5)])
    return pts


def _entry(rng: np.random.Generator, aw: float, ah: float) -> tuple[float, float, float]:
    """A point on the page edge and the inward direction (radians) a shadow enters from."""
    side = int(rng.integers(4))
    t = rng.uniform(0.1, 0.9)
    x, y, inward = [
        (t * aw, 0.0, math.pi / 2),
        (aw, t * ah, math.pi),
        (t * aw, ah, -math.pi / 2),
        (0.0, t * ah, 0.0),
    ][side]
    return x, y, inward + rng.uniform(-0.5, 0.5)


def _hand(rng: np.random.Generator, aw: float, ah: float) -> list[list]:
    """Palm, four fingers and a thumb (ellipses) on a forearm that comes in from an edge."""
    ex, ey, a = _entry(rng, aw, ah)
    size = rng.uniform(0.16, 0.28)  # palm length
    reach = rng.uniform(0.15, 0.4)  # how far the palm centre is inside the page
    px, py = ex + math.cos(a) * reach, ey + math.sin(a) * reach
    polys = [
        _rect(
            ex + math.cos(a) * (reach - size) / 2,
            ey + math.sin(a) * (reach - size) / 2,
            reach + size,
            size * 0.55,
            a,
        )
    ]
    polys.append(_ellipse(px, py, size * 0.5, size * 0.42, a))
    spread = rng.uniform(0.05, 0.2)
    for k in range(4):
        off = (k - 1.5) * size * 0.2
        fa = a + (k - 1.5) * spread
        flen = size * rng.uniform(0.35, 0.5) * (0.8 if k in (0, 3) else 1.0)
        fx = px + math.cos(a) * size * 0.45 - math.sin(a) * off + math.cos(fa) * flen / 2
        fy = py + math.sin(a) * size * 0.45 + math.cos(a) * off + math.sin(fa) * flen / 2
        polys.append(_ellipse(fx, fy, flen / 2 + size * 0.05, size * 0.085, fa, 14))
    side = 1 if rng.random() < 0.5 else -1
    ta = a + side * rng.uniform(0.6, 1.1)
    tx = px - side * math.sin(a) * size * 0.35 + math.cos(ta) * size * 0.2
    ty = py + side * math.cos(a) * size * 0.35 + math.sin(ta) * size * 0.2
    polys.append(_ellipse(tx, ty, size * 0.25, size * 0.09, ta, 14))
    return polys


def _phone(rng: np.random.Generator, aw: float, ah: float) -> list[list]:
    """A phone held above the page (a rounded rectangle), with the hand holding it."""
    ex, ey, a = _entry(rng, aw, ah)
    length, width = rng.uniform(0.3, 0.55), rng.uniform(0.16, 0.26)
    reach = rng.uniform(0.05, 0.3)
    cx, cy = ex + math.cos(a) * (reach - length / 2), ey + math.sin(a) * (reach - length / 2)
    polys = [_rect(cx, cy, length, width, a)]
    # rounded far corners
    r = width * 0.2
    for v in (-1, 1):
        qx = cx + math.cos(a) * (length / 2 - r) - math.sin(a) * v * (width / 2 - r)
        qy = cy + math.sin(a) * (length / 2 - r) + math.cos(a) * v * (width / 2 - r)
        polys.append(_ellipse(qx, qy, r, r, 0.0, 12))
    return polys


def _edge(rng: np.random.Generator, aw: float, ah: float) -> list[list]:
    """A large shadow (a person or the camera) over one side, its edge slightly curved."""
    ex, ey, a = _entry(rng, aw, ah)
    depth = rng.uniform(0.1, 0.45)
    ca, sa = math.cos(a), math.sin(a)
    far = 3.0
    bend = rng.uniform(-0.08, 0.08)
    pts = []
    for t in np.linspace(-1, 1, 9):
        lateral = t * far
        d = depth + bend * (1 - t * t) * far
        pts.append(
            [round_param(ex + ca * d - sa * lateral, 5), round_param(ey + sa * d + ca * lateral, 5)]
        )
    pts.append([round_param(ex - ca * far + sa * far, 5), round_param(ey - sa * far - ca * far, 5)])
    pts.append([round_param(ex - ca * far - sa * far, 5), round_param(ey - sa * far + ca * far, 5)])
    return [pts]


_SHAPES = {"hand": _hand, "phone": _phone, "edge": _edge}


@register
class Shadow(PhotometricArtifact):
    """A soft shadow of a hand, a phone or a person across part of the page.

    Parameters drawn: ``shape`` (``"hand"``, ``"phone"`` or ``"edge"``), ``polygons`` (the
    shape as filled polygons, points ``[x, y]`` in units of the page's longer side),
    ``softness`` (the penumbra's Gaussian sigma, same units), ``darkness`` (15-45 % at
    strength 1) and ``tint`` (relative darkening of R, G, B: the light that still reaches a
    shadow is bluish skylight or ambient light, so blue is darkened least).
    """

    name = "shadow"
    family = "light"
    stage = "light"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the shadow's shape, softness, darkness and tint."""
        s = float(np.clip(strength, 0.0, 1.0))
        w, h = page.width, page.height
        aw, ah = w / max(w, h), h / max(w, h)
        shape = str(rng.choice(list(_SHAPES), p=[0.45, 0.3, 0.25]))
        polys = _SHAPES[shape](rng, aw, ah)
        return {
            "shape": shape,
            "polygons": polys,
            "softness": round_param(
                rng.uniform(0.006, 0.03) * (2.0 if shape == "edge" else 1.0), 6
            ),
            "darkness": round_param(s * rng.uniform(0.15, 0.45), 6),
            "tint": [
                1.0,
                round_param(rng.uniform(0.9, 0.97), 6),
                round_param(rng.uniform(0.7, 0.85), 6),
            ],
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Multiply the image by ``1 - darkness * tint * blurred shape``."""
        h, w = page.image.shape[:2]
        d = max(w, h)
        _, _, sw, sh = _coarse_coords(w, h, _SHADOW_STEP)
        scale = np.array([sw / (w / d), sh / (h / d)])  # units -> coarse pixel edges
        mask = np.zeros((sh, sw), np.uint8)
        shift = 4
        polys = [
            np.round((np.asarray(p, float) * scale - 0.5) * (1 << shift)).astype(np.int32)
            for p in params["polygons"]
        ]
        for poly in polys:  # one at a time: overlaps must add up, not cancel (even-odd)
            cv2.fillPoly(mask, [poly], 255, cv2.LINE_AA, shift)
        sigma = params["softness"] * sw / (w / d)
        m = mask.astype(np.float32) / 255.0
        if sigma > 0.3:
            m = cv2.GaussianBlur(m, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
        dark = params["darkness"]
        field = cv2.merge([1.0 - dark * float(t) * m for t in params["tint"]])
        return with_image(page, _multiply(page.image, field.astype(np.float32)))


# --------------------------------------------------------------------------------------------
# colour temperature


def blackbody_rgb(kelvin: float) -> np.ndarray:
    """Approximate sRGB colour of a black body (Tanner Helland's fit), each in [0, 1].

    Parameters
    ----------
    kelvin : float
        Colour temperature, 1000 to 40000 K.

    Returns
    -------
    numpy.ndarray
        ``(3,)`` RGB.
    """
    t = float(np.clip(kelvin, 1000.0, 40000.0)) / 100.0
    r = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    g = (
        99.4708025861 * math.log(t) - 161.1195681661
        if t <= 66
        else 288.1221695283 * (t - 60) ** -0.0755148492
    )
    if t >= 66:
        b = 255.0
    elif t <= 19:
        b = 0.0
    else:
        b = 138.5177312231 * math.log(t - 10) - 305.0447927307
    return np.clip(np.array([r, g, b]) / 255.0, 0.0, 1.0)


_NEUTRAL_K = 6500.0


@register
class ColorTemperature(PhotometricArtifact):
    """White balance left uncorrected: a warm (tungsten) or cool (daylight, LED) colour cast.

    Parameters drawn: ``kelvin`` (the effective colour temperature of the residual cast,
    shifted from a neutral 6500 K by up to about +110 mired (warm, ~3900 K) or -60 mired
    (cool, ~10000 K) at strength 1), ``tint`` (green-magenta, a few percent), ``exposure``
    (overall gain, -0.3 to +0.15 stops at strength 1; the paper clips when it goes over),
    ``black`` (veiling flare: black lifted by up to 25 levels, the scale compressed to keep
    white) and ``gains`` (the resulting R, G, B multipliers, what :meth:`apply` uses).
    """

    name = "color_temperature"
    family = "light"
    stage = "light"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the cast and the exposure, and compute the per-channel gains."""
        s = float(np.clip(strength, 0.0, 1.0))
        warm = rng.random() < 0.6
        shift = s * (rng.uniform(30, 110) if warm else -rng.uniform(20, 60))  # mired
        kelvin = 1e6 / (1e6 / _NEUTRAL_K + shift)
        rgb = blackbody_rgb(kelvin) / blackbody_rgb(_NEUTRAL_K)
        tint = s * rng.uniform(-0.04, 0.04)
        rgb[1] *= 1.0 + tint
        exposure = 2.0 ** (s * rng.uniform(-0.3, 0.15))
        gains = rgb / rgb.max() * exposure
        return {
            "kelvin": round_param(kelvin, 1),
            "tint": round_param(tint, 6),
            "exposure": round_param(exposure, 6),
            "black": round_param(s * rng.uniform(0.0, 25.0), 4),
            "gains": [round_param(g, 6) for g in gains],
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Lift the blacks, scale each channel by its gain (one lookup table; clips at 255)."""
        levels = np.arange(256, dtype=np.float64)[:, None]
        black = float(params.get("black", 0.0))
        levels = black + levels * (1.0 - black / 255.0)
        lut = np.clip(levels * np.asarray(params["gains"], float)[None, :] + 0.5, 0, 255)
        lut = lut.astype(np.uint8).reshape(256, 1, 3)
        return with_image(page, cv2.LUT(page.image, lut))
