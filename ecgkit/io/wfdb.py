"""WFDB records: reading (``.hea`` with ``.dat`` or ``.mat``) and writing, header comments."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError
from ecgkit.io.record import LEADS, MISSING_WORDS, Record, map_channels


def _parse_age(value: str) -> int | float | None:
    m = re.match(r"^\s*(\d+(?:\.\d+)?)", value)
    if m is None:
        return None
    age = float(m.group(1))
    return int(age) if age.is_integer() else age


def _parse_sex(value: str) -> str | None:
    v = value.strip()
    low = v.casefold()
    if low in MISSING_WORDS:
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
            codes = [c for c in codes if c.casefold() not in MISSING_WORDS]
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
# WFDB reading
# ---------------------------------------------------------------------------------------------

WFDB_SUFFIXES = (".hea", ".dat", ".mat")
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


class MissingSignalFileError(EcgkitError):
    """A header's signal file is absent (the uploader words this one differently)."""

    def __init__(self, header: Path, signal_file: str) -> None:
        self.header = header
        self.signal_file = signal_file
        super().__init__(
            f"{header}: signal file {signal_file} is missing; "
            "put it in the same folder as the header"
        )


#: Bytes per sample of each WFDB signal format that the wfdb package reads, from the WFDB
#: format specification ("signal(5)"); None for the FLAC-compressed formats, whose size says
#: nothing. Our own table, so that we do not reach into wfdb's private ``_signal`` module.
BYTES_PER_SAMPLE: dict[str, float | None] = {
    "8": 1,
    "16": 2,
    "24": 3,
    "32": 4,
    "61": 2,
    "80": 1,
    "160": 2,
    "212": 1.5,
    "310": 4 / 3,
    "311": 4 / 3,
    "508": None,
    "516": None,
    "524": None,
}


def header_path(path: Path) -> Path:
    if path.suffix.lower() in WFDB_SUFFIXES:
        return path.with_suffix(".hea")
    return path.with_name(path.name + ".hea")


def header_lines(text: str) -> list[str]:
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
    known = tuple(BYTES_PER_SAMPLE)
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
            raise MissingSignalFileError(hea, fname)
        sig_len = header.sig_len or 0
        if BYTES_PER_SAMPLE[fmt] is None or sig_len <= 0:
            continue
        spf = sum(int(header.samps_per_frame[ch] or 1) for ch in chans)
        offset = int(header.byte_offset[chans[0]] or 0)
        need = offset + int(sig_len * spf * BYTES_PER_SAMPLE[fmt])
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
    hea = header_path(path)
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
    lines = header_lines(text)
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
            mapping, map_notes = map_channels(names, str(hea))
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
            mapping, map_notes = map_channels(names, str(hea))
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
    for key, label in (
        ("age", "Age"),
        ("sex", "Sex"),
        ("dx", "Dx"),
        ("rx", "Rx"),
        ("hx", "Hx"),
        ("sx", "Sx"),
    ):
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
