"""Shared fixtures.

Tests that need the real WFDB records use ``records_dir``: it reads ``ECGKIT_DATA`` (default
``<repo>/../shared/data/records``) and skips with the reason when the folder is absent. The
records are read in place; they are never copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

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
