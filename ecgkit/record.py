"""12-lead records: the one in-memory type every layer passes around, and its file IO.

A :class:`Record` always holds the 12 standard leads in standard order
(``I II III aVR aVL aVF V1..V6``), in millivolts, as a float64 array of shape
``(n_samples, 12)``. A lead the source did not have is all NaN; a sample that is not
valid is NaN.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
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


# ---------------------------------------------------------------------------------------------
# Lead names and header comments
# ---------------------------------------------------------------------------------------------

_LEAD_KEYS: dict[str, str] = {lead.casefold(): lead for lead in LEADS}
_LEAD_PREFIX = re.compile(r"^lead[\s_\-]*", re.IGNORECASE)
_MISSING_WORDS = frozenset({"", "nan", "none", "unknown", "n/a", "na", "null", "?", "-"})


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


def _parse_age(value: str) -> int | float | None:
    m = re.match(r"^\s*(\d+(?:\.\d+)?)", value)
    if m is None:
        return None
    age = float(m.group(1))
    return int(age) if age.is_integer() else age


def _parse_sex(value: str) -> str | None:
    v = value.strip()
    low = v.casefold()
    if low in _MISSING_WORDS:
        return None
    if low in ("m", "male", "man"):
        return "Male"
    if low in ("f", "female", "woman"):
        return "Female"
    return v


def parse_header_comments(comments: list[str]) -> dict[str, Any]:
    """Turn WFDB header comment lines into a metadata dictionary.

    Parameters
    ----------
    comments : list of str
        Comment lines, with or without the leading ``#`` (as ``wfdb`` returns them).

    Returns
    -------
    dict
        ``age`` (int or float; omitted when unknown), ``sex`` (``"Male"``/``"Female"`` or the
        given word), ``dx`` (list of SNOMED-CT codes as str), ``rx``/``hx``/``sx`` (str), and
        every other ``key: value`` line under its lower-cased key (the first occurrence wins).
        Lines without a ``key: value`` form are kept, in order, under ``comments``.
    """
    meta: dict[str, Any] = {}
    loose: list[str] = []
    for raw in comments:
        line = str(raw).strip().lstrip("#").strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        key = " ".join(key.split()).casefold()
        value = value.strip()
        if not sep or not key:
            loose.append(line)
            continue
        if not value or key in meta:
            continue  # section titles such as "Diagnose:"; repeated keys keep the first
        if key == "age":
            age = _parse_age(value)
            if age is not None:
                meta["age"] = age
        elif key == "sex":
            sex = _parse_sex(value)
            if sex is not None:
                meta["sex"] = sex
        elif key == "dx":
            codes = [c.strip() for c in re.split(r"[,;\s]+", value)]
            codes = [c for c in codes if c.casefold() not in _MISSING_WORDS]
            if codes:
                meta["dx"] = codes
        elif value[:1] in "{[" and value[-1:] in "}]":
            try:  # structured values (written as JSON by write_wfdb) come back as they were
                meta[key] = json.loads(value)
            except ValueError:
                meta[key] = value
        else:
            meta[key] = value
    if loose:
        meta["comments"] = loose
    return meta


# ---------------------------------------------------------------------------------------------
# Mapping channels onto the 12 leads
# ---------------------------------------------------------------------------------------------


def _map_channels(names: list[str], source: str) -> tuple[dict[int, int], list[str]]:
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


# ---------------------------------------------------------------------------------------------
# WFDB reading
# ---------------------------------------------------------------------------------------------

_WFDB_SUFFIXES = (".hea", ".dat", ".mat")
_UNIT_SCALE: dict[str, float] = {
    "mv": 1.0,
    "millivolt": 1.0,
    "millivolts": 1.0,
    "uv": 1e-3,
    "µv": 1e-3,
    "μv": 1e-3,
    "microvolt": 1e-3,
    "microvolts": 1e-3,
    "nv": 1e-6,
    "v": 1e3,
    "volt": 1e3,
    "volts": 1e3,
}


class _MissingSignalFileError(EcgkitError):
    """A header's signal file is absent (the uploader words this one differently)."""

    def __init__(self, header: Path, signal_file: str) -> None:
        self.header = header
        self.signal_file = signal_file
        super().__init__(
            f"{header}: signal file {signal_file} is missing; "
            "put it in the same folder as the header"
        )


