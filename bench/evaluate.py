"""How long evaluating 100 ten-second 500 Hz records takes (SNR, metrics, intervals).

    python bench/evaluate.py [--records 100] [--json bench/results/evaluate.json]

References are built-in records; estimates are the same with 20 uV of noise and a 4-sample
delay (what a decent digitizer returns). Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from ecgkit.evaluate.intervals import measure_intervals
from ecgkit.evaluate.metrics import record_metrics
from ecgkit.evaluate.report import evaluate_records
from ecgkit.generate.synth import builtin_record
from ecgkit.io import Record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100)
    ap.add_argument("--json", default="bench/results/evaluate.json")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    refs = [builtin_record(i) for i in range(args.records)]
    ests = []
    for r in refs:
        sig = np.roll(r.signals, 4, axis=0) + rng.normal(0, 0.02, r.signals.shape)
        ests.append(Record(sig, r.fs, name=r.name))
    rows = {}
    t0 = time.perf_counter()
    for r, e in zip(refs, ests, strict=True):
        record_metrics(r, e)
    rows["signal metrics (Challenge SNR, Kaggle, r, RMSE)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for r, e in zip(refs, ests, strict=True):
        measure_intervals(r)
        measure_intervals(e)
    rows["intervals, both sides (neurokit2 dwt, lead II)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = evaluate_records(refs, ests)
    rows["whole report (evaluate_records)"] = time.perf_counter() - t0
    n = args.records
    print(f"ecgkit evaluate benchmark: {n} records, 12 leads, 10 s at 500 Hz, 1 process")
    print(f"{'step':50s} {'total s':>8s} {'ms/record':>10s}")
    for name, sec in rows.items():
        print(f"{name:50s} {sec:8.2f} {1000 * sec / n:10.1f}")
    s = report["summary"]
    print(
        f"mean SNR {s['mean_snr_db']:.2f} dB; QT agreement: bias "
        f"{report['intervals']['agreement']['QT']['bias']:.1f} ms"
    )
    out = {
        "benchmark": "evaluate",
        "records": n,
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version()},
        "seconds": rows,
        "target_s_per_100_records": 60,
        "mean_snr_db": s["mean_snr_db"],
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
