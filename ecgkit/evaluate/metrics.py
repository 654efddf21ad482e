"""Signal metrics of a digitized record against its reference.

* :func:`kaggle_snr`, :func:`kaggle_dataset_score`: the SNR of the Kaggle 2025 competition
  "PhysioNet - Digitization of ECG Images" (the 2024 Challenge rerun), which aligns each lead by
  cross-correlation within +-0.2 s and removes the best vertical offset, then sums signal and
  noise powers over the leads of an image;
* :func:`pearson`, :func:`rmse_uv`: per-lead Pearson r and RMSE (microvolts), NaN-aware, without
  alignment;
* :func:`record_metrics`: all of the above plus the Challenge 2024 SNR
  (:func:`ecgkit.evaluate.snr_record`), per lead and per record.

Records at another sampling rate are resampled to the reference's rate the way
:func:`~ecgkit.evaluate.snr_record` does it (polyphase FIR, NaN-aware); lengths are padded with
NaN (or cropped) to the reference's grid.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.signal

from ecgkit.errors import EcgkitError
from ecgkit.evaluate.snr import check_records, mean_snr, resample_signals, snr_record
from ecgkit.io import LEADS, Record

__all__ = [
    "KAGGLE_MAX_RATIO",
    "KAGGLE_MAX_SHIFT_S",
    "LeadMetrics",
    "RecordMetrics",
    "RecordScores",
    "kaggle_dataset_score",
    "kaggle_snr",
    "pearson",
    "record_metrics",
    "rmse_uv",
]

#: Cap of an image's signal-to-noise power ratio (the Kaggle metric's ``PERFECT_SCORE``).
KAGGLE_MAX_RATIO: float = 1e6
#: Largest time shift (s) the Kaggle alignment may apply.
KAGGLE_MAX_SHIFT_S: float = 0.2


# --------------------------------------------------------------------------- inputs


def _as_2d(a: Any, name: str) -> np.ndarray:
    try:
        arr = np.array(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise EcgkitError(f"{name} must be a Record or an array of numbers (mV)") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise EcgkitError(f"{name} must be 1-D or 2-D (n_samples, n_leads), got shape {arr.shape}")
    arr[~np.isfinite(arr)] = np.nan
    return arr


def _pad_to(a: np.ndarray, n: int) -> np.ndarray:
    if a.shape[0] >= n:
        return a[:n]
    return np.vstack([a, np.full((n - a.shape[0], a.shape[1]), np.nan)])


def _on_reference_rate(reference: Record, estimate: Record, notes: list[str]) -> np.ndarray:
    """The estimate's signals at the reference's sampling rate (resampled if needed)."""
    est = estimate.signals
    if estimate.fs != reference.fs:
        est = resample_signals(est, estimate.fs, reference.fs)
        notes.append(
            f"estimate {estimate.name!r} is sampled at {estimate.fs:g} Hz, reference "
            f"{reference.name!r} at {reference.fs:g} Hz: resampled the estimate to "
            f"{reference.fs:g} Hz (polyphase FIR, as snr_record does)"
        )
    return est


def _pair(
    reference: Record | np.ndarray, estimate: Record | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Reference and estimate on one grid (same rate, padded to the longer length)."""
    notes: list[str] = []
    if isinstance(reference, Record):
        ref = reference.signals
        if estimate is None:
            est = np.full(ref.shape, np.nan)
        elif isinstance(estimate, Record):
            est = _on_reference_rate(reference, estimate, notes)
        else:
            raise EcgkitError(
                "reference is a Record, so the estimate must be a Record (or None), "
                f"got {type(estimate).__name__}"
            )
    else:
        if isinstance(estimate, Record):
            raise EcgkitError("estimate is a Record, so the reference must be a Record too")
        ref = _as_2d(reference, "reference")
        est = np.full(ref.shape, np.nan) if estimate is None else _as_2d(estimate, "estimate")
    if ref.shape[1] != est.shape[1]:
        raise EcgkitError(
            f"reference has {ref.shape[1]} leads but estimate has {est.shape[1]}; "
            "pass the same leads in the same order"
        )
    n = max(ref.shape[0], est.shape[0])
    if ref.shape[0] != est.shape[0]:
        notes.append(
            f"lengths differ (reference {ref.shape[0]}, estimate {est.shape[0]} samples): "
            f"the shorter was padded with NaN to {n}, as the Challenge does"
        )
    return _pad_to(ref, n), _pad_to(est, n), notes


# --------------------------------------------------------------------------- Pearson, RMSE


