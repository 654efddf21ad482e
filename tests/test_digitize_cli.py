"""``ecgkit digitize`` on files and folders, and the helpers the CLI and the page share.

One test runs the real digitizer on a generated page; the others stand in for it with the
page's own ground truth (``digitize_fakes``) or never reach it (bad inputs).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from digitize_fakes import digitized_from_page
from PIL import Image

from ecgkit.app import digitize as ui_digitize
from ecgkit.cli import main
from ecgkit.digitize import pipeline
from ecgkit.digitize.overlay import draw_digitized
from ecgkit.generate import make_sample
from ecgkit.generate.overlay import LEAD_COLOURS
from ecgkit.generate.synth import builtin_record
from ecgkit.io import LEADS, read_csv, read_wfdb


@pytest.fixture(scope="module")
def page():
    return make_sample(builtin_record(0), preset="clean")


@pytest.fixture
def fake_core(monkeypatch, page):
    """Replace the digitizer core with the page's ground truth; count the calls."""
    calls = []

    def fake(image, *, fs=500.0, name="digitized", model=None):
        calls.append(name)
        return digitized_from_page(page, name=name)

    monkeypatch.setattr(pipeline, "digitize", fake)
    return calls


def save_png(rgb: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)
    return path


def cat_like(h: int = 700, w: int = 900) -> np.ndarray:
    rng = np.random.default_rng(3)
    import cv2

    img = cv2.resize(rng.uniform(0, 255, (12, 15, 3)), (w, h), interpolation=cv2.INTER_CUBIC)
    img = cv2.GaussianBlur(img, (0, 0), 8) + rng.normal(0, 12, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def skipped_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("skipped ")]


def test_a_folder_with_one_good_and_one_bad_image(tmp_path, capsys, page):
    """The real digitizer: the good record is written with 12 leads, the bad file skipped."""
    folder = tmp_path / "in"
    save_png(page.image, folder / "good ecg.png")
    (folder / "notes.png").write_text("not an image at all")
    status = main(["digitize", str(folder), "--out", str(tmp_path / "out"), "--fs", "250", "--csv"])
    out, err = capsys.readouterr()
    assert status == 2
    lines = skipped_lines(err)
    assert len(lines) == 1 and lines[0].startswith(f"skipped {folder / 'notes.png'}: ")
    assert "PNG, JPEG" in lines[0]
    assert "could not be digitized" in err.splitlines()[-1]
    rec = read_wfdb(tmp_path / "out" / "good_ecg.hea")
    assert rec.signals.shape[1] == 12 and rec.fs == 250 and rec.name == "good_ecg"
    assert rec.present.sum() >= 6, f"only {rec.present.sum()} leads read"
    header = (tmp_path / "out" / "good_ecg.csv").read_text().splitlines()[0]
    assert header == "time_s," + ",".join(LEADS)  # the digitized CSV says when each sample is
    csv = read_csv(tmp_path / "out" / "good_ecg.csv", fs=250)
    assert csv.signals.shape == rec.signals.shape
    assert "good_ecg: layout " in out and "mean confidence" in out
    assert "1 digitized, 1 skipped" in out


