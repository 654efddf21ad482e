"""Training data for the trace model: crops of rectified generated pages and their exact truth.

Every page is made by the generator (all presets, the layouts they draw) from a training
record, then rectified by the digitizer's own :func:`ecgkit.digitize.rectify.rectify`, so the
model sees what it will see at run time. The ground-truth points of every lead are pushed
through the same homography; the target is, at twice the horizontal pixel resolution, a
narrow Gaussian around the y where each trace's centre line crosses each half-pixel column.
Calibration pulses and separator ticks are drawn with the same pen but are not traces: the
loss ignores them (target 255), in boxes placed by the page's own layout (``Page.layout``).

Split (no record in both): built-in records 0..9,999 and PTB-XL records whose number is not
divisible by 5 train; built-in records 10,000 and up and PTB-XL records divisible by 5 are
held out (``bench/digitize.py`` uses them).
"""

from __future__ import annotations

import os
import zlib
from contextlib import closing
from pathlib import Path

import cv2
import numpy as np

from ecgkit.digitize.rectify import rectify
from ecgkit.generate import make_sample
from ecgkit.generate.layout import PULSE_MV, Layout
from ecgkit.generate.synth import builtin_record
from ecgkit.io import read_record
from ecgkit.parallel import run_tasks

PRESETS = ["clean", "challenge2024", "scan", "photo", "archive"]
CROP_H, CROP_W = 96, 128
SIGMA = 0.8  # px, of the target's Gaussian
IGNORE = 255
# margins (mm) of the ignored boxes around what the layout draws with the trace's pen
PULSE_LEFT_MM, PULSE_TOP_MM, FOOT_MM, TRACE_CLEAR_MM = 1.5, 6.0, 3.0, 0.2
TICK_LEFT_MM, TICK_RIGHT_MM, TICK_END_MM = 0.6, 0.4, 1.5