def pearson(reference: Record | np.ndarray, estimate: Record | np.ndarray | None) -> np.ndarray:
    """Per-lead Pearson correlation of the estimate with the reference.

    Parameters
    ----------
    reference, estimate : Record or numpy.ndarray
        Two Records (the estimate is resampled to the reference's rate if needed), or arrays
        ``(n_samples, n_leads)`` (1-D for one lead) at the same rate. Lengths may differ (the
        shorter is padded with NaN). NaN marks a missing sample. ``estimate`` may be None.

    Returns
    -------
    numpy.ndarray
        One r per lead, on the samples finite in both, without alignment; NaN where fewer than
        2 such samples or either side is constant there.
    """
    ref, est, _ = _pair(reference, estimate)
    out = np.full(ref.shape[1], np.nan)
    for k in range(ref.shape[1]):
        both = np.isfinite(ref[:, k]) & np.isfinite(est[:, k])
        if both.sum() < 2:
            continue
        x = ref[both, k] - ref[both, k].mean()
        y = est[both, k] - est[both, k].mean()
        den = math.sqrt(float(np.dot(x, x)) * float(np.dot(y, y)))
        if den > 0:
            out[k] = float(np.clip(np.dot(x, y) / den, -1.0, 1.0))
    return out


def rmse_uv(reference: Record | np.ndarray, estimate: Record | np.ndarray | None) -> np.ndarray:
    """Per-lead root-mean-square error in microvolts.

    Parameters
    ----------
    reference, estimate : Record or numpy.ndarray
        As for :func:`pearson` (mV).

    Returns
    -------
    numpy.ndarray
        One RMSE per lead (uV), on the samples finite in both, without alignment; NaN where
        no sample is finite in both.
    """
    ref, est, _ = _pair(reference, estimate)
    out = np.full(ref.shape[1], np.nan)
    for k in range(ref.shape[1]):
        both = np.isfinite(ref[:, k]) & np.isfinite(est[:, k])
        if both.any():
            d = ref[both, k] - est[both, k]
            out[k] = 1000.0 * math.sqrt(float(np.mean(d * d)))
    return out


# --------------------------------------------------------------------------- Kaggle 2025


def _kaggle_lead(x: np.ndarray, y: np.ndarray, max_shift: int) -> tuple[float, float, int, float]:
    """Signal power, noise power, shift (samples) and offset (mV) of one lead.

    ``x`` (reference) and ``y`` (estimate) may have different lengths; the aligned estimate is
    put on the reference's grid. Missing samples count as 0 after centring in the
    cross-correlation, are left out of the offset, and (estimate) count as 0 mV in the noise,
    as the competition's ``compute_power`` does with the padding of the shift.
    """
    fx = np.isfinite(x)
    fy = np.isfinite(y)
    xc = np.where(fx, x - x[fx].mean(), 0.0)
    yc = np.where(fy, y - y[fy].mean(), 0.0)
    n_x, n_y = x.size, y.size
    corr = scipy.signal.correlate(xc, yc, mode="full")
    lags = scipy.signal.correlation_lags(n_x, n_y, mode="full")
    valid = (lags >= -max_shift) & (lags <= max_shift)
    best = np.nanmax(corr[valid])
    ties = np.flatnonzero(corr == best)
    shift = int(lags[min(ties, key=lambda i: abs(lags[i]))])
    start = max(shift, 0)
    lo = max(-shift, 0)
    hi = min(n_x - shift, n_y)
    end = max(n_x - n_y - shift, 0)
    aligned = np.concatenate([np.full(start, np.nan), y[lo:hi], np.full(end, np.nan)])
    both = fx & np.isfinite(aligned)
    offset = float(np.mean(aligned[both] - x[both])) if both.any() else 0.0
    pred = np.where(np.isfinite(aligned), aligned - offset, 0.0)[fx]
    xs = x[fx]
    return float(np.sum(xs * xs)), float(np.sum((xs - pred) ** 2)), shift, offset


def _ratio(signal: float, noise: float) -> float:
    if noise == 0:
        return KAGGLE_MAX_RATIO
    if signal == 0:
        return 0.0
    return min(signal / noise, KAGGLE_MAX_RATIO)


def _db(signal: float, noise: float) -> float:
    """``10 log10`` of the capped ratio; -inf for a zero signal, NaN for a NaN signal."""
    if not math.isfinite(signal):
        return float("nan")
    r = _ratio(signal, noise)
    return 10.0 * math.log10(r) if r > 0 else -math.inf


