"""Geometric artifacts: the paper's shape and how it is captured.

* ``curl`` (fold): an edge or corner curls up, or the page is bowed, with its shading;
* ``wrinkles`` (fold): crumpled paper, a smooth displacement of a few pixels, soft undulation
  and faceted crease shading;
* ``creases`` (fold): straight folds (halves, thirds, quarters of a letter), a small step
  across each and a shaded groove;
* ``rotation`` (capture): a flatbed scan of a handled printout, rotated, skewed, shifted, the
  uncovered border showing the scanner lid;
* ``perspective`` (capture): a phone photo of the page lying on a procedural desk (wood,
  table, cloth), keystoned by a hand-held camera.

Every artifact here is a :class:`~ecgkit.artifacts.base.GeometricArtifact`: it builds a
:class:`~ecgkit.geometry.CoordinateMap` (``coordinate_map(page, params)``; the maps are in
:mod:`ecgkit.artifacts.maps`) and the shared ``apply`` warps through it with
:func:`~ecgkit.artifacts.base.warp_page`, so the image, the lead mask and every ground-truth
point, box and paper corner move together. Shading (darker where the paper turns away from the
light) is photometric: it multiplies the warped image (``finish``) and never moves the truth.
The desks a photographed page lies on are in :mod:`ecgkit.artifacts.textures`.

Coordinates follow :mod:`ecgkit.geometry`: points ``(x, y)``, pixel centres at integers.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from ecgkit.artifacts import register
from ecgkit.artifacts.base import GeometricArtifact, draw_seed, round_param, with_image
from ecgkit.artifacts.ink import noise_grid
from ecgkit.artifacts.maps import (
    CreaseMap,
    FastHomographyMap,
    GridDisplacementMap,
    OffsetMap,
    bilinear_resize_at,
    fold_slabs,
    grid_shape,
    node_positions,
)
from ecgkit.artifacts.textures import BACKGROUND_COLOURS, BACKGROUNDS, make_background
from ecgkit.generate.render import Page
from ecgkit.geometry import CoordinateMap, image_corners

__all__ = [
    "BACKGROUNDS",
    "CreaseMap",
    "Creases",
    "Curl",
    "GridDisplacementMap",
    "OffsetMap",
    "Perspective",
    "Rotation",
    "Wrinkles",
    "bilinear_resize_at",
    "node_positions",
    "make_background",
]

_SEED_HIGH = 2**31  # this family's seeds are drawn below 2**31 (kept: samples replay)

_REF_PPMM = 200 / 25.4  # the resolution the pixel amounts below are quoted at
_MAX_SLOPE = 0.45  # bound on |grad u| of the displacement fields: one-to-one, forward converges


# --------------------------------------------------------------------------- shading helpers


def _shade(image: np.ndarray, shade: np.ndarray) -> np.ndarray:
    """Multiply an RGB image by a grey shading field (any size: it is resized bilinearly).

    The factors are carried in steps of 1/200 (0 to 1.275): below a grey level of change.
    """
    h, w = image.shape[:2]
    s8 = np.clip(np.rint(shade * 200.0), 0, 255).astype(np.uint8)
    s3 = cv2.resize(cv2.merge([s8] * 3), (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(image, s3, scale=1 / 200)


def _scale_for(page: Page) -> float:
    """Pixels per millimetre of the page, relative to 200 DPI."""
    return float(page.px_per_mm) / _REF_PPMM


# --------------------------------------------------------------------------- rotation


@register
class Rotation(GeometricArtifact):
    """A flatbed scan of a handled printout: small rotation, skew, scale and shift.

    Parameters drawn: ``angle_deg`` (about the centre), ``shear`` (x += shear * y), ``scale``,
    ``shift`` (fractions of width and height), ``fill_rgb`` (the scanner lid),
    ``edge_shadow`` (0-1 darkness of the thin shadow along the paper's edge).
    """

    name, family, stage = "rotation", "geometry", "capture"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the placement on the scanner glass."""
        s = float(strength)
        lid = rng.uniform(205, 252)
        tint = rng.uniform(-3, 3, 3)
        return {
            "angle_deg": round_param(rng.uniform(-6, 6) * s, 6),
            "shear": round_param(rng.uniform(-0.02, 0.02) * s, 6),
            "scale": round_param(1.0 + rng.uniform(-0.04, 0.02) * s, 6),
            "shift": [
                round_param(rng.uniform(-0.02, 0.02) * s, 6),
                round_param(rng.uniform(-0.02, 0.02) * s, 6),
            ],
            "fill_rgb": [int(np.clip(round(lid + t), 0, 255)) for t in tint],
            "edge_shadow": round_param(rng.uniform(0.1, 0.6) * min(1.0, 4 * s), 6),
        }

    @staticmethod
    def matrix(params: dict[str, Any], width: int, height: int) -> np.ndarray:
        """The 3x3 input-to-output matrix of these parameters for an image of this size."""
        a = math.radians(params["angle_deg"])
        k = params["scale"]
        cx, cy = (width - 1) / 2, (height - 1) / 2
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) * k
        lin = rot @ np.array([[1.0, params["shear"]], [0.0, 1.0]])
        centre = np.array([cx, cy])
        t = centre - lin @ centre + np.array(params["shift"]) * [width, height]
        return np.array([[*lin[0], t[0]], [*lin[1], t[1]], [0.0, 0.0, 1.0]])

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> FastHomographyMap:
        """The placement as a homography (see :meth:`matrix`)."""
        h, w = page.image.shape[:2]
        return FastHomographyMap(self.matrix(params, w, h))

    def warp_options(
        self, page: Page, params: dict[str, Any], cmap: CoordinateMap
    ) -> dict[str, Any]:
        """The uncovered border shows the scanner lid."""
        return {"fill_rgb": tuple(int(v) for v in params["fill_rgb"])}

    def finish(self, warped: Page, page: Page, params: dict[str, Any], cmap: CoordinateMap) -> Page:
        """A thin shadow along the paper's edge."""
        out = warped
        if params["edge_shadow"] > 0:
            h, w = page.image.shape[:2]
            fill = tuple(int(v) for v in params["fill_rgb"])
            poly = np.rint(cmap.forward(image_corners(w, h)) * 16).astype(np.int32)
            dark = tuple(int(v * (1 - 0.6 * params["edge_shadow"])) for v in fill)
            thick = max(1, int(round(_scale_for(page))))
            cv2.polylines(out.image, [poly], True, dark, thick, cv2.LINE_AA, 4)
        return out


