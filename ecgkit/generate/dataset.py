"""Datasets at scale: the run manifest and the record-level split.

A generate run keeps ``OUT/manifest.csv``: one row per image (see :data:`COLUMNS`), appended by
the main process as results come back (one line per row, flushed), and rewritten atomically in
plan order at the end of the run, so a finished folder's manifest does not depend on the number
of workers or on how often the run was stopped and resumed. On a resumed run only rows whose
files are complete on disk are trusted; failed rows are tried again.

With ``--split`` the run also writes ``OUT/split.csv`` (``record,split``) and fills the
manifest's ``split`` column. A record's split depends only on the run seed and the record's
name (a hash), so all its images go to the same split, and it never changes when records are
added to the set.

The Dask executor lives with the process-pool runner, in :mod:`ecgkit.parallel`
(:func:`~ecgkit.parallel.dask_executor`, also importable from here).
"""

from __future__ import annotations

import csv
import io
import os
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError
from ecgkit.parallel import dask_executor as dask_executor  # re-exported: it used to live here

MANIFEST = "manifest.csv"
SPLIT_FILE = "split.csv"

#: Manifest columns, in file order.
COLUMNS: tuple[str, ...] = (
    "name",  # the sample's file stem (NAME.png, NAME.json, ...)
    "record",  # the record's own name: the key of the split
    "source",  # where the record was read from (absolute path, or synth:N)
    "index",  # image index among this record's images
    "seed",  # run seed
    "preset",  # preset name
    "status",  # written | failed
    "message",  # why it failed (one line), empty otherwise
    "layout",  # drawn layout name, e.g. 3x4+II
    "paper",  # letter | a4
    "orientation",  # landscape | portrait
    "dpi",  # drawn resolution of the page
    "format",  # png | jpg
    "mask",  # 1 if NAME-mask.png was written
    "artifacts",  # applied artifacts in order, ';'-separated
    "rotation_deg",  # the rotation artifact's angle (0 when not applied)
    "split",  # train | val | test (empty without --split)
)

SPLIT_NAMES = {2: ("train", "test"), 3: ("train", "val", "test")}


def parse_split(text: str | Sequence[float] | None) -> tuple[float, ...] | None:
    """Parse ``--split``: two or three fractions (train, [val,] test) that sum to 1.

    Parameters
    ----------
    text : str or sequence of float or None
        ``"0.8,0.1,0.1"``, ``(0.8, 0.2)``, or ``None`` for no split.

    Returns
    -------
    tuple of float or None
    """
    if text is None:
        return None
    try:
        parts = [float(v) for v in (text.split(",") if isinstance(text, str) else text)]
    except ValueError:
        raise EcgkitError(f"--split {text!r}: give fractions like 0.8,0.1,0.1") from None
    if len(parts) not in SPLIT_NAMES or any(not 0 <= p <= 1 for p in parts):
        raise EcgkitError(
            f"--split {text!r}: give 2 or 3 fractions between 0 and 1 "
            "(train,test or train,val,test)"
        )
    if abs(sum(parts) - 1) > 1e-6:
        raise EcgkitError(f"--split {text!r}: the fractions sum to {sum(parts):g}, not 1")
    return tuple(parts)


def assign_split(record: str, seed: int, fractions: Sequence[float]) -> str:
    """The split of a record: a uniform draw from (seed, record name) against the fractions.

    Parameters
    ----------
    record : str
        The record's name (every image of it gets the same answer).
    seed : int
        The run seed.
    fractions : sequence of float
        From :func:`parse_split`.

    Returns
    -------
    str
        ``train``, ``val`` or ``test``.
    """
    u = np.random.default_rng([int(seed), zlib.crc32(record.encode()), 0x5B17]).random()
    names = SPLIT_NAMES[len(fractions)]
    edge = 0.0
    for name, frac in zip(names, fractions, strict=True):
        edge += frac
        if u < edge:
            return name
    return next(n for n, f in zip(names[::-1], fractions[::-1], strict=True) if f > 0)


