"""12-lead records: the one in-memory type every layer passes around, and its file IO.

A :class:`Record` always holds the 12 standard leads in standard order
(``I II III aVR aVL aVF V1..V6``), in millivolts, as a float64 array of shape
``(n_samples, 12)``. A lead the source did not have is all NaN; a sample that is not
valid is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError

#: The 12 standard leads, in standard order.
LEADS: tuple[str, ...] = (
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
)  # fmt: skip


@dataclass
class Record:
    """A 12-lead ECG in millivolts.

    Attributes
    ----------
    signals : numpy.ndarray
        ``(n_samples, 12)`` float64, mV, columns in :data:`LEADS` order; NaN where missing.
    fs : float
        Sampling rate in Hz.
    name : str
        Record name (used for output file names).
    metadata : dict
        Parsed header information: ``age``, ``sex``, ``dx``, ``date``, ``time``, ... where known.
    notes : list of str
        What the reader noticed and did (ignored channels, renamed leads...).
    """

    signals: np.ndarray
    fs: float
    name: str = "record"
    metadata: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        sig = np.asarray(self.signals, dtype=np.float64)
        if sig.ndim != 2 or sig.shape[1] != len(LEADS):
            raise EcgkitError(
                f"record {self.name!r}: signals must be (n_samples, 12), got {sig.shape}"
            )
        if not np.isfinite(self.fs) or self.fs <= 0:
            raise EcgkitError(f"record {self.name!r}: sampling rate must be > 0, got {self.fs}")
        if sig.shape[0] == 0:
            raise EcgkitError(f"record {self.name!r} has no samples")
        self.signals = sig
        self.fs = float(self.fs)

    @property
    def n_samples(self) -> int:
        """Number of samples per lead."""
        return int(self.signals.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.fs

    @property
    def present(self) -> np.ndarray:
        """Boolean array of 12: whether each lead has at least one finite sample."""
        return np.isfinite(self.signals).any(axis=0)

    def lead(self, name: str) -> np.ndarray:
        """Return one lead's samples (a view), by canonical name."""
        try:
            return self.signals[:, LEADS.index(name)]
        except ValueError:
            raise EcgkitError(f"unknown lead {name!r}; valid leads: {', '.join(LEADS)}") from None
