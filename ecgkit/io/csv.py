"""CSV records: one column per lead, a header row of lead names, mV."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError
from ecgkit.io.record import LEADS, Record, map_channels

# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------

_TIME_COLUMNS = frozenset({"time", "t", "time_s", "time (s)", "seconds", "s"})


def _float_or_none(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def check_fs(fs: Any, source: str | None = None) -> float:
    """A sampling rate as a positive float, or an EcgkitError that says what is wrong.

    Parameters
    ----------
    fs : any
        The rate given, in Hz.
    source : str, optional
        The file or argument it belongs to, named in the message.

    Returns
    -------
    float
    """
    where = f"{source}: " if source else ""
    if fs is None:
        raise EcgkitError(
            f"{where}a CSV file does not say its sampling rate; give fs in Hz (e.g. 500)"
        )
    try:
        value = float(fs)
    except (TypeError, ValueError):
        raise EcgkitError(f"{where}sampling rate must be a number in Hz, got {fs!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise EcgkitError(f"{where}sampling rate must be a positive number of Hz, got {fs!r}")
    return value


def read_csv(path: str | Path, *, fs: float) -> Record:
    """Read a CSV file with one column per lead (values in mV) as a Record.

    Parameters
    ----------
    path : str or Path
        The CSV file. The first row names the leads (normalised by
        :func:`normalize_lead_name`); an optional first column ``time``/``t``/``time_s`` is
        ignored; empty cells and ``nan`` are NaN. Comma, semicolon or tab separated.
    fs : float
        Sampling rate in Hz (a CSV file does not carry one).

    Returns
    -------
    Record
        ``name`` is the file stem; other columns are ignored with a note.

    Raises
    ------
    EcgkitError
        Missing or invalid ``fs``, empty file, no header row, a non-numeric cell, or no
        standard lead column.
    """
    path = Path(path)
    rate = check_fs(fs, str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EcgkitError(f"CSV file not found: {path}") from None
    except UnicodeDecodeError:
        raise EcgkitError(f"{path}: not a text CSV file (cannot decode as UTF-8)") from None
    except OSError as exc:
        raise EcgkitError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    if not text.strip():
        raise EcgkitError(f"{path}: file is empty")
    first = next(line for line in text.splitlines() if line.strip())
    delim = next((d for d in (",", ";", "\t") if d in first), ",")
    rows = [
        row for row in csv.reader(io.StringIO(text), delimiter=delim) if any(c.strip() for c in row)
    ]
    header = [c.strip() for c in rows[0]]
    if all(_float_or_none(c) is not None for c in header if c):
        raise EcgkitError(
            f"{path}: no header row; the first row must name the leads (e.g. {','.join(LEADS)})"
        )
    skip_first = len(header) > 0 and header[0].casefold() in _TIME_COLUMNS
    names = header[1:] if skip_first else header
    offset = 1 if skip_first else 0
    mapping, notes = map_channels(names, str(path))
    data_rows = rows[1:]
    if not data_rows:
        raise EcgkitError(f"{path}: has a header row but no samples")
    out = np.full((len(data_rows), len(LEADS)), np.nan)
    cols = sorted(mapping)
    width = len(header)
    for r, row in enumerate(data_rows):
        if len(row) > width and any(c.strip() for c in row[width:]):
            raise EcgkitError(
                f"{path}: row {r + 2} has {len(row)} cells but the header has {width} columns"
            )
        for ch in cols:
            idx = ch + offset
            cell = row[idx].strip() if idx < len(row) else ""
            if not cell:
                continue
            value = _float_or_none(cell)
            if value is None:
                raise EcgkitError(
                    f"{path}: row {r + 2}, column {names[ch]!r}: {cell[:30]!r} is not a number "
                    "(values must be in mV)"
                )
            out[r, mapping[ch]] = value
    return Record(signals=out, fs=rate, name=path.stem, metadata={}, notes=notes)


def csv_text(record: Record, *, time: bool = True) -> str:
    """A Record as CSV text: ``time_s`` (optional), then one column per lead in mV.

    Parameters
    ----------
    record : Record
    time : bool
        Start with a ``time_s`` column: seconds from the first sample, ``i / fs`` (rounded to
        1 ns), so the sampling rate can be read off the file. :func:`read_csv` reads both forms.

    Returns
    -------
    str
        A header row (``time_s`` and :data:`LEADS`), then one row per sample; NaN as empty cells.
    """
    lines = [("time_s," if time else "") + ",".join(LEADS)]
    for i, row in enumerate(record.signals.tolist()):
        cells = ",".join("" if v != v else repr(v) for v in row)
        lines.append(f"{round(i / record.fs, 9)!r},{cells}" if time else cells)
    return "\n".join(lines) + "\n"


def write_csv(record: Record, path: str | Path, *, time: bool = True) -> Path:
    """Write a Record as CSV (:func:`csv_text`): ``time_s``, then the 12 leads in mV.

    Parameters
    ----------
    record : Record
        The record to write (give the sampling rate to :func:`read_csv` when reading it back).
    path : str or Path
        The output file; its folder is created if needed.
    time : bool
        Write the ``time_s`` column first (default).

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(record, time=time), encoding="utf-8")
    return path