# --------------------------------------------------------------------------- perspective


@register
class PageTurn(GeometricArtifact):
    """A page scanned or exported sideways or upside down: a turn by 90, 180 or 270 degrees.

    Thermal strips printed across the paper are often scanned turned by 90 degrees, and a
    stack of pages is scanned with some upside down. The turn is exact (every pixel moves to a
    pixel: no resampling), the image's width and height swap for 90 and 270 degrees, and the
    truth turns with it. Parameter drawn: ``quarter_turns`` (1, 2 or 3, clockwise as seen).
    """

    name, family, stage = "page_turn", "geometry", "capture"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the turn: 90 and 270 degrees twice as often as 180 (strips, sideways scans)."""
        k = int(rng.choice([1, 2, 3], p=[0.4, 0.2, 0.4]))
        return {"quarter_turns": k}

    @staticmethod
    def matrix(quarter_turns: int, width: int, height: int) -> np.ndarray:
        """The exact input-to-output matrix of ``quarter_turns`` clockwise quarter turns."""
        w1, h1 = width - 1.0, height - 1.0
        return {
            1: np.array([[0.0, -1.0, h1], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
            2: np.array([[-1.0, 0.0, w1], [0.0, -1.0, h1], [0.0, 0.0, 1.0]]),
            3: np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, w1], [0.0, 0.0, 1.0]]),
        }[int(quarter_turns)]

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> FastHomographyMap:
        """The turn as a homography with the turned image's size."""
        h, w = page.image.shape[:2]
        k = int(params["quarter_turns"])
        size = (h, w) if k % 2 else (w, h)
        return FastHomographyMap(self.matrix(k, w, h), size)


