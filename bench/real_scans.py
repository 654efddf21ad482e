"""The digitizer on real paper: layout, rows, columns, refusals and heart rate per image.

Reads the development set of real scans and photos (``ECGKIT_REAL_SCANS``, default
``../shared/data/real_scans``; see its README): per image the layout labelled in
``labels.tsv`` against the one found, the trace rows and leads per short row found against the
labelled ones, whether the image was refused (and why), and the heart rate from the digitized
lead II (else the first lead read) against the ``rate_bpm`` the ECG machine printed, where it
did. Prints a table, writes ``bench/results/real_scans.json`` and a contact sheet of the
overlays OUTSIDE the repository (default ``/tmp/real_scans_sheet.jpg``: these images must
never be copied into the project).

    python bench/real_scans.py [--sheet /tmp/real_scans_sheet.jpg] [--out JSON]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

from ecgkit.digitize.io import load_image
from ecgkit.digitize.service import digitize_array, load_model, mean_confidence
from ecgkit.errors import EcgkitError
from ecgkit.io import LEADS

ROOT = Path(__file__).resolve().parents[1]


def scans_dir() -> Path:
    """The real-scan folder: ``ECGKIT_REAL_SCANS`` or ``../shared/data/real_scans``."""
    return Path(os.environ.get("ECGKIT_REAL_SCANS", ROOT.parent / "shared/data/real_scans"))


def heart_rate(signal: np.ndarray, fs: float) -> float | None:
    """Beats per minute from one lead: R peaks of the band-passed slope energy."""
    ok = np.isfinite(signal)
    if ok.sum() < 3 * fs:
        return None
    idx = np.flatnonzero(ok)
    # the longest finite stretch
    segs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    seg = max(segs, key=len)
    if len(seg) < 3 * fs:
        return None
    x = signal[seg]
    sos = butter(2, [5.0 / (fs / 2), min(30.0, 0.45 * fs) / (fs / 2)], btype="band", output="sos")
    e = np.gradient(sosfiltfilt(sos, x)) ** 2
    e = np.convolve(e, np.ones(int(0.08 * fs)) / int(0.08 * fs), mode="same")
    peaks, _ = find_peaks(e, height=0.3 * np.percentile(e, 99), distance=int(0.3 * fs))
    if len(peaks) < 3:
        return None
    return float(60.0 / np.median(np.diff(peaks) / fs))


def found_grid(result: object) -> tuple[int, int]:
    """Short trace rows (rhythm strips left out, as ``labels.tsv`` counts) and leads per row."""
    rows: dict[float, list] = {}
    for lr in result.leads:
        rows.setdefault(round(lr.baseline_y), []).append(lr)
    short = [len(v) for v in rows.values() if not any(lr.rhythm for lr in v)]
    return len(short), max(short, default=1)


def main() -> int:
    """Run the bench; 2 where the folder is absent."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "bench/results/real_scans.json"))
    ap.add_argument("--sheet", default="/tmp/real_scans_sheet.jpg", help="contact sheet path")
    args = ap.parse_args()
    sheet_path = Path(args.sheet).resolve()
    if ROOT in sheet_path.parents:
        print("the contact sheet must be written outside the repository", file=sys.stderr)
        return 2
    base = scans_dir()
    labels_file = base / "labels.tsv"
    if not labels_file.is_file():
        print(f"no real scans at {base} (set ECGKIT_REAL_SCANS); nothing to measure")
        return 2
    with labels_file.open(newline="") as fh:
        labels = list(csv.DictReader(fh, delimiter="\t"))
    model = load_model(None)
    rows_out, thumbs = [], []
    for lab in labels:
        path = base / "img" / lab["file"]
        entry: dict = {
            "file": lab["file"],
            "layout_true": lab["layout"],
            "rows_true": int(lab["rows"]),
            "cols_true": int(lab["cols"]),
            "pulse_true": lab["pulse"],
            "rate_true": float(lab["rate_bpm"]) if lab["rate_bpm"] else None,
        }
        start = time.perf_counter()
        try:
            rgb = load_image(path)
            result = digitize_array(rgb, name=path.name, model=model)
        except EcgkitError as exc:
            entry.update(refused=True, reason=str(exc), layout=None, rows=0, cols=0)
            entry.update(rate=None, confidence=0.0, seconds=time.perf_counter() - start)
            rows_out.append(entry)
            continue
        n_rows, n_cols = found_grid(result)
        sig = result.record.signals
        rate = heart_rate(sig[:, LEADS.index("II")], result.record.fs)
        for k in range(len(LEADS)):
            if rate is not None:
                break
            rate = heart_rate(sig[:, k], result.record.fs)
        entry.update(
            refused=False,
            reason=None,
            layout=result.layout,
            rows=n_rows,
            cols=n_cols,
            pulses=getattr(result, "pulse_side", None),
            scale_source=getattr(result, "scale_source", None),
            rate=rate,
            confidence=mean_confidence(result.confidence),
            seconds=time.perf_counter() - start,
        )
        entry["layout_ok"] = result.layout == lab["layout"]
        rows_out.append(entry)
        try:
            import cv2

            from ecgkit.digitize.overlay import draw_digitized

            ov = draw_digitized(result)
            s = 480 / ov.shape[1]
            thumb = cv2.resize(ov, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            cv2.putText(thumb, lab["file"][:40], (5, 18), 0, 0.5, (0, 0, 255), 1)
            thumbs.append(thumb)
        except Exception as exc:  # noqa: BLE001 - the sheet is a convenience
            print(f"no overlay for {lab['file']}: {exc}", file=sys.stderr)
    print(
        f"{'file':28} {'layout (true)':22} {'found':10} {'rows':>5} {'cols':>5} "
        f"{'rate':>11} {'conf':>5}  refused"
    )
    for e in rows_out:
        rate = "-" if e["rate"] is None else f"{e['rate']:.0f}"
        true_rate = "-" if e["rate_true"] is None else f"{e['rate_true']:.0f}"
        print(
            f"{e['file'][:28]:28} {e['layout_true'][:22]:22} {str(e['layout']):10} "
            f"{e['rows']:>2}/{e['rows_true']:<2} {e['cols']:>2}/{e['cols_true']:<2} "
            f"{rate:>5}/{true_rate:<5} {e['confidence']:5.2f}  "
            + (e["reason"].split(": ", 1)[-1][:60] if e["refused"] else "no")
        )
    n = len(rows_out)
    summary = {
        "images": n,
        "layout_right": sum(bool(e.get("layout_ok")) for e in rows_out),
        "rows_right": sum(e["rows"] == e["rows_true"] for e in rows_out),
        "refused": sum(e["refused"] for e in rows_out),
        "rate_within_10pct": sum(
            e["rate"] is not None
            and e["rate_true"] is not None
            and abs(e["rate"] / e["rate_true"] - 1) <= 0.1
            for e in rows_out
        ),
        "rate_printed": sum(e["rate_true"] is not None for e in rows_out),
    }
    print(
        f"layout right {summary['layout_right']}/{n}, rows right {summary['rows_right']}/{n}, "
        f"refused {summary['refused']}/{n}, rate within 10 % "
        f"{summary['rate_within_10pct']}/{summary['rate_printed']}"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"bench": "real_scans", "set": "development (tuning) set", "summary": summary}
    doc["images"] = rows_out
    out.write_text(json.dumps(doc, indent=1, default=float) + "\n")
    print(f"wrote {out}")
    if thumbs:
        import cv2

        h = max(t.shape[0] for t in thumbs)
        padded = [
            np.pad(t, ((0, h - t.shape[0]), (0, 0), (0, 0)), constant_values=255) for t in thumbs
        ]
        while len(padded) % 4:
            padded.append(np.full_like(padded[0], 255))
        grid = np.vstack([np.hstack(padded[i : i + 4]) for i in range(0, len(padded), 4)])
        cv2.imwrite(str(sheet_path), grid[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])
        print(f"contact sheet: {sheet_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
