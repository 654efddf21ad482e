"""Evaluating folders of records: digitized against reference, as a JSON-able report and HTML."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError
from ecgkit.evaluate.agreement import interval_agreement
from ecgkit.evaluate.intervals import INTERVALS
from ecgkit.evaluate.metrics import kaggle_dataset_score, record_metrics
from ecgkit.evaluate.snr import mean_snr
from ecgkit.io import LEADS, Record, find_records, read_record


def _clean(obj: Any) -> Any:
    """JSON-able copy: numpy to Python, NaN to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def evaluate_records(
    references: list[Record],
    estimates: list[Record | None],
    *,
    lead: str = "II",
    method: str = "dwt",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Score pairs of records: signal metrics per record and lead, interval agreement overall.

    Parameters
    ----------
    references : list of Record
        The truth.
    estimates : list of Record or None
        The digitized records in the same order; None for a missing one (scored as the
        Challenge scores it: 0 dB on every lead the reference has).
    lead, method : str
        Passed to :func:`~ecgkit.evaluate.measure_intervals`.
    progress : callable, optional
        Called as ``progress(done, total)`` after each record's signal metrics.

    Returns
    -------
    dict
        ``summary`` (mean Challenge SNR over all record-lead pairs, per-lead means, Kaggle
        dataset score, mean Pearson r and RMSE, counts), ``records`` (per record),
        ``intervals`` (agreement per interval and the per-record values) and ``settings``.
    """
    if len(references) != len(estimates):
        raise EcgkitError(f"{len(references)} references but {len(estimates)} estimates")
    if not references:
        raise EcgkitError("no reference records to evaluate")
    rows, snr_matrix, ratios = [], [], []
    for i, (ref, est) in enumerate(zip(references, estimates, strict=True)):
        m = record_metrics(ref, est)
        snr_db = np.asarray(m.per_lead.snr_db, float)
        snr_matrix.append(snr_db)
        ratios.append(m.record.kaggle_ratio)
        rows.append(
            {
                "name": ref.name,
                "missing_estimate": est is None,
                "snr_db": snr_db,
                "mean_snr_db": m.record.snr_db,
                "pearson_r": m.per_lead.pearson_r,
                "rmse_uv": m.per_lead.rmse_uv,
                "kaggle_snr_db": m.record.kaggle_snr_db,
                "notes": m.notes,
            }
        )
        if progress is not None:
            progress(i + 1, len(references))
    snr_matrix = np.vstack(snr_matrix)
    intervals = interval_agreement(references, estimates, lead=lead, method=method)
    summary = {
        "n_records": len(references),
        "n_missing_estimates": int(sum(e is None for e in estimates)),
        "mean_snr_db": mean_snr(snr_matrix),
        "per_lead_snr_db": {
            name: float(np.nanmean(snr_matrix[:, k]))
            if np.isfinite(snr_matrix[:, k]).any()
            else None
            for k, name in enumerate(LEADS)
        },
        "kaggle_score_db": kaggle_dataset_score([r for r in ratios if r is not None]),
        "mean_pearson_r": _mean_of_means([r["pearson_r"] for r in rows]),
        "mean_rmse_uv": _mean_of_means([r["rmse_uv"] for r in rows]),
    }
    return _clean(
        {
            "summary": summary,
            "records": rows,
            "intervals": {
                "agreement": {name: a.to_dict() for name, a in intervals.agreement.items()},
                "reference_ms": intervals.reference,
                "estimate_ms": intervals.estimate,
                "failures": intervals.failures,
            },
            "settings": {"lead": lead, "method": method, "leads": list(LEADS)},
        }
    )


def _mean_of_means(arrays: list[Any]) -> float:
    """Mean over records of each record's mean over its finite values; NaN if none (no warning)."""
    means = [float(np.nanmean(a)) for a in arrays if np.isfinite(a).any()]
    return float(np.mean(means)) if means else float("nan")


def evaluate_dirs(
    reference: str | Path,
    estimate: str | Path,
    *,
    lead: str = "II",
    method: str = "dwt",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Score every reference record against the digitized record of the same name.

    Parameters
    ----------
    reference : str or Path
        Folder (or record) of true records (WFDB).
    estimate : str or Path
        Folder of digitized records; a record missing there counts as an all-NaN estimate.
    lead, method : str
        Interval measurement settings.
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    dict
        :func:`evaluate_records`' report, plus ``errors`` (records that could not be read).
    """
    est_dir = Path(estimate)
    if not est_dir.is_dir():
        raise EcgkitError(f"estimate folder {estimate} not found")
    by_name: dict[str, Path] = {}
    for path in sorted(est_dir.rglob("*.hea")):
        by_name.setdefault(path.stem, path)
    refs: list[Record] = []
    ests: list[Record | None] = []
    errors: list[str] = []
    for path in find_records([reference]):
        try:
            ref = read_record(path)
        except EcgkitError as exc:
            errors.append(f"reference {path}: {exc}")
            continue
        est = None
        if ref.name in by_name:
            try:
                est = read_record(by_name[ref.name])
            except EcgkitError as exc:
                errors.append(f"estimate {by_name[ref.name]}: {exc} (scored as missing)")
        refs.append(ref)
        ests.append(est)
    report = evaluate_records(refs, ests, lead=lead, method=method, progress=progress)
    report["errors"] = errors
    report["settings"].update(reference=str(reference), estimate=str(estimate))
    return report


def _f(v: Any, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The report's summary as printable lines (a small table).

    Parameters
    ----------
    report : dict
        From :func:`evaluate_records` or :func:`evaluate_dirs`.

    Returns
    -------
    list of str
    """
    s = report["summary"]
    lines = [
        f"records: {s['n_records']} ({s['n_missing_estimates']} without an estimate)",
        f"mean SNR (Challenge 2024): {_f(s['mean_snr_db'], 2)} dB   "
        f"Kaggle 2025: {_f(s['kaggle_score_db'], 2)} dB   "
        f"Pearson r: {_f(s['mean_pearson_r'], 3)}   RMSE: {_f(s['mean_rmse_uv'], 0)} uV",
        "per-lead SNR (dB): " + "  ".join(f"{k} {_f(v)}" for k, v in s["per_lead_snr_db"].items()),
        f"{'interval':8s} {'n':>4s} {'failed':>6s} {'bias ms':>8s} {'SD ms':>7s} "
        f"{'LoA ms':>17s} {'MAE ms':>7s} {'r':>6s}",
    ]
    for name in INTERVALS:
        a = report["intervals"]["agreement"][name]
        loa = f"{_f(a['loa_lower'])} .. {_f(a['loa_upper'])}"
        lines.append(
            f"{name:8s} {a['n']:4d} {a['n_failed']:6d} {_f(a['bias']):>8s} "
            f"{_f(a['sd']):>7s} {loa:>17s} {_f(a['mae']):>7s} "
            f"{_f(a['pearson_r'], 3):>6s}"
        )
    return lines


def report_html(report: dict[str, Any]) -> str:
    """A self-contained HTML report: the summary, SNR heatmap and box plot, agreement plots.

    Parameters
    ----------
    report : dict
        From :func:`evaluate_records` or :func:`evaluate_dirs`.

    Returns
    -------
    str
        HTML with plotly.js inlined once (it opens without a network).
    """
    import plotly.io as pio

    from ecgkit.evaluate import figures

    names = [r["name"] for r in report["records"]]
    snr_matrix = np.array(
        [[np.nan if v is None else v for v in r["snr_db"]] for r in report["records"]], float
    )
    iv = report["intervals"]
    figs = [figures.snr_heatmap(snr_matrix, record_names=names), figures.snr_boxplot(snr_matrix)]
    for name in INTERVALS:
        ref = np.array([np.nan if v is None else v for v in iv["reference_ms"][name]], float)
        est = np.array([np.nan if v is None else v for v in iv["estimate_ms"][name]], float)
        figs.append(figures.bland_altman_figure(ref, est, name=name, labels=names))
        figs.append(figures.scatter_figure(ref, est, name=name, labels=names))
    parts = [pio.to_html(f, full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figs)]
    table = "\n".join(html.escape(line) for line in summary_lines(report))
    errors = "".join(f"<li>{html.escape(e)}</li>" for e in report.get("errors", []))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>ecgkit evaluation</title>"
        "</head><body style='font-family:sans-serif'><h1>ecgkit evaluation</h1>"
        f"<pre>{table}</pre>"
        + (f"<h2>Errors</h2><ul>{errors}</ul>" if errors else "")
        + "".join(f"<div>{p}</div>" for p in parts)
        + "</body></html>"
    )