def is_held_out(name: str) -> bool:
    """Whether a PTB-XL record (``NNNNN_hr``) is held out of training."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return bool(digits) and int(digits) % 5 == 0


def training_records(data_dir: str | Path | None) -> list[Path]:
    """PTB-XL training records under ``data_dir`` (empty where it is absent)."""
    if not data_dir:
        return []
    folder = Path(data_dir) / "ptbxl"
    if not folder.is_dir():
        return []
    return sorted(p.with_suffix("") for p in folder.glob("*.hea") if not is_held_out(p.stem))


def _ignored_mm(layout: Layout, row: int, col: int) -> tuple[float, float, float, float]:
    """The box, in mm from a panel's trace start and its baseline, of the pen strokes before it.

    Column 0: the row's calibration pulse (from its stub to just before the trace); other
    columns: the separator tick at the panel's start. Read from the page's own layout, the
    one the renderer drew them from.

    Returns
    -------
    tuple
        ``(left, right, up, down)`` in mm: the box spans ``x0 - left .. x0 + right`` and
        ``baseline - up .. baseline + down``.
    """
    panel = next(p for p in layout.panels if p.row == row and p.col == col)
    if col == 0:
        pulse = layout.pulses[row]
        left = panel.x_mm - pulse.x_mm + PULSE_LEFT_MM
        return left, -TRACE_CLEAR_MM, pulse.gain * PULSE_MV + PULSE_TOP_MM, FOOT_MM
    _, y0, y1 = min(
        layout.separators,
        key=lambda s: abs(s[0] - panel.x_mm) + abs((s[1] + s[2]) / 2 - panel.baseline_mm),
    )
    reach = (y1 - y0) / 2 + TICK_END_MM
    return TICK_LEFT_MM, TICK_RIGHT_MM, reach, reach


def page_targets(page, rect) -> tuple[np.ndarray, np.ndarray]:
    """Target heatmap ``(H, 2W)`` uint8 (0..250, IGNORE) of a rectified page.

    Parameters
    ----------
    page : ecgkit.generate.render.Page
        The generated page (its truth in the page's pixels).
    rect : ecgkit.digitize.rectify.Rectified
        Its rectification.

    Returns
    -------
    tuple
        ``(target, valid_rows)``: the target, and a boolean per row saying whether any trace
        passes within 60 px (crops are drawn there).
    """
    h, w = rect.image.shape[:2]
    target = np.zeros((h, 2 * w), np.float32)
    ignore = np.zeros((h, 2 * w), bool)
    ppmm = rect.px_per_mm
    near = np.zeros(h, bool)
    yy = np.arange(h, dtype=np.float32)[:, None]
    for lt in page.leads:
        ok = np.isfinite(lt.x) & np.isfinite(lt.y)
        if ok.sum() < 2:
            continue
        pts = np.stack([lt.x[ok], lt.y[ok]], 1).astype(np.float64)
        q = cv2.perspectiveTransform(pts[None], rect.homography)[0]
        order = np.argsort(q[:, 0], kind="stable")
        qx, qy = q[order, 0], q[order, 1]
        # half-pixel columns j: x = j / 2 - 0.25
        j0 = int(np.ceil((qx[0] + 0.25) * 2))
        j1 = int(np.floor((qx[-1] + 0.25) * 2))
        j0, j1 = max(j0, 0), min(j1, 2 * w - 1)
        if j1 <= j0:
            continue
        js = np.arange(j0, j1 + 1)
        ys = np.interp(js / 2.0 - 0.25, qx, qy)
        lo = np.clip(np.floor(ys.min()) - 4, 0, h - 1).astype(int)
        hi = np.clip(np.ceil(ys.max()) + 5, 0, h).astype(int)
        g = np.exp(-((yy[lo:hi] - ys[None, :]) ** 2) / (2 * SIGMA**2))
        target[lo:hi, j0 : j1 + 1] = np.maximum(target[lo:hi, j0 : j1 + 1], g)
        base = float(np.median(qy))
        near[max(0, int(qy.min()) - 60) : min(h, int(qy.max()) + 60)] = True
        x_first = qx[0]
        # the calibration pulse before the row (column 0), or the separator tick at the start
        left, right, up, down = _ignored_mm(page.layout, lt.row, lt.col)
        xa, xb = x_first - left * ppmm, x_first + right * ppmm
        ya, yb = base - up * ppmm, base + down * ppmm
        ya, yb = int(max(0, ya)), int(min(h, yb))
        xa2, xb2 = int(max(0, 2 * xa)), int(min(2 * w, 2 * xb))
        if yb > ya and xb2 > xa2:
            ignore[ya:yb, xa2:xb2] = True
    out = np.round(target * 250).astype(np.uint8)
    out[ignore & (out < 125)] = IGNORE
    return out, near


def make_crops(
    index: int, seed: int, n_crops: int, data_dir: str | None, real: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Crops of one generated page.

    Parameters
    ----------
    index : int
        The page's index in the data set (picks the record, preset and random values).
    seed : int
        The data set's seed.
    n_crops : int
        Crops to cut from the page.
    data_dir : str or None
        Shared records folder.
    real : list of str
        Training record paths (PTB-XL) to draw from.

    Returns
    -------
    tuple
        ``(images, targets)``: ``(n, CROP_H, CROP_W, 3)`` and ``(n, CROP_H, 2 * CROP_W)``
        uint8.
    """
    rng = np.random.default_rng([seed, index])
    preset = PRESETS[index % len(PRESETS)]
    if real and rng.random() < 0.5:
        path = real[int(rng.integers(len(real)))]
        rec = read_record(path)
    else:
        rec = builtin_record(int(rng.integers(0, 10_000)))
    page = make_sample(rec, preset=preset, seed=seed, index=index)
    rect = rectify(page.image)
    target, near = page_targets(page, rect)
    img = rect.image
    h, w = img.shape[:2]
    if h < CROP_H + 2 or w < CROP_W + 2:
        return np.zeros((0, CROP_H, CROP_W, 3), np.uint8), np.zeros(
            (0, CROP_H, 2 * CROP_W), np.uint8
        )
    on = np.argwhere((target[:, ::2] > 200) & (target[:, ::2] != IGNORE))
    xs, ts = [], []
    for _ in range(n_crops):
        if len(on) and rng.random() < 0.8:
            cy, cx = on[int(rng.integers(len(on)))]
            cy += int(rng.integers(-CROP_H // 3, CROP_H // 3 + 1))
            cx += int(rng.integers(-CROP_W // 3, CROP_W // 3 + 1))
        else:
            rows = np.flatnonzero(near)
            cy = int(rows[int(rng.integers(len(rows)))]) if len(rows) else h // 2
            cx = int(rng.integers(0, w))
        y0 = int(np.clip(cy - CROP_H // 2, 0, h - CROP_H))
        x0 = int(np.clip(cx - CROP_W // 2, 0, w - CROP_W))
        xs.append(img[y0 : y0 + CROP_H, x0 : x0 + CROP_W])
        ts.append(target[y0 : y0 + CROP_H, 2 * x0 : 2 * (x0 + CROP_W)])
    return np.stack(xs), np.stack(ts)


def _work(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    return make_crops(*args)


def build(
    out: str | Path,
    pages: int,
    *,
    seed: int = 0,
    n_crops: int = 24,
    data_dir: str | None = None,
    workers: int = 2,
) -> Path:
    """Build a training set of ``pages`` pages and save it as one ``.npz``.

    Parameters
    ----------
    out : str or Path
        The ``.npz`` to write.
    pages : int
        Pages to generate.
    seed : int
        Seed (the same seed and page count give the same arrays).
    n_crops : int
        Crops per page.
    data_dir : str, optional
        Shared records folder (``ECGKIT_DATA``); without it only built-in records are used.
    workers : int
        Processes (1: this process); see :func:`ecgkit.parallel.run_tasks`.

    Returns
    -------
    Path
    """
    from tqdm import tqdm

    real = [str(p) for p in training_records(data_dir)]
    jobs = [(i, seed, n_crops, data_dir, real) for i in range(pages)]
    xs, ts = [], []
    outcomes = run_tasks(_work, jobs, workers=workers, ordered=True)
    with closing(outcomes):
        for outcome in tqdm(outcomes, total=pages, desc="pages"):
            if outcome.exception is not None:
                raise outcome.exception
            if not outcome.ok:  # its worker died, alone
                raise RuntimeError(f"page {outcome.index}: {outcome.error}")
            x, t = outcome.value
            xs.append(x)
            ts.append(t)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        out,
        x=np.concatenate(xs),
        t=np.concatenate(ts),
        crc=np.array([zlib.crc32(np.concatenate(xs).tobytes())]),
    )
    return out


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="build the trace model's training crops")
    ap.add_argument("--out", default="training/cache/train.npz")
    ap.add_argument("--pages", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--crops", type=int, default=24)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data", default=os.environ.get("ECGKIT_DATA", "../shared/data/records"))
    a = ap.parse_args()
    print(build(a.out, a.pages, seed=a.seed, n_crops=a.crops, data_dir=a.data, workers=a.workers))
