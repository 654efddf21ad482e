"""Scoring digitized signals against the truth.

:func:`snr`, :func:`snr_record`, :func:`mean_snr` and :func:`align` reproduce the PhysioNet
Challenge 2024 digitization SNR (see :mod:`ecgkit.evaluate.snr`).
:func:`kaggle_snr`, :func:`kaggle_dataset_score`, :func:`pearson`, :func:`rmse_uv` and
:func:`record_metrics` are the other signal metrics (:mod:`ecgkit.evaluate.metrics`);
:func:`measure_intervals` measures RR, PR, QRS, QT and QTc with neurokit2
(:mod:`ecgkit.evaluate.intervals`); :func:`agreement` and :func:`interval_agreement` compare
them over records (:mod:`ecgkit.evaluate.agreement`). The plotly figures are in
:mod:`ecgkit.evaluate.figures` (imported on demand, so the metrics do not load plotly).
"""

from __future__ import annotations

from ecgkit.evaluate.agreement import Agreement, IntervalAgreement, agreement, interval_agreement
from ecgkit.evaluate.intervals import INTERVALS, MEDIAN_LEADS, METHODS, measure_intervals
from ecgkit.evaluate.metrics import (
    LeadMetrics,
    RecordMetrics,
    RecordScores,
    kaggle_dataset_score,
    kaggle_snr,
    pearson,
    record_metrics,
    rmse_uv,
)
from ecgkit.evaluate.snr import SamplingRateWarning, align, mean_snr, snr, snr_record

__all__ = [
    "INTERVALS",
    "MEDIAN_LEADS",
    "METHODS",
    "Agreement",
    "IntervalAgreement",
    "LeadMetrics",
    "RecordMetrics",
    "RecordScores",
    "SamplingRateWarning",
    "agreement",
    "align",
    "interval_agreement",
    "kaggle_dataset_score",
    "kaggle_snr",
    "mean_snr",
    "measure_intervals",
    "pearson",
    "record_metrics",
    "rmse_uv",
    "snr",
    "snr_record",
]
