"""What the Digitize page calls: an image in, everything to show and download out.

The page stays thin (widgets, one call here, a plot); the digitizer itself is
:func:`ecgkit.digitize.digitize`, looked up at call time so a test can stand in for it.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ecgkit.digitize import io as dio
from ecgkit.digitize import pipeline
from ecgkit.digitize.service import (  # noqa: F401  (the pages call them from here too)
    digitize_array,
    load_model,
    mean_confidence,
    record_name,
)
from ecgkit.errors import EcgkitError
from ecgkit.io import LEADS, Record, records_from_uploads, write_csv, write_wfdb

#: What the image uploader accepts.
IMAGE_TYPES = ("png", "jpg", "jpeg", "bmp", "tif", "tiff", "pdf")
#: What the ground-truth uploader accepts (WFDB, or a zip of it).
TRUTH_TYPES = ("hea", "dat", "mat", "zip")
#: The built-in example the page opens with.
EXAMPLE_PRESET = "scan"
EXAMPLE_RECORD = 0


@dataclass
class Example:
    """The built-in example: a generated page and the signal it shows."""

    name: str
    image: np.ndarray
    truth: Record
    description: str


def example(*, preset: str = EXAMPLE_PRESET, index: int = EXAMPLE_RECORD) -> Example:
    """Built-in record ``index`` rendered through ``preset``, with its ground truth.

    Parameters
    ----------
    preset : str
        Preset name.
    index : int
        Built-in record number.

    Returns
    -------
    Example
    """
    from ecgkit.generate.batch import make_sample
    from ecgkit.generate.synth import builtin_record

    page = make_sample(builtin_record(index), preset=preset)
    truth = page.plotted_record()
    return Example(
        name=truth.name,
        image=page.image,
        truth=truth,
        description=f"built-in record {index} through the {preset!r} preset "
        f"({page.width} x {page.height} px, layout {page.layout.name})",
    )


def record_zip(record: Record, name: str | None = None) -> bytes:
    """A record as a zip of WFDB ``NAME.hea`` and ``NAME.dat``.

    Parameters
    ----------
    record : Record
    name : str, optional
        Record name (default ``record.name``).

    Returns
    -------
    bytes
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        _wfdb_into_zip(zf, record, name or record.name)
    return buf.getvalue()


def _wfdb_into_zip(zf: zipfile.ZipFile, record: Record, name: str) -> None:
    with tempfile.TemporaryDirectory(prefix="ecgkit-digitize-") as tmp:
        write_wfdb(record, tmp, name)
        for path in sorted(Path(tmp).iterdir()):
            zf.write(path, path.name)


def record_csv(record: Record) -> bytes:
    """A record as CSV bytes (:func:`ecgkit.io.write_csv`: a header row of lead names, mV).

    Parameters
    ----------
    record : Record

    Returns
    -------
    bytes
    """
    with tempfile.TemporaryDirectory(prefix="ecgkit-digitize-") as tmp:
        return write_csv(record, Path(tmp) / "record.csv").read_bytes()


@dataclass
class DigitizeView:
    """One digitized image, ready to show and download."""

    name: str
    result: pipeline.Digitized
    overlay_png: bytes
    wfdb_zip: bytes
    csv_bytes: bytes
    table: list[dict[str, Any]]
    summary: str
    notes: list[str] = field(default_factory=list)


def confidence_table(result: pipeline.Digitized) -> list[dict[str, Any]]:
    """One row per lead: name, confidence, whether it was read, and the samples read.

    Parameters
    ----------
    result : Digitized

    Returns
    -------
    list of dict
        Keys ``lead``, ``confidence``, ``read`` and ``samples``.
    """
    rows = []
    signals = result.record.signals
    for k, lead in enumerate(LEADS):
        n = int(np.isfinite(signals[:, k]).sum())
        rows.append(
            {
                "lead": lead,
                "confidence": round(float(result.confidence.get(lead, 0.0)), 3),
                "read": n > 0,
                "samples": n,
            }
        )
    return rows


def summary_line(result: pipeline.Digitized, name: str) -> str:
    """``"NAME: layout 3x4+II, mean confidence 0.84, 12 of 12 leads, 1.3 s"``.

    Parameters
    ----------
    result : Digitized
    name : str

    Returns
    -------
    str
    """
    n_read = int(result.record.present.sum())
    return (
        f"{name}: layout {result.layout}, mean confidence "
        f"{mean_confidence(result.confidence):.2f}, {n_read} of 12 leads, "
        f"{result.seconds:.1f} s"
    )


def digitize_image(
    source: Any, *, name: str, fs: float = 500.0, model: Any = None, check: bool = True
) -> DigitizeView:
    """Read, check and digitize one image; build the overlay and the downloads.

    Parameters
    ----------
    source : path, bytes, file-like or numpy.ndarray
        What :func:`ecgkit.digitize.load_image` reads.
    name : str
        The image's file name (the record is named after it).
    fs : float
        Sampling rate of the digitized record.
    model : optional
        Passed to :func:`ecgkit.digitize.digitize`.
    check : bool
        Refuse images with no ECG in them.

    Returns
    -------
    DigitizeView

    Raises
    ------
    EcgkitError
        A file that cannot be read, an image with no ECG, or one the digitizer cannot read.
    """
    from ecgkit.digitize.overlay import draw_digitized
    from ecgkit.generate.sample import encode_image

    rgb = dio.load_image(source, name=name)
    result = digitize_array(rgb, name=name, fs=fs, model=model, check=check)
    rec_name = record_name(name)
    return DigitizeView(
        name=rec_name,
        result=result,
        overlay_png=encode_image(draw_digitized(result), "png"),
        wfdb_zip=record_zip(result.record, rec_name),
        csv_bytes=record_csv(result.record),
        table=confidence_table(result),
        summary=summary_line(result, name),
        notes=list(result.notes),
    )


