"""Reading the images the digitizer is given, and a cheap check that they hold an ECG.

:func:`load_image` turns a path, encoded bytes, a file-like object or an array into RGB uint8
``(H, W, 3)``: PNG, JPEG, BMP, TIFF (first frame) through Pillow, and the first page of a PDF
rendered at :data:`PDF_DPI` with pypdfium2. Anything it cannot or should not read (empty,
truncated, unknown format, too large, too small, an encrypted PDF...) raises one
:class:`~ecgkit.errors.EcgkitError` that names the file and says what to do.
:func:`looks_like_ecg` says whether an image plausibly shows an ECG (a periodic grid or long
thin trace-like lines), so a photo of a cat is refused before the digitizer runs.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ecgkit.errors import EcgkitError

#: Largest file read, in bytes.
MAX_FILE_BYTES = 200 * 1024 * 1024
#: Largest image decoded, in pixels (checked from the header, before decoding).
MAX_PIXELS = 60_000_000
#: Smallest short side accepted, in pixels.
MIN_SIDE = 300
#: Resolution at which the first page of a PDF is rendered.
PDF_DPI = 200.0
#: File name suffixes of the images the digitizer reads (folders are searched for these).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pdf")

_PIL_FORMATS = {"PNG", "JPEG", "MPO", "BMP", "DIB", "TIFF"}
_WHAT_TO_DO = "give a PNG, JPEG, BMP, TIFF or PDF of the ECG"


def _source_name(source: Any, name: str | None) -> str:
    if name:
        return str(name)
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name or str(source)
    file_name = getattr(source, "name", None)
    if isinstance(file_name, str) and file_name:
        return Path(file_name).name
    return "the image"


def _read_bytes(source: Any, label: str) -> bytes:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise EcgkitError(f"{label}: no such file ({path})")
        if not path.is_file():
            raise EcgkitError(f"{label}: not a file ({path}); give an image file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise EcgkitError(
                f"{label}: file is {size / 2**20:.0f} MB, more than the "
                f"{MAX_FILE_BYTES / 2**20:.0f} MB limit; scan or export it at a lower resolution"
            )
        try:
            return path.read_bytes()
        except OSError as exc:
            raise EcgkitError(f"{label}: cannot read the file ({exc.strerror})") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        try:
            data = source.read(MAX_FILE_BYTES + 1)
        except Exception as exc:  # a broken stream is the user's input, not our bug
            raise EcgkitError(f"{label}: cannot read the upload ({exc})") from None
        if isinstance(data, str):
            raise EcgkitError(f"{label}: open the file in binary mode ('rb')")
        data = bytes(data)
    else:
        raise EcgkitError(
            f"{label}: cannot read an image from {type(source).__name__}; give a path, bytes, "
            "a binary file object or a numpy array"
        )
    if len(data) > MAX_FILE_BYTES:
        raise EcgkitError(
            f"{label}: file is over the {MAX_FILE_BYTES / 2**20:.0f} MB limit; scan or export "
            "it at a lower resolution"
        )
    return data


def _check_pixels(width: int, height: int, label: str) -> None:
    if width * height > MAX_PIXELS:
        raise EcgkitError(
            f"{label}: image is {width} x {height} px ({width * height / 1e6:.0f} MP), more "
            f"than the {MAX_PIXELS / 1e6:.0f} MP limit; scan it at 200-300 DPI or resize it"
        )


def _check_small(rgb: np.ndarray, label: str) -> np.ndarray:
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise EcgkitError(
            f"{label}: image is only {w} x {h} px; an ECG needs at least {MIN_SIDE} px on the "
            "short side (scan or photograph it at 150 DPI or more)"
        )
    return rgb


def _to_uint8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    if a.dtype == np.uint16:
        return (a >> 8).astype(np.uint8)
    a = a.astype(np.float64)
    finite = np.isfinite(a)
    if not finite.any():
        return np.zeros(a.shape, np.uint8)
    a = np.where(finite, a, 0.0)
    top = float(a.max())
    if np.issubdtype(a.dtype, np.floating) and top <= 1.0 and a.min() >= 0.0:
        scale = 255.0
    elif top <= 255.0:
        scale = 1.0
    elif top <= 65535.0:
        scale = 255.0 / 65535.0
    else:
        scale = 255.0 / top
    return np.clip(np.rint(a * scale), 0, 255).astype(np.uint8)


def _array_to_rgb(a: np.ndarray, label: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise EcgkitError(
            f"{label}: expected an (H, W), (H, W, 3) or (H, W, 4) image array, got shape {a.shape}"
        )
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise EcgkitError(f"{label}: image array has non-numeric dtype {a.dtype}")
    _check_pixels(a.shape[1], a.shape[0], label)
    a = _to_uint8(a)
    if a.ndim == 2:
        rgb = np.repeat(a[:, :, None], 3, axis=2)
    elif a.shape[2] == 4:
        alpha = a[:, :, 3:4].astype(np.float32) / 255.0
        rgb = np.rint(a[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    else:
        rgb = a
    return np.ascontiguousarray(rgb)


def _pil_to_rgb(im: Any, label: str) -> np.ndarray:
    from PIL import Image, ImageOps

    try:
        im = ImageOps.exif_transpose(im) or im
    except Exception:  # a broken EXIF block: keep the pixels as stored
        pass
    mode = im.mode
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, im).convert("RGB"))
    if mode in ("RGB", "L"):
        return _array_to_rgb(np.asarray(im), label)
    if mode.startswith("I") or mode == "F":
        return _array_to_rgb(np.asarray(im), label)
    return np.asarray(im.convert("RGB"))


def _load_pil(data: bytes, label: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise EcgkitError(
            f"{label}: image is larger than the {MAX_PIXELS / 1e6:.0f} MP limit; scan it at "
            "200-300 DPI or resize it"
        ) from None
    except UnidentifiedImageError:
        raise EcgkitError(f"{label}: not an image this reader knows; {_WHAT_TO_DO}") from None
    except Exception as exc:
        raise EcgkitError(f"{label}: cannot read the image ({exc}); {_WHAT_TO_DO}") from None
    with im:
        if im.format not in _PIL_FORMATS:
            raise EcgkitError(f"{label}: {im.format} images are not supported; {_WHAT_TO_DO}")
        _check_pixels(*im.size, label)  # from the header: nothing decoded yet
        try:
            im.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im.load()
            rgb = _pil_to_rgb(im, label)
        except Image.DecompressionBombError:
            raise EcgkitError(
                f"{label}: image is larger than the {MAX_PIXELS / 1e6:.0f} MP limit"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
            raise EcgkitError(
                f"{label}: the {im.format} file is truncated or corrupt ({exc}); export or "
                "scan it again"
            ) from None
    return rgb


def _load_pdf(data: bytes, label: str) -> np.ndarray:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # PDFium's error code and text can be stale from an earlier call: read the bytes
        # (the /Encrypt key is always in the uncompressed trailer or xref-stream dictionary)
        if b"/Encrypt" in data:
            raise EcgkitError(
                f"{label}: the PDF is encrypted; save an unprotected copy or export the ECG "
                "page as PNG"
            ) from None
        if re.search(rb"/Count\s+0\b", data) and not re.search(rb"/Type\s*/Page[^s]", data):
            # PDFium refuses a document without pages outright
            raise EcgkitError(f"{label}: the PDF has no pages; {_WHAT_TO_DO}") from None
        raise EcgkitError(
            f"{label}: the PDF is truncated or corrupt ({exc}); export it again"
        ) from None
    try:
        if len(pdf) == 0:
            raise EcgkitError(f"{label}: the PDF has no pages; {_WHAT_TO_DO}")
        page = pdf[0]
        try:
            w_pt, h_pt = page.get_size()
            scale = PDF_DPI / 72.0
            pixels = w_pt * scale * h_pt * scale
            if pixels > MAX_PIXELS:  # an oversized page: render it at a lower resolution
                scale *= (MAX_PIXELS / pixels) ** 0.5 * 0.999
            if scale * 72.0 < 30.0 or w_pt <= 0 or h_pt <= 0:
                raise EcgkitError(
                    f"{label}: the PDF page is {w_pt / 72:.0f} x {h_pt / 72:.0f} inches, too "
                    "large to render; export the ECG page as PNG"
                )
            bitmap = page.render(scale=scale)
            try:
                rgb = np.array(bitmap.to_pil().convert("RGB"))
            finally:
                bitmap.close()
        finally:
            page.close()
    except pdfium.PdfiumError as exc:
        raise EcgkitError(f"{label}: cannot render the PDF's first page ({exc})") from None
    finally:
        pdf.close()
    return rgb


def load_image(source: Any, *, name: str | None = None) -> np.ndarray:
    """Read an image of a paper ECG as RGB.

    Parameters
    ----------
    source : str, Path, bytes, file-like or numpy.ndarray
        A file path; encoded bytes; a binary file object (e.g. a Streamlit upload); or an
        array (``(H, W)`` grey, ``(H, W, 3)`` RGB, ``(H, W, 4)`` RGBA composited on white;
        16-bit and float arrays are scaled to 8 bits). Files may be PNG, JPEG, BMP, TIFF
        (first frame) or PDF (first page, rendered at :data:`PDF_DPI`).
    name : str, optional
        Name used in error messages (default: the file name).

    Returns
    -------
    numpy.ndarray
        ``(H, W, 3)`` uint8 RGB, C-contiguous, EXIF orientation applied.

    Raises
    ------
    EcgkitError
        An empty, truncated, corrupt, encrypted or unknown file; a file over
        :data:`MAX_FILE_BYTES` or an image over :data:`MAX_PIXELS` (checked before decoding);
        an image under :data:`MIN_SIDE` px on its short side.
    """
    label = _source_name(source, name)
    if isinstance(source, np.ndarray):
        return _check_small(_array_to_rgb(source, label), label)
    data = _read_bytes(source, label)
    if not data:
        raise EcgkitError(f"{label}: the file is empty; {_WHAT_TO_DO}")
    if data.lstrip(b"\x00\t\r\n\f ")[:5] == b"%PDF-":
        rgb = _load_pdf(data, label)
    else:
        rgb = _load_pil(data, label)
    return _check_small(np.ascontiguousarray(rgb, dtype=np.uint8), label)


# ---------------------------------------------------------------------------------------------
# Is there an ECG in it?
# ---------------------------------------------------------------------------------------------

_WORK_SIDE = 1200  # the check works on a copy at most this long


def _grid_score(grey: np.ndarray) -> float:
    """How strongly the central part of the image repeats with one period (rows and columns)."""
    h, w = grey.shape
    crop = grey[h // 4 : h - h // 4, w // 4 : w - w // 4].astype(np.float32)
    if min(crop.shape) < 64:
        return 0.0
    best = 0.0
    for axis in (0, 1):
        profile = crop.mean(axis=axis)
        profile = profile - cv2.blur(profile.reshape(1, -1), (31, 1)).ravel()
        power = np.abs(np.fft.rfft(profile * np.hanning(profile.size))) ** 2
        freqs = np.fft.rfftfreq(profile.size)
        # a grid is a sharp spectral peak: compare each bin with its neighbours on both sides
        # (the higher side), not with the whole band, so a smooth falling spectrum fails
        for i in np.flatnonzero((freqs >= 1 / 32) & (freqs <= 1 / 3)):
            k = max(6, i // 4)
            left = power[max(1, i - k) : max(1, i - 2)]
            right = power[i + 3 : i + k + 1]
            if left.size >= 3 and right.size >= 3:  # three bins: the window spreads a peak
                peak = power[i - 1 : i + 2].sum() / 3.0
                floor = max(np.median(left), np.median(right)) + 1e-9
                best = max(best, float(peak / floor))
    return best


def _trace_score(value: np.ndarray) -> tuple[int, float]:
    """Long, thin dark components: how many, and the fraction of the image that is thin ink.

    Several ink thresholds are tried: at a higher one a grid that touches the traces drops out
    while the (darker) traces stay.
    """
    h, w = value.shape
    blackhat = cv2.morphologyEx(
        value, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
    )
    fraction = float((blackhat > 45).mean())
    best = 0
    for threshold in (45, 75, 110, 150):
        ink = (blackhat > threshold).astype(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        long_thin = 0
        for _, _, bw, bh, area in stats[1:]:
            if bw < 0.12 * w:
                continue
            if area / float(bw * max(bh, 1)) < 0.25 and area / float(bw) < 12:
                long_thin += 1
        best = max(best, long_thin)
    return best, fraction


def looks_like_ecg(rgb: np.ndarray, *, name: str | None = None) -> tuple[bool, str]:
    """A cheap, conservative check that an image plausibly shows a paper ECG.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB (as :func:`load_image` returns).
    name : str, optional
        Name used in the message.

    Returns
    -------
    tuple
        ``(ok, message)``: ``ok`` is True when the image has a periodic grid or long thin
        trace-like lines (every page the generator makes passes); the message says what was
        found, or why the image was refused (``"no ECG found in cat.jpg: ..."``).
    """
    label = name or "the image"
    rgb = _array_to_rgb(rgb, label)
    h, w = rgb.shape[:2]
    scale = min(1.0, _WORK_SIDE / max(h, w))
    if scale < 1.0:
        rgb = cv2.resize(
            rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if float(grey.std()) < 2.0:
        return False, f"no ECG found in {label}: the image is blank"
    grid = _grid_score(rgb.min(axis=2))
    traces, ink = _trace_score(rgb.max(axis=2))
    has_grid = grid >= 25.0
    has_traces = traces >= 2 and ink < 0.3
    if has_grid or has_traces:
        found = [
            f"grid (periodicity {grid:.0f})" if has_grid else "",
            f"{traces} trace-like lines" if has_traces else "",
        ]
        return True, f"{label}: " + " and ".join(f for f in found if f)
    why = "no grid and no trace-like lines"
    if ink >= 0.3:
        why += " (mostly texture or noise)"
    return False, f"no ECG found in {label}: {why}"
