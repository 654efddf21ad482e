"""The trace model: a small fully convolutional net that maps a rectified page to the
probability that each pixel is trace ink (not grid, text, handwriting, stains or noise).
Run with onnxruntime on the CPU; trained by ``training/train_trace.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "trace.onnx"


def get_model(model: Any = None) -> Any:
    """The trace model to use (None where no weights are shipped)."""
    return None
