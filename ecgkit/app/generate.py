"""What the web app's pages call: one function per user action, returning bytes to show."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecgkit.errors import EcgkitError
from ecgkit.generate.batch import make_sample, make_sample_pair
from ecgkit.generate.overlay import draw_overlay
from ecgkit.generate.sample import encode_image, sample_zip, write_sample_to_zip
from ecgkit.io import Record

#: Layouts offered in the app (any other name works in the CLI and presets).
APP_LAYOUTS = ("3x4+II", "3x4", "3x4+II,V1,V5", "6x2", "6x2+II", "12x1", "2x6")


@dataclass
class Preview:
    """A rendered sample, ready to show and download."""

    name: str
    image_png: bytes
    overlay_png: bytes
    clean_png: bytes
    zip_bytes: bytes
    width: int
    height: int
    n_points: int
    notes: list[str] = field(default_factory=list)


def preview(
    record: Record,
    overrides: dict[str, dict[str, Any]],
    *,
    preset: str = "clean",
    seed: int = 0,
    index: int = 0,
) -> Preview:
    """Render one record for the Generate page: image, overlay and the downloadable zip.

    Parameters
    ----------
    record : Record
    overrides : dict
        ``{table: {key: value}}`` chosen in the page's widgets.
    preset : str
        Preset name.
    seed : int
    index : int
        Variant number (a different draw of the preset's random values).

    Returns
    -------
    Preview
    """
    clean, page = make_sample_pair(
        record, preset=preset, overrides=overrides, seed=seed, index=index
    )
    notes = list(page.parameters["record_notes"])
    if page.parameters["artifacts"]:
        names = ", ".join(a["name"] for a in page.parameters["artifacts"])
        notes.append(f"artifacts applied: {names}")
    fmt = page.parameters["drawn"]["output"].get("format", "png")
    return Preview(
        name=record.name,
        image_png=encode_image(page.image, "png"),
        overlay_png=encode_image(draw_overlay(page), "png"),
        clean_png=encode_image(clean.image, "png"),
        zip_bytes=sample_zip(page, record.name, image_format=fmt),
        width=page.width,
        height=page.height,
        n_points=int(sum(len(lt.x) for lt in page.leads)),
        notes=notes,
    )


@dataclass
class ArtifactControl:
    """What the page shows for one artifact: on by default?, default strength, stage."""

    name: str
    stage: str
    in_preset: bool
    probability: float
    strength: float


def artifact_controls(preset: str) -> list[ArtifactControl]:
    """Every artifact, in pipeline order, with the preset's setting for it.

    Parameters
    ----------
    preset : str
        Preset name.

    Returns
    -------
    list of ArtifactControl
    """
    from ecgkit.artifacts import REGISTRY, artifact_names
    from ecgkit.generate.presets import load_preset

    config = load_preset(preset).artifacts
    out = []
    for name in artifact_names():
        spec = config.get(name)
        strength = spec["strength"] if spec else 0.5
        if isinstance(strength, dict):
            strength = (strength["min"] + strength["max"]) / 2
        out.append(
            ArtifactControl(
                name,
                REGISTRY[name].stage,
                spec is not None,
                float(spec["probability"]) if spec else 0.0,
                round(float(strength), 2),
            )
        )
    return out


def artifact_overrides(
    controls: Sequence[ArtifactControl], on: dict[str, bool], strength: dict[str, float]
) -> dict[str, dict[str, float]]:
    """Overrides for what the user changed; untouched controls keep the preset's draws.

    Parameters
    ----------
    controls : sequence of ArtifactControl
        From :func:`artifact_controls`.
    on : dict
        Whether each artifact's checkbox is ticked.
    strength : dict
        Each artifact's slider value.

    Returns
    -------
    dict
        ``{name: {"probability": p, "strength": s}}`` for the changed ones.
    """
    out: dict[str, dict[str, float]] = {}
    for c in controls:
        ticked, value = on.get(c.name, c.in_preset), strength.get(c.name, c.strength)
        if ticked == c.in_preset and value == c.strength:
            continue
        if not ticked:
            if c.in_preset:
                out[c.name] = {"probability": 0.0, "strength": value}
            continue
        out[c.name] = {"probability": 1.0 if not c.in_preset else c.probability, "strength": value}
    return out


def batch_zip(
    records: Sequence[Record],
    overrides: dict[str, dict[str, Any]],
    *,
    preset: str = "clean",
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[bytes, list[str]]:
    """Render many records into one zip; a record that fails is skipped and reported.

    Parameters
    ----------
    records : sequence of Record
    overrides : dict
    preset : str
    seed : int
    progress : callable, optional
        Called as ``progress(done, total)``.

    Returns
    -------
    tuple
        The zip bytes and the list of error messages.
    """
    buf = io.BytesIO()
    errors: list[str] = []
    names: set[str] = set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, record in enumerate(records):
            name = record.name
            while name in names:
                name += "_"
            names.add(name)
            try:
                page = make_sample(record, preset=preset, overrides=overrides, seed=seed)
                fmt = page.parameters["drawn"]["output"].get("format", "png")
                write_sample_to_zip(zf, page, name, image_format=fmt)
            except EcgkitError as exc:
                errors.append(f"{record.name}: {exc}")
            if progress is not None:
                progress(i + 1, len(records))
    return buf.getvalue(), errors
