"""Capture: optics (blur), sensor noise (scanner, camera), resampling and output encodings.

Everything here but :class:`Downsample` is photometric (:func:`~ecgkit.artifacts.base.with_image`)
and leaves the ground truth alone. :class:`Downsample` moves pixels, so it goes through
:func:`~ecgkit.artifacts.base.warp_page` with an exact scaling map. Noise comes from an integer
``seed`` in the parameters; Gaussian numbers are made from random bytes through a 256-entry
quantile table (``cv2.LUT``), which is several times faster than drawing normal deviates and
indistinguishable at 8 bits.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from scipy.special import ndtri

from ecgkit.artifacts import register
from ecgkit.artifacts.base import (
    GeometricArtifact,
    PhotometricArtifact,
    draw_seed,
    round_param,
    warp_page,
    with_image,
)
from ecgkit.generate.render import Page
from ecgkit.geometry import HomographyMap

__all__ = [
    "BLUR_KINDS",
    "Binarize",
    "Blur",
    "CameraNoise",
    "Downsample",
    "Jpeg",
    "ScannerNoise",
    "blur_kernel",
    "downsample_matrix",
    "jpeg_roundtrip",
]

_REF_PPMM = 200 / 25.4  # 200 DPI: the resolution strengths are calibrated at
_MAX_TAPS = 64  # larger kernels run on a reduced copy (filter2D costs ~0.5 ms a tap)
BLUR_KINDS = ("gaussian", "defocus", "motion")
_UNIT = 200.0  # uint8 gain fields: this value is a gain of 1


def _res(page: Page) -> float:
    """Resolution relative to 200 DPI (sizes in pixels scale with it)."""
    return float(page.px_per_mm) / _REF_PPMM


# quantiles of N(0, 1) at the centres of 256 equal-probability bins, scaled to unit variance
_NORMAL = ndtri((np.arange(256) + 0.5) / 256)
_NORMAL = (_NORMAL / _NORMAL.std()).astype(np.float32)


def _uniform_bytes(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform random bytes: the bit generator's raw 64-bit output, viewed as bytes."""
    n = math.prod(shape)
    raw = rng.bit_generator.random_raw((n + 7) // 8).astype("<u8", copy=False)
    return raw.view(np.uint8)[:n].reshape(shape)


def _normal(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Standard normal float32 deviates (2-D), via the quantile table."""
    return cv2.LUT(_uniform_bytes(rng, shape), _NORMAL)


def _gaussian_u8(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """``128 + round(sigma * z)`` as uint8, independently per element (``sigma`` < ~40)."""
    table = np.clip(np.rint(_NORMAL.astype(np.float64) * sigma) + 128, 0, 255).astype(np.uint8)
    return cv2.LUT(_uniform_bytes(rng, shape), table)


def _add_offset(image: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """``image + noise - 128``, saturated once (``noise`` is offset-128 uint8)."""
    return cv2.addWeighted(image, 1.0, noise, 1.0, -128.0)


def _add_gaussian(image: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """``image + round(sigma * z)``, saturated, independently per pixel and channel."""
    if sigma <= 0:
        return image.copy()
    return _add_offset(image, _gaussian_u8(rng, image.shape, sigma))


# --------------------------------------------------------------------------------------------
# blur


def blur_kernel(kind: str, size: float, angle: float = 0.0) -> np.ndarray:
    """An anti-aliased, normalised blur kernel.

    Parameters
    ----------
    kind : str
        ``"defocus"`` (a disk of radius ``size``) or ``"motion"`` (a line of length ``size``
        at ``angle``).
    size : float
        Radius or length in pixels.
    angle : float
        Direction of motion in radians (x to the right, y down).

    Returns
    -------
    numpy.ndarray
        Odd-sized square float32 kernel summing to 1.
    """
    if kind == "defocus":
        half = max(1, math.ceil(size - 0.5))
        sub = (np.arange(8) + 0.5) / 8 - 0.5
        c = np.arange(-half, half + 1)
        xs = (c[:, None] + sub[None, :]).ravel()
        inside = (xs[:, None] ** 2 + xs[None, :] ** 2) <= size * size
        k = inside.reshape(len(c), 8, len(c), 8).mean(axis=(1, 3))
    elif kind == "motion":
        half = max(1, math.ceil(size / 2))
        n = len(np.arange(-half, half + 1))
        k = np.zeros((n, n))
        t = np.linspace(-size / 2, size / 2, max(16, int(size * 16)))
        px, py = t * math.cos(angle) + half, t * math.sin(angle) + half
        x0, y0 = np.floor(px).astype(int), np.floor(py).astype(int)
        fx, fy = px - x0, py - y0
        for dx, dy, wgt in (
            (0, 0, (1 - fx) * (1 - fy)),
            (1, 0, fx * (1 - fy)),
            (0, 1, (1 - fx) * fy),
            (1, 1, fx * fy),
        ):
            np.add.at(k, (np.clip(y0 + dy, 0, n - 1), np.clip(x0 + dx, 0, n - 1)), wgt)
    else:
        raise ValueError(f"unknown blur kernel {kind!r}; valid: defocus, motion")
    k = k / k.sum()
    return k.astype(np.float32)


def _trim(kernel: np.ndarray) -> np.ndarray:
    """Drop all-zero outer rows and columns, symmetrically (the centre stays the centre)."""
    c = kernel.shape[0] // 2
    rows = np.flatnonzero(kernel.sum(axis=1) > 1e-7)
    cols = np.flatnonzero(kernel.sum(axis=0) > 1e-7)
    ry = max(c - rows.min(), rows.max() - c)
    rx = max(c - cols.min(), cols.max() - c)
    return np.ascontiguousarray(kernel[c - ry : c + ry + 1, c - rx : c + rx + 1])


def _convolve(image: np.ndarray, kind: str, size: float, angle: float) -> np.ndarray:
    """Convolve with a disk or line kernel; large kernels on a reduced copy of the image.

    ``cv2.filter2D`` costs about 0.5 ms per kernel tap at 200 DPI, so a kernel of more than
    :data:`_MAX_TAPS` taps (a disk wider than 7 px, a long diagonal line) runs on a copy
    reduced ``d`` times (area average), enlarged back bilinearly; the kernel is shrunk so
    the total second moment stays the same.
    """
    kernel = blur_kernel(kind, size, angle)
    if kind == "motion":
        kernel = _trim(kernel)  # a near-horizontal line needs only a few rows
    if kernel.size <= _MAX_TAPS:
        return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT)
    h, w = image.shape[:2]
    radius = size if kind == "defocus" else size / 2
    d = math.ceil(radius / 3.0)
    # reducing (area) and enlarging (bilinear) add about d^2/4 px^2 of variance: take it
    # off the kernel's own (disk: r^2/4, line: L^2/12)
    if kind == "defocus":
        size = math.sqrt(max(size * size - d * d, size * size / 4))
    else:
        size = math.sqrt(max(size * size - 3 * d * d, size * size / 4))
    small = cv2.resize(
        image, (max(1, round(w / d)), max(1, round(h / d))), interpolation=cv2.INTER_AREA
    )
    small = cv2.filter2D(
        small, -1, blur_kernel(kind, size / d, angle), borderType=cv2.BORDER_REFLECT
    )
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


@register
class Blur(PhotometricArtifact):
    """Defocus (Gaussian or disk) or motion blur (a line at an angle).

    Parameters drawn: ``kind`` (one of :data:`BLUR_KINDS`), ``sigma`` (the blur's standard
    deviation in pixels: about 2 px at 200 DPI at strength 1, scaled with the resolution),
    ``size`` (disk radius ``2 sigma`` or line length ``sqrt(12) sigma``, the same second
    moment) and ``angle`` (motion direction, radians).
    """

    name = "blur"
    family = "sensor"
    stage = "optics"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the kind and size of the blur."""
        s = float(np.clip(strength, 0.0, 1.0))
        kind = str(rng.choice(BLUR_KINDS, p=[0.4, 0.35, 0.25]))
        sigma = 2.0 * s * _res(page) * rng.uniform(0.75, 1.25)
        size = 2.0 * sigma if kind == "defocus" else math.sqrt(12.0) * sigma
        if kind == "gaussian":
            size = sigma
        return {
            "kind": kind,
            "sigma": round_param(sigma, 6),
            "size": round_param(size, 6),
            "angle": round_param(rng.uniform(0, math.pi), 6),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Convolve the image with the blur kernel."""
        kind, sigma = params["kind"], params["sigma"]
        if kind not in BLUR_KINDS:
            raise ValueError(f"unknown blur kind {kind!r}; valid: {', '.join(BLUR_KINDS)}")
        if sigma < 0.2:  # less than a fifth of a pixel: nothing to see
            return with_image(page, page.image.copy())
        if kind == "gaussian":
            image = cv2.GaussianBlur(page.image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
        else:
            image = _convolve(page.image, kind, params["size"], params["angle"])
        return with_image(page, image)


# --------------------------------------------------------------------------------------------
# scanner noise


def _profile(rng: np.random.Generator, n: int, knots: int, depth: float) -> np.ndarray:
    """A smooth random profile of length ``n`` around 1 (``1 - depth`` .. 1)."""
    v = 1.0 - depth * rng.random(knots)
    return np.interp(np.arange(n), np.linspace(0, n - 1, knots), v).astype(np.float32)


def _streak(
    image: np.ndarray, streak: dict[str, Any], vertical: bool, rng: np.random.Generator
) -> None:
    """Darken (or lighten) a thin band across the image, in place."""
    img = image if vertical else image.transpose(1, 0, 2)  # a view: columns are the streaks
    length, across = img.shape[:2]
    centre = streak["position"] * across - 0.5
    half = streak["width"] / 2
    c0, c1 = (
        max(int(math.floor(centre - half + 0.5)), 0),
        min(int(math.floor(centre + half + 0.5)), across - 1),
    )
    if c1 < c0:
        return
    cols = np.arange(c0, c1 + 1)
    cover = np.clip(
        np.minimum(cols + 0.5, centre + half) - np.maximum(cols - 0.5, centre - half), 0, 1
    ).astype(np.float32)
    a0, a1 = int(streak["start"] * length), min(int(math.ceil(streak["end"] * length)), length)
    if a1 <= a0:
        return
    prof = _profile(rng, a1 - a0, max(2, (a1 - a0) // 150), 0.6)
    alpha = streak["amount"] * prof[:, None, None] * cover[None, :, None]
    strip = img[a0:a1, c0 : c1 + 1].astype(np.float32)
    if streak["amount"] >= 0:  # dirt on the sensor bar: less light, a darker line
        strip *= 1.0 - alpha
    else:  # a hot pixel or a scratch on the glass: a lighter line
        strip += (255.0 - strip) * -alpha
    img[a0:a1, c0 : c1 + 1] = np.clip(strip + 0.5, 0, 255).astype(np.uint8)


def _specks(image: np.ndarray, rng: np.random.Generator, count: int, res: float) -> None:
    """Faint grey dust specks (soft discs), in place."""
    h, w = image.shape[:2]
    for _ in range(count):
        r = res * rng.uniform(0.4, 1.6)
        x, y = rng.uniform(0, w - 1), rng.uniform(0, h - 1)
        a = rng.uniform(0.15, 0.6)
        rr = int(math.ceil(r + 1))
        x0, x1 = max(int(x) - rr, 0), min(int(x) + rr + 2, w)
        y0, y1 = max(int(y) - rr, 0), min(int(y) + rr + 2, h)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        d = np.sqrt((xx - x) ** 2 + (yy - y) ** 2)
        alpha = (a * np.clip(r + 0.5 - d, 0, 1))[:, :, None]
        patch = image[y0:y1, x0:x1].astype(np.float32)
        image[y0:y1, x0:x1] = np.clip(patch * (1 - alpha) + 40.0 * alpha + 0.5, 0, 255).astype(
            np.uint8
        )


@register
class ScannerNoise(PhotometricArtifact):
    """A flatbed scanner: fine noise, paper texture, faint dust, streaks along the scan.

    Parameters drawn: ``seed``; ``sigma`` (Gaussian noise, 8-bit levels, up to ~3.5),
    ``texture`` (relative amplitude of the paper's mottle, up to 2 %; the mean gain is
    ``1 - 2 texture``), ``columns``
    (fixed-pattern gain differences between sensor elements, up to ~1 %), ``dust``
    (number of specks), ``direction`` (``"vertical"`` or ``"horizontal"``: the scan
    direction, along which the streaks run) and ``streaks`` (0-3 of them: ``position``
    across the page as a fraction, ``width`` px, ``amount`` (> 0 darker, < 0 lighter),
    ``start`` / ``end`` along the page as fractions).
    """

    name = "scanner_noise"
    family = "sensor"
    stage = "sensor"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw noise levels, dust count and streaks."""
        s = float(np.clip(strength, 0.0, 1.0))
        res = _res(page)
        area = page.width * page.height / (2200 * 1700 * res * res)  # in Letter pages
        n_streaks = int(rng.choice(4, p=[0.35, 0.35, 0.2, 0.1])) if s > 0 else 0
        streaks = []
        for _ in range(n_streaks):
            full = rng.random() < 0.7
            start = 0.0 if full else rng.uniform(0.0, 0.6)
            end = 1.0 if full else min(1.0, start + rng.uniform(0.2, 0.7))
            dark = rng.random() < 0.75
            amount = s * (rng.uniform(0.08, 0.4) if dark else -rng.uniform(0.15, 0.5))
            streaks.append(
                {
                    "position": round_param(rng.uniform(0.02, 0.98), 6),
                    "width": round_param(res * rng.uniform(0.8, 3.0), 6),
                    "amount": round_param(amount, 6),
                    "start": round_param(start, 6),
                    "end": round_param(end, 6),
                }
            )
        return {
            "seed": draw_seed(rng),
            "sigma": round_param(s * rng.uniform(1.0, 3.5), 6),
            "texture": round_param(s * rng.uniform(0.004, 0.02), 6),
            "columns": round_param(s * rng.uniform(0.0, 0.01), 6),
            "dust": int(round(s * area * rng.uniform(5, 60))),
            "direction": "vertical" if rng.random() < 0.6 else "horizontal",
            "streaks": streaks,
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Texture and column gains (one multiply), then noise, dust and streaks."""
        rng = np.random.default_rng(params["seed"])
        h, w = page.image.shape[:2]
        res = _res(page)
        vertical = params["direction"] == "vertical"
        image = page.image
        if params["texture"] > 0 or params["columns"] > 0:
            # gain field around 1, stored as uint8 around _UNIT (steps of 0.5 %)
            step = max(1, round(2 * res))
            sw, sh = max(2, math.ceil(w / step)), max(2, math.ceil(h / step))
            # blurred unit noise has s.d. 1 / (2 sqrt(pi) sigma) = 0.28 for sigma = 1
            tex = cv2.GaussianBlur(_normal(rng, (sh, sw)), (0, 0), 1.0)
            tex = cv2.resize(
                tex * np.float32(params["texture"] * _UNIT / 0.28),
                (w, h),
                interpolation=cv2.INTER_LINEAR,
            )
            n_cols = w if vertical else h
            # centred 2 s.d. below 1, so white paper is not clipped on one side only
            unit = _UNIT * (1.0 - 2.0 * params["texture"])
            cols = (params["columns"] * _UNIT) * _normal(rng, (1, n_cols)) + np.float32(unit)
            tex += cols if vertical else cols.reshape(h, 1)
            tex = cv2.convertScaleAbs(tex)  # rounds and saturates to uint8
            image = cv2.multiply(image, cv2.merge([tex, tex, tex]), scale=1.0 / _UNIT)
        image = _add_gaussian(image, rng, params["sigma"])
        _specks(image, rng, params["dust"], res)
        for streak in params["streaks"]:
            _streak(image, streak, vertical, rng)
        return with_image(page, image)


# --------------------------------------------------------------------------------------------
# camera noise


@register
class CameraNoise(PhotometricArtifact):
    """A phone camera in indoor light: signal-dependent (Poisson-Gaussian) noise, chroma blotches.

    The noise variance at level ``v`` (0-255) is ``shot**2 * v / 255 + read**2``; demosaicing
    and the phone's denoiser correlate it over ``grain`` pixels; colour noise is blotchy
    (coarse, ``chroma`` times the luminance noise).

    Parameters drawn: ``seed``, ``shot`` (noise s.d. at white from photon noise, levels, up to
    ~8), ``read`` (signal-independent s.d., up to ~3), ``grain`` (correlation sigma, px),
    ``chroma`` (relative colour noise, up to ~0.5).
    """

    name = "camera_noise"
    family = "sensor"
    stage = "sensor"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the noise levels."""
        s = float(np.clip(strength, 0.0, 1.0))
        return {
            "seed": draw_seed(rng),
            "shot": round_param(s * rng.uniform(3.0, 8.0), 6),
            "read": round_param(s * rng.uniform(0.8, 3.0), 6),
            "grain": round_param(rng.uniform(0.0, 0.8), 6),
            "chroma": round_param(s * rng.uniform(0.15, 0.5), 6),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Add ``std(level) * z``: correlated luminance ``z`` plus coarse colour noise."""
        shot, read = params["shot"], params["read"]
        if shot <= 0 and read <= 0:
            return with_image(page, page.image.copy())
        rng = np.random.default_rng(params["seed"])
        image = page.image
        h, w = image.shape[:2]
        # the noise's s.d. follows the local grey level (one table lookup)
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        levels = np.arange(256, dtype=np.float64)
        table = np.sqrt(shot**2 * levels / 255.0 + read**2)
        grain = params["grain"]
        kernel = None
        if grain >= 0.3:  # demosaicing and denoising correlate neighbouring pixels
            kernel = cv2.getGaussianKernel(2 * math.ceil(2.5 * grain) + 1, grain)
            gain = 1.0 / float((kernel**2).sum())  # restores unit variance after the blur
        else:
            gain = 1.0
        lum = cv2.multiply(cv2.LUT(gray, (table * gain).astype(np.float32)), _normal(rng, (h, w)))
        # offset-128 uint8 noise images; cv2.addWeighted saturates only once, at the end
        lum = cv2.add(lum, 128.0, dtype=cv2.CV_8U)
        if kernel is not None:
            lum = cv2.sepFilter2D(lum, -1, kernel, kernel, borderType=cv2.BORDER_REFLECT)
        noise = cv2.merge([lum, lum, lum])
        table = table.astype(np.float32)
        if params["chroma"] > 0:
            step = max(2, round(6 * _res(page)))
            coarse = cv2.resize(gray, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_AREA)
            sh, sw = coarse.shape
            c = np.stack([_normal(rng, (sh, sw)) for _ in range(3)], axis=2)
            c -= c.mean(axis=2, keepdims=True)  # colour only, no luminance
            c = cv2.GaussianBlur(c, (0, 0), 1.0) * (params["chroma"] * 2.5)
            c = np.clip(c * cv2.LUT(coarse, table)[:, :, None] + 128.5, 0, 255).astype(np.uint8)
            c = cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR)
            noise = cv2.addWeighted(noise, 1.0, c, 1.0, -128.0)
        return with_image(page, cv2.addWeighted(image, 1.0, noise, 1.0, -128.0))


# --------------------------------------------------------------------------------------------
# downsample


def downsample_matrix(factor: float) -> np.ndarray:
    """The 3x3 map of scaling by ``factor`` under the pixel-centre convention.

    Pixel edges scale, so a point maps as ``x' = (x + 0.5) * factor - 0.5``.

    Parameters
    ----------
    factor : float
        New size over old size.

    Returns
    -------
    numpy.ndarray
    """
    f = float(factor)
    return np.array([[f, 0.0, 0.5 * f - 0.5], [0.0, f, 0.5 * f - 0.5], [0.0, 0.0, 1.0]])


@register
class Downsample(GeometricArtifact):
    """Scanning at a lower resolution: the page and its truth scaled by ``factor`` (< 1).

    The image is low-pass filtered first (a Gaussian of ``0.45 sqrt(1/f^2 - 1)`` px, close to
    the box a sensor element integrates over) and then resampled with
    :func:`~ecgkit.artifacts.base.warp_page`, so the truth follows exactly:
    ``x' = (x + 0.5) f - 0.5``. ``px_per_mm``, every lead's ``baseline_y``,
    ``px_per_second`` and ``px_per_mv`` are scaled too.

    Parameters drawn: ``factor`` (1 - strength * U(0.1, 0.5), so 0.5-0.9 at strength 1).
    """

    name = "downsample"
    family = "sensor"
    stage = "resample"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the scale factor."""
        s = float(np.clip(strength, 0.0, 1.0))
        return {"factor": round_param(1.0 - s * rng.uniform(0.1, 0.5), 6)}

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> HomographyMap:
        """The scaling map (:func:`downsample_matrix`) onto the smaller image."""
        f = float(params["factor"])
        h, w = page.image.shape[:2]
        size = (max(1, round(w * f)), max(1, round(h * f)))
        return HomographyMap(downsample_matrix(f), size=size)

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Blur, then warp image, mask and truth with the scaling map.

        Overrides the shared warp: the image is low-pass filtered before it is resampled,
        and the page's resolution and every lead's scale change with it.

        Parameters
        ----------
        page : Page
        params : dict
            From :meth:`draw`.

        Returns
        -------
        Page
        """
        f = float(params["factor"])
        if not 0.05 <= f <= 1.0:
            raise ValueError(f"downsample factor must be in [0.05, 1], got {f}")
        if f == 1.0:
            return with_image(page, page.image.copy())
        src = page
        if f < 1.0:
            sigma = 0.45 * math.sqrt(1.0 / (f * f) - 1.0)
            if sigma > 0.1:
                src = with_image(page, cv2.GaussianBlur(page.image, (0, 0), sigma))
        out = warp_page(src, self.coordinate_map(page, params))
        out.px_per_mm = page.px_per_mm * f
        for lt in out.leads:
            lt.baseline_y = (lt.baseline_y + 0.5) * f - 0.5
            lt.px_per_second *= f
            lt.px_per_mv *= f
        return out


# --------------------------------------------------------------------------------------------
# binarize


_BINARIZE_METHODS = ("global", "adaptive")


@register
class Binarize(PhotometricArtifact):
    """A fax or a photocopy: grey levels pushed to black and white, with noise and speckle.

    The grey image (plus Gaussian noise, which makes edges ragged) goes through a contrast
    ramp around a threshold; at strength 1 the ramp is as steep as ``hardness`` (a fax:
    ~30-60, pure black and white; a photocopy: ~4-15, harsh grey), at strength 0 it is the
    identity (the page just turns grey). ``adaptive`` subtracts the local mean over
    ``block_mm`` first (as a copier's automatic exposure does), so shading and stains wash
    out. Toner speckle adds isolated black dots. The output stays 3-channel RGB.

    Parameters drawn: ``seed``, ``method`` (``"global"`` or ``"adaptive"``), ``threshold``
    (grey level, 90-180: the red grid survives when it is high), ``hardness``,
    ``contrast`` (``hardness ** strength``, the ramp's slope), ``block_mm``, ``level``
    (the grey a local mean is moved to, adaptive only), ``mix`` (= strength, how much of the
    local mean is taken off), ``noise`` (s.d. in levels), ``speckle`` (dots per megapixel).
    """

    name = "binarize"
    family = "sensor"
    stage = "output"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the method, threshold, hardness, noise and speckle."""
        s = float(np.clip(strength, 0.0, 1.0))
        fax = rng.random() < 0.5
        hardness = rng.uniform(30, 60) if fax else rng.uniform(4, 15)
        return {
            "seed": draw_seed(rng),
            "method": "adaptive" if rng.random() < 0.4 else "global",
            "threshold": round_param(rng.uniform(90, 180), 3),
            "hardness": round_param(hardness, 4),
            "contrast": round_param(hardness**s, 6),
            "block_mm": round_param(rng.uniform(8, 25), 3),
            "level": round_param(rng.uniform(200, 235), 3),
            "mix": round_param(s, 6),
            "noise": round_param(s * rng.uniform(3, 20), 4),
            "speckle": round_param(s * rng.uniform(0, 300), 3),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Grey, (local mean off), noise, contrast ramp, speckle, back to RGB."""
        if params["method"] not in _BINARIZE_METHODS:
            raise ValueError(
                f"unknown binarize method {params['method']!r}; "
                f"valid: {', '.join(_BINARIZE_METHODS)}"
            )
        rng = np.random.default_rng(params["seed"])
        h, w = page.image.shape[:2]
        s = float(params["mix"])
        gray = cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
        if params["method"] == "adaptive" and s > 0:
            b = max(3, int(round(params["block_mm"] * page.px_per_mm)) | 1)
            local = cv2.blur(gray, (b, b), borderType=cv2.BORDER_REFLECT)
            gray = cv2.addWeighted(gray, 1.0, local, -s, s * params["level"])
        gray = _add_gaussian(gray, rng, params["noise"])
        k = float(params["contrast"])
        centre = 128.0 + s * (params["threshold"] - 128.0)
        lut = np.clip(np.rint(128.0 + (np.arange(256) - centre) * k), 0, 255).astype(np.uint8)
        gray = cv2.LUT(gray, lut)
        n = int(round(params["speckle"] * h * w / 1e6))
        if n > 0:
            flat = gray.reshape(-1)
            xs, ys = rng.integers(0, w, n), rng.integers(0, h, n)
            flat[ys * w + xs] = 0
            big = rng.random(n) < 0.3  # some specks are 2x2
            xb, yb = np.minimum(xs[big] + 1, w - 1), np.minimum(ys[big] + 1, h - 1)
            for yy, xx in ((ys[big], xb), (yb, xs[big]), (yb, xb)):
                flat[yy * w + xx] = 0
        return with_image(page, cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB))


# --------------------------------------------------------------------------------------------
# jpeg

_SAMPLING = {
    "420": getattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR_420", 0x221111),
    "444": getattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR_444", 0x111111),
}


def jpeg_roundtrip(image: np.ndarray, quality: int, subsampling: str = "420") -> np.ndarray:
    """Encode an RGB image as JPEG with OpenCV (libjpeg) and decode it again.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB.
    quality : int
        1-100.
    subsampling : str
        Chroma subsampling, ``"420"`` or ``"444"``.

    Returns
    -------
    numpy.ndarray
        The decoded ``(H, W, 3)`` uint8 RGB image.
    """
    if subsampling not in _SAMPLING:
        raise ValueError(f"unknown chroma subsampling {subsampling!r}; valid: 420, 444")
    flags = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    if hasattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR"):
        flags += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, _SAMPLING[subsampling]]
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), flags)
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@register
class Jpeg(PhotometricArtifact):
    """JPEG compression: encode and decode (deterministic for a given libjpeg).

    Parameters drawn: ``quality`` (95 at strength 0 down to ~25 at strength 1, +-5 jitter
    scaled by strength) and ``subsampling`` (``"420"``, as cameras and most software write,
    with probability 0.25 at strength 0 to 0.9 at strength 1, else ``"444"``; halving the
    chroma blurs the colour of thin grid lines, the largest change at high quality).
    """

    name = "jpeg"
    family = "sensor"
    stage = "output"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the quality and the chroma subsampling."""
        s = float(np.clip(strength, 0.0, 1.0))
        q = 95.0 - 70.0 * s + s * rng.uniform(-5, 5)
        return {
            "quality": int(np.clip(round(q), 10, 98)),
            "subsampling": "420" if rng.random() < 0.25 + 0.65 * s else "444",
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Round-trip the image through JPEG."""
        return with_image(
            page, jpeg_roundtrip(page.image, params["quality"], params.get("subsampling", "420"))
        )
