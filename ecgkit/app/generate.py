"""What the web app's pages call: one function per user action, returning bytes to show."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecgkit.errors import EcgkitError
from ecgkit.generate.batch import check_overrides, make_sample, make_sample_pair
from ecgkit.generate.overlay import draw_overlay
from ecgkit.generate.render import Page
from ecgkit.generate.sample import encode_image, write_sample_to_zip
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
    clean_overlay_png: bytes = b""
    #: Lead name -> its panel's box ``(x0, y0, x1, y1)`` in pixels (clean page), for zooming.
    lead_boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    #: What ``ecgkit generate --replay NAME.json`` reads the record from.
    source: str | None = None


#: Built-in record ``N`` as a sample source (what ``ecgkit generate --synthetic`` writes).
SYNTH_SOURCE = "synth:{}"

#: What an untouched Paper control of the Generate page shows.
AS_PRESET = "as the preset"

#: The Paper controls of the Generate page: control -> (table, key in the preset's draw).
PAPER_KEYS: dict[str, tuple[str, str]] = {
    "layout": ("layout", "name"),
    "order": ("layout", "order"),
    "paper": ("layout", "paper"),
    "orientation": ("layout", "orientation"),
    "dpi": ("layout", "dpi"),
    "speed": ("layout", "speed"),
    "gain": ("layout", "gain"),
    "chest_gain": ("layout", "chest_gain"),
    "start": ("layout", "start"),
    "grid": ("style", "grid"),
    "text": ("style", "header"),
    "labels": ("style", "labels"),
}
#: What a page gets where the preset's draw says nothing (the renderer's defaults).
_PAPER_DEFAULTS: dict[str, Any] = {
    "layout": "3x4+II",
    "order": "standard",
    "paper": "letter",
    "orientation": "landscape",
    "dpi": 200,
    "speed": 25.0,
    "gain": 10.0,
    "chest_gain": None,
    "start": 0.0,
    "grid": "red",
    "text": True,
    "labels": True,
}


def preset_paper(preset: str, record_name: str, *, index: int = 0, seed: int = 0) -> dict[str, Any]:
    """What the preset draws for one image, per Paper control of the Generate page.

    The draw is the one :func:`~ecgkit.generate.batch.make_sample` makes for the same
    ``(seed, record name, index)``, so an untouched control shows what the image will get.

    Parameters
    ----------
    preset : str
        Preset name.
    record_name : str
        The record's name (part of the image's random generator).
    index : int
        Variant number.
    seed : int
        Run seed.

    Returns
    -------
    dict
        Control name (:data:`PAPER_KEYS`) -> value; ``chest_gain`` None means "as the gain".
    """
    from ecgkit.generate.batch import draw_settings, image_rng
    from ecgkit.generate.presets import load_preset

    drawn = draw_settings(load_preset(preset), image_rng(seed, record_name, index))
    out = {}
    for control, (table, key) in PAPER_KEYS.items():
        out[control] = drawn.get(table, {}).get(key, _PAPER_DEFAULTS[control])
    if out["chest_gain"] is None:
        out["chest_gain"] = out["gain"]
    return out


def paper_overrides(chosen: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Overrides from the Paper controls: a control left at None keeps the preset's draw.

    Parameters
    ----------
    chosen : dict
        Control name (:data:`PAPER_KEYS`) -> the value picked, or None (untouched). ``text``
        sets the header and the footer; ``grid_major_rgb``/``grid_minor_rgb`` ride along.

    Returns
    -------
    dict
        ``{"layout": {...}, "style": {...}}`` with only the changed values.
    """
    out: dict[str, dict[str, Any]] = {"layout": {}, "style": {}}
    for control, value in chosen.items():
        if value is None:
            continue
        if control in ("grid_major_rgb", "grid_minor_rgb"):
            out["style"][control] = list(value)
        elif control == "text":
            out["style"].update(header=bool(value), footer=bool(value))
        elif control in PAPER_KEYS:
            table, key = PAPER_KEYS[control]
            out[table][key] = value
        else:
            raise ValueError(f"unknown control {control!r}; valid ones: {', '.join(PAPER_KEYS)}")
    return {t: v for t, v in out.items() if v}


def _add_sample(zf: zipfile.ZipFile, page: Page, name: str) -> None:
    """Add the files ``write_sample`` writes (what ``--replay`` remakes), with fixed times."""
    out = page.parameters["drawn"].get("output", {})
    write_sample_to_zip(
        zf,
        page,
        name,
        image_format=out.get("format", "png"),
        jpeg_quality=int(out.get("jpeg_quality", 95)),
        mask=bool(out.get("mask", False)),
    )


