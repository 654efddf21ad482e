"""Records from uploaded files (the web app): loose files and zips, with size guards."""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from ecgkit.errors import EcgkitError
from ecgkit.io.csv import read_csv
from ecgkit.io.record import Record
from ecgkit.io.wfdb import MissingSignalFileError, header_lines, read_wfdb

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
                    for line in header_lines(p.read_text(encoding="utf-8", errors="replace"))[1:]:
                        referenced.add(p.parent / line.split()[0])
                    referenced.add(p.with_suffix(".dat"))
                    referenced.add(p.with_suffix(".mat"))
                    records.append(read_wfdb(p))
                else:
                    records.append(read_csv(p, fs=csv_fs))  # type: ignore[arg-type]
            except MissingSignalFileError as exc:
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
