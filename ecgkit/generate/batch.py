"""Batch generation: records x seeds -> sample files, through any ``concurrent.futures`` executor.

Every image has its own ``numpy.random.Generator`` derived from ``(seed, record name, index)``,
so the bytes of a sample do not depend on the number of workers, the order of completion, or
which other records are in the batch. A run keeps a manifest (:mod:`.dataset`) so it can be
stopped and resumed; a local worker process that dies costs only the images it had in flight,
which are tried again (alone, to find the one that kills its worker): the runner is
:func:`ecgkit.parallel.run_tasks`.
"""

from __future__ import annotations

import json
import os
import shutil
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError
from ecgkit.generate.dataset import Manifest, assign_split, parse_split, sample_info, write_split
from ecgkit.generate.layout import Paper, make_layout
from ecgkit.generate.presets import Preset, load_preset, parse_artifacts, parse_preset
from ecgkit.generate.render import Page, Style, render
from ecgkit.generate.sample import is_complete, write_sample
from ecgkit.io import Record, find_records, read_record
from ecgkit.parallel import run_tasks

SYNTH_PREFIX = "synth:"


def image_rng(seed: int, record_name: str, index: int = 0) -> np.random.Generator:
    """The random generator of one image, from (seed, record, image index).

    Parameters
    ----------
    seed : int
        The run's seed.
    record_name : str
        The record's name (hashed with CRC-32, stable across machines and Python versions).
    index : int
        The image's index among the images made from this record.

    Returns
    -------
    numpy.random.Generator
    """
    return np.random.default_rng([int(seed), zlib.crc32(record_name.encode()), int(index)])


