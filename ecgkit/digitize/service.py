"""The digitizer as a service for the CLI and the pages: load the model, check, read, name.

:func:`digitize_array` is what both front ends call for one image: it refuses an image with no
ECG in it and turns an error inside the core into one :class:`~ecgkit.errors.EcgkitError`
naming the image, so neither front end ever shows a traceback for a bad image.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from ecgkit.digitize import io as dio
from ecgkit.digitize import pipeline
from ecgkit.errors import EcgkitError
from ecgkit.io import LEADS
from ecgkit.io.record import check_output_fs


def record_name(file_name: str) -> str:
    """A WFDB-safe record name from an image's file name (``"my scan.jpg"`` -> ``"my_scan"``).

    Parameters
    ----------
    file_name : str

    Returns
    -------
    str
    """
    stem = PurePath(str(file_name).replace("\\", "/")).stem
    return re.sub(r"[^-\w]", "_", stem, flags=re.ASCII) or "digitized"


def load_model(path: str | Path | None = None) -> Any:
    """The trace model, loaded once (the page keeps it with ``st.cache_resource``).

    Parameters
    ----------
    path : str or Path, optional
        A model file (default: the shipped weights).

    Returns
    -------
    object
        What :func:`ecgkit.digitize.digitize` takes as ``model`` (from the core's
        ``ecgkit.digitize.model.get_model``); None lets the digitizer use its default.

    Raises
    ------
    EcgkitError
        If ``path`` is given and is not a file, or not a model the digitizer can load.
    """
    if path is not None and not Path(path).is_file():
        raise EcgkitError(f"model {path} not found; give the path of the model file (.onnx)")
    try:
        from ecgkit.digitize.model import get_model
    except ImportError:  # no model module: the digitizer reads the path itself
        return None if path is None else str(path)
    if path is None:
        return get_model(None)
    try:
        return get_model(str(path))
    except EcgkitError:
        raise
    except Exception as exc:  # onnxruntime raises its own types for a file that is no model
        raise EcgkitError(
            f"model {path} cannot be loaded ({type(exc).__name__}: {exc}); give an .onnx file "
            "made by training/"
        ) from None


def mean_confidence(confidence: Mapping[str, float]) -> float:
    """Mean of the 12 leads' confidences (a lead not reported counts as 0).

    Parameters
    ----------
    confidence : mapping
        Lead name -> 0..1.

    Returns
    -------
    float
    """
    values = [float(confidence.get(lead, 0.0) or 0.0) for lead in LEADS]
    return float(np.mean([v if np.isfinite(v) else 0.0 for v in values]))


def digitize_array(
    rgb: np.ndarray, *, name: str, fs: float = 500.0, model: Any = None, check: bool = True
) -> pipeline.Digitized:
    """Check that an image holds an ECG, then digitize it.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB (from :func:`ecgkit.digitize.load_image`).
    name : str
        Record name (and the name in messages).
    fs : float
        Sampling rate of the result.
    model : optional
        Passed to :func:`ecgkit.digitize.digitize`.
    check : bool
        Refuse images that :func:`ecgkit.digitize.looks_like_ecg` rejects.

    Returns
    -------
    Digitized

    Raises
    ------
    EcgkitError
        No ECG in the image, no layout recognised, or the digitizer could not read it: any
        exception inside the core becomes one message naming the image, the original chained
        as ``__cause__`` (with ``ECGKIT_DEBUG`` set, an unexpected type is re-raised as is).
    """
    fs = check_output_fs(fs)
    if check:
        ok, message = dio.looks_like_ecg(rgb, name=name)
        if not ok:
            raise EcgkitError(f"{message}; give a scan or photo of a paper ECG")
    import cv2

    start = time.perf_counter()
    stem = record_name(name)
    try:
        result = pipeline.digitize(rgb, fs=fs, name=stem, model=model)
    except EcgkitError as exc:  # a refusal: named by the image, not the record
        message = str(exc)
        if message.startswith(f"{stem}: ") and stem != name:
            raise EcgkitError(f"{name}: " + message.removeprefix(f"{stem}: ")) from exc
        raise
    except (OSError, ValueError, ArithmeticError, IndexError, cv2.error) as exc:
        raise _core_error(name, exc) from exc
    except Exception as exc:  # anything else inside the core: one message, the cause chained
        if os.environ.get("ECGKIT_DEBUG"):
            raise
        raise _core_error(name, exc) from exc
    if not result.seconds:
        result.seconds = time.perf_counter() - start
    return result


def _core_error(name: str, exc: BaseException) -> EcgkitError:
    """The one message for an unexpected error inside the digitizer's core."""
    return EcgkitError(
        f"{name}: the digitizer could not read this image ({type(exc).__name__}: {exc}); "
        "try a straighter, sharper scan, and report the image if it looks fine "
        "(ECGKIT_DEBUG=1 shows the traceback)"
    )