def signals_figure(record: Record, *, title: str | None = None) -> Any:
    """The 12 digitized leads, one row each on a shared time axis.

    Parameters
    ----------
    record : Record
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        12 traces (one per lead, NaN gaps kept), mV against seconds.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=len(LEADS), cols=1, shared_xaxes=True, vertical_spacing=0.012)
    t = np.arange(record.n_samples) / record.fs
    for k, lead in enumerate(LEADS):
        fig.add_trace(
            go.Scatter(
                x=t,
                y=record.signals[:, k],
                mode="lines",
                name=lead,
                showlegend=False,
                line={"width": 1, "color": "#1f2937"},
                hovertemplate=f"{lead}: %{{y:.3f}} mV at %{{x:.3f}} s<extra></extra>",
            ),
            row=k + 1,
            col=1,
        )
        fig.update_yaxes(title_text=lead, title_standoff=2, row=k + 1, col=1)
    fig.update_xaxes(title_text="seconds", row=len(LEADS), col=1)
    fig.update_layout(
        height=90 * len(LEADS),
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        title=title or f"{record.name}: 12 leads, mV, {record.fs:g} Hz",
    )
    return fig


def truth_records(files: Mapping[str, bytes]) -> tuple[list[Record], list[str]]:
    """Ground-truth records from uploaded WFDB files (``.hea`` with ``.dat``/``.mat``, zips).

    Parameters
    ----------
    files : mapping of str to bytes

    Returns
    -------
    tuple
        The records and one message per file that could not be read (never raises).
    """
    return records_from_uploads(files)


def pick_truth(truths: Sequence[Record], name: str) -> Record | None:
    """The truth for the image ``name``: the record of the same name, or the only one given.

    Parameters
    ----------
    truths : sequence of Record
    name : str
        The image's file name or record name.

    Returns
    -------
    Record or None
    """
    want = record_name(name)
    for rec in truths:
        if rec.name == want:
            return rec
    return truths[0] if len(truths) == 1 else None


@dataclass
class Score:
    """A digitized record scored against its truth."""

    snr_db: float
    pearson_r: float
    rmse_uv: float
    per_lead_snr: dict[str, float]
    notes: list[str]


def format_db(value: float) -> str:
    """``"12.3 dB"``; ``"inf dB"`` for a perfect match, ``"n/a"`` where undefined.

    Parameters
    ----------
    value : float

    Returns
    -------
    str
    """
    if np.isnan(value):
        return "n/a"
    return "inf dB" if np.isinf(value) else f"{value:.1f} dB"


def score(truth: Record, estimate: Record) -> Score:
    """The Challenge 2024 SNR, Pearson r and RMSE of a digitized record against the truth.

    Parameters
    ----------
    truth : Record
        The plotted signal (NaN off the page).
    estimate : Record
        The digitized record.

    Returns
    -------
    Score
    """
    from ecgkit.evaluate import record_metrics

    m = record_metrics(truth, estimate)
    per_lead = {lead: float(v) for lead, v in zip(LEADS, m.per_lead.snr_db, strict=True)}
    rec = m.record
    return Score(
        float(rec.snr_db), float(rec.pearson_r), float(rec.rmse_uv), per_lead, list(m.notes)
    )


def batch_zip(
    images: Sequence[tuple[str, bytes]],
    *,
    fs: float = 500.0,
    model: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[bytes, list[str]]:
    """Digitize many images into one zip; an image that fails is skipped and reported.

    Parameters
    ----------
    images : sequence of (file name, bytes)
    fs : float
        Sampling rate of the records.
    model : optional
        Passed to :func:`ecgkit.digitize.digitize`.
    progress : callable, optional
        Called as ``progress(done, total)``.

    Returns
    -------
    tuple
        The zip (``NAME.hea``, ``NAME.dat``, ``NAME.csv`` per image and ``summary.csv``: name,
        layout, mean and per-lead confidence, seconds) and one message per skipped image,
        starting with its file name.
    """
    buf = io.BytesIO()
    errors: list[str] = []
    used: set[str] = set()
    rows = ["image,record,layout,mean_confidence," + ",".join(LEADS) + ",seconds"]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (file_name, data) in enumerate(images):
            try:
                rgb = dio.load_image(data, name=file_name)
                result = digitize_array(rgb, name=file_name, fs=fs, model=model)
                name = record_name(file_name)
                while name in used:
                    name += "_"
                used.add(name)
                _wfdb_into_zip(zf, result.record, name)
                zf.writestr(f"{name}.csv", record_csv(result.record))
                conf = ",".join(f"{float(result.confidence.get(lead, 0.0)):.3f}" for lead in LEADS)
                rows.append(
                    f'"{file_name}",{name},{result.layout},'
                    f"{mean_confidence(result.confidence):.3f},{conf},"
                    f"{result.seconds:.2f}"
                )
            except EcgkitError as exc:
                message = str(exc)
                if not message.startswith(f"{file_name}: "):
                    message = f"{file_name}: {message}"
                errors.append(message)
            except (OSError, ValueError) as exc:  # odd content the readers missed
                errors.append(f"{file_name}: {type(exc).__name__}: {exc}")
            if progress is not None:
                progress(i + 1, len(images))
        zf.writestr("summary.csv", "\n".join(rows) + "\n")
    return buf.getvalue(), errors