def _sample_zip(page: Page, name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        _add_sample(zf, page, name)
    return buf.getvalue()


def preview(
    record: Record,
    overrides: dict[str, dict[str, Any]],
    *,
    preset: str = "clean",
    seed: int = 0,
    index: int = 0,
    source: str | None = None,
) -> Preview:
    """Render one record for the Generate page: image, overlay and the downloadable zip.

    Parameters
    ----------
    record : Record
    overrides : dict
        ``{table: {key: value}}`` chosen in the page's widgets: only what the user changed
        (None values are dropped); kept in the JSON as ``parameters["overrides"]``.
    preset : str
        Preset name.
    seed : int
    index : int
        Variant number (a different draw of the preset's random values).
    source : str, optional
        Where the record comes from (``synth:N`` or a file name), for
        ``ecgkit generate --replay NAME.json``.

    Returns
    -------
    Preview
    """
    overrides = check_overrides(overrides)
    clean, page = make_sample_pair(
        record, preset=preset, overrides=overrides, seed=seed, index=index, source=source
    )
    page.parameters["overrides"] = overrides
    notes = list(page.parameters["record_notes"])
    if page.parameters["artifacts"]:
        names = ", ".join(a["name"] for a in page.parameters["artifacts"])
        notes.append(f"artifacts applied: {names}")
    return Preview(
        name=record.name,
        image_png=encode_image(page.image, "png"),
        overlay_png=encode_image(draw_overlay(page), "png"),
        clean_png=encode_image(clean.image, "png"),
        zip_bytes=_sample_zip(page, record.name),
        width=page.width,
        height=page.height,
        n_points=int(sum(len(lt.x) for lt in page.leads)),
        notes=notes,
        clean_overlay_png=encode_image(draw_overlay(clean), "png"),
        lead_boxes={
            lt.lead if not lt.rhythm else f"{lt.lead} (rhythm)": tuple(map(float, lt.bbox))
            for lt in clean.leads
            if lt.bbox is not None
        },
        source=source,
    )


def zoom(png: bytes, box: tuple[float, float, float, float] | None, *, pad: int = 40) -> bytes:
    """A full-resolution crop of a page image around a box (one pixel of PNG per page pixel).

    Parameters
    ----------
    png : bytes
        The page as PNG bytes (any of :class:`Preview`'s images).
    box : tuple of float or None
        ``(x0, y0, x1, y1)`` in pixels (a lead's box from ``Preview.lead_boxes``); None: the
        whole page.
    pad : int
        Pixels kept around the box.

    Returns
    -------
    bytes
        PNG of the crop, never scaled.
    """
    from PIL import Image

    img = Image.open(io.BytesIO(png))
    if box is not None:
        x0, y0, x1, y1 = box
        img = img.crop(
            (
                max(0, int(x0) - pad),
                max(0, int(y0) - pad),
                min(img.width, int(x1) + pad + 1),
                min(img.height, int(y1) + pad + 1),
            )
        )
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


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


def batch_inputs(
    records: Sequence[Record],
    sources: Sequence[str | None],
    *,
    builtin_count: int | None = None,
) -> tuple[list[Record], list[str | None]]:
    """The records of a batch and their sources: the given ones, or built-in 0..N-1.

    Parameters
    ----------
    records : sequence of Record
        The page's records (used when ``builtin_count`` is None).
    sources : sequence of str or None
        Their sources, for ``--replay``.
    builtin_count : int, optional
        Make built-in records ``0 .. builtin_count - 1`` instead (only now: a page that built
        them on every rerun would wait seconds for each click).

    Returns
    -------
    tuple
        Records and sources.
    """
    if builtin_count is None:
        return list(records), list(sources)
    from ecgkit.generate.synth import builtin_record

    n = int(builtin_count)
    return [builtin_record(i) for i in range(n)], [SYNTH_SOURCE.format(i) for i in range(n)]


def batch_zip(
    records: Sequence[Record],
    overrides: dict[str, dict[str, Any]],
    *,
    preset: str = "clean",
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    sources: Sequence[str | None] | None = None,
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
    sources : sequence of str, optional
        Each record's source (``synth:N`` or a file name), kept for ``--replay``.

    Returns
    -------
    tuple
        The zip bytes and the list of error messages.
    """
    buf = io.BytesIO()
    errors: list[str] = []
    names: set[str] = set()
    sources = list(sources) if sources is not None else [None] * len(records)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, record in enumerate(records):
            name = record.name
            while name in names:
                name += "_"
            names.add(name)
            try:
                clean = check_overrides(overrides)
                page = make_sample(
                    record, preset=preset, overrides=clean, seed=seed, source=sources[i]
                )
                page.parameters["overrides"] = clean
                _add_sample(zf, page, name)
            except EcgkitError as exc:
                errors.append(f"{record.name}: {exc}")
            if progress is not None:
                progress(i + 1, len(records))
    return buf.getvalue(), errors