def test_bad_inputs_never_reach_the_digitizer(tmp_path, capsys, fake_core):
    folder = tmp_path / "in"
    save_png(cat_like(), folder / "cat.png")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "readme.txt").write_text("ignored: not an image suffix")
    status = main(
        ["digitize", str(folder), str(tmp_path / "missing.png"), "--out", str(tmp_path / "out")]
    )
    err = capsys.readouterr().err
    assert status == 2 and fake_core == []
    lines = skipped_lines(err)
    assert len(lines) == 3, lines
    assert any("missing.png: no such file" in line for line in lines)
    assert any("no ECG found in cat.png" in line for line in lines)
    assert any("empty.jpg: the file is empty" in line for line in lines)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_options_are_checked(tmp_path, capsys):
    assert main(["digitize", str(tmp_path), "--out", str(tmp_path), "--fs", "5"]) == 2
    assert "--fs must be between" in capsys.readouterr().err
    assert main(["digitize", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "no images" in capsys.readouterr().err
    save_png(np.full((400, 400, 3), 255, np.uint8), tmp_path / "a.png")
    assert main(["digitize", str(tmp_path), "--out", str(tmp_path), "--model", "nope.onnx"]) == 2
    assert "nope.onnx not found" in capsys.readouterr().err
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    assert (
        main(
            [
                "digitize",
                str(tmp_path / "a.png"),
                "--out",
                str(tmp_path),
                "--model",
                str(tmp_path / "junk.onnx"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("ecgkit: error: ") and "junk.onnx" in err and "Traceback" not in err


def test_names_collide_masks_are_left_out_and_all_good_exits_0(tmp_path, capsys, fake_core, page):
    save_png(page.image, tmp_path / "a" / "ecg.png")
    save_png(page.image, tmp_path / "b" / "ecg.png")
    save_png(page.mask * 20, tmp_path / "b" / "ecg-mask.png")
    status = main(
        ["digitize", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "out")]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "b_ecg.dat",
        "b_ecg.hea",
        "ecg.dat",
        "ecg.hea",
    ]
    assert len(fake_core) == 2 and "2 digitized, 0 skipped" in out
    rec = read_wfdb(tmp_path / "out" / "b_ecg.hea")
    truth = page.plotted_record()
    assert np.allclose(rec.signals, truth.signals, atol=1e-3, equal_nan=True)


# ---------------------------------------------------------------------------------------------
# What the page shows and downloads (the digitizer stood in for by the page's truth)
# ---------------------------------------------------------------------------------------------


def test_overlay_draws_every_trace_in_its_lead_colour(page):
    result = digitized_from_page(page)
    drawn = draw_digitized(result)
    assert drawn.shape == page.image.shape and drawn.dtype == np.uint8
    assert not np.shares_memory(drawn, result.rectified)
    for lr in result.leads:
        colour = np.array(LEAD_COLOURS[LEADS.index(lr.lead)])
        ok = np.isfinite(lr.x)
        xs = np.round(lr.x[ok]).astype(int)[::25]
        ys = np.round(lr.y[ok]).astype(int)[::25]
        near = np.abs(drawn[ys, xs].astype(int) - colour).sum(axis=1) < 60
        assert near.mean() > 0.8, f"{lr.lead}: trace not drawn in its colour"
    # a lost stretch (NaN) stays a gap: nothing drawn there
    lr = result.leads[0]
    lr.x[40:200] = np.nan
    gap = draw_digitized(result, grid=False, labels=False)
    x, y = int(round(page.leads[0].x[120])), int(round(page.leads[0].y[120]))
    colour = np.array(LEAD_COLOURS[LEADS.index(lr.lead)])
    assert np.abs(gap[y, x].astype(int) - colour).sum() > 60


def test_digitize_image_gives_overlay_table_and_downloads(page, fake_core):
    data = io.BytesIO()
    Image.fromarray(page.image).save(data, "PNG")
    view = ui_digitize.digitize_image(data.getvalue(), name="my scan.png")
    assert view.name == "my_scan" and fake_core == ["my_scan"]
    assert [r["lead"] for r in view.table] == list(LEADS)
    assert view.table[LEADS.index("V3")]["confidence"] == 0.3
    assert "layout 3x4+II" in view.summary and "12 of 12 leads" in view.summary
    with zipfile.ZipFile(io.BytesIO(view.wfdb_zip)) as zf:
        assert sorted(zf.namelist()) == ["my_scan.dat", "my_scan.hea"]
    assert view.csv_bytes.decode().splitlines()[0] == ",".join(LEADS)
    with Image.open(io.BytesIO(view.overlay_png)) as im:
        assert im.size == (page.width, page.height)
    fig = ui_digitize.signals_figure(view.result.record)
    assert [t.name for t in fig.data] == list(LEADS)
    scored = ui_digitize.score(page.plotted_record(), view.result.record)
    assert scored.pearson_r > 0.999 and set(scored.per_lead_snr) == set(LEADS)


def test_batch_zip_skips_a_bad_image_and_goes_on(page, fake_core):
    buf = io.BytesIO()
    Image.fromarray(page.image).save(buf, "PNG")
    progress = []
    blob, errors = ui_digitize.batch_zip(
        [("one.png", buf.getvalue()), ("bad.png", b"\x89PNG broken"), ("two.png", buf.getvalue())],
        progress=lambda done, total: progress.append((done, total)),
    )
    assert len(errors) == 1 and errors[0].startswith("bad.png: ")
    assert progress == [(1, 3), (2, 3), (3, 3)]
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        names = set(zf.namelist())
        summary = zf.read("summary.csv").decode().splitlines()
    assert {"one.hea", "one.dat", "one.csv", "two.hea", "two.dat", "two.csv"} <= names
    assert len(summary) == 3 and summary[1].startswith('"one.png",one,3x4+II,')


def test_pick_truth_by_name():
    a, b = builtin_record(0), builtin_record(1)
    assert ui_digitize.pick_truth([a, b], "synth00001.png") is b
    assert ui_digitize.pick_truth([a], "whatever.jpg") is a
    assert ui_digitize.pick_truth([a, b], "other.png") is None


def test_overlay_grid_lies_on_the_page_major_grid_lines(page):
    result = digitized_from_page(page)
    with_grid = draw_digitized(result, labels=False).astype(int)
    without = draw_digitized(result, grid=False, labels=False).astype(int)
    lt = page.leads[0]
    row = int(lt.bbox[1]) + 5  # just inside the first panel's top, above its trace
    changed = np.flatnonzero(np.abs(with_grid[row] - without[row]).sum(axis=1) > 30)
    columns = [c for c in changed if int(lt.bbox[0]) < c < int(lt.bbox[2])]
    assert len(columns) >= 5
    gaps = np.diff(columns)
    gaps = gaps[gaps > 2]
    steps = gaps / (5 * page.px_per_mm)  # every 5 mm (a line may hide under another colour)
    assert np.allclose(steps, np.round(steps), atol=0.05) and np.median(np.round(steps)) == 1, gaps
    grey = page.image.min(axis=2).astype(float)
    assert grey[row, columns].mean() < grey[row, int(lt.bbox[0]) : int(lt.bbox[2])].mean() - 20


def test_a_digitizer_failure_on_one_image_is_reported_not_raised(
    tmp_path, capsys, monkeypatch, page
):
    def trips(image, **kw):
        raise ValueError("no rows found")

    monkeypatch.setattr(pipeline, "digitize", trips)
    save_png(page.image, tmp_path / "in" / "odd.png")
    assert main(["digitize", str(tmp_path / "in"), "--out", str(tmp_path / "out")]) == 2
    lines = skipped_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "could not read this image (ValueError: no rows found)" in lines[0]
