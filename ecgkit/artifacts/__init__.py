"""Realistic distortions of a rendered page, one module per family, with exact ground truth.

The pipeline applies the artifacts a preset turns on in a fixed physical order: what is put on
the paper (printed text, handwriting, stamps), what happens to the paper (ageing, stains,
folds, wrinkles, curl), then how it is captured (placement and perspective, light and
shadows, optics, sensor noise, resampling, compression). Each application is recorded
(name, strength, parameters), so :func:`replay_artifacts` rebuilds the image byte for byte.

Every registered artifact is a :class:`GeometricArtifact` (it moves the paper through a
:class:`~ecgkit.geometry.CoordinateMap`, truth and pixels together) or a
:class:`PhotometricArtifact` (pixels only); :func:`geometric_names` and
:func:`photometric_names` list them, so contract tests run over the registry. The families
(``_FAMILY_MODULES``) share :mod:`ecgkit.artifacts.base` (the interface, ``round_param`` and
``draw_seed``), :mod:`ecgkit.artifacts.ink` (ink and noise fields), :mod:`ecgkit.artifacts.maps`
(the paper's coordinate maps) and :mod:`ecgkit.artifacts.textures` (desks under a photo).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ecgkit.artifacts.base import (
    Artifact,
    CoordinateMap,
    GeometricArtifact,
    PhotometricArtifact,
    warp_page,
    with_image,
)
from ecgkit.errors import EcgkitError
from ecgkit.generate.render import Page

__all__ = [
    "Artifact",
    "CoordinateMap",
    "GeometricArtifact",
    "PhotometricArtifact",
    "REGISTRY",
    "STAGES",
    "apply_artifacts",
    "artifact_names",
    "geometric_names",
    "photometric_names",
    "register",
    "replay_artifacts",
    "warp_page",
    "with_image",
]

#: The order artifacts are applied in: stage name -> rank.
STAGES: dict[str, int] = {
    "print": 10,  # printed text blocks, stamps
    "handwriting": 20,
    "paper": 30,  # tone, yellowing, fading, stains, spots, holes, torn corners
    "fold": 40,  # creases, folds, wrinkles, curl: the paper's own shape
    "capture": 50,  # rotation, skew, perspective, background
    "light": 60,  # illumination, shadows, colour temperature
    "optics": 70,  # defocus and motion blur
    "sensor": 80,  # scanner and camera noise, streaks
    "resample": 90,  # lower resolution
    "output": 100,  # binarisation (fax, photocopy), JPEG
}

#: Order within a stage where it matters (default 50): the paper's tone comes before holes and
#: torn corners, which show what lies behind the paper; ECG-Image-Kit's augmentation runs
#: noise, crop, then colour temperature (its imgaug ``Sequential``), after the other sensors.
_RANK: dict[str, int] = {
    "paper_tone": 10,
    "fading": 20,
    "holes": 80,
    "torn_corner": 90,
    "imagekit_noise": 60,
    "imagekit_crop": 70,
    "imagekit_temperature": 80,
    "tear": 60,  # capture: after the page is placed in the photo, so the surface shows
    "finger": 80,
    "flash_glare": 90,  # light: a specular reflection on top of the lit page
}

#: Every known artifact by name (filled as the family modules are imported).
REGISTRY: dict[str, Artifact] = {}

_FAMILY_MODULES: tuple[str, ...] = (
    "text",
    "handwriting",
    "paper",
    "geometry",
    "light",
    "sensor",
    "imagekit",  # ECG-Image-Kit's own distortions (geometry, light and sensor families)
    "capture",  # phone photos: steep angles, fingers, flash, screens, tears, low resolution
    "damage",  # mould, heavy stains
    "framing",  # crops of the page and a viewer's window around it
)


def register(cls: type[Artifact]) -> type[Artifact]:
    """Class decorator: add an artifact to :data:`REGISTRY` (its ``stage`` must be known).

    Parameters
    ----------
    cls : type
        A :class:`GeometricArtifact` or :class:`PhotometricArtifact` subclass with ``name``
        and ``stage`` set.

    Returns
    -------
    type
        ``cls`` itself.
    """
    stage = getattr(cls, "stage", None)
    if stage not in STAGES:
        raise ValueError(f"artifact {cls.__name__}: stage {stage!r} is not one of {list(STAGES)}")
    if not cls.name or cls.name in REGISTRY:
        raise ValueError(f"artifact {cls.__name__}: name {cls.name!r} missing or taken")
    if not issubclass(cls, (GeometricArtifact, PhotometricArtifact)):
        raise TypeError(
            f"artifact {cls.__name__}: derive from GeometricArtifact (it moves the "
            "paper) or PhotometricArtifact (it changes pixels only)"
        )
    REGISTRY[cls.name] = cls()
    return cls


def _load() -> None:
    for mod in _FAMILY_MODULES:
        importlib.import_module(f"ecgkit.artifacts.{mod}")


def artifact_names() -> list[str]:
    """Every artifact's name, in pipeline order."""
    _load()
    return sorted(REGISTRY, key=lambda n: (STAGES[REGISTRY[n].stage], _RANK.get(n, 50), n))


