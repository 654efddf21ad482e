"""Writing a generated sample to disk (atomically) or into a zip.

A sample ``NAME`` is ``NAME.png`` (or ``.jpg``), ``NAME.json`` (ground truth and parameters),
``NAME.hea``/``NAME.dat`` (the plotted signal, NaN where not on the page) and, on request,
``NAME-mask.png`` (0 background, k = ink of lead k in standard order).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np

from ecgkit.errors import EcgkitError
from ecgkit.generate.render import Page
from ecgkit.io import write_wfdb

IMAGE_FORMATS = ("png", "jpg")


def encode_image(image: np.ndarray, fmt: str = "png", *, jpeg_quality: int = 95) -> bytes:
    """Encode an RGB (or single-channel) uint8 image as PNG or JPEG bytes.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` RGB or ``(H, W)`` uint8.
    fmt : str
        ``"png"`` or ``"jpg"``.
    jpeg_quality : int
        1 to 100.

    Returns
    -------
    bytes
    """
    if fmt not in IMAGE_FORMATS:
        raise EcgkitError(f"unknown image format {fmt!r}; valid: {', '.join(IMAGE_FORMATS)}")
    arr = image[:, :, ::-1] if image.ndim == 3 else image
    if fmt == "png":
        # the "up" filter at level 1: about twice as fast as the default adaptive filtering
        params = [cv2.IMWRITE_PNG_COMPRESSION, 1]
        if hasattr(cv2, "IMWRITE_PNG_FILTER"):
            params += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP]
    else:
        params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]
    ok, buf = cv2.imencode("." + fmt, np.ascontiguousarray(arr), params)
    if not ok:  # pragma: no cover - cv2 only fails on impossible input
        raise EcgkitError(f"could not encode the image as {fmt}")
    return buf.tobytes()


def sample_json(page: Page) -> bytes:
    """The sample's JSON (compact, deterministic) as bytes."""
    return json.dumps(page.to_json(), separators=(",", ":"), allow_nan=False).encode()


def sample_files(name: str, *, image_format: str = "png", mask: bool = False) -> list[str]:
    """File names a sample ``name`` consists of; the JSON comes last (it marks completion)."""
    files = [f"{name}.{image_format}", f"{name}.hea", f"{name}.dat"]
    if mask:
        files.append(f"{name}-mask.png")
    return files + [f"{name}.json"]


def is_complete(
    out_dir: str | Path, name: str, *, image_format: str = "png", mask: bool = False
) -> bool:
    """Whether every file of sample ``name`` is already in ``out_dir``."""
    out = Path(out_dir)
    return all(
        (out / f).is_file() for f in sample_files(name, image_format=image_format, mask=mask)
    )


def _sample_payload(
    page: Page, name: str, image_format: str, jpeg_quality: int, mask: bool, tmp: Path
) -> dict[str, bytes | Path]:
    payload: dict[str, bytes | Path] = {
        f"{name}.{image_format}": encode_image(page.image, image_format, jpeg_quality=jpeg_quality),
    }
    write_wfdb(page.plotted_record(), tmp, name)
    payload[f"{name}.hea"] = tmp / f"{name}.hea"
    payload[f"{name}.dat"] = tmp / f"{name}.dat"
    if mask:
        payload[f"{name}-mask.png"] = encode_image(page.mask, "png")
    payload[f"{name}.json"] = sample_json(page)
    return payload


def write_sample(
    page: Page,
    out_dir: str | Path,
    name: str,
    *,
    image_format: str = "png",
    jpeg_quality: int = 95,
    mask: bool = False,
) -> list[Path]:
    """Write a sample's files; each appears whole or not at all (temp file, then rename).

    The JSON is renamed into place last, so a sample whose JSON exists is complete.

    Parameters
    ----------
    page : Page
        The rendered page.
    out_dir : str or Path
        Output folder (created if needed).
    name : str
        Sample name (file stem).
    image_format : str
        ``"png"`` or ``"jpg"``.
    jpeg_quality : int
        JPEG quality.
    mask : bool
        Also write ``NAME-mask.png``.

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out))
    try:
        payload = _sample_payload(page, name, image_format, jpeg_quality, mask, tmp)
        staged = []
        for fname, content in payload.items():
            part = tmp / (fname + ".part")
            if isinstance(content, Path):
                content.rename(part)
            else:
                part.write_bytes(content)
            staged.append((part, out / fname))
        written = []
        for part, final in staged:
            os.replace(part, final)
            written.append(final)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_sample_to_zip(
    zf: zipfile.ZipFile,
    page: Page,
    name: str,
    *,
    image_format: str = "png",
    jpeg_quality: int = 95,
    mask: bool = False,
) -> None:
    """Add a sample's files to an open zip archive (fixed timestamps: same page, same bytes).

    Parameters
    ----------
    zf : zipfile.ZipFile
        Open for writing.
    page : Page
    name : str
    image_format : str
    jpeg_quality : int
        As :func:`write_sample` (give the preset's, so the files equal a CLI run's).
    mask : bool
    """
    with tempfile.TemporaryDirectory() as tmp:
        payload = _sample_payload(page, name, image_format, jpeg_quality, mask, Path(tmp))
        for fname, content in payload.items():
            data = content.read_bytes() if isinstance(content, Path) else content
            info = zipfile.ZipInfo(fname, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


def sample_zip(
    page: Page,
    name: str,
    *,
    image_format: str = "png",
    jpeg_quality: int = 95,
    mask: bool = False,
) -> bytes:
    """All of a sample's files in one zip archive (for downloads).

    Parameters
    ----------
    page : Page
    name : str
    image_format : str
    jpeg_quality : int
    mask : bool

    Returns
    -------
    bytes
        The zip archive.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        write_sample_to_zip(
            zf, page, name, image_format=image_format, jpeg_quality=jpeg_quality, mask=mask
        )
    return buf.getvalue()