def draw_settings(
    preset: Preset,
    rng: np.random.Generator,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Draw a preset's values and apply overrides on top (the draws do not shift).

    Parameters
    ----------
    preset : Preset
    rng : numpy.random.Generator
    overrides : dict, optional
        ``{table: {key: value}}`` fixed values, e.g. from the command line.

    Returns
    -------
    dict
        ``{"layout": {...}, "style": {...}, "output": {...}}``.
    """
    drawn = preset.pick(rng).draw(rng)
    for table in ("layout", "style", "output"):
        drawn.setdefault(table, {})
    for table, values in (overrides or {}).items():
        if table != "artifacts":
            drawn.setdefault(table, {}).update(values)
    return drawn


def check_overrides(overrides: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Validate overrides with the preset schema; drop ``None`` values.

    Parameters
    ----------
    overrides : dict or None
        ``{"layout": {...}, "style": {...}, "output": {...}, "artifacts": {name: {...}}}``.

    Returns
    -------
    dict
    """
    overrides = dict(overrides or {})
    artifacts = overrides.pop("artifacts", None)
    clean = {t: {k: v for k, v in vals.items() if v is not None} for t, vals in overrides.items()}
    clean = {t: v for t, v in clean.items() if v}
    parse_preset(clean, "option")
    if artifacts:
        clean["artifacts"] = parse_artifacts(artifacts, "option")
    return clean


def page_from_settings(record: Record, drawn: dict[str, dict[str, Any]]) -> Page:
    """Lay out and render a record with drawn settings.

    Parameters
    ----------
    record : Record
    drawn : dict
        Output of :func:`draw_settings`.

    Returns
    -------
    Page
    """
    lay = dict(drawn.get("layout", {}))
    paper = Paper(
        size=lay.pop("paper", "letter"),
        orientation=lay.pop("orientation", "landscape"),
        dpi=lay.pop("dpi", 200),
    )
    start = float(lay.pop("start", 0.0))
    if start >= record.duration:
        raise EcgkitError(
            f"record {record.name}: start time {start:g} s is past its end ({record.duration:g} s)"
        )
    style_kwargs = {
        k: (tuple(v) if isinstance(v, list) else v) for k, v in drawn.get("style", {}).items()
    }
    style = Style(**style_kwargs)
    layout = make_layout(
        lay.pop("name", "3x4+II"),
        paper=paper,
        start=start,
        duration=record.duration - start,
        **lay,
        **style.layout_options(),
    )
    return render(record, layout, style)


def make_sample_pair(
    record: Record,
    *,
    preset: Preset | str = "clean",
    overrides: dict[str, dict[str, Any]] | None = None,
    seed: int = 0,
    index: int = 0,
    source: str | None = None,
) -> tuple[Page, Page]:
    """Make one sample and keep the clean page it was distorted from.

    Parameters
    ----------
    record : Record
    preset : Preset or str
        A preset or a built-in name / TOML path.
    overrides : dict, optional
        Fixed values on top of the preset (``artifacts`` entries replace the preset's).
    seed, index : int
        The run's seed and the image's index for this record.
    source : str, optional
        Where the record came from (a path or ``synth:N``), kept for ``--replay``.

    Returns
    -------
    tuple of Page
        ``(clean, distorted)``; the distorted page's ``parameters`` hold the seed, index,
        preset, every drawn value and every applied artifact with its parameters.
    """
    from ecgkit.artifacts import apply_artifacts

    preset = load_preset(preset) if isinstance(preset, (str, Path)) else preset
    overrides = check_overrides(overrides)
    rng = image_rng(seed, record.name, index)
    component = preset.pick(rng)  # a mixture's draw of its components; else the preset
    drawn = draw_settings(component, rng, overrides)
    clean = page_from_settings(record, drawn)
    config = {**component.artifacts, **overrides.get("artifacts", {})}
    page, applied = apply_artifacts(clean, config, rng) if config else (clean, [])
    page.parameters = {
        "seed": int(seed),
        "index": int(index),
        "source": source,
        "preset": preset.name,
        "preset_version": preset.version,
        **({"components": component.description} if preset.mix else {}),
        "drawn": drawn,
        "artifacts": applied,
        "record_notes": list(record.notes) + list(clean.layout.notes),
    }
    return clean, page


def make_sample(
    record: Record,
    *,
    preset: Preset | str = "clean",
    overrides: dict[str, dict[str, Any]] | None = None,
    seed: int = 0,
    index: int = 0,
    source: str | None = None,
) -> Page:
    """Make one sample page from a record: draw the preset's values, lay out, render, distort.

    Parameters
    ----------
    record : Record
    preset : Preset or str
    overrides : dict, optional
    seed, index : int
    source : str, optional
        See :func:`make_sample_pair`.

    Returns
    -------
    Page
    """
    return make_sample_pair(
        record, preset=preset, overrides=overrides, seed=seed, index=index, source=source
    )[1]


def replay_sample(
    json_path: str | Path, out_dir: str | Path, *, csv_fs: float | None = None
) -> list[Path]:
    """Remake a sample from its JSON, byte for byte: same record, settings and artifacts.

    Parameters
    ----------
    json_path : str or Path
        A sample's ``NAME.json``.
    out_dir : str or Path
        Where to write the remade sample.
    csv_fs : float, optional
        Sampling rate, if the source is a CSV file.

    Returns
    -------
    list of Path
        The files written.
    """
    import json

    from ecgkit.artifacts import replay_artifacts

    path = Path(json_path)
    try:
        doc = json.loads(path.read_text())
        params = doc["parameters"]
        source, drawn = params["source"], params["drawn"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EcgkitError(f"{path}: not an ecgkit sample JSON ({exc})") from None
    if not source:
        raise EcgkitError(f"{path}: the sample does not say which record it came from")
    record = load_source(source, seed=int(params["seed"]), csv_fs=csv_fs)
    record.name = doc["record_name"]
    page = replay_artifacts(page_from_settings(record, drawn), params["artifacts"])
    page.parameters = params
    out = drawn.get("output", {})
    return write_sample(
        page,
        out_dir,
        path.stem,
        image_format=out.get("format", "png"),
        mask=bool(out.get("mask", False)),
        jpeg_quality=int(out.get("jpeg_quality", 95)),
    )


@dataclass(frozen=True)
class Job:
    """One image to make: a record source (a path, or ``synth:N``) and the output name.

    ``record`` is the record's own name (the split key; all images of a record share it).
    """

    source: str
    name: str
    index: int = 0
    record: str = ""


@dataclass(frozen=True)
class JobResult:
    """What happened to one job: ``status`` is ``written``, ``skipped`` or ``failed``.

    ``info`` holds the manifest's sampling columns (:func:`ecgkit.generate.dataset.sample_info`).
    """

    name: str
    source: str
    status: str
    message: str = ""
    files: tuple[str, ...] = ()
    info: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RunSettings:
    """Everything a worker needs besides the job (picklable)."""

    out_dir: str
    preset: Preset
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: int = 0
    csv_fs: float | None = None
    overwrite: bool = False


def load_source(source: str, *, seed: int = 0, csv_fs: float | None = None) -> Record:
    """Read a job's record: a file path, or ``synth:N`` for built-in record N.

    Parameters
    ----------
    source : str
    seed : int
        Seed of the built-in source.
    csv_fs : float, optional
        Sampling rate for CSV files.

    Returns
    -------
    Record
    """
    if source.startswith(SYNTH_PREFIX):
        from ecgkit.generate.synth import builtin_record

        return builtin_record(int(source[len(SYNTH_PREFIX) :]), seed=seed)
    return read_record(source, fs=csv_fs)


def run_job(job: Job, settings: RunSettings) -> JobResult:
    """Make and write one sample; never raises for bad input (the result says what went wrong).

    Parameters
    ----------
    job : Job
    settings : RunSettings

    Returns
    -------
    JobResult
    """
    try:
        rng = image_rng(settings.seed, job.name, job.index)
        drawn = draw_settings(settings.preset, rng, settings.overrides)
        out = drawn["output"]
        fmt, mask = out.get("format", "png"), bool(out.get("mask", False))
        if not settings.overwrite and is_complete(
            settings.out_dir, job.name, image_format=fmt, mask=mask
        ):
            try:
                doc = json.loads((Path(settings.out_dir) / f"{job.name}.json").read_text())
                info = sample_info(doc["parameters"])
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                info = {}
            return JobResult(job.name, job.source, "skipped", "already complete", info=info)
        record = load_source(job.source, seed=settings.seed, csv_fs=settings.csv_fs)
        record.name = job.name
        page = make_sample(
            record,
            preset=settings.preset,
            overrides=settings.overrides,
            seed=settings.seed,
            index=job.index,
            source=job.source,
        )
        files = write_sample(
            page,
            settings.out_dir,
            job.name,
            image_format=fmt,
            mask=mask,
            jpeg_quality=int(out.get("jpeg_quality", 95)),
        )
        return JobResult(
            job.name,
            job.source,
            "written",
            files=tuple(str(f) for f in files),
            info=sample_info(page.parameters),
        )
    except EcgkitError as exc:
        return JobResult(job.name, job.source, "failed", str(exc))
    except (OSError, ValueError) as exc:  # unreadable files, odd content the readers missed
        return JobResult(job.name, job.source, "failed", f"{type(exc).__name__}: {exc}")


def plan_jobs(
    inputs: Sequence[str | Path] = (), *, synthetic: int = 0, images_per_record: int = 1
) -> list[Job]:
    """Expand inputs into jobs with unique output names.

    Parameters
    ----------
    inputs : sequence of str or Path
        Record paths (with or without ``.hea``), folders, CSV files.
    synthetic : int
        Number of built-in records to add (``synth00000``...).
    images_per_record : int
        Variants per record (named ``NAME-K`` when more than one).

    Returns
    -------
    list of Job
    """
    if synthetic < 0 or images_per_record < 1:
        raise EcgkitError("--synthetic must be >= 0 and --images-per-record >= 1")
    paths = find_records(inputs) if inputs else []
    if not paths and synthetic == 0:
        raise EcgkitError("no input records: give record paths or folders, or --synthetic N")
    stems = [p.stem for p in paths]
    names = []
    for p, stem in zip(paths, stems, strict=True):
        # the same record name in two folders: prefix the folder so outputs do not collide
        names.append(f"{p.parent.name}_{stem}" if stems.count(stem) > 1 else stem)
    # absolute paths: a cluster's workers do not share our working directory
    sources = [(os.path.abspath(p), n, p.stem) for p, n in zip(paths, names, strict=True)]
    sources += [(f"{SYNTH_PREFIX}{i}", f"synth{i:05d}", f"synth{i:05d}") for i in range(synthetic)]
    jobs = []
    for source, name, record in sources:
        for k in range(images_per_record):
            jobs.append(Job(source, name if images_per_record == 1 else f"{name}-{k}", k, record))
    return jobs


@dataclass
class Summary:
    """Counts and failures of a batch run."""

    written: int = 0
    skipped: int = 0
    failed: list[JobResult] = field(default_factory=list)
    results: list[JobResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Jobs run."""
        return self.written + self.skipped + len(self.failed)


def clean_partial(out_dir: str | Path) -> int:
    """Remove temporary folders an interrupted run left in ``out_dir``; return how many."""
    out = Path(out_dir)
    n = 0
    if out.is_dir():
        for tmp in out.glob(".*.*"):
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
                n += 1
    return n


def _manifest_row(
    job: Job, res: JobResult, settings: RunSettings, fractions: Sequence[float] | None
) -> dict[str, str]:
    status = "failed" if res.status == "failed" else "written"
    return {
        "name": job.name,
        "record": job.record or job.name,
        "source": job.source,
        "index": str(job.index),
        "seed": str(settings.seed),
        "preset": settings.preset.name,
        **res.info,
        "status": status,
        "message": res.message if status == "failed" else "",
        "split": assign_split(job.record or job.name, settings.seed, fractions)
        if fractions
        else "",
    }


def _trusted_rows(out_dir: Path, manifest: Manifest, overwrite: bool) -> dict[str, dict]:
    """Rows of an earlier run's manifest whose sample is complete on disk (written ones only)."""
    if overwrite:
        return {}
    rows = {}
    for name, row in manifest.read().items():
        if (
            row["status"] == "written"
            and row["format"] in ("png", "jpg")
            and is_complete(out_dir, name, image_format=row["format"], mask=row["mask"] == "1")
        ):
            rows[name] = row
    return rows


def generate(
    inputs: Sequence[str | Path] = (),
    out_dir: str | Path = "out",
    *,
    preset: Preset | str = "clean",
    overrides: dict[str, dict[str, Any]] | None = None,
    seed: int = 0,
    synthetic: int = 0,
    images_per_record: int = 1,
    workers: int = 1,
    executor: Executor | None = None,
    csv_fs: float | None = None,
    overwrite: bool = False,
    split: str | Sequence[float] | None = None,
    progress: Callable[[JobResult, int, int], None] | None = None,
    job_fn: Callable[[Job, RunSettings], JobResult] = run_job,
) -> Summary:
    """Generate samples for many records, keeping ``OUT/manifest.csv`` as results come back.

    A rerun into the same folder resumes: samples the manifest lists as written and that are
    complete on disk are not submitted again; complete samples the manifest misses are found
    on disk and listed; failed ones are tried again. The manifest is rewritten in plan order at
    the end, so a finished folder is the same whatever the workers or interruptions were.

    Parameters
    ----------
    inputs : sequence of str or Path
        Record paths, folders or CSV files.
    out_dir : str or Path
        Output folder.
    preset : Preset or str
        Built-in name or TOML path.
    overrides : dict, optional
        ``{table: {key: value}}`` on top of the preset.
    seed : int
        Run seed; the same seed gives the same bytes whatever ``workers`` or ``executor`` is.
    synthetic : int
        Add this many built-in records.
    images_per_record : int
        Variants per record.
    workers : int
        Processes of the local pool (1 runs in this process); with ``executor``, the number
        of its worker threads (it bounds the jobs in flight to 4 per worker).
    executor : concurrent.futures.Executor, optional
        Use this executor instead of a local pool (e.g. a Dask client's).
    csv_fs : float, optional
        Sampling rate of CSV inputs.
    overwrite : bool
        Remake samples that are already complete (and ignore the old manifest).
    split : str or sequence of float, optional
        ``"0.8,0.1,0.1"`` (train, val, test) or ``"0.8,0.2"`` (train, test): write
        ``split.csv`` and the manifest's ``split`` column, by record.
    progress : callable, optional
        Called as ``progress(result, done, total)`` after each job completes.
    job_fn : callable
        What runs one job on a worker (default :func:`run_job`; for wrappers and tests).

    Returns
    -------
    Summary
    """
    if workers < 1:
        raise EcgkitError(f"--workers must be >= 1, got {workers}")
    fractions = parse_split(split)
    preset = load_preset(preset) if isinstance(preset, (str, Path)) else preset
    out = Path(out_dir).absolute()
    settings = RunSettings(
        str(out), preset, check_overrides(overrides), int(seed), csv_fs, overwrite
    )
    jobs = plan_jobs(inputs, synthetic=synthetic, images_per_record=images_per_record)
    out.mkdir(parents=True, exist_ok=True)
    clean_partial(out)
    manifest = Manifest(out)
    rows = _trusted_rows(out, manifest, overwrite)
    by_name = {job.name: job for job in jobs}
    for name, row in rows.items():
        if fractions:
            row["split"] = assign_split(row["record"] or name, int(seed), fractions)
        elif name in by_name:
            row["split"] = ""
    order = [job.name for job in jobs] + sorted(set(rows) - set(by_name))

    def ordered() -> Iterator[dict]:
        return (rows[n] for n in order if n in rows)

    manifest.rewrite(ordered())  # trusted rows only: a consistent start
    summary = Summary()
    done_jobs = [job for job in jobs if job.name in rows]
    todo = [job for job in jobs if job.name not in rows]
    try:
        for job in done_jobs:
            res = JobResult(job.name, job.source, "skipped", "listed in the manifest")
            summary.skipped += 1
            summary.results.append(res)
            if progress is not None:
                progress(res, summary.total, len(jobs))
        results = run_tasks(job_fn, todo, args=(settings,), workers=workers, executor=executor)
        with manifest, closing(results):
            for outcome in results:
                job = outcome.item
                res = outcome.value
                if not outcome.ok:  # a worker that died, or a job function that raised
                    res = JobResult(job.name, job.source, "failed", outcome.error)
                rows[res.name] = _manifest_row(job, res, settings, fractions)
                manifest.append(rows[res.name])
                summary.results.append(res)
                if res.status == "written":
                    summary.written += 1
                elif res.status == "skipped":
                    summary.skipped += 1
                else:
                    summary.failed.append(res)
                if progress is not None:
                    progress(res, summary.total, len(jobs))
    finally:
        manifest.rewrite(ordered())
        if fractions:
            write_split(
                out, (r["record"] or r["name"] for r in rows.values()), int(seed), fractions
            )
    return summary
