"""Digitizer accuracy and speed per preset: mean Challenge-2024 SNR and seconds per page.

Images are made by the generator from built-in records that no training or tuning used
(record numbers from 10,000 up), so every figure is on held-out records. Prints a table and
writes ``bench/results/digitize.json``.

    python bench/digitize.py [--images 10] [--presets clean,scan,...] [--classical]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from ecgkit.digitize import digitize
from ecgkit.evaluate import snr_record
from ecgkit.generate import make_sample
from ecgkit.synth import builtin_record

PRESETS = ["clean", "challenge2024", "scan", "photo", "archive"]
TARGETS = {"clean": 22, "challenge2024": 20, "scan": 18, "photo": 12, "archive": 12}
FIRST_HELD_OUT = 10_000


def run(presets: list[str], images: int, classical: bool) -> dict:
    """Digitize ``images`` generated pages per preset and score them against the truth."""
    rows = {}
    for preset in presets:
        snrs, secs, layouts_ok = [], [], 0
        for i in range(images):
            rec = builtin_record(FIRST_HELD_OUT + i)
            page = make_sample(rec, preset=preset, seed=1, index=i)
            truth = page.plotted_record()
            t0 = time.perf_counter()
            result = digitize(page.image, fs=truth.fs, model=False if classical else None)
            secs.append(time.perf_counter() - t0)
            snrs.append(float(np.nanmean(snr_record(truth, result.record))))
            layouts_ok += result.layout == page.layout.name
        rows[preset] = {
            "images": images,
            "mean_snr_db": float(np.mean(snrs)),
            "median_snr_db": float(np.median(snrs)),
            "min_snr_db": float(np.min(snrs)),
            "seconds_per_page_median": float(np.median(secs)),
            "layout_correct": layouts_ok / images,
            "target_db": TARGETS.get(preset),
        }
    return rows


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10, help="images per preset")
    ap.add_argument("--presets", default=",".join(PRESETS))
    ap.add_argument("--classical", action="store_true", help="force the classical ink map")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "digitize.json"))
    args = ap.parse_args()
    rows = run(args.presets.split(","), args.images, args.classical)
    print(f"{'preset':15s} {'images':>6s} {'mean SNR':>9s} {'median':>7s} {'min':>7s} "
          f"{'target':>6s} {'layout ok':>9s} {'s/page':>7s}")  # fmt: skip
    for preset, r in rows.items():
        print(f"{preset:15s} {r['images']:6d} {r['mean_snr_db']:9.2f} {r['median_snr_db']:7.2f} "
              f"{r['min_snr_db']:7.2f} {r['target_db'] or 0:6d} {r['layout_correct']:9.0%} "
              f"{r['seconds_per_page_median']:7.2f}")  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "bench": "digitize",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine()},
        "note": "SNR: PhysioNet Challenge 2024, mean over the 12 leads, then over images; "
                "held-out built-in records 10000+",
        "presets": rows,
    }, indent=1))  # fmt: skip
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