def kaggle_snr(
    reference: Record, estimate: Record | None, *, max_shift_s: float = KAGGLE_MAX_SHIFT_S
) -> dict[str, Any]:
    """The Kaggle 2025 ECG-digitization SNR of one image (record).

    Per lead: the time shift within ``+-max_shift_s`` (``int(max_shift_s * fs)`` samples) that
    maximises the cross-correlation of the mean-centred signals (ties: the smallest shift),
    then the vertical offset that minimises the squared error (the mean difference after the
    shift); signal power ``sum(x**2)`` and noise power ``sum((x - y)**2)``, where samples the
    shift leaves uncovered count as 0 mV. Per image: the ratio of the summed signal power to
    the summed noise power over the leads, capped at :data:`KAGGLE_MAX_RATIO` (also when the
    noise is 0; 0 when the signal is 0).

    Parameters
    ----------
    reference : Record
        The true record. Samples where it is NaN are left out (the competition's truth has
        none); a lead it lacks is left out of the sums.
    estimate : Record or None
        The digitized record (resampled to the reference's rate if needed; longer ones are
        cropped, shorter ones padded, to the reference's length by the alignment). NaN samples
        count as 0 mV; a lead it lacks (all NaN), or None, is scored as all zeros, which is what
        a submission without it must contain.
    max_shift_s : float
        Largest time shift in seconds (0.2 in the competition).

    Returns
    -------
    dict
        ``signal_power``, ``noise_power`` (per lead, numpy arrays of 12, mV^2 summed over
        samples; NaN for a lead the reference lacks), ``shift`` (samples the estimate was
        moved by: > 0 later, < 0 earlier, so an estimate lagging by h samples gives -h),
        ``offset`` (mV, subtracted), ``lead_snr_db`` (per lead, for
        information), ``ratio`` (the image's capped ratio), ``snr_db`` (``10 log10 ratio``),
        ``n_leads`` (leads scored), ``notes``.

    Raises
    ------
    EcgkitError
        If the inputs are not Records, or ``max_shift_s`` is negative or not a number.
    """
    check_records(reference, estimate)
    try:
        max_shift_s = float(max_shift_s)
    except (TypeError, ValueError):
        raise EcgkitError(f"max_shift_s must be a number of seconds, got {max_shift_s!r}") from None
    if not math.isfinite(max_shift_s) or max_shift_s < 0:
        raise EcgkitError(f"max_shift_s must be >= 0 seconds, got {max_shift_s}")
    notes: list[str] = []
    if estimate is None:
        est = np.full(reference.signals.shape, np.nan)
        notes.append("no estimate: every lead scored as all zeros (Kaggle SNR)")
    else:
        est = _on_reference_rate(reference, estimate, notes)
    max_shift = int(reference.fs * max_shift_s)
    n_leads = reference.signals.shape[1]
    p_sig = np.full(n_leads, np.nan)
    p_noise = np.full(n_leads, np.nan)
    shifts = np.zeros(n_leads, dtype=np.int64)
    offsets = np.zeros(n_leads)
    zeroed: list[str] = []
    for k in range(n_leads):
        x = reference.signals[:, k]
        if not np.isfinite(x).any():
            continue
        y = est[:, k]
        if not np.isfinite(y).any():
            y = np.zeros_like(y)
            if estimate is not None:
                zeroed.append(LEADS[k])
        p_sig[k], p_noise[k], shifts[k], offsets[k] = _kaggle_lead(x, y, max_shift)
    if zeroed:
        notes.append(f"estimate lacks lead(s) {', '.join(zeroed)}: all zeros in the Kaggle SNR")
    scored = np.isfinite(p_sig)
    signal_sum = float(np.sum(p_sig[scored]))
    noise_sum = float(np.sum(p_noise[scored]))
    ratio = _ratio(signal_sum, noise_sum) if scored.any() else float("nan")
    lead_db = np.array([_db(s_, n_) for s_, n_ in zip(p_sig, p_noise, strict=True)])
    snr_db = _db(signal_sum, noise_sum) if scored.any() else float("nan")
    return {
        "signal_power": p_sig,
        "noise_power": p_noise,
        "shift": shifts,
        "offset": offsets,
        "lead_snr_db": lead_db,
        "signal_power_sum": signal_sum,
        "noise_power_sum": noise_sum,
        "ratio": ratio,
        "snr_db": snr_db,
        "n_leads": int(scored.sum()),
        "notes": notes,
    }