@register
class Perspective(GeometricArtifact):
    """A phone photo: the page lying on a desk, seen by a hand-held camera.

    Parameters drawn: ``canvas`` (output ``[width, height]``, a 4:3 frame somewhat larger than
    the page), ``quad`` (where the page's corners land: top-left, top-right, bottom-right,
    bottom-left), ``background`` (see :func:`make_background`).
    """

    name, family, stage = "perspective", "geometry", "capture"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the camera pose and the desk."""
        s = float(strength)
        h, w = page.image.shape[:2]
        # a 4:3 frame around the page, in its orientation, with margins of desk
        margin = 0.02 + rng.uniform(0.03, 0.12) * s
        if w >= h:
            cw = w * (1 + 2 * margin)
            ch = max(cw * 3 / 4, h * (1 + 2 * margin))
        else:
            ch = h * (1 + 2 * margin)
            cw = max(ch * 3 / 4, w * (1 + 2 * margin))
        cw, ch = int(round(cw)), int(round(ch))
        # the page plane seen by a pinhole camera: tilt (pitch, yaw), roll, focal length
        pitch = math.radians(rng.uniform(-1, 1) * 18 * s)
        yaw = math.radians(rng.uniform(-1, 1) * 14 * s)
        roll = math.radians(rng.normal(0, 3) * s)
        focal = max(cw, ch) * rng.uniform(0.8, 1.4)
        src = image_corners(w, h)
        pts = np.c_[src - [(w - 1) / 2, (h - 1) / 2], np.zeros(4)]
        cr, sr = math.cos(roll), math.sin(roll)
        cp, sp = math.cos(pitch), math.sin(pitch)
        cy_, sy_ = math.cos(yaw), math.sin(yaw)
        rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
        rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
        ry = np.array([[cy_, 0, sy_], [0, 1, 0], [-sy_, 0, cy_]])
        cam = pts @ (ry @ rx @ rz).T + [0.0, 0.0, focal]
        proj = cam[:, :2] * (focal / cam[:, 2:3])
        # fit inside the frame, leaving a random margin of desk on every side
        lo, hi = proj.min(0), proj.max(0)
        room = np.array([cw, ch]) * (1 - 2 * rng.uniform(0.03, 0.6, 2) * margin)
        k = float(min(room / (hi - lo)))
        size = (hi - lo) * k
        slack = np.array([cw, ch]) - size
        off = slack * rng.uniform(0.3, 0.7, 2) - lo * k - 0.5
        quad = proj * k + off
        kind = str(rng.choice(BACKGROUNDS))
        pair = BACKGROUND_COLOURS[kind][int(rng.integers(len(BACKGROUND_COLOURS[kind])))]
        jitter = rng.uniform(-12, 12) + rng.uniform(-4, 4, 3)
        light_rgb, dark_rgb = (
            np.clip(np.rint(np.add(c, jitter)), 0, 255).astype(int).tolist() for c in pair
        )
        if kind == "wood":
            period, angle = rng.uniform(14, 40), rng.uniform(-90, 90)
        elif kind == "cloth":
            period, angle = rng.uniform(6, 12), rng.uniform(-30, 30)
        else:
            period, angle = 8.0, 0.0
        ang = float(rng.uniform(0, 2 * math.pi))
        bg = {
            "kind": kind,
            "light_rgb": light_rgb,
            "dark_rgb": dark_rgb,
            "seed": draw_seed(rng, _SEED_HIGH),
            "angle_deg": round_param(angle, 6),
            "period_px": round_param(period * _scale_for(page), 6),
            "shadow": round_param(rng.uniform(0.1, 0.35), 6),
            "shadow_dir": [round_param(math.cos(ang), 6), round_param(math.sin(ang), 6)],
        }
        return {
            "canvas": [cw, ch],
            "quad": [[round_param(x, 4), round_param(y, 4)] for x, y in quad],
            "background": bg,
        }

    @staticmethod
    def matrix(params: dict[str, Any], width: int, height: int) -> np.ndarray:
        """The homography taking the image's outline to ``params["quad"]``."""
        src = image_corners(width, height)
        dst = np.asarray(params["quad"], dtype=np.float64)
        a = np.zeros((8, 8))
        b = np.zeros(8)
        for i, ((x, y), (u, v)) in enumerate(zip(src, dst, strict=True)):
            a[2 * i] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
            a[2 * i + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y]
            b[2 * i], b[2 * i + 1] = u, v
        return np.append(np.linalg.solve(a, b), 1.0).reshape(3, 3)

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> FastHomographyMap:
        """The camera's homography onto the ``canvas`` (see :meth:`matrix`)."""
        h, w = page.image.shape[:2]
        cw, ch = (int(v) for v in params["canvas"])
        return FastHomographyMap(self.matrix(params, w, h), size=(cw, ch))

    def warp_options(
        self, page: Page, params: dict[str, Any], cmap: CoordinateMap
    ) -> dict[str, Any]:
        """The desk shows where the page is not."""
        cw, ch = (int(v) for v in params["canvas"])
        bg = make_background(params["background"], cw, ch, np.asarray(params["quad"]))
        return {"background": bg}


