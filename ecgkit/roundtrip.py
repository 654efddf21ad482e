"""Round trip: records -> paper-ECG images -> the digitizer -> scores against the truth.

The case study of the ECG-Image-Kit paper (images made from real records, digitized back, then
the SNR and the agreement of RR, PR, QRS and QT) in one call. Each image's truth is the signal as
plotted (``Page.plotted_record``: the shown window at the record's rate, NaN off the page), the
same ``NAME.hea`` that ``ecgkit generate`` writes.

With an output folder, :func:`roundtrip` writes::

    DIR/samples/NAME.png, NAME.json, NAME.hea/.dat   what `ecgkit generate` writes (the truth)
    DIR/digitized/NAME.hea/.dat                      what the digitizer read from NAME.png

so ``ecgkit evaluate --reference DIR/samples --estimate DIR/digitized`` gives the same scores.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecgkit.errors import EcgkitError
from ecgkit.evaluate.intervals import check_method, lead_set
from ecgkit.evaluate.report import evaluate_records
from ecgkit.generate.batch import Job, load_source, make_sample, plan_jobs
from ecgkit.generate.presets import Preset, load_preset
from ecgkit.generate.sample import encode_image, write_sample
from ecgkit.io import Record, read_record, write_wfdb
from ecgkit.parallel import run_tasks

__all__ = ["ImageResult", "RoundTrip", "digitize", "roundtrip", "roundtrip_records"]


def digitize(image: Any, *, fs: float = 500.0, name: str = "digitized") -> Any:
    """The digitizer the round trip calls (:func:`ecgkit.digitize.digitize`), imported late.

    Parameters
    ----------
    image : numpy.ndarray, str, Path or bytes
        The image or its file.
    fs : float
        Sampling rate of the digitized record.
    name : str
        Name of the digitized record.

    Returns
    -------
    ecgkit.digitize.Digitized
    """
    from ecgkit.digitize import digitize as _digitize

    return _digitize(image, fs=fs, name=name)


@dataclass
class ImageResult:
    """What happened to one image of the round trip.

    Attributes
    ----------
    name : str
        Sample name (``NAME`` or ``NAME-K``).
    source : str
        Where the record came from (a path, ``synth:N`` or the record's name).
    status : str
        ``"digitized"``, ``"unreadable"`` (the digitizer could not read the image: scored as a
        missing estimate, 0 dB on every lead) or ``"failed"`` (no image: the record could not
        be read or rendered; not scored).
    message : str
        Why, for ``unreadable`` and ``failed``.
    truth, estimate : Record or None
        The plotted signal and the digitized record.
    confidence : dict
        The digitizer's per-lead confidence.
    notes : list of str
        The digitizer's notes.
    seconds : float
        Wall time of the digitizer call.
    """

    name: str
    source: str
    status: str
    message: str = ""
    truth: Record | None = None
    estimate: Record | None = None
    confidence: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class RoundTrip:
    """A round trip's report and the records behind it.

    Attributes
    ----------
    report : dict
        :func:`~ecgkit.evaluate.report.evaluate_records`' report plus ``errors`` (one line per
        skipped record or unreadable image) and ``roundtrip`` (settings, counts, per-image
        digitizer confidence, notes and time).
    images : list of ImageResult
        Every image, in input order.
    references, estimates : list
        The scored pairs, in the order of ``report["records"]`` (estimate None where the
        image was unreadable).
    """

    report: dict[str, Any]
    images: list[ImageResult]
    references: list[Record]
    estimates: list[Record | None]

    @property
    def messages(self) -> list[str]:
        """``skipped NAME: reason`` for every failed record and unreadable image."""
        return [f"skipped {m}" for m in _problems(self.images)]

    @property
    def n_failed(self) -> int:
        """Records that gave no image (not scored)."""
        return sum(r.status == "failed" for r in self.images)


def _problems(images: Iterable[ImageResult]) -> list[str]:
    """``WHERE: reason`` for every failed record (its source) and unreadable image (its name)."""
    return [
        f"{r.source if r.status == 'failed' else r.name}: {r.message}"
        for r in images
        if r.status != "digitized"
    ]


@dataclass(frozen=True)
class _Settings:
    preset: Preset
    seed: int
    fs: float | None
    csv_fs: float | None
    out_dir: str | None


def _image_for_digitizer(page: Any, name: str, out: Path | None) -> Any:
    """Write the sample (or only encode the image): the digitizer reads what a user would."""
    output = page.parameters["drawn"].get("output", {})
    fmt = output.get("format", "png")
    quality = int(output.get("jpeg_quality", 95))
    if out is not None:
        files = write_sample(page, out / "samples", name, image_format=fmt, jpeg_quality=quality)
        return files[0]
    return encode_image(page.image, fmt, jpeg_quality=quality)


def _one(job: Job, settings: _Settings, record: Record | None = None) -> ImageResult:
    """Make, write and digitize one image; never raises for bad input."""
    out = Path(settings.out_dir) if settings.out_dir else None
    try:
        if record is None:
            record = load_source(job.source, seed=settings.seed, csv_fs=settings.csv_fs)
        record.name = job.name
        page = make_sample(
            record, preset=settings.preset, seed=settings.seed, index=job.index, source=job.source
        )
        fs = settings.fs or record.fs
        image = _image_for_digitizer(page, job.name, out)
        truth = page.plotted_record()
        if out is not None:  # the truth as the file holds it (1 uV steps)
            truth = read_record(out / "samples" / f"{job.name}.hea")
    except EcgkitError as exc:
        return ImageResult(job.name, job.source, "failed", str(exc))
    except (OSError, ValueError) as exc:
        return ImageResult(job.name, job.source, "failed", f"{type(exc).__name__}: {exc}")
    stale = out / "digitized" / f"{job.name}.hea" if out is not None else None
    t0 = time.perf_counter()
    try:
        result = digitize(image, fs=fs, name=job.name)
    except NotImplementedError:
        raise
    except EcgkitError as exc:
        message = f"the digitizer cannot read the image ({exc}); scored as 0 dB"
    except Exception as exc:  # a digitizer bug on one image must not end a long batch
        message = f"the digitizer failed ({type(exc).__name__}: {exc}); scored as 0 dB"
    else:
        seconds = time.perf_counter() - t0
        estimate = result.record
        estimate.name = job.name
        if out is not None:
            write_wfdb(estimate, out / "digitized", job.name)
            estimate = read_record(out / "digitized" / f"{job.name}.hea")
        return ImageResult(
            job.name,
            job.source,
            "digitized",
            truth=truth,
            estimate=estimate,
            confidence={k: float(v) for k, v in result.confidence.items()},
            notes=list(result.notes),
            seconds=seconds,
        )
    if stale is not None:  # an older run's estimate must not be scored in its place
        for suffix in (".hea", ".dat"):
            stale.with_suffix(suffix).unlink(missing_ok=True)
    return ImageResult(
        job.name, job.source, "unreadable", message, truth=truth, seconds=time.perf_counter() - t0
    )


def _one_item(item: tuple[Job, Record | None], settings: _Settings) -> ImageResult:
    """:func:`_one` of a ``(job, record)`` item (what :func:`ecgkit.parallel.run_tasks` calls)."""
    return _one(item[0], settings, item[1])


def _run(
    items: Sequence[tuple[Job, Record | None]],
    settings: _Settings,
    *,
    workers: int,
    lead: str,
    method: str,
    progress: Callable[[str, int, int, ImageResult | None], None] | None,
) -> RoundTrip:
    if workers < 1:
        raise EcgkitError(f"--workers must be >= 1, got {workers}")
    lead_set(lead)  # a bad lead fails now, not after every image is digitized
    check_method(method)
    images: list[ImageResult] = []

    def done(res: ImageResult) -> None:
        images.append(res)
        if progress is not None:
            progress("images", len(images), len(items), res)

    # in input order: the report's order does not depend on timing
    n_procs = workers if len(items) >= 2 else 1
    outcomes = run_tasks(_one_item, items, args=(settings,), workers=n_procs, ordered=True)
    with closing(outcomes):
        for outcome in outcomes:
            if outcome.exception is not None:  # _one raises only what must stop the run
                raise outcome.exception
            job = outcome.item[0]
            if outcome.ok:
                done(outcome.value)
            else:  # its worker died, alone
                done(ImageResult(job.name, job.source, "failed", outcome.error))
    scored = [r for r in images if r.status != "failed"]
    errors = _problems(images)
    if not scored:
        raise EcgkitError("no image could be made from the inputs: " + "; ".join(errors[:3]))
    refs = [r.truth for r in scored]
    ests = [r.estimate for r in scored]

    def eval_progress(i: int, n: int) -> None:
        if progress is not None:
            progress("evaluate", i, n, None)

    report = evaluate_records(refs, ests, lead=lead, method=method, progress=eval_progress)
    report["errors"] = errors
    digitized = [r for r in images if r.status == "digitized"]
    report["roundtrip"] = {
        "preset": settings.preset.name,
        "seed": settings.seed,
        "fs": settings.fs,
        "out": settings.out_dir,
        "n_images": len(images),
        "n_digitized": len(digitized),
        "n_unreadable": sum(r.status == "unreadable" for r in images),
        "n_failed_records": sum(r.status == "failed" for r in images),
        "digitize_seconds_mean": (
            sum(r.seconds for r in digitized) / len(digitized) if digitized else None
        ),
        "images": [
            {
                "name": r.name,
                "source": r.source,
                "status": r.status,
                "message": r.message,
                "confidence": r.confidence,
                "notes": r.notes,
                "seconds": r.seconds,
            }
            for r in images
        ],
    }
    return RoundTrip(report, images, refs, ests)  # type: ignore[arg-type]


def _preset(preset: Preset | str) -> Preset:
    return load_preset(preset) if isinstance(preset, (str, Path)) else preset


def roundtrip(
    inputs: Sequence[str | Path] = (),
    out_dir: str | Path | None = None,
    *,
    preset: Preset | str = "clean",
    synthetic: int = 0,
    images_per_record: int = 1,
    seed: int = 0,
    fs: float | None = None,
    csv_fs: float | None = None,
    workers: int = 1,
    lead: str = "II",
    method: str = "dwt",
    progress: Callable[[str, int, int, ImageResult | None], None] | None = None,
) -> RoundTrip:
    """Generate images of records, digitize them, and score the digitized records.

    Parameters
    ----------
    inputs : sequence of str or Path
        Record paths (with or without ``.hea``), folders, or CSV files, as for
        ``ecgkit generate``.
    out_dir : str or Path, optional
        Write ``samples/`` (images and truth) and ``digitized/`` (WFDB) here; without it
        everything stays in memory (the image still goes through its PNG or JPEG encoding).
    preset : Preset or str
        Built-in preset name or TOML path.
    synthetic : int
        Add this many built-in records.
    images_per_record : int
        Images (variants of the preset) per record.
    seed : int
        Run seed (each image's values are drawn as ``ecgkit generate`` draws them).
    fs : float, optional
        Sampling rate the digitizer writes (default: each record's own rate; the scores
        resample the estimate to the truth's rate).
    csv_fs : float, optional
        Sampling rate of CSV inputs.
    workers : int
        Processes that make and digitize the images (1: this process).
    lead, method : str
        Interval measurement settings (see :func:`~ecgkit.evaluate.measure_intervals`).
    progress : callable, optional
        Called as ``progress(stage, done, total, image_result)``; ``stage`` is ``"images"``
        (with the image's :class:`ImageResult`) then ``"evaluate"`` (with None).

    Returns
    -------
    RoundTrip
        A record that cannot be read is skipped (``status="failed"``, listed in
        ``report["errors"]``); an image the digitizer cannot read is scored as a missing
        estimate (0 dB on every lead, as the Challenge scores it).

    Raises
    ------
    EcgkitError
        For bad options, no inputs, or when no input gave an image.
    """
    jobs = plan_jobs(inputs, synthetic=synthetic, images_per_record=images_per_record)
    settings = _Settings(
        _preset(preset), int(seed), fs, csv_fs, str(out_dir) if out_dir is not None else None
    )
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    return _run(
        [(j, None) for j in jobs],
        settings,
        workers=workers,
        lead=lead,
        method=method,
        progress=progress,
    )


def roundtrip_records(
    records: Iterable[Record],
    *,
    preset: Preset | str = "clean",
    images_per_record: int = 1,
    seed: int = 0,
    fs: float | None = None,
    lead: str = "II",
    method: str = "dwt",
    progress: Callable[[str, int, int, ImageResult | None], None] | None = None,
) -> RoundTrip:
    """:func:`roundtrip` on records in memory (the web app), in this process, writing nothing.

    Parameters
    ----------
    records : iterable of Record
        The records; names are made unique (``NAME_``) and get ``-K`` for several images.
    preset, images_per_record, seed, fs, lead, method, progress
        As for :func:`roundtrip`.

    Returns
    -------
    RoundTrip
    """
    if images_per_record < 1:
        raise EcgkitError("images per record must be >= 1")
    items: list[tuple[Job, Record | None]] = []
    names: set[str] = set()
    for rec in records:
        name = rec.name
        while name in names:
            name += "_"
        names.add(name)
        for k in range(images_per_record):
            out_name = name if images_per_record == 1 else f"{name}-{k}"
            copy = Record(
                rec.signals,
                rec.fs,
                name=out_name,
                metadata=dict(rec.metadata),
                notes=list(rec.notes),
            )
            items.append((Job(rec.name, out_name, k), copy))
    if not items:
        raise EcgkitError("no records to run the round trip on")
    settings = _Settings(_preset(preset), int(seed), fs, None, None)
    return _run(items, settings, workers=1, lead=lead, method=method, progress=progress)
