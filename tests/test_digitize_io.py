"""Reading images for the digitizer (every format, every refusal) and the is-it-an-ECG check."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from ecgkit.digitize import io as dio
from ecgkit.digitize import load_image, looks_like_ecg
from ecgkit.errors import EcgkitError
from ecgkit.generate import make_sample
from ecgkit.generate.synth import builtin_record


@pytest.fixture(scope="module")
def page_rgb() -> np.ndarray:
    """Built-in record 0 on the clean preset: 2200 x 1700 px."""
    return make_sample(builtin_record(0), preset="clean").image


def encode(rgb: np.ndarray, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **kw)
    return buf.getvalue()


def mini_pdf(objects: list[str], trailer: str = "") -> bytes:
    """A hand-written PDF from its object bodies (object 1 is the catalogue)."""
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer}>>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return out


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width x height`` and whose pixel data is nonsense."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"\x00" * 16)
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------------------------
# Formats and sources
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt,suffix", [("PNG", "png"), ("BMP", "bmp"), ("TIFF", "tif")])
def test_lossless_formats_read_back_exactly(page_rgb, tmp_path, fmt, suffix):
    path = tmp_path / f"ecg.{suffix}"
    path.write_bytes(encode(page_rgb, fmt))
    rgb = load_image(path)
    assert rgb.dtype == np.uint8 and rgb.shape == page_rgb.shape and rgb.flags.c_contiguous
    assert np.array_equal(rgb, page_rgb)


def test_jpeg_reads_close_to_the_original(page_rgb, tmp_path):
    path = tmp_path / "ecg.jpg"
    path.write_bytes(encode(page_rgb, "JPEG", quality=92))
    rgb = load_image(str(path))
    with Image.open(path) as im:
        assert np.array_equal(rgb, np.asarray(im.convert("RGB")))
    assert np.abs(rgb.astype(int) - page_rgb).mean() < 8


def test_bytes_file_objects_and_paths_give_the_same_pixels(page_rgb, tmp_path):
    data = encode(page_rgb, "PNG")
    (tmp_path / "a.png").write_bytes(data)
    from_bytes = load_image(data)
    from_file = load_image(io.BytesIO(data))
    with open(tmp_path / "a.png", "rb") as fh:
        from_handle = load_image(fh)
    assert np.array_equal(from_bytes, from_file) and np.array_equal(from_file, from_handle)


def test_multi_frame_tiff_gives_the_first_frame(page_rgb):
    second = np.zeros_like(page_rgb)
    buf = io.BytesIO()
    Image.fromarray(page_rgb).save(
        buf, "TIFF", save_all=True, append_images=[Image.fromarray(second)]
    )
    assert np.array_equal(load_image(buf.getvalue()), page_rgb)


def test_pdf_first_page_is_rendered_at_200_dpi(page_rgb):
    first = Image.fromarray(page_rgb)
    other = Image.fromarray(np.zeros_like(page_rgb))
    buf = io.BytesIO()
    first.save(buf, "PDF", resolution=200.0, save_all=True, append_images=[other])
    rgb = load_image(buf.getvalue(), name="ecg.pdf")
    h, w = page_rgb.shape[:2]
    assert abs(rgb.shape[1] - w) <= 2 and abs(rgb.shape[0] - h) <= 2
    small = cv2.resize(rgb, (w // 4, h // 4), interpolation=cv2.INTER_AREA).astype(int)
    want = cv2.resize(page_rgb, (w // 4, h // 4), interpolation=cv2.INTER_AREA).astype(int)
    assert np.abs(small - want).mean() < 6  # the first page (the ECG), not the black one


def test_grey_rgba_and_16_bit_are_converted():
    grey = np.full((400, 500), 200, np.uint8)
    grey[100:110] = 0
    rgb = load_image(encode(grey, "PNG"))
    assert rgb.shape == (400, 500, 3) and rgb[105, 0].tolist() == [0, 0, 0]
    assert rgb[0, 0].tolist() == [200, 200, 200]

    rgba = np.zeros((400, 500, 4), np.uint8)  # fully transparent: paper-white
    rgba[:50, :, :] = (255, 0, 0, 255)
    rgb = load_image(encode(rgba, "PNG"))
    assert rgb[0, 0].tolist() == [255, 0, 0] and rgb[300, 300].tolist() == [255, 255, 255]

    deep = np.full((400, 500), 40000, np.uint16)
    rgb = load_image(_png16(deep))
    assert rgb.dtype == np.uint8 and abs(int(rgb[0, 0, 0]) - 40000 // 257) <= 1

    arr = load_image(np.full((400, 500), 0.5, np.float32))
    assert arr.shape == (400, 500, 3) and abs(int(arr[0, 0, 0]) - 128) <= 1
    arr = load_image(np.full((400, 500, 3), 65535, np.uint16))
    assert arr[0, 0].tolist() == [255, 255, 255]


def _png16(a: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", a)
    assert ok
    return data.tobytes()


# ---------------------------------------------------------------------------------------------
# Refusals: one EcgkitError naming the file and saying what to do
# ---------------------------------------------------------------------------------------------


def refused(source, name: str | None = None) -> str:
    with pytest.raises(EcgkitError) as info:
        load_image(source, name=name)
    return str(info.value)


def test_empty_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    message = refused(tmp_path / "empty.png")
    assert "empty.png" in message and "empty" in message.split(":", 1)[1]


def test_missing_file_and_folder(tmp_path):
    assert "no such file" in refused(tmp_path / "nope.png")
    assert "not a file" in refused(tmp_path)


def test_truncated_png_and_jpeg(page_rgb):
    for fmt in ("PNG", "JPEG"):
        data = encode(page_rgb, fmt)
        message = refused(data[: len(data) // 2], name=f"cut.{fmt.lower()}")
        assert f"cut.{fmt.lower()}" in message and "truncated or corrupt" in message


def test_garbage_after_a_png_signature():
    message = refused(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, name="bad.png")
    assert "bad.png" in message


def test_text_and_zip_files_are_unknown_formats(tmp_path):
    (tmp_path / "notes.txt").write_text("this is not an ECG\n" * 100)
    message = refused(tmp_path / "notes.txt")
    assert "notes.txt" in message and "PNG, JPEG" in message
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "hello")
    assert "PNG, JPEG" in refused(buf.getvalue(), name="records.zip")


def test_unsupported_pillow_format_is_named(page_rgb):
    message = refused(encode(page_rgb[:400, :400], "GIF"), name="anim.gif")
    assert "GIF" in message and "anim.gif" in message


def test_file_over_the_size_limit(tmp_path, monkeypatch, page_rgb):
    path = tmp_path / "big.png"
    path.write_bytes(encode(page_rgb, "PNG"))
    monkeypatch.setattr(dio, "MAX_FILE_BYTES", 1000)
    assert "MB limit" in refused(path) and "big.png" in refused(path)
    assert "MB limit" in refused(path.read_bytes(), name="big.png")
    assert "MB limit" in refused(io.BytesIO(path.read_bytes()), name="big.png")


@pytest.mark.parametrize("size", [(10_000, 8_000), (20_000, 20_000)])
def test_image_over_the_pixel_limit_is_refused_from_its_header(size):
    # The pixel data is nonsense: a refusal that names the size proves nothing was decoded.
    message = refused(png_header_only(*size), name="huge.png")
    assert "huge.png" in message and "MP limit" in message


def test_tiny_image():
    message = refused(encode(np.full((200, 640, 3), 255, np.uint8), "PNG"), name="thumb.png")
    assert "thumb.png" in message and "640 x 200" in message
    with pytest.raises(EcgkitError, match="at least 300 px"):
        load_image(np.zeros((299, 1000), np.uint8))


def test_bad_arrays():
    with pytest.raises(EcgkitError, match="shape"):
        load_image(np.zeros((400, 400, 2), np.uint8))
    with pytest.raises(EcgkitError, match="cannot read an image"):
        load_image(12345)


def test_encrypted_empty_and_broken_pdfs():
    page = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    catalogue, pages = (
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    )
    encrypt = f"<< /Filter /Standard /V 1 /R 2 /O <{'11' * 32}> /U <{'22' * 32}> /P -4 >>"
    locked = mini_pdf(
        [catalogue, pages, page, encrypt], f"/Encrypt 4 0 R /ID [<{'33' * 16}> <{'33' * 16}>] "
    )
    message = refused(locked, name="locked.pdf")
    assert "locked.pdf" in message and "encrypted" in message

    empty = mini_pdf([catalogue, "<< /Type /Pages /Kids [] /Count 0 >>"])
    message = refused(empty, name="empty.pdf")
    assert "empty.pdf" in message and "no pages" in message

    assert "corrupt" in refused(b"%PDF-1.4\nnot really a pdf", name="cut.pdf")
    # a blank but valid one-page PDF is read (it is looks_like_ecg's job to refuse it)
    rgb = load_image(mini_pdf([catalogue, pages, page]))
    assert rgb.shape == (round(792 / 72 * 200), round(612 / 72 * 200), 3)


# ---------------------------------------------------------------------------------------------
# Is there an ECG in it?
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "preset",
    ["clean", "photo"]
    + [pytest.param(p, marks=pytest.mark.slow) for p in ("challenge2024", "scan", "archive")],
)
def test_every_preset_looks_like_an_ecg(preset):
    # three draws of the preset's own grid (and everything else), then no grid and black-and-white
    for index, grid in ((0, None), (1, None), (2, None), (0, "none"), (1, "bw")):
        overrides = {"style": {"grid": grid}} if grid else None
        page = make_sample(builtin_record(index), preset=preset, index=index, overrides=overrides)
        ok, message = looks_like_ecg(page.image, name="ecg.png")
        assert ok, f"{preset} variant {index} grid {grid}: {message}"
        assert message.startswith("ecg.png")


def natural_image(seed: int, h: int = 900, w: int = 1200) -> np.ndarray:
    """A cat-like photo: smooth colour blobs with fur-like noise (no lines, no grid)."""
    rng = np.random.default_rng(seed)
    img = cv2.resize(
        rng.uniform(0, 255, (h // 60, w // 60, 3)), (w, h), interpolation=cv2.INTER_CUBIC
    )
    img = cv2.GaussianBlur(img, (0, 0), 8) + rng.normal(0, 12, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", range(6))
def test_a_cat_photo_is_not_an_ecg(seed):
    ok, message = looks_like_ecg(natural_image(seed), name="cat.jpg")
    assert not ok
    assert message == "no ECG found in cat.jpg: no grid and no trace-like lines"


def test_blank_pages_and_noise_are_not_ecgs():
    rng = np.random.default_rng(1)
    ok, message = looks_like_ecg(np.full((1100, 850, 3), 250, np.uint8), name="blank.png")
    assert not ok and "blank" in message and "blank.png" in message
    paper = np.clip(rng.normal(238, 4, (1100, 850, 3)), 0, 255).astype(np.uint8)
    assert not looks_like_ecg(paper)[0]
    noise = rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8)
    ok, message = looks_like_ecg(noise)
    assert not ok and "no ECG found" in message


def test_an_oversized_pdf_page_is_rendered_at_a_lower_resolution(monkeypatch):
    catalogue = "<< /Type /Catalog /Pages 2 0 R >>"
    pages = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    page = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 792 612] >>"  # Letter landscape
    monkeypatch.setattr(dio, "MAX_PIXELS", 1_000_000)  # 200 DPI would be 3.7 MP
    rgb = load_image(mini_pdf([catalogue, pages, page]))
    h, w = rgb.shape[:2]
    assert h * w <= 1_000_000 and abs(w / h - 792 / 612) < 0.01 and min(h, w) >= 300


def test_jpeg_exif_orientation_is_applied(page_rgb):
    im = Image.fromarray(page_rgb[:600, :900])
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif)
    assert load_image(buf.getvalue()).shape == (900, 600, 3)
