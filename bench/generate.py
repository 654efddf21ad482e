"""Speed and memory of making 200-DPI pages on one core, PNG writing included.

    python bench/generate.py [--repeats 15] [--json bench/results/generate.json]

Prints a table and writes the figures as JSON. Rows: the clean render alone, render + PNG
encode, then one row per preset for a whole sample written (PNG, JSON, WFDB), each the median
over ``--repeats`` images (different variants of built-in records, after one warm-up).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from ecgkit.generate import make_sample
from ecgkit.generate.layout import make_layout
from ecgkit.generate.presets import list_presets
from ecgkit.generate.render import render
from ecgkit.generate.sample import encode_image, write_sample
from ecgkit.generate.synth import builtin_record


def timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up: fonts, grid cache, imports
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--json", default="bench/results/generate.json")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import cv2

    cv2.setNumThreads(1)
    record = builtin_record(0)
    layout = make_layout("3x4+II", duration=record.duration)
    tmp = tempfile.mkdtemp()
    rows = {}
    rows["render (image + truth)"] = timed(lambda: render(record, layout), args.repeats)
    rows["render + PNG encode"] = timed(
        lambda: encode_image(render(record, layout).image, "png"), args.repeats
    )
    for preset in list_presets():
        counter = iter(range(10**6))

        def one(preset: str = preset, counter=counter) -> None:
            k = next(counter)
            page = make_sample(record, preset=preset, index=k)
            write_sample(page, tmp, "bench", image_format="png")  # PNG for every preset

        rows[f"preset {preset}: sample written"] = timed(one, args.repeats)
    tracemalloc.start()
    write_sample(make_sample(record, preset="clean"), tmp, "bench")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"ecgkit generate benchmark: 2200x1700 px (Letter, 200 DPI), {args.repeats} runs, 1 thread"
    )
    print(f"{'step':42s} {'median s':>9s} {'min s':>7s} {'max s':>7s}")
    result = {}
    for name, ts in rows.items():
        med = statistics.median(ts)
        print(f"{name:42s} {med:9.4f} {min(ts):7.4f} {max(ts):7.4f}")
        result[name] = {"median_s": med, "min_s": min(ts), "max_s": max(ts)}
    print(
        f"peak traced memory per sample: {peak / 2**20:.1f} MiB; process max RSS "
        f"{maxrss_mb:.0f} MiB"
    )
    out = {
        "benchmark": "generate",
        "image": "2200x1700 px, 3x4+II, Letter landscape, 200 DPI, clean preset",
        "repeats": args.repeats,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "seconds": result,
        "peak_traced_mib": peak / 2**20,
        "max_rss_mib": maxrss_mb,
        "targets_s_per_image": {"clean": 0.1, "scan": 0.3, "photo": 0.4},
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