def geometric_names() -> list[str]:
    """The names of the artifacts that move the paper (:class:`GeometricArtifact`), in order."""
    return [n for n in artifact_names() if isinstance(REGISTRY[n], GeometricArtifact)]


def photometric_names() -> list[str]:
    """The names of the artifacts that change pixels only (:class:`PhotometricArtifact`)."""
    return [n for n in artifact_names() if isinstance(REGISTRY[n], PhotometricArtifact)]


def _strength(spec: Any, u: float) -> float:
    if isinstance(spec, Mapping):
        return float(spec["min"] + (spec["max"] - spec["min"]) * u)
    return float(spec)


def apply_artifacts(
    page: Page, config: Mapping[str, Mapping[str, Any]], rng: np.random.Generator
) -> tuple[Page, list[dict[str, Any]]]:
    """Apply the artifacts a preset configures, in pipeline order.

    Every configured artifact takes the same three numbers from ``rng`` whether or not it
    happens: one decides whether it does (its ``probability``, default 1), one its strength,
    one seeds its own generator for :meth:`Artifact.draw`. So turning one artifact off, or
    fixing its strength, does not change what the others draw.

    Parameters
    ----------
    page : Page
        The clean page.
    config : mapping
        ``{name: {"probability": p, "strength": s or {"min": a, "max": b}}}``.
    rng : numpy.random.Generator
        The image's generator.

    Returns
    -------
    tuple
        The distorted page and the list of applied artifacts
        (``{"name", "strength", "params"}``) to store in the sample's JSON.
    """
    _load()
    unknown = sorted(set(config) - set(REGISTRY))
    if unknown:
        raise EcgkitError(
            f"unknown artifacts {', '.join(unknown)}; known: {', '.join(artifact_names())}"
        )
    applied: list[dict[str, Any]] = []
    for name in artifact_names():
        if name not in config:
            continue
        spec = config[name]
        happens = rng.random() < float(spec.get("probability", 1.0))
        strength = _strength(spec.get("strength", 0.5), float(rng.random()))
        own = np.random.default_rng(int(rng.integers(2**63)))
        if not happens:
            continue
        art = REGISTRY[name]
        params = art.draw(own, page, strength)
        page = art.apply(page, params)
        applied.append({"name": name, "strength": strength, "params": params})
    return page, applied


def replay_artifacts(page: Page, applied: Iterable[Mapping[str, Any]]) -> Page:
    """Apply recorded artifacts again (from a sample's JSON): no randomness involved.

    Parameters
    ----------
    page : Page
        The clean page rendered with the same settings.
    applied : iterable of mapping
        The ``artifacts`` list stored in the sample's JSON.

    Returns
    -------
    Page
    """
    _load()
    for item in applied:
        name = item["name"]
        if name not in REGISTRY:
            raise EcgkitError(f"cannot replay: unknown artifact {name!r}")
        page = REGISTRY[name].apply(page, dict(item["params"]))
    return page