def kaggle_dataset_score(ratios: Iterable[float] | np.ndarray) -> float:
    """The Kaggle 2025 score of a set of images: ``10 log10`` of the mean per-image ratio.

    Parameters
    ----------
    ratios : array-like
        Per-image capped ratios (``kaggle_snr(...)["ratio"]``), not dB. NaN (an image whose
        reference had no leads) is left out.

    Returns
    -------
    float
        ``max(10 log10(mean(ratios)), -1e6)`` dB; NaN when there is no ratio.

    Raises
    ------
    EcgkitError
        If the values are not numbers or are negative.
    """
    try:
        r = np.asarray(
            list(ratios) if not isinstance(ratios, np.ndarray) else ratios, dtype=np.float64
        ).ravel()
    except (TypeError, ValueError):
        raise EcgkitError("kaggle_dataset_score needs numbers: the per-image ratios") from None
    r = r[~np.isnan(r)]
    if r.size == 0:
        return float("nan")
    if np.any(r < 0):
        raise EcgkitError("kaggle_dataset_score needs power ratios (>= 0), not dB values")
    m = float(np.mean(r))
    if m <= 0:
        return -KAGGLE_MAX_RATIO
    return max(10.0 * math.log10(m), -KAGGLE_MAX_RATIO)


# --------------------------------------------------------------------------- all together


