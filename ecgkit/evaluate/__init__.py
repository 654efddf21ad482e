"""Scoring digitized signals against the truth.

:func:`snr`, :func:`snr_record`, :func:`mean_snr` and :func:`align` reproduce the PhysioNet
Challenge 2024 digitization SNR (see :mod:`ecgkit.evaluate.snr`).
"""

from __future__ import annotations

from ecgkit.evaluate.snr import SamplingRateWarning, align, mean_snr, snr, snr_record

__all__ = ["SamplingRateWarning", "align", "mean_snr", "snr", "snr_record"]