def write_split(
    out_dir: str | Path, records: Iterable[str], seed: int, fractions: Sequence[float]
) -> Path:
    """Write ``split.csv`` (``record,split``, sorted by record) atomically.

    Parameters
    ----------
    out_dir : str or Path
    records : iterable of str
        Record names.
    seed : int
    fractions : sequence of float

    Returns
    -------
    Path
        The file written.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("record", "split"))
    for rec in sorted(set(records)):
        w.writerow((rec, assign_split(rec, seed, fractions)))
    return _atomic_write(Path(out_dir) / SPLIT_FILE, buf.getvalue())


def read_split(path: str | Path) -> dict[str, str]:
    """Read a ``split.csv``: ``{record: split}``.

    Parameters
    ----------
    path : str or Path
        The file, or the folder holding it.

    Returns
    -------
    dict
    """
    path = Path(path)
    path = path / SPLIT_FILE if path.is_dir() else path
    with path.open(newline="") as f:
        return {row["record"]: row["split"] for row in csv.DictReader(f)}


def sample_info(parameters: Mapping[str, Any]) -> dict[str, str]:
    """The manifest's sampling columns, from a sample's ``parameters`` (page or JSON).

    Parameters
    ----------
    parameters : mapping
        ``Page.parameters`` or ``NAME.json["parameters"]``.

    Returns
    -------
    dict
        ``preset``, ``layout``, ``paper``, ``orientation``, ``dpi``, ``format``, ``mask``,
        ``artifacts`` and ``rotation_deg`` as strings.
    """
    drawn = parameters.get("drawn", {})
    lay, out = drawn.get("layout", {}), drawn.get("output", {})
    applied = parameters.get("artifacts", [])
    rotation = next(
        (a.get("params", {}).get("angle_deg", 0) for a in applied if a.get("name") == "rotation"), 0
    )
    return {
        "preset": str(parameters.get("preset", "")),
        "layout": str(lay.get("name", "3x4+II")),
        "paper": str(lay.get("paper", "letter")),
        "orientation": str(lay.get("orientation", "landscape")),
        "dpi": f"{float(lay.get('dpi', 200)):g}",
        "format": str(out.get("format", "png")),
        "mask": "1" if out.get("mask") else "0",
        "artifacts": ";".join(str(a.get("name")) for a in applied),
        "rotation_deg": f"{float(rotation):g}",
    }


def _atomic_write(path: Path, text: str) -> Path:
    part = path.with_name(f".{path.name}.part")
    with part.open("w", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)
    return path


def _one_line(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


class Manifest:
    """``OUT/manifest.csv``: read (tolerating a cut-off last line), append row by row, rewrite.

    Parameters
    ----------
    out_dir : str or Path
        The run's output folder.
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.path = Path(out_dir) / MANIFEST
        self._file: io.TextIOBase | None = None
        self._writer: Any = None

    def read(self) -> dict[str, dict[str, str]]:
        """Rows by sample name; a last line without its newline (a killed run) is dropped.

        Returns
        -------
        dict
            ``{name: row}``, the last row of a name winning.
        """
        if not self.path.is_file():
            return {}
        with self.path.open(newline="") as f:
            text = f.read()
        if not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]
        rows: dict[str, dict[str, str]] = {}
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if reader.fieldnames is None or "name" not in reader.fieldnames:
            return {}
        for row in reader:
            if None in row or any(v is None for v in row.values()) or not row.get("name"):
                continue  # a malformed line: not trusted
            rows[row["name"]] = {c: row.get(c, "") for c in COLUMNS}
        return rows

    def rewrite(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Replace the manifest with ``rows`` atomically (temporary file, then rename).

        Parameters
        ----------
        rows : iterable of mapping
        """
        buf = io.StringIO()
        w = csv.DictWriter(buf, COLUMNS, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow({c: _one_line(row.get(c, "")) for c in COLUMNS})
        _atomic_write(self.path, buf.getvalue())

    def __enter__(self) -> Manifest:
        """Open for appending (writes the header if the file is new)."""
        new = not self.path.is_file() or self.path.stat().st_size == 0
        self._file = self.path.open("a", newline="")
        self._writer = csv.DictWriter(
            self._file, COLUMNS, lineterminator="\n", extrasaction="ignore"
        )
        if new:
            self._writer.writeheader()
        return self

    def append(self, row: Mapping[str, Any]) -> None:
        """Append one row and flush it to the operating system.

        Parameters
        ----------
        row : mapping
        """
        assert self._writer is not None and self._file is not None, "use `with manifest:`"
        self._writer.writerow({c: _one_line(row.get(c, "")) for c in COLUMNS})
        self._file.flush()

    def __exit__(self, *exc: object) -> None:
        """Close the appending file."""
        if self._file is not None:
            self._file.close()
        self._file = self._writer = None


def read_manifest(path: str | Path) -> list[dict[str, str]]:
    """Read a run's manifest rows (in file order).

    Parameters
    ----------
    path : str or Path
        ``manifest.csv`` or the folder holding it.

    Returns
    -------
    list of dict
    """
    path = Path(path)
    return list(Manifest(path if path.is_dir() else path.parent).read().values())
