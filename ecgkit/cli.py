"""Command line: ``ecgkit generate | digitize | evaluate | roundtrip`` (or ``python -m ecgkit``).

Errors a user can cause print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ecgkit import __version__
from ecgkit.errors import EcgkitError
from ecgkit.generate.layout import GAINS, ORDERS, ORIENTATIONS, PAPER_SIZES, SPEEDS
from ecgkit.generate.render import FONTS, GRID_CHOICES

#: What ``ecgkit --help`` says about the program (plain text: argparse prints it as is).
DESCRIPTION = (
    "Paper ECGs with exact ground truth: make them, read them back, score the reading. "
    "Commands: generate (records -> images with truth), digitize (images -> records), "
    "evaluate (digitized records against the truth), roundtrip (all three in one go). "
    "'ecgkit COMMAND --help' tells more; bad input prints one line and exits with status 2."
)


def _fail(message: str) -> int:
    print(f"ecgkit: error: {message}", file=sys.stderr)
    return 2


def _add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="render records as paper-ECG images with ground truth",
        description="Render WFDB or CSV records (or built-in ones) as paper-ECG images. Each "
        "sample NAME is NAME.png, NAME.json (ground truth), NAME.hea/.dat (the plotted "
        "signal). OUT/manifest.csv lists every image as results come back; a rerun resumes "
        "(complete samples are kept, failed ones tried again); bad records are reported, "
        "listed as failed and skipped.",
    )
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="record paths (with or without .hea), folders, or CSV files",
    )
    p.add_argument("--out", help="output folder (required, except with --replay: default .)")
    p.add_argument(
        "--replay",
        nargs="+",
        metavar="JSON",
        help="remake samples byte for byte from their NAME.json files",
    )
    p.add_argument("--preset", default="clean", help="built-in preset name or a .toml file")
    p.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--synthetic",
        type=int,
        default=0,
        metavar="N",
        help="also render N built-in (synthetic) records",
    )
    p.add_argument(
        "--images-per-record",
        type=int,
        default=1,
        metavar="K",
        help="variants per record (default 1)",
    )
    p.add_argument("--fs", type=float, help="sampling rate of CSV inputs, Hz")
    p.add_argument("--overwrite", action="store_true", help="remake complete samples")
    p.add_argument(
        "--split",
        metavar="TRAIN,VAL,TEST",
        help="write OUT/split.csv: a record-level split, e.g. 0.8,0.1,0.1 or 0.8,0.2",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster: tcp://HOST:PORT of a running scheduler, or "
        "local:N to start N worker processes here (instead of --workers)",
    )
    g = p.add_argument_group("overrides (on top of the preset)")
    g.add_argument("--layout", help="3x4, 3x4+II, 3x4+II,V1,V5, 6x2, 12x1, 2x6 ...")
    g.add_argument("--order", choices=ORDERS)
    g.add_argument("--paper", choices=tuple(PAPER_SIZES))
    g.add_argument("--orientation", choices=ORIENTATIONS)
    g.add_argument("--dpi", type=float)
    g.add_argument("--speed", type=float, help=f"mm/s: {', '.join(f'{s:g}' for s in SPEEDS)}")
    g.add_argument("--gain", type=float, help=f"mm/mV: {', '.join(f'{s:g}' for s in GAINS)}")
    g.add_argument("--chest-gain", type=float, help="mm/mV for V1-V6 (default: --gain)")
    g.add_argument("--start", type=float, help="record time (s) of the left edge")
    g.add_argument(
        "--grid", choices=GRID_CHOICES, help="grid colours; custom needs --grid-major/--grid-minor"
    )
    g.add_argument("--grid-major", metavar="#RRGGBB", help="major grid lines of --grid custom")
    g.add_argument("--grid-minor", metavar="#RRGGBB", help="minor grid lines of --grid custom")
    g.add_argument("--font", choices=FONTS)
    g.add_argument("--no-text", action="store_true", help="no header, footer or lead labels")
    g.add_argument("--format", choices=("png", "jpg"), help="image format")
    g.add_argument("--mask", action="store_true", default=None, help="also write NAME-mask.png")


def _rgb(value: str, option: str) -> list[int]:
    text = value.strip().removeprefix("#")
    try:
        if len(text) != 6:
            raise ValueError
        return [int(text[i : i + 2], 16) for i in (0, 2, 4)]
    except ValueError:
        raise EcgkitError(f"{option}: {value!r} is not a colour like '#E25353'") from None


def _overrides(args: argparse.Namespace) -> dict[str, dict]:
    def num(v: float | None) -> float | int | None:
        return int(v) if v is not None and float(v).is_integer() else v

    style = {"grid": args.grid, "font": args.font}
    colours = {"grid_major_rgb": args.grid_major, "grid_minor_rgb": args.grid_minor}
    given = {k: v for k, v in colours.items() if v is not None}
    if args.grid == "custom" and len(given) < 2:
        raise EcgkitError(
            "--grid custom needs both colours: --grid-major '#E25353' --grid-minor '#F6BEBE'"
        )
    if given and args.grid != "custom":
        raise EcgkitError("--grid-major and --grid-minor go with --grid custom")
    style.update({k: _rgb(v, "--" + k[:-4].replace("_", "-")) for k, v in given.items()})
    if args.no_text:
        style.update(header=False, footer=False, labels=False)
    return {
        "layout": {
            "name": args.layout,
            "order": args.order,
            "paper": args.paper,
            "orientation": args.orientation,
            "dpi": num(args.dpi),
            "speed": args.speed,
            "gain": args.gain,
            "chest_gain": args.chest_gain,
            "start": args.start,
        },
        "style": style,
        "output": {"format": args.format, "mask": args.mask},
    }


def cmd_replay(args: argparse.Namespace) -> int:
    """Run ``ecgkit generate --replay``."""
    from ecgkit.generate.batch import replay_sample

    failed = 0
    for path in args.replay:
        try:
            files = replay_sample(path, args.out or ".", csv_fs=args.fs)
            print(f"replayed {path} -> {files[0].parent}")
        except EcgkitError as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            failed += 1
    if failed:
        return _fail(f"{failed} of {len(args.replay)} samples could not be replayed")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """Run ``ecgkit generate``."""
    from tqdm import tqdm

    from ecgkit.generate.batch import generate

    if args.replay:
        return cmd_replay(args)
    if not args.out:
        return _fail("--out is required: the folder to write the samples to")
    overrides = _overrides(args)  # bad options fail before any record is read

    bar = tqdm(unit="img", desc="generate", file=sys.stderr, disable=None)

    def progress(res, done: int, total: int) -> None:
        bar.total = total
        bar.update(1)
        if res.status == "failed":
            bar.write(f"skipped {res.source}: {res.message}", file=sys.stderr)

    def run(executor=None, workers: int = args.workers):
        return generate(
            args.inputs,
            args.out,
            preset=args.preset,
            overrides=overrides,
            seed=args.seed,
            synthetic=args.synthetic,
            images_per_record=args.images_per_record,
            workers=workers,
            executor=executor,
            csv_fs=args.fs,
            overwrite=args.overwrite,
            split=args.split,
            progress=progress,
        )

    try:
        if args.scheduler:
            from ecgkit.generate.dataset import parse_split
            from ecgkit.parallel import dask_executor

            parse_split(args.split)  # bad options fail before a cluster starts
            with dask_executor(args.scheduler) as (executor, threads):
                summary = run(executor, threads)
        else:
            summary = run()
    finally:
        bar.close()
    print(
        f"{summary.written} written, {summary.skipped} already complete, "
        f"{len(summary.failed)} failed -> {args.out}"
    )
    if summary.failed:
        return _fail(f"{len(summary.failed)} of {summary.total} records failed (listed above)")
    return 0


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score digitized records against the truth",
        description="Score every record in --reference against the record of the same name in "
        "--estimate: PhysioNet Challenge 2024 SNR per lead, Kaggle 2025 SNR, Pearson r, RMSE, "
        "and the agreement of RR, PR, QRS, QT and QTc measured with neurokit2. A record "
        "missing from --estimate counts as the Challenge counts it (0 dB on every lead).",
    )
    p.add_argument("--reference", required=True, help="folder of true records (WFDB)")
    p.add_argument("--estimate", required=True, help="folder of digitized records (WFDB)")
    p.add_argument("--out", help="write the full report as JSON here")
    p.add_argument("--html", help="write an HTML report with the figures here")
    p.add_argument("--lead", default="II", help="lead for the intervals, or 'median'")
    p.add_argument("--method", default="dwt", help="neurokit2 delineation method")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Run ``ecgkit evaluate``."""
    import json

    from tqdm import tqdm

    from ecgkit.evaluate.intervals import METHODS
    from ecgkit.evaluate.report import evaluate_dirs, report_html, summary_lines

    if args.method not in METHODS:
        return _fail(f"unknown method {args.method!r}; valid methods: {', '.join(METHODS)}")
    bar = tqdm(unit="rec", desc="evaluate", file=sys.stderr, disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(1)

    try:
        report = evaluate_dirs(
            args.reference, args.estimate, lead=args.lead, method=args.method, progress=progress
        )
    finally:
        bar.close()
    for message in report["errors"]:
        print(f"skipped {message}", file=sys.stderr)
    print("\n".join(summary_lines(report)))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, allow_nan=False))
        print(f"report: {args.out}")
    if args.html:
        Path(args.html).write_text(report_html(report), encoding="utf-8")
        print(f"html: {args.html}")
    return 0


