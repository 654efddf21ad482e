"""12-lead records: the one in-memory type every layer passes around, and lead names.

A :class:`Record` always holds the 12 standard leads in standard order
(``I II III aVR aVL aVF V1..V6``), in millivolts, as a float64 array of shape
``(n_samples, 12)``. A lead the source did not have is all NaN; a sample that is not
valid is NaN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError

#: The 12 standard leads, in standard order.
LEADS: tuple[str, ...] = (
    "I",
    "II",
    "III",
    "aVR",
    "aVL",
    "aVF",
    "V1",
    "V2",
    "V3",
    "V4",
    "V5",
    "V6",
)


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


#: Lowest sampling rate (Hz) a digitized record is written at.
MIN_OUTPUT_FS = 50.0
#: Highest sampling rate (Hz) a digitized record is written at.
MAX_OUTPUT_FS = 10000.0


def check_output_fs(fs: Any, name: str = "sampling rate") -> float:
    """A digitized record's sampling rate, or an EcgkitError unless it is in 50-10,000 Hz.

    Parameters
    ----------
    fs : any
        The rate asked for, in Hz.
    name : str
        What the message calls it (``"--fs"`` on the command line).

    Returns
    -------
    float

    Raises
    ------
    EcgkitError
        If ``fs`` is not finite or outside :data:`MIN_OUTPUT_FS` - :data:`MAX_OUTPUT_FS`.
    """
    fs = float(fs)
    if not np.isfinite(fs) or not MIN_OUTPUT_FS <= fs <= MAX_OUTPUT_FS:
        raise EcgkitError(
            f"{name} must be between {MIN_OUTPUT_FS:g} and {MAX_OUTPUT_FS:g} Hz, got {fs:g}"
        )
    return fs


# ---------------------------------------------------------------------------------------------
# Lead names and header comments
# ---------------------------------------------------------------------------------------------

_LEAD_KEYS: dict[str, str] = {lead.casefold(): lead for lead in LEADS}
_LEAD_PREFIX = re.compile(r"^lead[\s_\-]*", re.IGNORECASE)
MISSING_WORDS = frozenset({"", "nan", "none", "unknown", "n/a", "na", "null", "?", "-"})


def normalize_lead_name(name: str) -> str | None:
    """Map a channel name to its canonical 12-lead name.

    Parameters
    ----------
    name : str
        A channel name as found in a file, e.g. ``"avr"``, ``"AVR"``, ``" Lead II "``.

    Returns
    -------
    str or None
        The canonical name from :data:`LEADS` (``"aVR"``, ``"II"``...), or ``None`` when the
        channel is not one of the 12 standard leads (``"MLII"``, Frank ``"vx"``...).
    """
    if not isinstance(name, str):
        return None
    key = _LEAD_PREFIX.sub("", name.strip()).strip().casefold()
    return _LEAD_KEYS.get(key)


# ---------------------------------------------------------------------------------------------
# Mapping channels onto the 12 leads
# ---------------------------------------------------------------------------------------------


def map_channels(names: list[str], source: str) -> tuple[dict[int, int], list[str]]:
    """Return ``{channel index: lead column}`` and notes; raise if no standard lead is there."""
    mapping: dict[int, int] = {}
    taken: dict[str, str] = {}
    ignored: list[str] = []
    notes: list[str] = []
    for ch, raw in enumerate(names):
        lead = normalize_lead_name(raw) if raw is not None else None
        if lead is None:
            ignored.append(str(raw))
            continue
        if lead in taken:
            notes.append(
                f"duplicate lead {lead}: kept the first channel named {taken[lead]!r}, "
                f"ignored channel {ch + 1} ({raw!r})"
            )
            continue
        taken[lead] = str(raw)
        mapping[ch] = LEADS.index(lead)
    if not mapping:
        found = ", ".join(str(n) for n in names) or "(none)"
        raise EcgkitError(
            f"no standard ECG leads in {source}, channels found: {found}; "
            f"expected names such as {', '.join(LEADS)}"
        )
    if ignored:
        notes.insert(0, f"ignored channels {', '.join(ignored)} (not standard 12-lead names)")
    renamed = [f"{taken[lead]}->{lead}" for lead in LEADS if lead in taken and taken[lead] != lead]
    if renamed:
        notes.append(f"renamed leads {', '.join(renamed)}")
    missing = [lead for lead in LEADS if lead not in taken]
    if missing:
        notes.append(f"missing leads {', '.join(missing)} (filled with NaN)")
    return mapping, notes
