"""Any record file by its suffix, and the records below a set of paths."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ecgkit.errors import EcgkitError
from ecgkit.io.csv import read_csv
from ecgkit.io.record import Record
from ecgkit.io.wfdb import WFDB_SUFFIXES, header_path, read_wfdb

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
    if suffix in WFDB_SUFFIXES:
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
        elif suffix in WFDB_SUFFIXES and p.is_file():
            hea = header_path(p)
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