def _nanmean(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    ok = np.isfinite(a)
    return float(np.mean(a[ok])) if ok.any() else float("nan")


@dataclass(frozen=True)
class LeadMetrics:
    """Per-lead metrics of a digitized record: numpy arrays of 12, in :data:`LEADS` order.

    Attributes
    ----------
    snr_db : numpy.ndarray
        Challenge 2024 SNR (:func:`~ecgkit.evaluate.snr_record`).
    pearson_r : numpy.ndarray
        Pearson r (:func:`pearson`).
    rmse_uv : numpy.ndarray
        RMSE in microvolts (:func:`rmse_uv`).
    kaggle_snr_db : numpy.ndarray
        Kaggle 2025 SNR of each lead on its own (:func:`kaggle_snr`'s ``lead_snr_db``).
    """

    snr_db: np.ndarray
    pearson_r: np.ndarray
    rmse_uv: np.ndarray
    kaggle_snr_db: np.ndarray

    def to_dict(self) -> dict[str, np.ndarray]:
        """The metrics by name (``snr_db``, ``pearson_r``, ``rmse_uv``, ``kaggle_snr_db``).

        Returns
        -------
        dict
        """
        return {
            "snr_db": self.snr_db,
            "pearson_r": self.pearson_r,
            "rmse_uv": self.rmse_uv,
            "kaggle_snr_db": self.kaggle_snr_db,
        }


@dataclass(frozen=True)
class RecordScores:
    """One digitized record's metrics over its leads.

    Attributes
    ----------
    snr_db, pearson_r, rmse_uv : float
        Means over the leads where finite (:func:`~ecgkit.evaluate.mean_snr` for the SNR).
    kaggle_ratio, kaggle_snr_db : float
        The image's Kaggle 2025 capped ratio and its ``10 log10``.
    """

    snr_db: float
    pearson_r: float
    rmse_uv: float
    kaggle_ratio: float
    kaggle_snr_db: float

    def to_dict(self) -> dict[str, float]:
        """The scores by name.

        Returns
        -------
        dict
            ``snr_db``, ``pearson_r``, ``rmse_uv``, ``kaggle_ratio``, ``kaggle_snr_db``.
        """
        return {
            "snr_db": self.snr_db,
            "pearson_r": self.pearson_r,
            "rmse_uv": self.rmse_uv,
            "kaggle_ratio": self.kaggle_ratio,
            "kaggle_snr_db": self.kaggle_snr_db,
        }


@dataclass(frozen=True)
class RecordMetrics:
    """Every signal metric of a digitized record (what :func:`record_metrics` returns).

    Attributes
    ----------
    leads : list of str
        Lead names (:data:`LEADS`).
    per_lead : LeadMetrics
        Per-lead metrics.
    record : RecordScores
        Per-record metrics.
    kaggle : dict
        The full :func:`kaggle_snr` result.
    missing_reference, missing_estimate : list of str
        Lead names without samples in the reference / in the estimate (of those the
        reference has).
    n_leads_scored : int
        Leads present in both.
    notes : list of str
        What was done to the inputs (resampling, padding, missing leads).
    """

    leads: list[str]
    per_lead: LeadMetrics
    record: RecordScores
    kaggle: dict[str, Any]
    missing_reference: list[str]
    missing_estimate: list[str]
    n_leads_scored: int
    notes: list[str]

    @property
    def n_missing_reference(self) -> int:
        """Number of leads the reference lacks."""
        return len(self.missing_reference)

    @property
    def n_missing_estimate(self) -> int:
        """Number of leads the estimate lacks (of those the reference has)."""
        return len(self.missing_estimate)

    def to_dict(self) -> dict[str, Any]:
        """The metrics as nested dicts (numpy arrays kept), in the order of the fields.

        Returns
        -------
        dict
            ``leads``, ``per_lead``, ``record``, ``kaggle``, ``missing_reference``,
            ``missing_estimate``, ``n_missing_reference``, ``n_missing_estimate``,
            ``n_leads_scored``, ``notes``.
        """
        return {
            "leads": self.leads,
            "per_lead": self.per_lead.to_dict(),
            "record": self.record.to_dict(),
            "kaggle": self.kaggle,
            "missing_reference": self.missing_reference,
            "missing_estimate": self.missing_estimate,
            "n_missing_reference": self.n_missing_reference,
            "n_missing_estimate": self.n_missing_estimate,
            "n_leads_scored": self.n_leads_scored,
            "notes": self.notes,
        }


def record_metrics(reference: Record, estimate: Record | None) -> RecordMetrics:
    """Every signal metric of a digitized record, per lead and per record.

    Parameters
    ----------
    reference : Record
        The true record.
    estimate : Record or None
        The digitized record (None: the digitizer produced nothing). Another sampling rate is
        resampled to the reference's (and said in ``notes``); another length is padded with NaN
        to the longer one, as the Challenge does (the Kaggle SNR works on the reference's
        length); a lead it lacks (all NaN) gets NaN Pearson/RMSE, 0 dB
        Challenge SNR and zeros in the Kaggle sums.

    Returns
    -------
    RecordMetrics
        ``leads`` (names), ``per_lead`` (:class:`LeadMetrics`: numpy arrays of 12, ``snr_db``
        Challenge 2024, ``pearson_r``, ``rmse_uv``, ``kaggle_snr_db``), ``record``
        (:class:`RecordScores`: ``snr_db``, ``pearson_r``, ``rmse_uv``: means over the leads
        where finite; ``kaggle_ratio``, ``kaggle_snr_db``: the image's Kaggle values),
        ``kaggle`` (the full :func:`kaggle_snr` result), ``missing_reference`` /
        ``missing_estimate`` (lead names without samples), ``n_missing_reference`` /
        ``n_missing_estimate``, ``n_leads_scored`` (leads present in both) and ``notes``;
        ``to_dict()`` gives the same as nested dicts.

    Raises
    ------
    EcgkitError
        If the inputs are not Records.
    """
    check_records(reference, estimate)
    notes: list[str] = []
    if estimate is None:
        est_signals = np.full(reference.signals.shape, np.nan)
        notes.append("no estimate: scored as an all-NaN record")
        est_rec = None
    else:
        est_signals = _on_reference_rate(reference, estimate, notes)
        est_rec = Record(signals=est_signals, fs=reference.fs, name=estimate.name)
    ref, est, pad_notes = _pair(reference.signals, est_signals)
    notes.extend(pad_notes)

    challenge = snr_record(reference, est_rec)
    r = pearson(ref, est)
    rmse = rmse_uv(ref, est)
    kag = kaggle_snr(reference, est_rec)
    notes.extend(n for n in kag["notes"] if n not in notes)

    has_ref = np.isfinite(ref).any(axis=0)
    has_est = np.isfinite(est).any(axis=0)
    missing_ref = [LEADS[k] for k in range(len(LEADS)) if not has_ref[k]]
    missing_est = [LEADS[k] for k in range(len(LEADS)) if has_ref[k] and not has_est[k]]
    if missing_ref:
        notes.append(f"reference lacks lead(s) {', '.join(missing_ref)}: NaN metrics there")
    if missing_est:
        notes.append(
            f"estimate lacks lead(s) {', '.join(missing_est)}: NaN Pearson/RMSE, "
            "0 dB Challenge SNR there"
        )
    return RecordMetrics(
        leads=list(LEADS),
        per_lead=LeadMetrics(
            snr_db=challenge, pearson_r=r, rmse_uv=rmse, kaggle_snr_db=kag["lead_snr_db"]
        ),
        record=RecordScores(
            snr_db=mean_snr(challenge),
            pearson_r=_nanmean(r),
            rmse_uv=_nanmean(rmse),
            kaggle_ratio=kag["ratio"],
            kaggle_snr_db=kag["snr_db"],
        ),
        kaggle=kag,
        missing_reference=missing_ref,
        missing_estimate=missing_est,
        n_leads_scored=int(np.sum(has_ref & has_est)),
        notes=notes,
    )