# --------------------------------------------------------------------------- curl


def _curl_profile(t: np.ndarray, radius: float, theta_end: float) -> tuple[np.ndarray, ...]:
    """Material distance ``t`` (>= 0) beyond a curl's start, from its projected distance.

    The paper bends on a cylinder of ``radius`` up to the angle ``theta_end``, then (beyond
    the paper's edge) continues straight. Returns ``(t_material, theta)``.
    """
    tp = np.maximum(t, 0.0)
    edge = radius * math.sin(theta_end)
    on = tp <= edge
    theta = np.where(on, np.arcsin(np.clip(tp / radius, 0.0, 1.0)), theta_end)
    mat = np.where(on, radius * theta, radius * theta_end + (tp - edge) / math.cos(theta_end))
    return mat, theta


class _FieldArtifact(GeometricArtifact):
    """An artifact given by a displacement field and a shading field on the output grid."""

    def fields(
        self, params: dict[str, Any], width: int, height: int, px_per_mm: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Displacement nodes ``(h, w, 2)`` (output to input, px) and shading, ~1 mm apart.

        Parameters
        ----------
        params : dict
            From :meth:`draw`.
        width, height : int
            Image size.
        px_per_mm : float
            Resolution of the page.

        Returns
        -------
        tuple of numpy.ndarray
            float32 displacement nodes (for :class:`GridDisplacementMap`) and shading factors.
        """
        raise NotImplementedError

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> GridDisplacementMap:
        """The displacement field as a map (it carries the shading :meth:`finish` applies)."""
        h, w = page.image.shape[:2]
        u, shade = self.fields(params, w, h, float(page.px_per_mm))
        return _ShadedDisplacementMap(u, (w, h), shade)

    def finish(self, warped: Page, page: Page, params: dict[str, Any], cmap: CoordinateMap) -> Page:
        """Shade the displaced page (shading moves no truth)."""
        if isinstance(cmap, _ShadedDisplacementMap):
            shade = cmap.shade
        else:
            h, w = page.image.shape[:2]
            shade = self.fields(params, w, h, float(page.px_per_mm))[1]
        return with_image(warped, _shade(warped.image, shade))


class _ShadedDisplacementMap(GridDisplacementMap):
    """A :class:`GridDisplacementMap` that keeps the shading field made with it."""

    def __init__(self, nodes: np.ndarray, size: tuple[int, int], shade: np.ndarray) -> None:
        super().__init__(nodes, size)
        self.shade = shade


@register
class Curl(_FieldArtifact):
    """Page curl or bend: the paper leaves the glass/desk on a cylinder, with shading.

    Parameters drawn: ``kind`` (``edge``: one edge curls up; ``corner``: a corner does;
    ``bend``: the whole page is bowed about a line), ``normal`` (unit vector across the bend
    axis, towards the curling part), ``start`` (``n . p`` where the bend begins, px),
    ``theta`` (angle the paper reaches at its far edge, radians), ``light`` (unit vector to the
    light), ``ambient`` (share of diffuse light), ``lift_dark`` (extra darkening as the paper
    rises off the glass).
    """

    name, family, stage = "curl", "geometry", "fold"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw where and how much the page curls."""
        s = float(strength)
        h, w = page.image.shape[:2]
        kind = str(rng.choice(["edge", "edge", "corner", "bend"]))
        corners = image_corners(w, h)
        if kind == "edge":
            side = int(rng.integers(4))
            normal = [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)][side]
            span = w if side < 2 else h
            start = float((corners @ normal).max()) - span * rng.uniform(0.08, 0.3)
            theta = rng.uniform(0.6, 1.0) * 0.82 * s
        elif kind == "corner":
            cx, cy = int(rng.integers(2)), int(rng.integers(2))
            ang = math.atan2((2 * cy - 1) * h, (2 * cx - 1) * w) + rng.uniform(-0.35, 0.35)
            normal = (math.cos(ang), math.sin(ang))
            start = float((corners @ normal).max()) - math.hypot(w, h) * rng.uniform(0.06, 0.2)
            theta = rng.uniform(0.6, 1.0) * 0.82 * s
        else:
            ang = rng.choice([0.0, math.pi / 2]) + rng.uniform(-0.15, 0.15)
            normal = (math.cos(ang), math.sin(ang))
            centre = np.array([(w - 1) / 2, (h - 1) / 2]) * (1 + rng.uniform(-0.3, 0.3, 2))
            start = float(centre @ normal)
            theta = rng.uniform(0.4, 1.0) * 0.6 * s
        la = rng.uniform(0, 2 * math.pi)
        lt = math.radians(rng.uniform(10, 40))
        light = (math.sin(lt) * math.cos(la), math.sin(lt) * math.sin(la), math.cos(lt))
        return {
            "kind": kind,
            "normal": [round_param(normal[0], 6), round_param(normal[1], 6)],
            "start": round_param(start, 3),
            "theta": round_param(theta, 6),
            "light": [round_param(v, 6) for v in light],
            "ambient": round_param(rng.uniform(0.2, 0.5), 6),
            "lift_dark": round_param(rng.uniform(0.1, 0.4) * s, 6),
            "lift_mm": round_param(rng.uniform(4.0, 15.0), 6),
        }

    @staticmethod
    def _extent(params: dict[str, Any], width: int, height: int) -> tuple[float, float]:
        """Largest material distance from the bend line over the page, on each side."""
        n = np.asarray(params["normal"], float)
        c = image_corners(width, height) @ n - params["start"]
        return float(max(c.max(), 1.0)), float(max(-c.min(), 1.0))

    def fields(
        self,
        params: dict[str, Any],
        width: int,
        height: int,
        px_per_mm: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Displacement nodes and shading of these parameters (see the base class)."""
        gw, gh = grid_shape(width, height, 8.0 * px_per_mm / _REF_PPMM)
        xs, ys = node_positions(gw, width), node_positions(gh, height)
        n = np.asarray(params["normal"], float)
        tq = xs[None, :] * n[0] + ys[:, None] * n[1] - params["start"]  # projected
        reach_pos, reach_neg = self._extent(params, width, height)
        theta_end = float(params["theta"])
        tm = tq.copy()
        theta = np.zeros_like(tq)
        if theta_end > 1e-6:
            sides = [(1.0, reach_pos)]
            if params["kind"] == "bend":
                sides.append((-1.0, reach_neg))
            for sign, reach in sides:
                sel = sign * tq > 0
                radius = reach / theta_end
                mat, th = _curl_profile(sign * tq[sel], radius, theta_end)
                tm[sel] = sign * mat
                theta[sel] = sign * th
        u = (tm - tq)[:, :, None] * n[None, None, :]
        # Lambert shading relative to the flat paper; the normal tilts by theta along n
        lx, ly, lz = params["light"]
        ln = lx * n[0] + ly * n[1]
        lam = np.maximum(-np.sin(theta) * ln + np.cos(theta) * lz, 0.0)
        amb = params["ambient"]
        # paper lifted off the glass (or the desk) gets less light: height in mm
        lift = (
            np.abs(tm)
            * np.where(theta != 0, (1 - np.cos(theta)) / np.maximum(np.abs(theta), 1e-9), 0.0)
            / px_per_mm
        )
        shade = (amb + (1 - amb) * lam / max(lz, 1e-3)) * (
            1 - params["lift_dark"] * (1 - np.exp(-lift / params["lift_mm"]))
        )
        return u.astype(np.float32), shade.astype(np.float32)


# --------------------------------------------------------------------------- wrinkles


def _crumple_slope(
    rng: np.random.Generator,
    xs: np.ndarray,
    ys: np.ndarray,
    count: int,
    px_per_mm: float,
    light_deg: float,
) -> np.ndarray:
    """Slope towards the light of paper crumpled then flattened: ``count`` straight creases.

    Each crease is a kink ``a |s|`` across a random line (``s`` the distance to it), faded out
    along the line over a random length (and across it over 0.6 of that); its slope,
    ``a sign(s)`` across the line, flips at the crease, so the sheet reads as a mosaic of
    nearly flat facets bounded by straight crease lines. Returned on the grid ``xs`` x ``ys``
    (float32).
    """
    width, height = xs[-1] - xs[0], ys[-1] - ys[0]
    soft = np.float32(1.0 / (0.5 * px_per_mm))  # creases are about a millimetre wide
    la = math.radians(light_deg)
    out = np.zeros((len(ys), len(xs)), np.float32)
    for _ in range(count):
        cx, cy = xs[0] + rng.uniform(0, width), ys[0] + rng.uniform(0, height)
        ang = rng.uniform(0, math.pi)
        half = rng.uniform(40, 160) * px_per_mm
        a = rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 1.0)
        ca, sa = math.cos(ang), math.sin(ang)
        # the crease's facets reach `half` along it and `0.6 half` across: its bounding box
        ex, ey = half * abs(ca) + 0.6 * half * abs(sa), half * abs(sa) + 0.6 * half * abs(ca)
        c0, c1 = np.searchsorted(xs, [cx - ex, cx + ex])
        r0, r1 = np.searchsorted(ys, [cy - ey, cy + ey])
        if c1 <= c0 or r1 <= r0:
            continue
        xf = (xs[c0:c1] - cx).astype(np.float32)[None, :]
        yf = (ys[r0:r1] - cy).astype(np.float32)[:, None]
        along = (xf * np.float32(ca) + yf * np.float32(sa)) * np.float32(1 / half)
        across = yf * np.float32(ca) - xf * np.float32(sa)
        fade = np.cos(np.clip(along, -1, 1) * np.float32(math.pi / 2)) * np.cos(
            np.clip(across * np.float32(1 / (0.6 * half)), -1, 1) * np.float32(math.pi / 2)
        )
        towards = a * (-sa * math.cos(la) + ca * math.sin(la))  # across direction . light
        out[r0:r1, c0:c1] += np.float32(towards) * np.tanh(across * soft) * fade * fade
    return out


def _normalised(d: np.ndarray, amount: float) -> np.ndarray:
    """``amount * d / spread`` with the spread the 99th percentile of ``|d|`` (tails clipped)."""
    spread = float(np.percentile(np.abs(d), 99)) or 1.0
    return (np.float32(amount / spread) * np.clip(d, -2 * spread, 2 * spread)).astype(np.float32)


@register
class Wrinkles(_FieldArtifact):
    """Crumpled paper: a smooth random displacement of a few pixels and its shading.

    Parameters drawn: ``seed`` (for the random fields), ``amplitude_px`` (largest displacement),
    ``scale_mm`` (size of the larger undulations), ``light_deg`` (direction the light comes
    from), ``view_deg`` (direction of the camera's parallax: the height field whose slope
    shades the paper is the displacement's component along it), ``shade`` (strength of that
    smooth shading), ``creases`` (how many straight crumple creases) and ``crumple`` (strength
    of their facet shading; they are sub-pixel in displacement, so shading only).
    """

    name, family, stage = "wrinkles", "geometry", "fold"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the crumpling."""
        s = float(strength)
        return {
            "seed": draw_seed(rng, _SEED_HIGH),
            "amplitude_px": round_param(rng.uniform(0.5, 1.0) * 6.0 * s * _scale_for(page), 6),
            "scale_mm": round_param(rng.uniform(25, 60), 6),
            "light_deg": round_param(rng.uniform(0, 360), 6),
            "view_deg": round_param(rng.uniform(0, 360), 6),
            "shade": round_param(rng.uniform(0.02, 0.06) * s, 6),
            "creases": int(rng.integers(8, 30)),
            "crumple": round_param(rng.uniform(0.02, 0.08) * s, 6),
        }

    def fields(
        self,
        params: dict[str, Any],
        width: int,
        height: int,
        px_per_mm: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Displacement nodes and shading of these parameters (see the base class)."""
        rng = np.random.default_rng(params["seed"])
        scale = params["scale_mm"] * px_per_mm  # px between random nodes of the big octave
        spacing = 8.0 * px_per_mm / _REF_PPMM
        gw, gh = grid_shape(width, height, spacing)
        big = np.stack([noise_grid(rng, scale / spacing, (gw, gh)) for _ in range(2)], -1)
        small = np.stack([noise_grid(rng, scale / 3 / spacing, (gw, gh)) for _ in range(2)], -1)
        u = big + np.float32(0.25) * small
        gain = np.float32(params["amplitude_px"] / (float(np.abs(u).max()) or 1.0))
        # keep |grad u| well below 1 (the map stays invertible, forward converges)
        slope = GridDisplacementMap(u * gain, (width, height)).max_slope()
        gain *= np.float32(min(1.0, _MAX_SLOPE / slope) if slope > 0 else 1.0)
        u *= gain
        # the height whose slope shades the paper: the big undulations' parallax along view_deg
        # (the small ones would shade as a hammered-metal texture)
        v = math.radians(params["view_deg"])
        z = (big[:, :, 0] * math.cos(v) + big[:, :, 1] * math.sin(v)) * gain
        xs, ys = node_positions(gw, width), node_positions(gh, height)
        gy, gx = np.gradient(z, ys, xs)
        la = math.radians(params["light_deg"])
        # white paper cannot get whiter: centre the shading below 1 so both sides show
        shade = (
            1.0
            - params["shade"]
            - params["crumple"]
            + _normalised(gx * math.cos(la) + gy * math.sin(la), params["shade"])
        )
        crumple = _crumple_slope(
            rng, xs, ys, int(params["creases"]), px_per_mm, params["light_deg"]
        )
        shade += _normalised(crumple, params["crumple"])
        return u, shade


# --------------------------------------------------------------------------- creases


@register
class Creases(GeometricArtifact):
    """Straight folds, as a letter is folded: a small step across each fold and its shading.

    Parameters drawn: ``pattern`` (``thirds``, ``half``, ``quarters`` or ``random``) and
    ``folds``, a list of ``{"normal": [nx, ny], "offset": c, "step_px", "width_px", "shadow",
    "shadow_px", "ridge", "line", "side", "seed"}``: the fold line is ``n . p = c``; the paper
    beyond it moves by ``step_px`` along ``n`` (smoothed over ``width_px``); the fold is a
    shallow groove whose flank on ``side`` (+1/-1 along ``n``) is darkened by up to ``shadow``
    (the other by 0.2 of it) fading over ``shadow_px``; ``ridge`` is a thin bright line on
    the lit flank, ``line`` a thin dark line on the fold; ``seed`` varies the shading along it.
    """

    name, family, stage = "creases", "geometry", "fold"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the folding pattern."""
        s = float(strength)
        h, w = page.image.shape[:2]
        k = _scale_for(page)
        long_is_x = w >= h
        pattern = str(rng.choice(["thirds", "half", "quarters", "random"]))
        lines: list[tuple[str, float]] = []  # (across the "L"ong or "S"hort side, fraction)
        if pattern == "thirds":
            lines = [("L", 1 / 3), ("L", 2 / 3)]
        elif pattern == "half":
            lines = [("L", 0.5)]
        elif pattern == "quarters":
            lines = [("L", 0.5), ("S", 0.5)]
        else:
            for _ in range(int(rng.integers(1, 4))):
                lines.append((str(rng.choice(["L", "S"])), float(rng.uniform(0.15, 0.85))))
        folds = []
        for which, frac in lines:
            vertical = (which == "L") == long_is_x  # a fold across the long side is vertical
            span, other = (w, h) if vertical else (h, w)
            tilt = math.radians(rng.normal(0, 0.6))
            pos = (frac + rng.normal(0, 0.01)) * span - 0.5
            n = (math.cos(tilt), math.sin(tilt)) if vertical else (-math.sin(tilt), math.cos(tilt))
            along_mid = (other - 1) / 2
            c = pos * (n[0] if vertical else n[1]) + along_mid * (n[1] if vertical else n[0])
            folds.append(self.fold_params(rng, n, c, s, k))
        return {"pattern": pattern, "folds": folds}

    @staticmethod
    def fold_params(
        rng: np.random.Generator,
        normal: Any,
        offset: float,
        s: float,
        k: float,
        gain: float = 1.0,
    ) -> dict[str, Any]:
        """Draw one fold across the line ``normal . p = offset``: step, width, shading.

        Parameters
        ----------
        rng : numpy.random.Generator
        normal : sequence of float
            Unit normal ``(nx, ny)`` of the fold line.
        offset : float
            The line's offset along the normal (px).
        s : float
            Strength.
        k : float
            Pixel scale of the page (:func:`_scale_for`).
        gain : float
            Multiplies the shading (shadow, ridge, line).

        Returns
        -------
        dict
            One entry of the ``folds`` parameter.
        """
        step = rng.uniform(0.5, 2.0) * s * k * rng.choice([-1.0, 1.0])
        return {
            "normal": [round_param(normal[0], 6), round_param(normal[1], 6)],
            "offset": round_param(offset, 4),
            "step_px": round_param(step, 6),
            "width_px": round_param(max(2.5 * k, 1.6 * abs(step)) * rng.uniform(1.0, 1.6), 6),
            "shadow": round_param(rng.uniform(0.04, 0.16) * gain * s, 6),
            "shadow_px": round_param(rng.uniform(6, 30) * k, 6),
            "ridge": round_param(rng.uniform(0.02, 0.08) * gain * s, 6),
            "line": round_param(rng.uniform(0.03, 0.15) * gain * s, 6),
            "side": int(rng.choice([-1, 1])),
            "seed": draw_seed(rng, _SEED_HIGH),
        }

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> CreaseMap:
        """The folds' steps as a :class:`~ecgkit.artifacts.maps.CreaseMap`."""
        height, width = page.image.shape[:2]
        folds = [
            (f["normal"][0], f["normal"][1], f["offset"], f["step_px"], f["width_px"])
            for f in params["folds"]
        ]
        return CreaseMap(folds, (width, height))

    def finish(self, warped: Page, page: Page, params: dict[str, Any], cmap: CoordinateMap) -> Page:
        """Shade along each fold (in place on the warped image; the truth stays)."""
        h, w = page.image.shape[:2]
        k = _scale_for(page)
        out = warped
        image = out.image
        for f in params["folds"]:
            nx, ny = f["normal"]
            reach = 5.0 * f["shadow_px"] + 4.0 * k  # where the shading has faded out
            rng = np.random.default_rng(f["seed"])
            n_along = h if abs(nx) >= abs(ny) else w
            # the fold's strength varies along it (it is pressed harder in places)
            mod = 0.75 + 0.35 * noise_grid(rng, 200.0 * k, (n_along, 1))[0]
            mod = np.clip(mod, 0.2, 1.4)
            for region, s in fold_slabs(nx, ny, f["offset"], reach, w, h):
                if s is None:
                    continue
                # the flattened fold is a shallow V: the flank turned from the light is darker
                # (the other a little too: less light reaches the groove), fading with the
                # distance from the crease; a thin bright ridge and a dark crease line on it
                side = s * np.float32(f["side"])
                flank = np.tanh(side * np.float32(1.0 / (0.7 * k)))
                shade = 1.0 - f["shadow"] * np.exp(-np.abs(side) / f["shadow_px"]) * (
                    0.6 + 0.4 * flank
                )
                shade += f["ridge"] * np.exp(-np.square((side + 1.5 * k) / (0.8 * k)))
                shade -= f["line"] * np.exp(-np.square(side / (0.7 * k)))
                m = mod[:, None] if abs(nx) >= abs(ny) else mod[None, :]
                shade = 1.0 + (shade - 1.0) * m
                sub = image[region]
                image[region] = cv2.multiply(
                    sub, cv2.merge([shade.astype(np.float32)] * 3), dtype=cv2.CV_8U
                )
        return out
