"""Digitizer: an image of a paper ECG -> rectified page -> traces -> a 12-lead record in mV.

:func:`digitize` is the whole pipeline; :func:`load_image` reads PNG, JPEG, BMP, TIFF and the
first page of a PDF, refusing huge or broken files with an :class:`~ecgkit.errors.EcgkitError`.
"""

from __future__ import annotations

from ecgkit.digitize.io import load_image, looks_like_ecg
from ecgkit.digitize.pipeline import Digitized, LeadResult, digitize

__all__ = ["Digitized", "LeadResult", "digitize", "load_image", "looks_like_ecg"]
