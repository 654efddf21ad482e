"""The artifact interface: draw parameters, then apply them; geometry moves image AND truth.

Every artifact splits its randomness from its effect (albumentations' ``get_params`` ->
``apply`` split): :meth:`Artifact.draw` takes the image's ``numpy.random.Generator`` and
returns JSON-able parameters; :meth:`Artifact.apply` is a pure function of the page and those
parameters. Noise that needs many random numbers draws one integer ``seed`` into its
parameters and makes its own generator from it in ``apply``, so a sample's JSON holds all it
takes to replay the image byte for byte.

Every registered artifact is one of two kinds:

* a :class:`GeometricArtifact` moves the paper: it gives a
  :class:`~ecgkit.geometry.CoordinateMap` (scikit-image's ``_GeometricTransform`` is the model:
  ``forward`` maps points of the input image to the output image, ``inverse`` the other way)
  and its shared :meth:`~GeometricArtifact.apply` runs :func:`warp_page`, which warps the image
  and the lead mask through the inverse and pushes every ground-truth point, box and paper
  corner forward through the same object, so pixels and truth cannot drift apart;
* a :class:`PhotometricArtifact` changes pixel values only (:func:`with_image`): the truth
  stays where it is (it may record new text boxes, or clear the lead mask where ink is hidden).

Coordinates follow :mod:`ecgkit.geometry`: ``(x, y)``, pixel centres at integers.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import cv2
import numpy as np

from ecgkit.generate.render import Page
from ecgkit.geometry import (
    CoordinateMap,
    HomographyMap,
    map_box,
    map_xy,
)

__all__ = [
    "Artifact",
    "CoordinateMap",
    "GeometricArtifact",
    "HomographyMap",
    "PhotometricArtifact",
    "draw_seed",
    "round_param",
    "warp_page",
    "with_image",
]


def round_param(value: float, digits: int) -> float:
    """A drawn float rounded for the JSON parameters (what :meth:`Artifact.apply` then reads).

    Parameters
    ----------
    value : float
    digits : int
        Decimal digits kept (each artifact keeps its own, so replays stay byte for byte).

    Returns
    -------
    float
    """
    return round(float(value), digits)


def draw_seed(rng: np.random.Generator, high: int = 2**31 - 1) -> int:
    """An integer seed in ``[0, high)`` for an artifact's own noise generator.

    Parameters
    ----------
    rng : numpy.random.Generator
        The artifact's generator.
    high : int
        Exclusive upper bound (the geometry family draws below ``2**31``; keep each
        artifact's bound, or its samples no longer replay).

    Returns
    -------
    int
    """
    return int(rng.integers(0, high))


def warp_page(
    page: Page,
    cmap: CoordinateMap,
    *,
    fill_rgb: tuple[int, int, int] = (255, 255, 255),
    background: np.ndarray | None = None,
) -> Page:
    """Warp a page through a coordinate map: image and mask through the inverse, truth forward.

    Parameters
    ----------
    page : Page
        The page to distort (not modified).
    cmap : CoordinateMap
        The map; its ``output_size`` gives the new image size.
    fill_rgb : tuple of int
        Colour of output pixels that come from outside the input image.
    background : numpy.ndarray, optional
        ``(H', W', 3)`` uint8 image of the output size shown where the page is not (a desk
        under a photographed page); overrides ``fill_rgb``.

    Returns
    -------
    Page
        A new page: image, mask, every lead's points and boxes, text boxes, pulse boxes and
        paper corners mapped; ``px_per_mm`` is left as the nominal paper resolution.
    """
    h, w = page.image.shape[:2]
    out_w, out_h = cmap.output_size(w, h)
    map_x, map_y = cmap.inverse_grid(out_w, out_h)
    if background is not None:
        if background.shape[:2] != (out_h, out_w):
            raise ValueError(f"background is {background.shape[:2]}, need {(out_h, out_w)}")
        image = cv2.remap(
            page.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        # where the output comes from outside the page, show the background
        outside = cv2.remap(
            np.full((h, w), 255, np.uint8),
            map_x,
            map_y,
            cv2.INTER_NEAREST,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        cv2.bitwise_not(outside, dst=outside)
        cv2.copyTo(background, outside, image)
    else:
        fill = tuple(int(v) for v in fill_rgb)
        image = cv2.remap(
            page.image,
            map_x,
            map_y,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=fill,
        )
    mask = cv2.remap(
        page.mask, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    out = copy.copy(page)
    out.image, out.mask = image, mask
    out.leads = []
    for lt in page.leads:
        nlt = copy.copy(lt)
        nlt.x, nlt.y = map_xy(cmap, lt.x, lt.y)
        nlt.bbox = map_box(cmap, lt.bbox, out_w, out_h)
        nlt.label_bbox = map_box(cmap, lt.label_bbox, out_w, out_h)
        out.leads.append(nlt)
    out.texts = []
    for t in page.texts:
        box = map_box(cmap, t.bbox, out_w, out_h)
        if box is not None:
            out.texts.append(copy.copy(t))
            out.texts[-1].bbox = box
    out.pulses = []
    for pt in page.pulses:
        out.pulses.append(copy.copy(pt))
        out.pulses[-1].bbox = map_box(cmap, pt.bbox, out_w, out_h)
    out.corners = cmap.forward(np.asarray(page.corners, float))
    out.parameters = dict(page.parameters)
    return out


class Artifact(ABC):
    """One kind of distortion, drawn then applied.

    Subclasses set ``name`` (the key used in presets and JSON), ``family`` (the module it
    belongs to: ``text``, ``handwriting``, ``paper``, ``geometry``, ``light``, ``sensor``) and
    ``stage`` (when it applies, see :data:`ecgkit.artifacts.STAGES`). A registered artifact
    derives from :class:`GeometricArtifact` or :class:`PhotometricArtifact` (its ``kind``).
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    stage: ClassVar[str] = ""  # a key of ecgkit.artifacts.STAGES: when in the pipeline
    kind: ClassVar[str] = ""  # "geometric" or "photometric", set by the two base classes

    @abstractmethod
    def draw(self, rng: np.random.Generator, page: Page, strength: float) -> dict[str, Any]:
        """Draw this artifact's parameters for one page.

        Parameters
        ----------
        rng : numpy.random.Generator
            The image's generator (the only source of randomness).
        page : Page
            The page as it is at this point of the pipeline (sizes, boxes...).
        strength : float
            0 (barely visible) to 1 (as strong as the family goes).

        Returns
        -------
        dict
            JSON-able parameters; everything :meth:`apply` needs.
        """

    @abstractmethod
    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Apply the artifact with drawn parameters; pure, returns a new page.

        Parameters
        ----------
        page : Page
        params : dict
            From :meth:`draw` (possibly read back from a sample's JSON).

        Returns
        -------
        Page
        """


class PhotometricArtifact(Artifact):
    """An artifact that changes pixel values only: every ground-truth point stays put.

    :meth:`apply` returns a page of the same size (made with :func:`with_image`) whose leads,
    boxes and paper corners are those of the input; it may append text boxes (what it drew)
    and clear the lead mask where it hides the ink (holes, torn corners).
    """

    kind: ClassVar[str] = "photometric"


class GeometricArtifact(Artifact):
    """An artifact that moves the paper: a coordinate map through which image and truth move.

    Subclasses implement :meth:`coordinate_map`; the shared :meth:`apply` warps the page
    through it with :func:`warp_page` (the options from :meth:`warp_options`) and then lets
    :meth:`finish` add what is photometric about the artifact (shading, an edge shadow), which
    must not move the truth. An artifact whose pixels need another resampling (a low-pass
    filter first) may override :meth:`apply`, as long as the truth is pushed through
    :meth:`coordinate_map`.
    """

    kind: ClassVar[str] = "geometric"

    @abstractmethod
    def coordinate_map(self, page: Page, params: dict[str, Any]) -> CoordinateMap:
        """The coordinate map these parameters apply to this page.

        Parameters
        ----------
        page : Page
            The page the artifact is applied to (its size and resolution).
        params : dict
            From :meth:`draw`.

        Returns
        -------
        CoordinateMap
        """

    def warp_options(
        self, page: Page, params: dict[str, Any], cmap: CoordinateMap
    ) -> dict[str, Any]:
        """Keyword arguments for :func:`warp_page` (``fill_rgb``, ``background``).

        Parameters
        ----------
        page : Page
            The input page.
        params : dict
        cmap : CoordinateMap
            From :meth:`coordinate_map`.

        Returns
        -------
        dict
            None by default (white fill).
        """
        return {}

    def finish(self, warped: Page, page: Page, params: dict[str, Any], cmap: CoordinateMap) -> Page:
        """Photometric touches after the warp (shading...); the truth must not move.

        Parameters
        ----------
        warped : Page
            The warped page (a new page: its image may be changed in place).
        page : Page
            The input page.
        params : dict
        cmap : CoordinateMap

        Returns
        -------
        Page
            ``warped`` itself by default.
        """
        return warped

    def apply(self, page: Page, params: dict[str, Any]) -> Page:
        """Warp the page through :meth:`coordinate_map`, then :meth:`finish` it.

        Parameters
        ----------
        page : Page
        params : dict
            From :meth:`draw`.

        Returns
        -------
        Page
        """
        cmap = self.coordinate_map(page, params)
        out = warp_page(page, cmap, **self.warp_options(page, params, cmap))
        return self.finish(out, page, params, cmap)


def with_image(page: Page, image: np.ndarray) -> Page:
    """A shallow copy of ``page`` with a new image (for photometric artifacts).

    Parameters
    ----------
    page : Page
    image : numpy.ndarray
        Same size as ``page.image``.

    Returns
    -------
    Page
    """
    if image.shape[:2] != page.image.shape[:2]:
        raise ValueError("a photometric artifact must keep the image size")
    out = copy.copy(page)
    out.image = image
    return out
