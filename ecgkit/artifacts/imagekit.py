"""ECG-Image-Kit's own distortions, drawn from the distributions its code draws them from.

The 2024 PhysioNet Challenge images were made with ECG-Image-Kit
(``alphanumericslab/ecg-image-kit``, ``codes/ecg-image-generator``). With ``--augment -rot 5``
its ``gen_ecg_image_from_data.py`` augments every image, and ``ImageAugmentation/augment.py``
runs one imgaug ``Sequential`` on the finished page, in this order:

* ``imagekit_rotation`` (geometry, capture): ``Affine(rotate=rot)`` with
  ``rot = random.randint(-5, 5)``, a whole number of degrees, each of the 11 equally likely;
  about the centre, the canvas kept (the corners cut off), the uncovered corners black
  (imgaug's ``cval=0``), bilinear (``order=1``);
* ``imagekit_noise`` (sensor): ``AdditiveGaussianNoise(scale=(n, n))`` with
  ``n = random.choice(range(1, 51))`` (``-noise`` defaults to 50), a whole sigma of 1 to 50 on
  0-255, one value per pixel for all three channels (``per_channel=False``), clipped;
* ``imagekit_crop`` (geometry): ``Crop(percent=c)`` with ``c = random.uniform(0, 0.01)``
  (``-c`` defaults to 0.01; it is 0 when lead boxes are stored, ``--bbox``): ``c`` of the width
  from the left and the right, of the height from the top and the bottom, then resized back to
  the original size (imgaug's ``keep_size=True``): a zoom about the centre of up to 2 %;
* ``imagekit_temperature`` (light): ``ChangeColorTemperature(kelvin)``, ``kelvin`` an integer
  from ``range(2000, 4000)`` or ``range(10000, 20000)``, each half the time (the flag that
  chooses is named ``blue_temp``, but in imgaug's table low temperatures are the orange ones);
  imgaug looks the multiplier up in a table of Kelvin -> RGB (1000 K to 40000 K in 100 K
  steps, linearly interpolated, divided by 255) and multiplies the uint8 RGB values by it,
  rounding (``imgaug/augmenters/color.py``: ``_KelvinToRGBTable``,
  ``change_color_temperatures_``).

Its ``--wrinkles`` (``CreasesWrinkles/creases.py``) blends a photographed wrinkle texture,
shifted to a mean of 0.4, over the page (``2 * img * t`` below 0.6, a screen above): white
paper comes out about 0.8 on average, and adds 1 to 10 creases each way (``-nh``, ``-nv``) at a
``crease_angle`` from ``range(0, 91)`` and ``90 + crease_angle``, each a 25 px band of lines
that multiply the page by 1.05-1.25. ``imagekit_wrinkles`` and ``imagekit_creases`` are
:class:`~ecgkit.artifacts.geometry.Wrinkles` and :class:`~ecgkit.artifacts.geometry.Creases`
drawn that strongly and that many (shading 2.5 times the ``wrinkles`` range, so the paper
averages about 0.8; creases at ECG-Image-Kit's counts and angles).

``strength`` scales each drawn value (1: ECG-Image-Kit's own, what ``challenge2024`` uses; 0:
nothing), so the family keeps the artifact contract.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import cv2
import numpy as np

from ecgkit.artifacts import register
from ecgkit.artifacts.base import (
    GeometricArtifact,
    PhotometricArtifact,
    draw_seed,
    round_param,
    with_image,
)
from ecgkit.artifacts.geometry import Creases, Wrinkles, _scale_for
from ecgkit.artifacts.maps import FastHomographyMap
from ecgkit.generate.render import Page
from ecgkit.geometry import CoordinateMap

__all__ = [
    "KELVIN_TO_RGB",
    "ImageKitCreases",
    "ImageKitCrop",
    "ImageKitNoise",
    "ImageKitRotation",
    "ImageKitTemperature",
    "ImageKitWrinkles",
    "ROTATE_DEG",
    "NOISE_SIGMA",
    "CROP",
    "TEMPERATURES",
    "kelvin_multiplier",
]

#: ``-rot 5``: ``random.randint(-5, 5)`` degrees (``augment.py``).
ROTATE_DEG = 5
#: ``-noise 50``: ``random.choice(range(1, 51))`` (``gen_ecg_image_from_data.py``).
NOISE_SIGMA = 50
#: ``-c 0.01``: ``random.uniform(0, 0.01)`` of each side (``augment.py``).
CROP = 0.01
#: ``range(2000, 4000)`` or ``range(10000, 20000)`` Kelvin, each half the time.
TEMPERATURES = ((2000, 4000), (10000, 20000))

_SEED_HIGH = 2**31

# imgaug's Kelvin -> RGB table (``_KelvinToRGBTable.create_table``), 1000 K to 40000 K in
# 100 K steps (391 rows), as 0-255 values; R is 255 up to 6500 K, B is 0 below 2000 K and 255
# from 6600 K on.
_R_FROM_6600 = (
    "254 252 249 247 245 243 240 239 237 235 233 231 230 228 227 225 224 222 221 220 "
    "218 217 216 215 214 212 211 210 209 208 207 207 206 205 204 203 202 201 201 200 "
    "199 199 198 197 196 196 195 195 194 193 193 192 192 191 191 190 190 189 189 188 "
    "188 187 187 186 186 185 185 185 184 184 183 183 183 182 182 182 181 181 181 180 "
    "180 180 179 179 179 178 178 178 178 177 177 177 177 176 176 176 175 175 175 175 "
    "175 174 174 174 174 173 173 173 173 173 172 172 172 172 172 171 171 171 171 171 "
    "170 170 170 170 170 170 169 169 169 169 169 169 169 168 168 168 168 168 168 168 "
    "167 167 167 167 167 167 167 166 166 166 166 166 166 166 166 165 165 165 165 165 "
    "165 165 165 165 "
    + "164 " * 10
    + "163 " * 11
    + "162 " * 13
    + "161 " * 14
    + "160 " * 15
    + "159 " * 18
    + "158 " * 21
    + "157 " * 24
    + "156 " * 28
    + "155 " * 17
)
_G = (
    "56 71 83 93 101 109 115 121 126 131 137 142 147 152 157 161 165 169 173 177 "
    "180 184 187 190 193 196 199 201 204 206 209 211 213 215 217 219 221 223 225 227 "
    "228 230 232 233 235 236 238 239 240 242 243 244 245 246 248 249 249 247 246 245 "
    "243 242 241 240 239 238 237 236 235 234 233 232 231 230 230 229 228 227 227 226 "
    "225 225 224 223 223 222 221 221 220 220 219 219 218 218 217 217 216 216 216 215 "
    "215 214 214 214 213 213 212 212 212 211 211 211 210 210 210 210 209 209 209 208 "
    "208 208 208 207 207 207 207 206 206 206 206 205 205 205 205 205 204 204 204 204 "
    "204 203 203 203 203 203 202 202 202 202 202 202 201 201 201 201 201 201 201 200 "
    "200 200 200 200 200 200 199 199 199 199 199 199 199 199 198 198 198 198 198 198 "
    "198 198 198 197 197 197 197 197 197 197 197 197 197 196 196 196 196 196 196 196 "
    "196 196 196 196 195 195 195 195 195 195 195 195 195 195 195 195 195 "
    + "194 " * 15
    + "193 " * 17
    + "192 " * 21
    + "191 " * 24
    + "190 " * 30
    + "189 " * 38
    + "188 " * 29
)
_B_2000_6500 = (
    "18 33 44 54 63 72 79 87 94 101 107 114 120 126 132 137 143 148 153 159 "
    "163 168 173 177 182 186 190 194 198 202 206 210 213 217 220 224 227 230 233 236 "
    "239 242 245 248 251 253"
)


def _kelvin_table() -> np.ndarray:
    r = [255] * 56 + [int(v) for v in _R_FROM_6600.split()]
    g = [int(v) for v in _G.split()]
    b = [0] * 10 + [int(v) for v in _B_2000_6500.split()] + [255] * 335
    table = np.array([r, g, b], dtype=np.float64).T
    if table.shape != (391, 3):  # pragma: no cover - a typo in the table above
        raise AssertionError(f"Kelvin table has shape {table.shape}")
    return table


#: ``(391, 3)`` R, G, B (0-255) for 1000 K, 1100 K, ..., 40000 K (imgaug's table).
KELVIN_TO_RGB: np.ndarray = _kelvin_table()


def kelvin_multiplier(kelvin: float) -> np.ndarray:
    """imgaug's RGB multiplier for a colour temperature: its table, linearly interpolated.

    Parameters
    ----------
    kelvin : float
        Temperature, clipped to 1000-40000 K as imgaug does.

    Returns
    -------
    numpy.ndarray
        ``(3,)`` R, G, B multipliers in ``[0, 1]``.
    """
    k = float(np.clip(kelvin, 1000, 40000))
    pos = k / 100 - 10
    lo, hi = math.floor(pos), math.ceil(pos)
    f = pos - lo
    row = KELVIN_TO_RGB[lo] + f * (KELVIN_TO_RGB[hi] - KELVIN_TO_RGB[lo])
    return row / 255.0


def _scale_about_centre(sx: float, sy: float, width: int, height: int) -> np.ndarray:
    cx, cy = (width - 1) / 2, (height - 1) / 2
    return np.array([[sx, 0.0, cx - sx * cx], [0.0, sy, cy - sy * cy], [0.0, 0.0, 1.0]])


@register
class ImageKitRotation(GeometricArtifact):
    """imgaug's ``Affine(rotate=rot)`` as ECG-Image-Kit draws it: whole degrees within +-5.

    Parameters drawn: ``degrees`` (ECG-Image-Kit's whole number, ``-5`` to ``5``) and
    ``angle_deg`` (``degrees * strength``, what is applied; clockwise on the image for a
    positive angle). The canvas keeps its size and the corners turned in are black.
    """

    name, family, stage = "imagekit_rotation", "geometry", "capture"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw a whole number of degrees, uniformly from ``-5`` to ``5``."""
        k = int(rng.integers(-ROTATE_DEG, ROTATE_DEG + 1))
        return {"degrees": k, "angle_deg": round_param(k * float(strength), 6)}

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> FastHomographyMap:
        """A rotation about the image centre, the size kept."""
        h, w = page.image.shape[:2]
        a = math.radians(params["angle_deg"])
        m = _scale_about_centre(1.0, 1.0, w, h)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        centre = np.array([(w - 1) / 2, (h - 1) / 2])
        m[:2, :2] = rot
        m[:2, 2] = centre - rot @ centre
        return FastHomographyMap(m)

    def warp_options(
        self, page: Page, params: dict[str, Any], cmap: CoordinateMap
    ) -> dict[str, Any]:
        """imgaug's ``Affine`` fills with ``cval=0``: black corners."""
        return {"fill_rgb": (0, 0, 0)}


@register
class ImageKitCrop(GeometricArtifact):
    """imgaug's ``Crop(percent=c)``, size kept: up to 1 % off every side, resized back.

    Parameters drawn: ``fraction`` (``uniform(0, 0.01) * strength``, of the width from the
    left and the right and of the height from the top and the bottom). :meth:`coordinate_map`
    crops whole pixels (``round(fraction * width)``...) and stretches the rest over the
    image; the truth moves with it (points cropped off lie outside the image).
    """

    name, family, stage = "imagekit_crop", "geometry", "sensor"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the fraction cropped from each side."""
        return {"fraction": round_param(rng.uniform(0.0, CROP) * float(strength), 6)}

    def coordinate_map(self, page: Page, params: dict[str, Any]) -> FastHomographyMap:
        """Crop ``round(fraction * size)`` pixels off each side, then resize to the old size."""
        h, w = page.image.shape[:2]
        cx, cy = round(params["fraction"] * w), round(params["fraction"] * h)
        sx, sy = w / max(w - 2 * cx, 1), h / max(h - 2 * cy, 1)
        return FastHomographyMap(_scale_about_centre(sx, sy, w, h))


@register
class ImageKitNoise(PhotometricArtifact):
    """imgaug's ``AdditiveGaussianNoise`` as ECG-Image-Kit draws it: sigma 1 to 50 of 255.

    Parameters drawn: ``sigma_255`` (ECG-Image-Kit's whole sigma, 1 to 50, uniformly),
    ``sigma`` (``sigma_255 * strength``, applied) and ``seed``. One value per pixel, the same
    in the three channels; the sum is rounded and clipped to 0-255.
    """

    name, family, stage = "imagekit_noise", "sensor", "sensor"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the sigma (a whole number from 1 to 50) and a noise seed."""
        k = int(rng.integers(1, NOISE_SIGMA + 1))
        return {
            "sigma_255": k,
            "sigma": round_param(k * float(strength), 6),
            "seed": draw_seed(rng, _SEED_HIGH),
        }

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Add ``N(0, sigma)`` per pixel to all three channels."""
        sigma = float(params["sigma"])
        if sigma <= 0:
            return with_image(page, page.image.copy())
        h, w = page.image.shape[:2]
        rng = np.random.default_rng(params["seed"])
        noise = rng.standard_normal((h, w), dtype=np.float32) * np.float32(sigma)
        img = page.image.astype(np.float32) + noise[:, :, None]
        return with_image(page, np.clip(np.rint(img), 0, 255).astype(np.uint8))


@register
class ImageKitTemperature(PhotometricArtifact):
    """imgaug's ``ChangeColorTemperature`` as ECG-Image-Kit draws it: 2000-4000 or 1e4-2e4 K.

    Parameters drawn: ``kelvin`` (an integer from 2000 to 3999 or from 10000 to 19999, each
    range half the time) and ``multiplier`` (imgaug's R, G, B multiplier for it, pulled towards
    1 as ``1 - strength * (1 - m)``), by which the RGB values are multiplied and rounded.
    """

    name, family, stage = "imagekit_temperature", "light", "sensor"

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the range, then the temperature within it."""
        lo, hi = TEMPERATURES[0] if rng.random() < 0.5 else TEMPERATURES[1]
        kelvin = int(rng.integers(lo, hi))
        s = float(np.clip(strength, 0.0, 1.0))
        m = 1.0 - s * (1.0 - kelvin_multiplier(kelvin))
        return {"kelvin": kelvin, "multiplier": [round_param(v, 6) for v in m]}

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Multiply each channel by its multiplier, rounding (one lookup table)."""
        levels = np.arange(256, dtype=np.float64)[:, None]
        lut = np.rint(levels * np.asarray(params["multiplier"], float)[None, :])
        lut = np.clip(lut, 0, 255).astype(np.uint8).reshape(256, 1, 3)
        return with_image(page, cv2.LUT(page.image, lut))


@register
class ImageKitWrinkles(Wrinkles):
    """:class:`~ecgkit.artifacts.geometry.Wrinkles` shaded as strongly as ECG-Image-Kit's.

    ECG-Image-Kit's wrinkle texture (mean 0.4, blended ``2 * img * t``) leaves white paper
    about 0.8 on average; here ``shade`` and ``crumple`` are drawn 2.5 times the ``wrinkles``
    ranges, so the shading averages ``1 - shade - crumple``, about 0.78 at strength 1. The
    parameters are those of ``wrinkles``.
    """

    name = "imagekit_wrinkles"
    shade_gain: ClassVar[float] = 2.5

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the crumpling (the shading ranges scaled by :attr:`shade_gain`)."""
        s = float(strength)
        g = self.shade_gain
        return {
            "seed": draw_seed(rng, _SEED_HIGH),
            "amplitude_px": round_param(rng.uniform(0.5, 1.0) * 6.0 * s * _scale_for(page), 6),
            "scale_mm": round_param(rng.uniform(25, 60), 6),
            "light_deg": round_param(rng.uniform(0, 360), 6),
            "view_deg": round_param(rng.uniform(0, 360), 6),
            "shade": round_param(rng.uniform(0.02, 0.06) * g * s, 6),
            "creases": int(rng.integers(8, 30)),
            "crumple": round_param(rng.uniform(0.02, 0.08) * g * s, 6),
        }


@register
class ImageKitCreases(Creases):
    """:class:`~ecgkit.artifacts.geometry.Creases` at ECG-Image-Kit's counts and angles.

    ECG-Image-Kit (``--wrinkles``) draws ``crease_angle`` from ``range(0, 91)``, then 1 to 10
    creases at that angle and 1 to 10 at 90 degrees more, spread evenly over the page. The
    parameters are those of ``creases`` (``pattern`` is ``"imagekit"``, plus ``angle_deg``);
    each fold is shaded twice as deep as a ``creases`` fold at the same strength.
    """

    name = "imagekit_creases"
    shade_gain: ClassVar[float] = 2.0

    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw the angle and the two counts, then each fold's step and shading."""
        s = float(strength)
        g = self.shade_gain
        h, w = page.image.shape[:2]
        k = _scale_for(page)
        angle = int(rng.integers(0, 91))
        counts = (int(rng.integers(1, 11)), int(rng.integers(1, 11)))
        corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [-0.5, h - 0.5], [w - 0.5, h - 0.5]])
        folds = []
        for direction, n in zip((angle, angle + 90), counts, strict=True):
            t = math.radians(direction)
            normal = np.array([-math.sin(t), math.cos(t)])  # across a line along angle t
            proj = corners @ normal
            lo, hi = float(proj.min()), float(proj.max())
            for i in range(n):
                c = lo + (i + 1) / (n + 1) * (hi - lo)
                folds.append(self.fold_params(rng, normal, c, s, k, gain=g))
        return {"pattern": "imagekit", "angle_deg": angle, "folds": folds}
