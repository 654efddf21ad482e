"""What the web app's pages call: one function per user action, returning bytes to show."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecgkit.errors import EcgkitError
from ecgkit.generate import make_sample
from ecgkit.overlay import draw_overlay
from ecgkit.record import Record
from ecgkit.sample import encode_image, sample_zip, write_sample_to_zip

#: Layouts offered in the app (any other name works in the CLI and presets).
APP_LAYOUTS = ("3x4+II", "3x4", "3x4+II,V1,V5", "6x2", "6x2+II", "12x1", "2x6")


@dataclass
class Preview:
    """A rendered sample, ready to show and download."""

    name: str
    image_png: bytes
    overlay_png: bytes
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

    Returns
    -------
    Preview
    """
    page = make_sample(record, preset=preset, overrides=overrides, seed=seed)
    fmt = page.parameters["drawn"]["output"].get("format", "png")
    return Preview(
        name=record.name,
        image_png=encode_image(page.image, "png"),
        overlay_png=encode_image(draw_overlay(page), "png"),
        zip_bytes=sample_zip(page, record.name, image_format=fmt),
        width=page.width,
        height=page.height,
        n_points=int(sum(len(lt.x) for lt in page.leads)),
        notes=list(page.parameters["record_notes"]),
    )


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
