"""Digitizer accuracy and speed per preset: mean Challenge-2024 SNR and seconds per page.

Images are made by the generator from records that no training used: by default the PTB-XL
records whose number is divisible by 5 (``ECGKIT_DATA``, default ``../shared/data/records``),
as the Challenge scores on PTB-XL; with ``--source builtin``, built-in records 10,000 and up.
The built-in records carry white noise (up to 0.02 mV RMS) that a 200-DPI page cannot show,
which caps any tracer lower (``--ceiling`` prints the cap: the SNR of the truth low-passed at
100 Hz). Prints a table and writes ``bench/results/digitize[-builtin].json``.

    python bench/digitize.py [--images 10] [--presets clean,scan,...] [--source ptbxl|builtin]
                             [--classical] [--ceiling]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfiltfilt
from tqdm import tqdm

from ecgkit.digitize import digitize
from ecgkit.errors import EcgkitError
from ecgkit.evaluate import snr, snr_record
from ecgkit.generate import make_sample
from ecgkit.generate.synth import builtin_record
from ecgkit.io import Record, read_record

PRESETS = ["clean", "challenge2024", "scan", "photo", "archive"]
TARGETS = {"clean": 22, "challenge2024": 20, "scan": 18, "photo": 12, "archive": 12}
FIRST_HELD_OUT = 10_000
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from training.data import is_held_out  # noqa: E402  (no torch needed)


def held_out_records(source: str, images: int) -> list[Record]:
    """The first ``images`` held-out records of ``source`` (``ptbxl`` or ``builtin``)."""
    if source == "builtin":
        return [builtin_record(FIRST_HELD_OUT + i) for i in range(images)]
    base = Path(os.environ.get("ECGKIT_DATA") or REPO.parent / "shared" / "data" / "records")
    heads = sorted((base / "ptbxl").glob("*.hea"))
    held = [h for h in heads if is_held_out(h.stem)]
    if len(held) < images:
        raise EcgkitError(
            f"{len(held)} held-out PTB-XL records under {base / 'ptbxl'}, "
            f"{images} asked for; set ECGKIT_DATA or use --source builtin"
        )
    return [read_record(h.with_suffix("")) for h in held[:images]]


def ceiling(truth: Record) -> float:
    """Mean SNR of the truth low-passed at 100 Hz: about the best a 200-DPI page allows."""
    sig = truth.signals
    ok = np.isfinite(sig)
    sos = butter(4, 100.0 / (truth.fs / 2), output="sos")
    low = sosfiltfilt(sos, np.where(ok, sig, 0.0), axis=0)
    low[~ok] = np.nan
    return float(np.nanmean(snr(sig, low, fs=truth.fs)))


def run(presets: list[str], records: list[Record], classical: bool, with_ceiling: bool) -> dict:
    """Digitize one generated page per record and preset and score it against the truth."""
    rows = {}
    for preset in presets:
        snrs, secs, layouts_ok, caps, refused = [], [], 0, [], 0
        for i, rec in enumerate(tqdm(records, desc=preset, leave=False)):
            page = make_sample(rec, preset=preset, seed=1, index=i)
            truth = page.plotted_record()
            t0 = time.perf_counter()
            try:
                result = digitize(page.image, fs=truth.fs, model=False if classical else None)
            except EcgkitError:  # refused (no layout recognised): scored as no estimate
                secs.append(time.perf_counter() - t0)
                snrs.append(float(np.nanmean(snr_record(truth, None))))
                refused += 1
                continue
            secs.append(time.perf_counter() - t0)
            snrs.append(float(np.nanmean(snr_record(truth, result.record))))
            layouts_ok += result.layout == page.layout.name
            if with_ceiling:
                caps.append(ceiling(truth))
        rows[preset] = {
            "images": len(records),
            "mean_snr_db": float(np.mean(snrs)),
            "median_snr_db": float(np.median(snrs)),
            "min_snr_db": float(np.min(snrs)),
            "seconds_per_page_median": float(np.median(secs)),
            "layout_correct": layouts_ok / len(records),
            "refused": refused / len(records),
            "target_db": TARGETS.get(preset),
            "ceiling_db": float(np.mean(caps)) if caps else None,
        }
    return rows


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10, help="images per preset")
    ap.add_argument("--presets", default=",".join(PRESETS))
    ap.add_argument(
        "--source",
        choices=["ptbxl", "builtin"],
        default="ptbxl",
        help="held-out PTB-XL records (ECGKIT_DATA) or built-in records 10000+",
    )
    ap.add_argument("--classical", action="store_true", help="force the classical ink map")
    ap.add_argument(
        "--ceiling",
        action="store_true",
        help="also print the SNR of the truth low-passed at 100 Hz",
    )
    ap.add_argument("--out", help="JSON path (default bench/results/digitize[-builtin].json)")
    args = ap.parse_args()
    try:
        records = held_out_records(args.source, args.images)
    except EcgkitError as exc:
        raise SystemExit(f"error: {exc}") from None
    rows = run(args.presets.split(","), records, args.classical, args.ceiling)
    print(
        f"{'preset':15s} {'images':>6s} {'mean SNR':>9s} {'median':>7s} {'min':>7s} "
        f"{'target':>6s} {'ceiling':>7s} {'layout ok':>9s} {'refused':>7s} {'s/page':>7s}"
    )
    for preset, r in rows.items():
        cap = f"{r['ceiling_db']:7.2f}" if r["ceiling_db"] is not None else f"{'-':>7s}"
        print(
            f"{preset:15s} {r['images']:6d} {r['mean_snr_db']:9.2f} {r['median_snr_db']:7.2f} "
            f"{r['min_snr_db']:7.2f} {r['target_db'] or 0:6d} {cap} {r['layout_correct']:9.0%} "
            f"{r['refused']:7.0%} {r['seconds_per_page_median']:7.2f}"
        )
    suffix = "" if args.source == "ptbxl" else "-" + args.source
    out = Path(args.out or Path(__file__).parent / "results" / f"digitize{suffix}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "bench": "digitize",
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine(),
                },
                "note": (
                    "SNR: PhysioNet Challenge 2024, mean over the 12 leads, then over images; "
                    "a refused page is scored as no estimate"
                ),
                "date": time.strftime("%Y-%m-%d"),
                "records": (
                    "held-out PTB-XL records (number divisible by 5)"
                    if args.source == "ptbxl"
                    else "held-out built-in records 10000+"
                ),
                "classical": args.classical,
                "presets": rows,
            },
            indent=1,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