def _header_path(path: Path) -> Path:
    if path.suffix.lower() in _WFDB_SUFFIXES:
        return path.with_suffix(".hea")
    return path.with_name(path.name + ".hea")


def _header_lines(text: str) -> list[str]:
    """Non-comment, non-blank lines of a header."""
    lines = []
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            lines.append(s)
    return lines


def _check_record_line(hea: Path, lines: list[str]) -> tuple[int, bool, list[str]]:
    """Validate the record line ourselves (wfdb silently defaults a bad fs to 250 Hz).

    Returns ``(n_sig, multi_segment, notes)``.
    """
    if not lines:
        raise EcgkitError(f"{hea}: empty WFDB header (no record line)")
    tokens = lines[0].split()
    if len(tokens) < 2:
        raise EcgkitError(
            f"{hea}: not a valid WFDB header: record line {lines[0][:60]!r} has no signal count"
        )
    multi = "/" in tokens[0]
    try:
        n_sig = int(tokens[1])
    except ValueError:
        raise EcgkitError(
            f"{hea}: not a valid WFDB header: number of signals {tokens[1][:20]!r} "
            "is not an integer"
        ) from None
    if n_sig <= 0:
        raise EcgkitError(f"{hea}: header declares {n_sig} signals; there is no ECG to read")
    notes: list[str] = []
    if len(tokens) < 3:
        notes.append("sampling rate missing from header; assumed the WFDB default 250 Hz")
    else:
        fs_text = tokens[2].split("/")[0]
        try:
            fs = float(fs_text)
        except ValueError:
            raise EcgkitError(
                f"{hea}: not a valid WFDB header: sampling rate {tokens[2][:20]!r} is not a number"
            ) from None
        if not np.isfinite(fs) or fs <= 0:
            raise EcgkitError(f"{hea}: sampling rate must be > 0 Hz, header says {fs_text}")
    return n_sig, multi, notes


def _units_given(signal_lines: list[str]) -> list[bool]:
    """Whether each signal line states its units (``gain/units``)."""
    return [len(t) >= 3 and "/" in t[2] for t in (line.split() for line in signal_lines)]


def _check_signal_files(hea: Path, header: Any, channels: list[int]) -> None:
    """Every file the chosen channels live in exists, in a known format, and is long enough."""
    from wfdb.io import _signal as wfdb_signal

    known = wfdb_signal.DAT_FMTS
    files: dict[str, list[int]] = {}
    for ch, fname in enumerate(header.file_name):
        files.setdefault(fname, []).append(ch)
    wanted = {header.file_name[ch] for ch in channels}
    for fname in sorted(wanted):
        chans = files[fname]
        fmt = str(header.fmt[chans[0]]) if header.fmt[chans[0]] is not None else ""
        if fmt not in known:
            raise EcgkitError(
                f"{hea}: unknown signal format {fmt!r} for {fname} "
                f"(supported WFDB formats: {', '.join(known)})"
            )
        if fname == "~":
            continue
        sig_path = hea.parent / fname
        if not sig_path.is_file():
            raise _MissingSignalFileError(hea, fname)
        sig_len = header.sig_len or 0
        if fmt in wfdb_signal.COMPRESSED_FMTS or sig_len <= 0:
            continue
        spf = sum(int(header.samps_per_frame[ch] or 1) for ch in chans)
        offset = int(header.byte_offset[chans[0]] or 0)
        need = offset + int(sig_len * spf * wfdb_signal.BYTES_PER_SAMPLE[fmt])
        size = sig_path.stat().st_size
        if size < need:
            raise EcgkitError(
                f"{sig_path}: signal file is truncated: {size} bytes, but header {hea.name} "
                f"needs {need} ({sig_len} samples x {len(chans)} channels, format {fmt})"
            )


