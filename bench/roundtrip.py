"""How long a round trip takes and what it scores: built-in records -> images -> digitizer.

    python bench/roundtrip.py [--records 10] [--preset clean] [--workers 1]
                              [--json bench/results/roundtrip.json]

Writes the round trip into a temporary folder (as ``ecgkit roundtrip`` does), prints the time per
image of each stage and the scores, and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from ecgkit.roundtrip import roundtrip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10)
    ap.add_argument("--preset", default="clean")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", default="bench/results/roundtrip.json")
    args = ap.parse_args()
    marks: dict[str, float] = {}

    def progress(stage: str, done: int, total: int, _res: object) -> None:
        marks.setdefault(stage, time.perf_counter())
        marks[f"{stage}_end"] = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="ecgkit-bench-rt-") as tmp:
        t0 = time.perf_counter()
        res = roundtrip(
            synthetic=args.records,
            out_dir=tmp,
            preset=args.preset,
            workers=args.workers,
            progress=progress,
        )
        total = time.perf_counter() - t0
    rt, s = res.report["roundtrip"], res.report["summary"]
    n = rt["n_images"]
    rows = {
        "images: render, write, digitize": marks["images_end"] - t0,
        "  of which the digitizer (mean per image x n)": (rt["digitize_seconds_mean"] or 0) * n,
        "scores (signal metrics, neurokit2 both sides)": total - (marks["images_end"] - t0),
        "whole round trip": total,
    }
    print(
        f"ecgkit roundtrip benchmark: {n} built-in records, preset {args.preset}, "
        f"{args.workers} worker(s), {os.cpu_count()} CPUs"
    )
    print(f"{'step':48s} {'total s':>8s} {'s/image':>8s}")
    for name, sec in rows.items():
        print(f"{name:48s} {sec:8.2f} {sec / n:8.2f}")
    agree = res.report["intervals"]["agreement"]
    print(
        f"{rt['n_digitized']} digitized, {rt['n_unreadable']} unreadable; mean SNR "
        f"{s['mean_snr_db']:.2f} dB; QT bias {agree['QT']['bias']} ms, "
        f"QRS MAE {agree['QRS']['mae']} ms"
    )
    out = {
        "benchmark": "roundtrip",
        "records": n,
        "preset": args.preset,
        "workers": args.workers,
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version()},
        "seconds": rows,
        "summary": s,
        "agreement": agree,
        "n_digitized": rt["n_digitized"],
        "n_unreadable": rt["n_unreadable"],
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