def _add_digitize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "digitize",
        help="images of paper ECGs -> WFDB records (12 leads, mV)",
        description="Digitize scans, photos or PDFs of paper ECGs: one WFDB record NAME.hea/.dat "
        "per image NAME.png (12 canonical leads, mV). Folders are searched for "
        ".png/.jpg/.jpeg/.bmp/.tif/.tiff/.pdf (generator masks NAME-mask.png are left out). An "
        "image that cannot be read, or holds no ECG, is reported and skipped; the exit status "
        "is then 2.",
    )
    p.add_argument("inputs", nargs="+", metavar="IMAGE_OR_DIR", help="image files or folders")
    p.add_argument("--out", required=True, help="output folder for the records")
    p.add_argument("--fs", type=float, default=500.0, help="sampling rate, Hz (default 500)")
    p.add_argument("--csv", action="store_true", help="also write NAME.csv (mV, one column a lead)")
    p.add_argument("--model", metavar="PATH", help="trace model file (default: the shipped one)")
    p.add_argument(
        "--json",
        action="store_true",
        help="also write NAME.json: layout, each lead's box and label box in the input image's "
        "pixels, the scale and its source, confidences and notes",
    )


def _digitize_inputs(inputs: Sequence[str]) -> tuple[list[Path], list[str]]:
    from ecgkit.digitize.io import IMAGE_SUFFIXES

    found: list[Path] = []
    errors: list[str] = []
    seen: set[Path] = set()
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            images = sorted(
                f
                for f in p.rglob("*")
                if f.is_file()
                and f.suffix.lower() in IMAGE_SUFFIXES
                and not f.name.lower().endswith("-mask.png")
            )
            if not images:
                errors.append(f"{p}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
        elif p.exists():
            images = [p]
        else:
            errors.append(f"{p}: no such file or folder")
            images = []
        for f in images:
            if f.resolve() not in seen:
                seen.add(f.resolve())
                found.append(f)
    return found, errors


def cmd_digitize(args: argparse.Namespace) -> int:
    """Run ``ecgkit digitize``."""
    from tqdm import tqdm

    from ecgkit.digitize.io import load_image
    from ecgkit.digitize.service import digitize_array, load_model, mean_confidence, record_name
    from ecgkit.io import write_csv, write_wfdb
    from ecgkit.io.record import check_output_fs

    try:
        check_output_fs(args.fs, "--fs")
    except EcgkitError as exc:
        return _fail(str(exc))
    images, errors = _digitize_inputs(args.inputs)
    for message in errors:
        print(f"skipped {message}", file=sys.stderr)
    if not images:
        return _fail("no images to digitize")
    model = load_model(args.model)
    out = Path(args.out)
    used: set[str] = set()
    failed = len(errors)
    bar = tqdm(images, unit="img", desc="digitize", file=sys.stderr, disable=None)
    for path in bar:
        try:
            rgb = load_image(path)
            result = digitize_array(rgb, name=path.name, fs=args.fs, model=model)
            name = record_name(path.name)
            if name in used:
                name = f"{record_name(path.parent.name)}_{name}"
            while name in used:
                name += "_"
            used.add(name)
            result.record.name = name
            write_wfdb(result.record, out, name)
            if args.csv:
                write_csv(result.record, out / f"{name}.csv")
            if getattr(args, "json", False):
                import json

                report = result.to_json_dict(image=path.name)
                (out / f"{name}.json").write_text(json.dumps(report, indent=1) + "\n")
        except EcgkitError as exc:
            reason = str(exc).removeprefix(f"{path.name}: ")  # the path is said once
            reason = reason.removeprefix(f"{record_name(path.name)}: ")
            bar.write(f"skipped {path}: {reason}", file=sys.stderr)
            failed += 1
            continue
        except (OSError, ValueError) as exc:  # odd content the readers missed
            bar.write(f"skipped {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed += 1
            continue
        n_read = int(result.record.present.sum())
        bar.write(
            f"{path} -> {name}: layout {result.layout}, mean confidence "
            f"{mean_confidence(result.confidence):.2f}, {n_read}/12 leads, "
            f"{result.seconds:.1f} s",
            file=sys.stdout,
        )
    bar.close()
    total = len(images) + len(errors)
    print(f"{total - failed} digitized, {failed} skipped -> {out}")
    if failed:
        return _fail(f"{failed} of {total} inputs could not be digitized (listed above)")
    return 0


def _add_roundtrip(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "roundtrip",
        help="generate, digitize and evaluate in one command",
        description="Render records as paper-ECG images with a preset, digitize every image, "
        "and score the digitized records against the plotted signals (Challenge 2024 SNR, "
        "Kaggle 2025 SNR, Pearson r, RMSE, RR/PR/QRS/QT/QTc agreement). Writes "
        "DIR/samples (images and truth), DIR/digitized (WFDB) and DIR/report.json. A record "
        "that cannot be read is skipped; an image the digitizer cannot read scores 0 dB.",
    )
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="RECORD",
        help="record paths (with or without .hea), folders, or CSV files",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--preset", default="clean", help="built-in preset name or a .toml file")
    p.add_argument(
        "--images-per-record",
        type=int,
        default=1,
        metavar="K",
        help="images (preset variants) per record (default 1)",
    )
    p.add_argument(
        "--synthetic",
        type=int,
        default=0,
        metavar="N",
        help="also use N built-in (synthetic) records",
    )
    p.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    p.add_argument(
        "--fs",
        type=float,
        metavar="HZ",
        help="sampling rate the digitizer writes (default: each record's own)",
    )
    p.add_argument("--csv-fs", type=float, metavar="HZ", help="sampling rate of CSV inputs")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--lead", default="II", help="lead for the intervals, or 'median'")
    p.add_argument("--method", default="dwt", help="neurokit2 delineation method")
    p.add_argument("--html", metavar="FILE", help="also write an HTML report with the figures")


def cmd_roundtrip(args: argparse.Namespace) -> int:
    """Run ``ecgkit roundtrip``."""
    import json

    from tqdm import tqdm

    from ecgkit.evaluate.intervals import METHODS
    from ecgkit.evaluate.report import report_html, summary_lines
    from ecgkit.roundtrip import roundtrip

    if args.method not in METHODS:
        return _fail(f"unknown method {args.method!r}; valid methods: {', '.join(METHODS)}")
    if args.fs is not None and not args.fs > 0:
        return _fail(f"--fs must be > 0, got {args.fs:g}")
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int, res) -> None:
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            unit = "img" if stage == "images" else "rec"
            bars[stage] = tqdm(total=total, unit=unit, desc=stage, file=sys.stderr, disable=None)
        bars[stage].update(1)
        if res is not None and res.status != "digitized":
            where = res.source if res.status == "failed" else res.name
            bars[stage].write(f"skipped {where}: {res.message}", file=sys.stderr)

    try:
        result = roundtrip(
            args.inputs,
            args.out,
            preset=args.preset,
            synthetic=args.synthetic,
            images_per_record=args.images_per_record,
            seed=args.seed,
            fs=args.fs,
            csv_fs=args.csv_fs,
            workers=args.workers,
            lead=args.lead,
            method=args.method,
            progress=progress,
        )
    finally:
        for bar in bars.values():
            bar.close()
    report = result.report
    print("\n".join(summary_lines(report)))
    rt = report["roundtrip"]
    print(
        f"images: {rt['n_images']} ({rt['n_digitized']} digitized, {rt['n_unreadable']} "
        f"unreadable, {rt['n_failed_records']} records failed)"
    )
    out = Path(args.out) / "report.json"
    out.write_text(json.dumps(report, indent=1, allow_nan=False))
    print(f"report: {out}")
    if args.html:
        Path(args.html).write_text(report_html(report), encoding="utf-8")
        print(f"html: {args.html}")
    if result.n_failed:
        return _fail(
            f"{result.n_failed} of {rt['n_images']} images could not be made "
            "(listed above); the others are scored"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ecgkit`` command."""
    parser = argparse.ArgumentParser(prog="ecgkit", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"ecgkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_generate(sub)
    _add_digitize(sub)
    _add_evaluate(sub)
    _add_roundtrip(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ecgkit`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 success, 2 bad input, 130 interrupted.
    """
    args = build_parser().parse_args(argv)
    try:
        command = {
            "generate": cmd_generate,
            "digitize": cmd_digitize,
            "evaluate": cmd_evaluate,
            "roundtrip": cmd_roundtrip,
        }[args.command]
        return command(args)
    except EcgkitError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("ecgkit: interrupted; complete samples are kept, rerun to finish", file=sys.stderr)
        return 130
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
