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
from ecgkit.io import LEADS, Record, read_wfdb, records_from_uploads, write_wfdb
from ecgkit.io.csv import csv_text

#: What the image uploader accepts.
IMAGE_TYPES = ("png", "jpg", "jpeg", "bmp", "tif", "tiff", "pdf")
#: What the ground-truth uploader accepts (WFDB, or a zip of it).
TRUTH_TYPES = ("hea", "dat", "mat", "zip")
#: The rate the Digitize page digitizes at; another rate is this result resampled
#: (:func:`at_rate`), so changing the rate does not run the digitizer again.
DIGITIZE_FS = 500.0
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
    truth = as_written(page.plotted_record())  # what ``ecgkit generate`` writes as NAME.hea
    return Example(
        name=truth.name,
        image=page.image,
        truth=truth,
        description=f"built-in record {index} through the {preset!r} preset "
        f"({page.width} x {page.height} px, layout {page.layout.name})",
    )


def as_written(record: Record) -> Record:
    """A record as its WFDB files hold it (written and read back: values rounded to 1 uV).

    The Challenge SNR aligns each lead by an integer shift chosen from near-equal correlation
    peaks, so a 1 uV rounding can flip the choice and move a lead's SNR by a few dB: scores
    must be computed from the same numbers the files give, as ``ecgkit evaluate`` does.

    Parameters
    ----------
    record : Record

    Returns
    -------
    Record
    """
    with tempfile.TemporaryDirectory(prefix="ecgkit-digitize-") as tmp:
        return read_wfdb(write_wfdb(record, tmp, record.name))


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


def record_csv(record: Record, *, time: bool = False) -> bytes:
    """A record as CSV bytes: one column per lead in mV, NaN as empty cells.

    Parameters
    ----------
    record : Record
    time : bool
        Start with a ``time_s`` column (seconds from the first sample), as
        :func:`ecgkit.io.write_csv` (``ecgkit digitize --csv``) writes it;
        :func:`ecgkit.io.read_csv` reads both (it recognises and drops the time column).

    Returns
    -------
    bytes
    """
    return csv_text(record, time=time).encode("utf-8")


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
    #: The CSV with a ``time_s`` column first (the page's download).
    csv_with_time: bytes = b""


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
    """One line: layout, leads read, the digitizer's own confidence (mean, lowest lead), time.

    E.g. ``"x.png: layout 3x4+II, 12 of 12 leads, self-assessed confidence 0.84 (lowest V3
    0.52), 1.3 s"``.

    Parameters
    ----------
    result : Digitized
    name : str

    Returns
    -------
    str
    """
    n_read = int(result.record.present.sum())
    conf = {lead: float(result.confidence.get(lead, 0.0)) for lead in LEADS}
    low = min(conf, key=conf.__getitem__)
    return (
        f"{name}: layout {result.layout}, {n_read} of 12 leads, self-assessed confidence "
        f"{mean_confidence(result.confidence):.2f} (lowest {low} {conf[low]:.2f}), "
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
        csv_with_time=record_csv(result.record, time=True),
        table=confidence_table(result),
        summary=summary_line(result, name),
        notes=list(result.notes),
    )


def at_rate(view: DigitizeView, fs: float) -> DigitizeView:
    """The same digitization at another sampling rate: resampled, not digitized again.

    Parameters
    ----------
    view : DigitizeView
        From :func:`digitize_image`.
    fs : float
        The wanted rate in Hz.

    Returns
    -------
    DigitizeView
        ``view`` itself at its own rate; else a copy whose record, downloads and table are at
        ``fs`` (:func:`ecgkit.evaluate.resample_signals`, a polyphase filter; NaN gaps kept).
    """
    import dataclasses

    from ecgkit.evaluate.snr import resample_signals
    from ecgkit.io.record import check_output_fs

    fs = check_output_fs(fs)
    rec = view.result.record
    if fs == rec.fs:
        return view
    new = dataclasses.replace(rec, signals=resample_signals(rec.signals, rec.fs, fs), fs=fs)
    result = dataclasses.replace(view.result, record=new)
    return dataclasses.replace(
        view,
        result=result,
        wfdb_zip=record_zip(new, view.name),
        csv_bytes=record_csv(new),
        csv_with_time=record_csv(new, time=True),
        table=confidence_table(result),
        notes=[*view.notes, f"resampled from {rec.fs:g} Hz to {fs:g} Hz (not digitized again)"],
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
        12 traces (one per lead, NaN gaps kept), mV against seconds; each row's y axis is
        titled ``mV`` and its lead name is written horizontally to its left.
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
        fig.update_yaxes(title_text="mV", title_standoff=0, title_font_size=10, row=k + 1, col=1)
    fig.update_xaxes(title_text="Time (s)", row=len(LEADS), col=1)
    for k, lead in enumerate(LEADS):  # horizontal names: a rotated "III" reads as a bar
        yref = "y domain" if k == 0 else f"y{k + 1} domain"
        fig.add_annotation(
            text=f"<b>{lead}</b>",
            xref="paper",
            yref=yref,
            x=-0.01,
            y=0.5,
            xanchor="right",
            showarrow=False,
            textangle=0,
        )
    fig.update_layout(
        height=90 * len(LEADS),
        margin={"l": 90, "r": 10, "t": 40, "b": 40},
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


#: What the page says about the digitizer's confidence.
CONFIDENCE_NOTE = (
    "Confidence is the digitizer's own estimate from what a wrong reading would violate; it "
    "is not a measured accuracy. Where a ground truth is given, each lead's SNR beside it "
    "says how well the lead was actually read."
)


def lead_rows(view: DigitizeView, scored: Score | None = None) -> list[dict[str, Any]]:
    """One row per lead: the digitizer's confidence and, with a truth, the lead's SNR beside it.

    Parameters
    ----------
    view : DigitizeView
    scored : Score, optional
        From :func:`score`.

    Returns
    -------
    list of dict
        ``lead``, ``confidence``, (``SNR (dB)``), ``read``, ``samples``.
    """
    rows = []
    for r in view.table:
        row = {"lead": r["lead"], "confidence": r["confidence"]}
        if scored is not None:
            value = scored.per_lead_snr[r["lead"]]
            row["SNR (dB)"] = round(value, 1) if np.isfinite(value) else None
        rows.append({**row, "read": r["read"], "samples": r["samples"]})
    return rows


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

    The estimate is scored as its downloaded WFDB files hold it (:func:`as_written`), so the
    numbers are the ones ``ecgkit evaluate`` and the Evaluate page give for those files.

    Parameters
    ----------
    truth : Record
        The plotted signal (NaN off the page), as read from its files.
    estimate : Record
        The digitized record.

    Returns
    -------
    Score
    """
    from ecgkit.evaluate import record_metrics

    m = record_metrics(truth, as_written(estimate))
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