def _iso_date_time(header: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if getattr(header, "base_date", None) is not None:
        out["date"] = header.base_date.isoformat()
    if getattr(header, "base_time", None) is not None:
        t = header.base_time
        out["time"] = t.isoformat() if t.microsecond else t.strftime("%H:%M:%S")
    return out


def read_wfdb(path: str | Path) -> Record:
    """Read a WFDB record (``.hea`` with ``.dat`` or MAT v4 ``.mat`` signals) as a Record.

    Parameters
    ----------
    path : str or Path
        The record path with or without ``.hea``, or the path of its ``.dat``/``.mat`` file.

    Returns
    -------
    Record
        The 12 leads in standard order, in mV; leads the file lacks are NaN. ``name`` is the
        file stem; ``metadata`` comes from the header comments (see
        :func:`parse_header_comments`) plus ``date``/``time`` from the record line.

    Raises
    ------
    EcgkitError
        The header or a signal file is missing, unreadable, truncated or inconsistent, or the
        record has none of the 12 standard leads.
    """
    import wfdb

    path = Path(path)
    hea = _header_path(path)
    if not hea.is_file():
        if path.suffix.lower() in (".dat", ".mat"):
            raise EcgkitError(
                f"{path}: header {hea.name} is missing; a WFDB record needs its .hea header "
                "in the same folder as the signal file"
            )
        raise EcgkitError(f"WFDB record not found: {hea} does not exist")
    try:
        text = hea.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise EcgkitError(f"{hea}: cannot read header ({exc.strerror or exc})") from None
    if "\x00" in text:
        raise EcgkitError(f"{hea}: not a WFDB header (binary content)")
    lines = _header_lines(text)
    n_sig, multi, notes = _check_record_line(hea, lines)
    base = str(hea.with_suffix(""))
    try:
        header = wfdb.rdheader(base)
    except Exception as exc:  # wfdb raises many types for malformed headers
        raise EcgkitError(f"{hea}: not a valid WFDB header ({exc})") from None

    units_given: list[bool] | None = None
    try:
        if multi:
            rec = wfdb.rdrecord(base, physical=True)
            names = list(rec.sig_name or [])
            mapping, map_notes = _map_channels(names, str(hea))
            channels = sorted(mapping)
            signal = np.asarray(rec.p_signal, dtype=np.float64)[:, channels]
            units = [rec.units[ch] if rec.units else None for ch in channels]
        else:
            signal_lines = lines[1 : 1 + n_sig]
            if len(signal_lines) < n_sig or not header.file_name:
                raise EcgkitError(
                    f"{hea}: header declares {n_sig} signals but has "
                    f"{len(signal_lines)} signal lines"
                )
            names = list(header.sig_name or [None] * n_sig)
            mapping, map_notes = _map_channels(names, str(hea))
            channels = sorted(mapping)
            _check_signal_files(hea, header, channels)
            given = _units_given(signal_lines)
            units_given = [given[ch] for ch in channels]
            rec = wfdb.rdrecord(base, channels=channels, physical=True)
            signal = np.asarray(rec.p_signal, dtype=np.float64)
            units = list(rec.units or [None] * len(channels))
    except EcgkitError:
        raise
    except Exception as exc:
        raise EcgkitError(f"{hea}: cannot read the record's signals ({exc})") from None
    notes.extend(map_notes)

    if signal.ndim != 2 or signal.shape[0] == 0:
        raise EcgkitError(f"{hea}: record has no samples")
    out = np.full((signal.shape[0], len(LEADS)), np.nan)
    assumed: list[str] = []
    unknown: dict[str, list[str]] = {}
    for k, ch in enumerate(channels):
        lead = LEADS[mapping[ch]]
        unit = (units[k] or "").strip()
        scale = _UNIT_SCALE.get(unit.casefold())
        if not unit or (units_given is not None and not units_given[k]):
            assumed.append(lead)
            scale = 1.0
        elif scale is None:
            unknown.setdefault(unit, []).append(lead)
            scale = 1.0
        out[:, mapping[ch]] = signal[:, k] * scale
    if assumed:
        which = "all leads" if len(assumed) == len(channels) else ", ".join(assumed)
        notes.append(f"units missing in header for {which}; assumed mV")
    for unit, leads in unknown.items():
        notes.append(f"unknown units {unit!r} for {', '.join(leads)}; assumed mV")

    metadata = parse_header_comments(list(header.comments or []))
    metadata.update(_iso_date_time(header))
    return Record(signals=out, fs=float(header.fs), name=hea.stem, metadata=metadata, notes=notes)


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
        raise EcgkitError(f"{where}a CSV file does not say its sampling rate; give fs in Hz "
                          "(e.g. 500)")  # fmt: skip
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
    mapping, notes = _map_channels(names, str(path))
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


def write_csv(record: Record, path: str | Path) -> Path:
    """Write a Record as CSV: a header row of :data:`LEADS`, values in mV, NaN as empty cells.

    Parameters
    ----------
    record : Record
        The record to write (the sampling rate is not stored; give it to :func:`read_csv`).
    path : str or Path
        The output file; its folder is created if needed.

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(LEADS)]
    for row in record.signals.tolist():
        lines.append(",".join("" if v != v else repr(v) for v in row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Dispatch and discovery
# ---------------------------------------------------------------------------------------------


def read_record(path: str | Path, *, fs: float | None = None) -> Record:
    """Read a record from a WFDB header/signal file or a CSV file.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (needs ``fs``), or a WFDB record: ``.hea``, ``.dat``, ``.mat`` or the path
        without extension.
    fs : float, optional
        Sampling rate in Hz for CSV files; ignored for WFDB records (their header has it).

    Returns
    -------
    Record
        ``name`` is the file stem.

    Raises
    ------
    EcgkitError
        The file does not exist, has an unsupported type, or cannot be read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if not path.is_file():
            raise EcgkitError(f"file not found: {path}")
        return read_csv(path, fs=fs)  # type: ignore[arg-type]  # read_csv reports None
    if suffix in _WFDB_SUFFIXES:
        if not path.exists():
            raise EcgkitError(f"file not found: {path}")
        return read_wfdb(path)
    if path.with_name(path.name + ".hea").is_file():
        return read_wfdb(path)
    if path.is_file():
        raise EcgkitError(
            f"{path}: unsupported file type {suffix or '(no extension)'}; expected a WFDB "
            "record (.hea with .dat or .mat) or a .csv file"
        )
    raise EcgkitError(f"file not found: {path} (nor {path.name}.hea)")


def find_records(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand command-line inputs into the record files to read.

    Parameters
    ----------
    inputs : iterable of str or Path
        Record paths (with or without ``.hea``, or the ``.dat``/``.mat`` file), ``.csv`` files,
        and folders (every ``.hea`` below them, recursively).

    Returns
    -------
    list of Path
        ``.hea`` or ``.csv`` paths, in input order, folders expanded in sorted order, without
        duplicates.

    Raises
    ------
    EcgkitError
        An input does not exist, is not a record, or a folder holds no ``.hea`` file.
    """
    found: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            found.append(p)

    for item in inputs:
        p = Path(item)
        suffix = p.suffix.lower()
        if p.is_dir():
            headers = sorted(h for h in p.rglob("*.hea") if h.is_file())
            if not headers:
                raise EcgkitError(f"no WFDB records (.hea files) found in folder {p}")
            for h in headers:
                add(h)
        elif suffix == ".csv" and p.is_file():
            add(p)
        elif suffix in _WFDB_SUFFIXES and p.is_file():
            hea = _header_path(p)
            if not hea.is_file():
                raise EcgkitError(f"{p}: header {hea.name} is missing next to it")
            add(hea)
        elif p.with_name(p.name + ".hea").is_file():
            add(p.with_name(p.name + ".hea"))
        elif p.exists():
            raise EcgkitError(
                f"{p}: not an ECG record; expected a WFDB record (.hea), a .csv file or a folder"
            )
        else:
            raise EcgkitError(f"input not found: {p}")
    return found


# ---------------------------------------------------------------------------------------------
# Uploads (web app)
# ---------------------------------------------------------------------------------------------

#: Largest total uncompressed size of the zip archives in one upload.
MAX_UNZIPPED_BYTES = 500 * 1024 * 1024
#: Most files one zip archive may hold.
MAX_ZIP_MEMBERS = 20_000


def _safe_parts(name: str) -> tuple[str, ...] | None:
    """Relative path parts of an archive member, or None where it could escape the folder."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return None
    parts = tuple(p for p in norm.split("/") if p not in ("", "."))
    if not parts or any(p == ".." for p in parts):
        return None
    return parts


def _extract_zip(name: str, data: bytes, dest: Path, budget: list[int], errors: list[str]) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        errors.append(f"{name}: not a valid zip archive")
        return
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            errors.append(
                f"{name}: archive holds {len(members)} files, more than the limit of "
                f"{MAX_ZIP_MEMBERS}; upload fewer records at a time"
            )
            return
        declared = sum(m.file_size for m in members)
        if declared > budget[0]:
            errors.append(
                f"{name}: archive expands to {declared / 2**20:.0f} MB, more than the "
                f"{MAX_UNZIPPED_BYTES / 2**20:.0f} MB limit; upload fewer records at a time"
            )
            return
        unsafe: list[str] = []
        for m in members:
            parts = _safe_parts(m.filename)
            if parts is None:
                unsafe.append(m.filename)
                continue
            if parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts):
                continue
            target = dest.joinpath(*parts)
            if not target.resolve().is_relative_to(dest.resolve()):
                unsafe.append(m.filename)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(m) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        budget[0] -= len(chunk)
                        if budget[0] < 0:
                            errors.append(
                                f"{name}: archive expands to more than the "
                                f"{MAX_UNZIPPED_BYTES / 2**20:.0f} MB limit; "
                                "upload fewer records at a time"
                            )
                            return
                        out.write(chunk)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
                errors.append(f"{name}: cannot extract {m.filename} ({exc})")
        if unsafe:
            errors.append(
                f"{name}: skipped {len(unsafe)} member(s) with unsafe paths "
                f"({', '.join(unsafe[:3])})"
            )


def records_from_uploads(
    files: Mapping[str, bytes], *, csv_fs: float | None = None
) -> tuple[list[Record], list[str]]:
    """Read the records in a set of uploaded files (the web app's uploader).

    Parameters
    ----------
    files : mapping of str to bytes
        File name -> content: ``.hea`` with its ``.dat``/``.mat``, ``.csv``, or ``.zip``
        archives holding any of these (subfolders allowed). Folders in the names are dropped.
    csv_fs : float, optional
        Sampling rate in Hz for the CSV files.

    Returns
    -------
    records : list of Record
        The records that could be read, ordered by file name.
    errors : list of str
        One human-readable message per file or record that could not be read. This function
        never raises for bad input.
    """
    records: list[Record] = []
    errors: list[str] = []
    budget = [MAX_UNZIPPED_BYTES]
    with tempfile.TemporaryDirectory(prefix="ecgkit-upload-") as tmp:
        root = Path(tmp)
        for raw_name, data in sorted(files.items()):
            name = PurePosixPath(str(raw_name).replace("\\", "/")).name
            if name in ("", ".", ".."):
                errors.append(f"{raw_name!r}: invalid file name")
                continue
            try:
                if name.lower().endswith(".zip"):
                    _extract_zip(name, bytes(data), root / name, budget, errors)
                else:
                    (root / name).write_bytes(bytes(data))
            except Exception as exc:  # never let a bad upload crash the app
                errors.append(f"{name}: cannot store the upload ({type(exc).__name__}: {exc})")

        def show(p: Path) -> str:
            return p.relative_to(root).as_posix()

        candidates = sorted(
            (p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in (".hea", ".csv")),
            key=show,
        )
        referenced: set[Path] = set()
        for p in candidates:
            try:
                if p.suffix.lower() == ".hea":
                    for line in _header_lines(p.read_text(encoding="utf-8", errors="replace"))[1:]:
                        referenced.add(p.parent / line.split()[0])
                    referenced.add(p.with_suffix(".dat"))
                    referenced.add(p.with_suffix(".mat"))
                    records.append(read_wfdb(p))
                else:
                    records.append(read_csv(p, fs=csv_fs))  # type: ignore[arg-type]
            except _MissingSignalFileError as exc:
                errors.append(
                    f"{show(p)}: signal file {exc.signal_file} is missing; "
                    "upload it with the header"
                )
            except EcgkitError as exc:
                errors.append(str(exc).replace(str(root) + os.sep, ""))
            except Exception as exc:  # never let a bad upload crash the app
                errors.append(f"{show(p)}: cannot read ({type(exc).__name__}: {exc})")
        for p in sorted(root.rglob("*"), key=show):
            if p.is_file() and p.suffix.lower() in (".dat", ".mat") and p not in referenced:
                errors.append(
                    f"{show(p)}: header {p.with_suffix('.hea').name} is missing; "
                    "upload it with the signal file"
                )
        if not candidates and not errors:
            errors.append(
                "no ECG records found in the upload (expected .hea with .dat or .mat, .csv, "
                "or a .zip of these)"
            )
    return records, errors


# ---------------------------------------------------------------------------------------------
# WFDB writing
# ---------------------------------------------------------------------------------------------

_INT16_MAX = 32767
_WFDB_NAME = re.compile(r"^[-\w]+$", re.ASCII)


def _header_comments(metadata: Mapping[str, Any], skip: set[str]) -> list[str]:
    def clean(value: Any) -> str:
        if isinstance(value, dict):
            return json.dumps(value, separators=(",", ":"), sort_keys=True)
        if isinstance(value, (list, tuple)):
            if any(isinstance(v, (dict, list, tuple)) for v in value):
                return json.dumps(value, separators=(",", ":"))
            value = ",".join(str(v) for v in value)
        return " ".join(str(value).split())

    lines: list[str] = []
    for key, label in (("age", "Age"), ("sex", "Sex"), ("dx", "Dx"), ("rx", "Rx"),
                       ("hx", "Hx"), ("sx", "Sx")):  # fmt: skip
        if metadata.get(key) is not None:
            lines.append(f"{label}: {clean(metadata[key])}")
    for key, value in metadata.items():
        if key in skip or key in ("age", "sex", "dx", "rx", "hx", "sx") or value is None:
            continue
        if key == "comments" and isinstance(value, (list, tuple)):
            lines.extend(clean(v).replace(":", " -") for v in value if clean(v))
            continue
        k = " ".join(str(key).replace(":", " ").split())
        if k:
            lines.append(f"{k}: {clean(value)}")
    return lines


def _gain_for(peak: float) -> float:
    """Largest ADC gain (adu/mV) not above 1000 at which ``peak`` mV fits in int16."""
    if peak * 1000.0 <= _INT16_MAX:
        return 1000.0
    gain = _INT16_MAX / peak
    digits = 3 - math.floor(math.log10(gain))  # keep 4 significant digits, rounded down
    return math.floor(gain * 10**digits) / 10**digits


def write_wfdb(record: Record, directory: str | Path, name: str | None = None) -> Path:
    """Write a Record as a WFDB record: ``NAME.hea`` + ``NAME.dat`` (format 16, mV).

    Parameters
    ----------
    record : Record
        The record. Gain is 1000 adu/mV (1 uV resolution); a lead whose values would overflow
        16 bits gets the largest gain that fits, and a note is added to ``record.notes``.
        NaN samples are written as the WFDB invalid value (-32768) and read back as NaN.
    directory : str or Path
        Output folder (created if needed).
    name : str, optional
        Record name (letters, digits, ``-``, ``_``); default ``record.name`` with other
        characters replaced by ``_``.

    Returns
    -------
    Path
        The header path. Metadata goes into the header comments (``# Age:``, ``# Sex:``,
        ``# Dx:``, ``# key: value``) and ``date``/``time`` into the record line, so
        :func:`read_wfdb` gives it back. The bytes depend only on the input.
    """
    import wfdb

    if name is None:
        name = re.sub(r"[^-\w]", "_", record.name, flags=re.ASCII) or "record"
    elif not _WFDB_NAME.match(name):
        raise EcgkitError(
            f"invalid WFDB record name {name!r}: use only letters, digits, '-' and '_'"
        )
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EcgkitError(f"cannot create output folder {directory} ({exc.strerror})") from None

    sig = record.signals
    finite = np.isfinite(sig)
    gains: list[float] = []
    digital = np.full(sig.shape, -32768, dtype=np.int64)
    reduced: list[str] = []
    for j, lead in enumerate(LEADS):
        col = sig[:, j]
        ok = finite[:, j]
        peak = float(np.max(np.abs(col[ok]))) if ok.any() else 0.0
        gain = _gain_for(peak)
        if gain <= 0:
            raise EcgkitError(f"record {record.name!r}: lead {lead} values are too large")
        if gain != 1000.0:
            reduced.append(f"{lead} ({gain:g})")
        digital[ok, j] = np.clip(np.round(col[ok] * gain), -_INT16_MAX, _INT16_MAX)
        gains.append(gain)
    if reduced:
        note = (
            "written with reduced ADC gain (adu/mV) where 1000/mV overflows 16 bits: "
            + ", ".join(reduced)
        )
        if note not in record.notes:
            record.notes.append(note)

    meta = record.metadata
    base_date = base_time = None
    skip: set[str] = set()
    try:
        if meta.get("time") is not None:
            base_time = dt.time.fromisoformat(str(meta["time"]))
            skip.add("time")
            if meta.get("date") is not None:
                base_date = dt.date.fromisoformat(str(meta["date"]))
                skip.add("date")
    except ValueError:
        base_date = base_time = None  # not ISO: carried as plain comments instead
        skip = set()

    fs: float | int = int(record.fs) if float(record.fs).is_integer() else record.fs
    try:
        wrec = wfdb.Record(
            record_name=name,
            n_sig=len(LEADS),
            fs=fs,
            sig_len=record.n_samples,
            base_time=base_time,
            base_date=base_date,
            file_name=[f"{name}.dat"] * len(LEADS),
            fmt=["16"] * len(LEADS),
            adc_gain=gains,
            baseline=[0] * len(LEADS),
            units=["mV"] * len(LEADS),
            adc_res=[16] * len(LEADS),
            adc_zero=[0] * len(LEADS),
            sig_name=list(LEADS),
            d_signal=digital,
            comments=_header_comments(meta, skip),
        )
        wrec.set_d_features()  # init_value, checksum from the digital samples
        wrec.set_defaults()
        wrec.wrsamp(write_dir=str(directory))
    except OSError as exc:
        raise EcgkitError(f"cannot write record {name} in {directory} ({exc.strerror})") from None
    return directory / f"{name}.hea"
