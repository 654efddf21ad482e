"""Plotly figures of evaluation results: agreement plots, SNR per lead, signal overlays.

Every function returns a :class:`plotly.graph_objects.Figure` and tolerates NaN (failed
measurements, missing leads): NaN values are left out of the plotted points and counted in the
titles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ecgkit.errors import EcgkitError
from ecgkit.evaluate.agreement import Agreement, IntervalAgreement, agreement
from ecgkit.evaluate.intervals import INTERVALS
from ecgkit.evaluate.snr import align, check_records, resample_signals, snr
from ecgkit.io import LEADS, Record

__all__ = [
    "FIGURE_KINDS",
    "bland_altman_figure",
    "interval_figures",
    "overlay_figure",
    "scatter_figure",
    "snr_boxplot",
    "snr_heatmap",
]

#: Kinds of per-interval figure :func:`interval_figures` makes.
FIGURE_KINDS: tuple[str, ...] = ("bland_altman", "scatter")

#: Standard 3 x 4 paper layout of the 12 leads (rows of the printout).
_PAPER_GRID: tuple[tuple[str, ...], ...] = (
    ("I", "aVR", "V1", "V4"),
    ("II", "aVL", "V2", "V5"),
    ("III", "aVF", "V3", "V6"),
)
_REF_COLOUR = "rgba(31, 31, 31, 0.35)"
_EST_COLOUR = "#d62728"
#: Fixed colour scale of :func:`snr_heatmap` (dB), so that two reports' colours compare.
SNR_SCALE_DB: tuple[float, float] = (-5.0, 30.0)


def _title(main: str, detail: str) -> dict[str, Any]:
    """A two-line title that fits a half-width figure: the name, then the numbers, smaller."""
    return {"text": f"{main}<br><sup>{detail}</sup>", "x": 0.0, "xanchor": "left"}


def _fmt(v: float, digits: int = 1) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:.{digits}f}"


def _pairs(
    reference_values: Any, estimate_values: Any, labels: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, list[str] | None, Agreement]:
    stats = agreement(reference_values, estimate_values)
    ref = np.asarray(reference_values, dtype=np.float64).ravel()
    est = np.asarray(estimate_values, dtype=np.float64).ravel()
    both = np.isfinite(ref) & np.isfinite(est)
    text = None
    if labels is not None:
        labels = [str(x) for x in labels]
        if len(labels) != ref.size:
            raise EcgkitError(f"{len(labels)} labels for {ref.size} values; give one per record")
        text = [lab for lab, ok in zip(labels, both, strict=True) if ok]
    return ref[both], est[both], text, stats


def _failed_text(stats: Agreement) -> str:
    return (
        f"n={stats.n}, failed {stats.n_failed} "
        f"(reference {stats.n_failed_reference}, estimate {stats.n_failed_estimate})"
    )


def bland_altman_figure(
    reference_values: Any,
    estimate_values: Any,
    *,
    name: str = "interval",
    unit: str = "ms",
    labels: Sequence[str] | None = None,
) -> go.Figure:
    """Bland-Altman plot of one interval: difference against mean, with bias and 95 % limits.

    Parameters
    ----------
    reference_values, estimate_values : array-like
        One value per record; NaN marks a failed measurement (left out, counted in the title).
    name : str
        Interval name for the title (e.g. ``"QT"``).
    unit : str
        Unit for the axis titles.
    labels : sequence of str, optional
        Record names, shown on hover.

    Returns
    -------
    plotly.graph_objects.Figure
        One scatter trace (the pairs); the bias and the limits of agreement as horizontal
        lines (layout shapes with annotations) where they can be computed.
    """
    ref, est, text, stats = _pairs(reference_values, estimate_values, labels)
    fig = go.Figure(
        go.Scatter(
            x=(ref + est) / 2.0,
            y=est - ref,
            mode="markers",
            name="records",
            text=text,
            marker={"size": 7, "opacity": 0.75},
            hovertemplate=(
                ("%{text}<br>" if text is not None else "")
                + f"mean %{{x:.1f}} {unit}<br>difference %{{y:.1f}} {unit}<extra></extra>"
            ),
        )
    )
    lines = (
        ("bias", stats.bias, "solid"),
        ("+1.96 SD", stats.loa_upper, "dash"),
        ("-1.96 SD", stats.loa_lower, "dash"),
    )
    for label, value, dash in lines:
        if math.isfinite(value):
            fig.add_hline(
                y=value,
                line={"dash": dash, "color": "#555", "width": 1.5},
                annotation_text=f"{label} {value:.1f} {unit}",
                annotation_position="top right",
            )
    fig.update_layout(
        title=_title(
            f"{name}: Bland-Altman",
            f"bias {_fmt(stats.bias)} {unit}, SD {_fmt(stats.sd)} {unit}; {_failed_text(stats)}",
        ),
        margin={"t": 80},
        xaxis_title=f"Mean of estimate and reference ({unit})",
        yaxis_title=f"Estimate - reference ({unit})",
        showlegend=False,
        template="plotly_white",
    )
    return fig


def scatter_figure(
    reference_values: Any,
    estimate_values: Any,
    *,
    name: str = "interval",
    unit: str = "ms",
    labels: Sequence[str] | None = None,
) -> go.Figure:
    """Estimate against reference for one interval, with the identity line and Pearson's r.

    Parameters
    ----------
    reference_values, estimate_values : array-like
        One value per record; NaN marks a failed measurement (left out, counted in the title).
    name : str
        Interval name for the title.
    unit : str
        Unit for the axis titles.
    labels : sequence of str, optional
        Record names, shown on hover.

    Returns
    -------
    plotly.graph_objects.Figure
        Two traces: the records (markers) and the identity line ``y = x``.
    """
    ref, est, text, stats = _pairs(reference_values, estimate_values, labels)
    if ref.size:
        lo = float(min(ref.min(), est.min()))
        hi = float(max(ref.max(), est.max()))
        pad = 0.05 * (hi - lo) if hi > lo else 1.0
        ends = [lo - pad, hi + pad]
    else:
        ends = [0.0, 1.0]
    fig = go.Figure(
        [
            go.Scatter(
                x=ref,
                y=est,
                mode="markers",
                name="records",
                text=text,
                marker={"size": 7, "opacity": 0.75},
                hovertemplate=(
                    ("%{text}<br>" if text is not None else "")
                    + f"reference %{{x:.1f}} {unit}<br>estimate %{{y:.1f}} {unit}<extra></extra>"
                ),
            ),
            go.Scatter(
                x=ends,
                y=ends,
                mode="lines",
                name="identity",
                line={"dash": "dash", "color": "#555", "width": 1},
                hoverinfo="skip",
            ),
        ]
    )
    fig.update_layout(
        title=_title(
            f"{name}: estimate vs reference",
            f"r = {_fmt(stats.pearson_r, 3)}; {_failed_text(stats)}",
        ),
        margin={"t": 80},
        xaxis_title=f"Reference {name} ({unit})",
        yaxis_title=f"Estimate {name} ({unit})",
        template="plotly_white",
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def interval_figures(
    result: IntervalAgreement | dict[str, Any], *, kind: str = "bland_altman"
) -> dict[str, go.Figure]:
    """One figure per interval from an :func:`~ecgkit.evaluate.interval_agreement` result.

    Parameters
    ----------
    result : IntervalAgreement or dict
        What :func:`~ecgkit.evaluate.interval_agreement` returned (or its ``to_dict()``).
    kind : str
        ``"bland_altman"`` (:func:`bland_altman_figure`) or ``"scatter"``
        (:func:`scatter_figure`).

    Returns
    -------
    dict of str to plotly.graph_objects.Figure
        Keyed by interval name (RR, PR, QRS, QT, QTc).

    Raises
    ------
    ValueError
        If ``kind`` is unknown.
    EcgkitError
        If ``result`` is not an interval-agreement result.
    """
    if kind not in FIGURE_KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid kinds: {', '.join(FIGURE_KINDS)}")
    if isinstance(result, IntervalAgreement):
        result = result.to_dict()
    try:
        ref, est, names = result["reference"], result["estimate"], result["names"]
    except (KeyError, TypeError):
        raise EcgkitError("interval_figures needs the result of interval_agreement") from None
    make = bland_altman_figure if kind == "bland_altman" else scatter_figure
    return {
        name: make(ref[name], est[name], name=name, unit="ms", labels=names)
        for name in INTERVALS
        if name in ref
    }


def _snr_matrix(snr_db: Any) -> np.ndarray:
    try:
        rows = [np.asarray(r, dtype=np.float64).ravel() for r in snr_db]
    except (TypeError, ValueError):
        raise EcgkitError("SNR values must be numbers: one array of 12 per record") from None
    if not rows:
        return np.zeros((0, len(LEADS)))
    if any(r.size != len(LEADS) for r in rows):
        raise EcgkitError(f"each record needs {len(LEADS)} SNR values, one per lead ({LEADS})")
    m = np.vstack(rows)
    m[~np.isfinite(m)] = np.nan
    return m


def snr_heatmap(snr_db: Any, *, record_names: Sequence[str] | None = None) -> go.Figure:
    """Per-lead SNR of each record as a heatmap (records x 12 leads).

    Parameters
    ----------
    snr_db : array-like
        ``(records, 12)`` SNR in dB (e.g. :func:`~ecgkit.evaluate.snr_record` per record);
        NaN cells stay blank.
    record_names : sequence of str, optional
        Row labels; default ``0, 1, ...``.

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap trace, coloured on the fixed scale :data:`SNR_SCALE_DB` (values beyond it
        take the end colours), so the same SNR has the same colour in every report.
    """
    m = _snr_matrix(snr_db)
    if record_names is None:
        names = [str(i) for i in range(m.shape[0])]
    else:
        names = [str(x) for x in record_names]
        if len(names) != m.shape[0]:
            raise EcgkitError(f"{len(names)} record names for {m.shape[0]} records")
    z = [[None if math.isnan(v) else float(v) for v in row] for row in m]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(LEADS),
            y=names,
            colorscale="RdYlGn",
            zmin=SNR_SCALE_DB[0],
            zmax=SNR_SCALE_DB[1],
            zauto=False,
            colorbar={"title": "SNR (dB)"},
            hovertemplate="%{y}, lead %{x}: %{z:.2f} dB<extra></extra>",
            hoverongaps=False,
        )
    )
    n_nan = int(np.isnan(m).sum())
    fig.update_layout(
        title=f"SNR per lead ({m.shape[0]} records; {n_nan} missing values)",
        xaxis_title="Lead",
        yaxis_title="Record",
        template="plotly_white",
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def snr_boxplot(snr_db: Any) -> go.Figure:
    """Distribution of the SNR over records, one box per lead.

    Parameters
    ----------
    snr_db : array-like
        ``(records, 12)`` SNR in dB; NaN values are left out (counted in the trace names).

    Returns
    -------
    plotly.graph_objects.Figure
        12 box traces, in lead order.
    """
    m = _snr_matrix(snr_db)
    fig = go.Figure()
    for k, lead in enumerate(LEADS):
        col = m[:, k]
        ok = np.isfinite(col)
        missing = int((~ok).sum())
        fig.add_trace(
            go.Box(
                y=col[ok],
                name=lead,
                boxpoints="outliers",
                hovertext=f"{lead}: {int(ok.sum())} values, {missing} missing",
            )
        )
    fig.update_layout(
        title=f"SNR per lead over {m.shape[0]} records",
        xaxis_title="Lead",
        yaxis_title="SNR (dB)",
        showlegend=False,
        template="plotly_white",
    )
    return fig


def _window(reference: np.ndarray, estimate: np.ndarray) -> tuple[int, int]:
    """The samples a lead covers: where the reference is finite (else the estimate), else all."""
    for y in (reference, estimate):
        idx = np.flatnonzero(np.isfinite(y))
        if idx.size:
            return int(idx[0]), int(idx[-1]) + 1
    return 0, int(reference.size)


def overlay_figure(
    reference: Record, estimate: Record | None, *, title: str | None = None
) -> go.Figure:
    """Reference and estimate of one record, each lead after the Challenge 2024 alignment.

    Parameters
    ----------
    reference : Record
        The true record.
    estimate : Record or None
        The digitized record (resampled to the reference's rate if needed). Each lead is shifted
        with :func:`~ecgkit.evaluate.align`, as the Challenge scorer does before the SNR.
    title : str, optional
        Figure title; default names the records.

    Returns
    -------
    plotly.graph_objects.Figure
        12 subplots in the paper layout (3 rows x 4 columns), each with two traces, the
        reference (wide, translucent) then the aligned estimate (thin, on top) (24 traces,
        legend groups ``reference`` and ``estimate``), over the lead's own window: the samples
        where the reference is finite (a 3x4 page's lead covers 2.5 s of the 10); subplot
        titles give the lead, the shift and the lead's SNR.

    Raises
    ------
    EcgkitError
        If the inputs are not Records.
    """
    check_records(reference, estimate)
    fs = reference.fs
    if estimate is None:
        est = np.full(reference.signals.shape, np.nan)
    elif estimate.fs != fs:
        est = resample_signals(estimate.signals, estimate.fs, fs)
    else:
        est = estimate.signals
    order = [lead for row in _PAPER_GRID for lead in row]
    panels: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
    for lead in order:
        k = LEADS.index(lead)
        x = reference.signals[:, k]
        shifted, h, v = align(x, est[:, k], fs=fs)
        n = shifted.size
        x_pad = np.concatenate([x, np.full(n - x.size, np.nan)]) if x.size < n else x
        value = float(snr(x, est[:, k], fs=fs)[0])
        caption = f"{lead}  (shift {h / fs * 1000:.0f} ms, {v:+.2f} mV; SNR {_fmt(value)} dB)"
        panels[lead] = (x_pad, shifted, caption)
    fig = make_subplots(
        rows=len(_PAPER_GRID),
        cols=len(_PAPER_GRID[0]),
        subplot_titles=[panels[lead][2] for lead in order],
        shared_yaxes=False,
        horizontal_spacing=0.04,
        vertical_spacing=0.1,
    )
    for i, lead in enumerate(order):
        row, col = divmod(i, len(_PAPER_GRID[0]))
        x_pad, shifted, _ = panels[lead]
        lo, hi = _window(x_pad, shifted)
        t = np.arange(lo, hi) / fs
        for label, y, colour, width in (
            ("reference", x_pad[lo:hi], _REF_COLOUR, 3.5),
            ("estimate", shifted[lo:hi], _EST_COLOUR, 1),
        ):
            fig.add_trace(
                go.Scatter(
                    x=t,
                    y=y,
                    mode="lines",
                    name=label,
                    legendgroup=label,
                    showlegend=i == 0,
                    line={"color": colour, "width": width},
                    hovertemplate=f"{lead} {label}: %{{y:.3f}} mV at %{{x:.3f}} s<extra></extra>",
                ),
                row=row + 1,
                col=col + 1,
            )
    fig.update_xaxes(title_text="Time (s)", row=len(_PAPER_GRID))
    fig.update_yaxes(title_text="mV", col=1)
    est_name = estimate.name if estimate is not None else "(none)"
    fig.update_layout(
        title=title or f"{reference.name} (reference) vs {est_name} (estimate), aligned per lead",
        template="plotly_white",
        height=720,
        legend={"orientation": "h", "y": -0.08},
    )
    fig.update_annotations(font_size=11)
    return fig
