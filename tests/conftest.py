"""Shared fixtures.

Tests that need the real WFDB records use ``records_dir``: it reads ``ECGKIT_DATA`` (default
``<repo>/../shared/data/records``) and skips with the reason when the folder is absent. The
records are read in place; they are never copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RECORDS = REPO.parent / "shared" / "data" / "records"


@pytest.fixture(scope="session")
def records_dir() -> Path:
    """The shared records folder (``ECGKIT_DATA``), or skip the test when it is absent."""
    path = Path(os.environ.get("ECGKIT_DATA") or DEFAULT_RECORDS).expanduser().resolve()
    if not path.is_dir():
        pytest.skip(f"shared records not found at {path}; set ECGKIT_DATA")
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every browser test is also a slow test (left out of the default run, run by CI)."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def fake_digitizer(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the digitizer core with a page's ground truth; return the names it was called for.

    For tests of the layers around :func:`ecgkit.digitize.digitize` (pages, CLI, zips) that
    must not depend on how well, or how slowly, the trained model reads. The result is the
    truth of built-in record 0 on a clean page, whatever the image.
    """
    from digitize_fakes import digitized_from_page

    from ecgkit.digitize import pipeline
    from ecgkit.generate import make_sample
    from ecgkit.generate.synth import builtin_record

    page = make_sample(builtin_record(0), preset="clean")
    calls: list[str] = []

    def fake(image, *, fs=500.0, name="digitized", model=None):  # noqa: ANN001, ANN202
        calls.append(name)
        result = digitized_from_page(page, name=name)
        # 20 uV of a slow sine: an imperfect reading, so that scores stay finite
        t = np.arange(result.record.n_samples)[:, None] / result.record.fs
        result.record.signals = result.record.signals + 0.02 * np.sin(2 * np.pi * 1.3 * t)
        return result

    monkeypatch.setattr(pipeline, "digitize", fake)
    return calls
