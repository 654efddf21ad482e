"""Agreement of an interval measured on digitized records with the same on the references.

:func:`agreement` gives the Bland-Altman statistics (bias, SD of the differences, 95 % limits of
agreement), the mean absolute error and Pearson's r for one interval over records;
:func:`interval_agreement` measures RR, PR, QRS, QT and QTc on pairs of records
(:func:`~ecgkit.evaluate.intervals.measure_intervals`) and gives the agreement of each.
A pair where either side is NaN is left out of the statistics and counted, per side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError
from ecgkit.evaluate.intervals import INTERVALS, measure_intervals
from ecgkit.io import Record

__all__ = ["LOA_Z", "Agreement", "IntervalAgreement", "agreement", "interval_agreement"]

#: Multiplier of the SD of the differences for the 95 % limits of agreement.
LOA_Z: float = 1.96


def _values(a: Any, name: str) -> np.ndarray:
    try:
        arr = np.array(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise EcgkitError(f"{name} must be numbers (use NaN for a failed measurement)") from None
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise EcgkitError(f"{name} must be 1-D (one value per record), got shape {arr.shape}")
    arr[~np.isfinite(arr)] = np.nan
    return arr


@dataclass(frozen=True)
class Agreement:
    """Bland-Altman statistics of one interval over records (what :func:`agreement` returns).

    Attributes
    ----------
    n : int
        Pairs with both values.
    n_total : int
        Records.
    n_failed : int
        Pairs left out.
    n_failed_reference, n_failed_estimate : int
        NaN on each side (a pair NaN on both sides counts on both).
    bias : float
        Mean of estimate - reference.
    sd : float
        SD of the differences (``ddof=1``).
    loa_lower, loa_upper : float
        ``bias -+ 1.96 sd``.
    mae : float
        Mean absolute difference.
    pearson_r : float
        Pearson's r of the pairs.
    """

    n: int
    n_total: int
    n_failed: int
    n_failed_reference: int
    n_failed_estimate: int
    bias: float
    sd: float
    loa_lower: float
    loa_upper: float
    mae: float
    pearson_r: float

    def to_dict(self) -> dict[str, Any]:
        """The statistics by name, in the order of the fields (the report's JSON).

        Returns
        -------
        dict
        """
        return {
            "n": self.n,
            "n_total": self.n_total,
            "n_failed": self.n_failed,
            "n_failed_reference": self.n_failed_reference,
            "n_failed_estimate": self.n_failed_estimate,
            "bias": self.bias,
            "sd": self.sd,
            "loa_lower": self.loa_lower,
            "loa_upper": self.loa_upper,
            "mae": self.mae,
            "pearson_r": self.pearson_r,
        }


@dataclass(frozen=True)
class IntervalAgreement:
    """Intervals measured on pairs of records and their agreement.

    What :func:`interval_agreement` returns.

    Attributes
    ----------
    agreement : dict
        Interval name (RR, PR, QRS, QT, QTc) -> :class:`Agreement`.
    reference, estimate : dict
        Interval name -> numpy array of the per-record values (ms, NaN where the measurement
        failed).
    names : list of str
        Reference record names.
    failures : list of dict
        One ``{"record", "side", "reason"}`` per record side that could not be measured at all.
    measurements : list of dict
        Per record, ``{"reference": ..., "estimate": ...}``: the two
        :func:`~ecgkit.evaluate.measure_intervals` results (None for a missing estimate).
    """

    agreement: dict[str, Agreement]
    reference: dict[str, np.ndarray]
    estimate: dict[str, np.ndarray]
    names: list[str]
    failures: list[dict[str, str]]
    measurements: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """The same as nested dicts (``agreement`` values as :meth:`Agreement.to_dict`).

        Returns
        -------
        dict
            ``agreement``, ``reference``, ``estimate``, ``names``, ``failures``,
            ``measurements``.
        """
        return {
            "agreement": {name: a.to_dict() for name, a in self.agreement.items()},
            "reference": self.reference,
            "estimate": self.estimate,
            "names": self.names,
            "failures": self.failures,
            "measurements": self.measurements,
        }


def agreement(reference_values: Any, estimate_values: Any) -> Agreement:
    """Agreement of one interval between estimates and references, over records.

    Parameters
    ----------
    reference_values, estimate_values : array-like
        One value per record (e.g. QT in ms), in the same order; NaN (or any non-finite
        value) marks a failed measurement.

    Returns
    -------
    Agreement
        ``n`` (pairs with both values), ``n_total`` (records), ``n_failed`` (pairs left out),
        ``n_failed_reference``, ``n_failed_estimate`` (NaN on each side; a pair NaN on both sides
        counts on both), ``bias`` (mean of estimate - reference), ``sd`` (SD of the differences,
        ``ddof=1``), ``loa_lower``, ``loa_upper`` (``bias -+ 1.96 sd``), ``mae`` (mean absolute
        difference), ``pearson_r``. Statistics that need more pairs than there are are NaN
        (``sd`` and the limits need 2; ``pearson_r`` needs 2 and non-constant values).

    Raises
    ------
    EcgkitError
        If the inputs are not 1-D arrays of numbers of the same length.
    """
    ref = _values(reference_values, "reference_values")
    est = _values(estimate_values, "estimate_values")
    if ref.shape != est.shape:
        raise EcgkitError(
            f"reference_values has {ref.size} values but estimate_values has {est.size}; "
            "pass one value per record on each side"
        )
    fr = np.isfinite(ref)
    fe = np.isfinite(est)
    both = fr & fe
    n = int(both.sum())
    d = est[both] - ref[both]
    nan = float("nan")
    bias = float(np.mean(d)) if n else nan
    sd = float(np.std(d, ddof=1)) if n >= 2 else nan
    r = nan
    if n >= 2:
        x = ref[both] - ref[both].mean()
        y = est[both] - est[both].mean()
        den = math.sqrt(float(np.dot(x, x)) * float(np.dot(y, y)))
        if den > 0:
            r = float(np.clip(np.dot(x, y) / den, -1.0, 1.0))
    return Agreement(
        n=n,
        n_total=int(ref.size),
        n_failed=int(ref.size - n),
        n_failed_reference=int((~fr).sum()),
        n_failed_estimate=int((~fe).sum()),
        bias=bias,
        sd=sd,
        loa_lower=bias - LOA_Z * sd,
        loa_upper=bias + LOA_Z * sd,
        mae=float(np.mean(np.abs(d))) if n else nan,
        pearson_r=r,
    )


def interval_agreement(
    reference_records: Sequence[Record],
    estimate_records: Sequence[Record | None],
    **measure_kwargs: Any,
) -> IntervalAgreement:
    """Measure the intervals on pairs of records and give the agreement of each.

    Parameters
    ----------
    reference_records : sequence of Record
        The true records.
    estimate_records : sequence of Record or None
        The digitized records, in the same order; None where the digitizer produced nothing
        (counted as a failed estimate for every interval).
    **measure_kwargs
        Passed to :func:`~ecgkit.evaluate.intervals.measure_intervals` for both sides
        (``lead``, ``method``, ``clean``).

    Returns
    -------
    IntervalAgreement
        ``agreement`` (per interval name RR, PR, QRS, QT, QTc: the :class:`Agreement`),
        ``reference`` and ``estimate`` (per interval: numpy array of the per-record values,
        ms, NaN where the measurement failed), ``names`` (reference record names), ``failures``
        (one ``{"record", "side", "reason"}`` per record side that could not be measured at
        all), ``measurements`` (per record, the two :func:`measure_intervals` results; None for
        a missing estimate).

    Raises
    ------
    EcgkitError
        If the sequences differ in length or hold something other than Records.
    ValueError
        If ``method`` is unknown.
    """
    refs = list(reference_records)
    ests = list(estimate_records)
    if len(refs) != len(ests):
        raise EcgkitError(
            f"{len(refs)} reference records but {len(ests)} estimate records; "
            "pass one estimate (or None) per reference"
        )
    for i, (r, e) in enumerate(zip(refs, ests, strict=True)):
        if not isinstance(r, Record):
            raise EcgkitError(f"reference_records[{i}] is a {type(r).__name__}, not a Record")
        if e is not None and not isinstance(e, Record):
            raise EcgkitError(
                f"estimate_records[{i}] is a {type(e).__name__}, not a Record (or None)"
            )
    n = len(refs)
    ref_vals = {name: np.full(n, np.nan) for name in INTERVALS}
    est_vals = {name: np.full(n, np.nan) for name in INTERVALS}
    failures: list[dict[str, str]] = []
    measurements: list[dict[str, Any]] = []
    for i, (r, e) in enumerate(zip(refs, ests, strict=True)):
        mr = measure_intervals(r, **measure_kwargs)
        me = measure_intervals(e, **measure_kwargs) if e is not None else None
        measurements.append({"reference": mr, "estimate": me})
        if mr["failed"] is not None:
            failures.append({"record": r.name, "side": "reference", "reason": str(mr["failed"])})
        if me is None:
            failures.append({"record": r.name, "side": "estimate", "reason": "no estimate record"})
        elif me["failed"] is not None:
            failures.append({"record": r.name, "side": "estimate", "reason": str(me["failed"])})
        for name in INTERVALS:
            ref_vals[name][i] = mr["intervals_ms"][name]
            if me is not None:
                est_vals[name][i] = me["intervals_ms"][name]
    return IntervalAgreement(
        agreement={name: agreement(ref_vals[name], est_vals[name]) for name in INTERVALS},
        reference=ref_vals,
        estimate=est_vals,
        names=[r.name for r in refs],
        failures=failures,
        measurements=measurements,
    )
