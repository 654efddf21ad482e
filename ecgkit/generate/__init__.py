"""Generate: records laid out on paper, rendered with exact ground truth, written at scale.

Modules, bottom up: :mod:`~ecgkit.generate.synth` (the built-in record source),
:mod:`~ecgkit.generate.layout` (paper geometry in millimetres),
:mod:`~ecgkit.generate.render` (a record and a layout to a :class:`Page`),
:mod:`~ecgkit.generate.presets` (named settings), :mod:`~ecgkit.generate.sample` (files),
:mod:`~ecgkit.generate.batch` (samples from settings, and whole data sets),
:mod:`~ecgkit.generate.dataset` (the manifest and the split),
:mod:`~ecgkit.generate.overlay` (the truth drawn over the image).

The names most callers want are importable from here: ``from ecgkit.generate import
make_sample``. They load on first use, so that importing a low module (``layout``, ``render``)
does not pull in the artifacts and the batch runner.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "make_sample": "batch",
    "make_sample_pair": "batch",
    "replay_sample": "batch",
    "draw_settings": "batch",
    "generate": "batch",
    "plan_jobs": "batch",
    "run_job": "batch",
    "image_rng": "batch",
    "load_source": "batch",
    "Job": "batch",
    "JobResult": "batch",
    "RunSettings": "batch",
    "Summary": "batch",
    "Page": "render",
    "Style": "render",
    "Layout": "layout",
    "make_layout": "layout",
    "builtin_record": "synth",
    "load_preset": "presets",
    "list_presets": "presets",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
