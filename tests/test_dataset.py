"""Datasets at scale: Dask runs, the manifest, resume after a kill, dying workers, the split."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecgkit.cli import main
from ecgkit.errors import EcgkitError
from ecgkit.generate import Job, JobResult, RunSettings, generate, run_job
from ecgkit.generate.dataset import (
    MANIFEST,
    Manifest,
    assign_split,
    parse_split,
    read_manifest,
    read_split,
)
from ecgkit.parallel import dask_executor

LOW = {"layout": {"dpi": 50}}


def digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def die_on_synth2_and_once_on_synth1(job: Job, settings: RunSettings) -> JobResult:
    """A job function whose worker process dies: always on synth00002, once on synth00001."""
    if job.name == "synth00002":
        os._exit(1)
    marker = Path(settings.out_dir).parent / "died-once"
    if job.name == "synth00001" and not marker.exists():
        marker.touch()
        os._exit(1)
    return run_job(job, settings)


def die_once(job: Job, settings: RunSettings) -> JobResult:
    """A job function whose worker dies the first time it makes synth00001."""
    marker = Path(settings.out_dir).parent / "dask-died-once"
    if job.name == "synth00001" and not marker.exists():
        marker.touch()
        os._exit(1)
    return run_job(job, settings)


@pytest.mark.slow
def test_a_local_dask_cluster_makes_the_same_bytes_as_the_process_pool(tmp_path):
    kw = {"synthetic": 4, "preset": "scan", "overrides": LOW, "seed": 5, "split": "0.5,0.5"}
    pool = generate(out_dir=tmp_path / "pool", workers=2, **kw)
    with dask_executor("local:2") as (executor, threads):
        assert threads == 2
        dask = generate(out_dir=tmp_path / "dask", executor=executor, workers=threads, **kw)
        # a Dask worker that dies is replaced and its task rerun elsewhere: nothing is lost
        again = generate(
            out_dir=tmp_path / "died", executor=executor, workers=threads, job_fn=die_once, **kw
        )
    assert pool.written == dask.written == 4 and not pool.failed and not dask.failed
    a = digests(tmp_path / "pool")
    assert len(a) == 4 * 4 + 2  # jpg, json, hea, dat per sample; manifest.csv, split.csv
    assert a == digests(tmp_path / "dask")
    assert (tmp_path / "dask-died-once").exists() and again.written == 4 and not again.failed
    assert digests(tmp_path / "died") == a


def _data_rows(path: Path) -> int:
    try:
        return max(0, path.read_text().count("\n") - 1)
    except OSError:
        return 0


@pytest.mark.slow
def test_a_killed_run_resumes_to_a_complete_consistent_dataset(tmp_path):
    n = 40
    argv = ["--synthetic", str(n), "--dpi", "100", "--images-per-record", "1", "--seed", "3"]
    reference = tmp_path / "ref"
    assert main(["generate", *argv, "--out", str(reference)]) == 0
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecgkit", "generate", *argv, "--out", str(out), "--workers", "2"],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while _data_rows(out / MANIFEST) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the main process and its workers, mid-run
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    listed = [r["name"] for r in read_manifest(out) if r["status"] == "written"]
    assert 3 <= len(listed) < n
    # worse than a kill: a half-written manifest line, and one listed sample lost from disk
    with (out / MANIFEST).open("a") as f:
        f.write("synth00039,synth00039,synth:39,0,3,clean,wri")
    (out / f"{listed[0]}.png").unlink()
    seen = []
    resumed = generate(
        out_dir=out,
        synthetic=n,
        overrides={"layout": {"dpi": 100}},
        seed=3,
        workers=2,
        progress=lambda r, done, total: seen.append(r),
    )
    assert not resumed.failed and resumed.written + resumed.skipped == n
    listed_kept = [r.name for r in seen if r.message == "listed in the manifest"]
    assert set(listed_kept) == set(listed) - {listed[0]}  # finished images were not redone
    assert resumed.written >= n - len(listed)
    assert digests(out) == digests(reference)  # the manifest included
    assert not any(p.name.startswith(".") for p in out.iterdir())  # no partial files
    rows = read_manifest(out)
    assert [r["name"] for r in rows] == [f"synth{i:05d}" for i in range(n)]
    assert {r["status"] for r in rows} == {"written"}


@pytest.mark.slow
def test_a_worker_that_dies_loses_only_its_image(tmp_path):
    out = tmp_path / "out"
    summary = generate(
        out_dir=out, synthetic=5, overrides=LOW, workers=2, job_fn=die_on_synth2_and_once_on_synth1
    )
    assert (tmp_path / "died-once").exists()  # synth00001's worker died, and it was redone
    assert summary.written == 4 and [r.name for r in summary.failed] == ["synth00002"]
    assert "worker process died" in summary.failed[0].message
    rows = {r["name"]: r for r in read_manifest(out)}
    assert len(rows) == 5
    assert rows["synth00002"]["status"] == "failed" and "died" in rows["synth00002"]["message"]
    assert all(rows[f"synth{i:05d}"]["status"] == "written" for i in (0, 1, 3, 4))
    assert all((out / f"synth{i:05d}.json").is_file() for i in (0, 1, 3, 4))


def test_a_bad_record_is_listed_in_the_manifest_as_failed_with_the_reason(tmp_path, capsys):
    bad = tmp_path / "in" / "broken.hea"
    bad.parent.mkdir()
    bad.write_text("broken 12 500 5000\nbroken.dat 16 1000/mV 16 0 0 0 0 I\n")
    out = tmp_path / "out"
    argv = ["generate", str(bad), "--synthetic", "2", "--dpi", "50", "--out", str(out)]
    assert main(argv) == 2
    assert "broken" in capsys.readouterr().err
    rows = {r["name"]: r for r in read_manifest(out)}
    assert rows["broken"]["status"] == "failed" and "broken" in rows["broken"]["message"]
    assert rows["broken"]["source"] == str(bad) and "\n" not in rows["broken"]["message"]
    assert rows["synth00000"]["status"] == rows["synth00001"]["status"] == "written"
    # a rerun tries the failed record again and keeps the others
    before = digests(out)
    assert main(argv) == 2
    assert digests(out) == before


def test_the_split_is_by_record_deterministic_and_never_leaks(tmp_path):
    out = tmp_path / "out"
    assert (
        main(
            [
                "generate",
                "--synthetic",
                "12",
                "--images-per-record",
                "2",
                "--dpi",
                "50",
                "--split",
                "0.6,0.2,0.2",
                "--seed",
                "4",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rows = read_manifest(out)
    split = read_split(out)
    assert len(rows) == 24 and len(split) == 12
    by_record: dict[str, set[str]] = {}
    for r in rows:
        by_record.setdefault(r["record"], set()).add(r["split"])
    assert all(len(s) == 1 for s in by_record.values())  # all of a record's images: one split
    assert {rec: s.pop() for rec, s in by_record.items()} == split
    assert set(split.values()) <= {"train", "val", "test"}
    # from the seed and the record alone: the same for any record set, another seed differs
    records = [f"rec{i}" for i in range(2000)]
    first = [assign_split(r, 4, (0.8, 0.1, 0.1)) for r in records]
    assert first == [assign_split(r, 4, (0.8, 0.1, 0.1)) for r in records]
    assert first != [assign_split(r, 5, (0.8, 0.1, 0.1)) for r in records]
    counts = {s: first.count(s) / len(first) for s in ("train", "val", "test")}
    assert abs(counts["train"] - 0.8) < 0.04 and abs(counts["val"] - 0.1) < 0.03
    assert {rec: assign_split(rec, 4, (0.6, 0.2, 0.2)) for rec in split} == split
    assert {assign_split(r, 0, (1.0, 0.0)) for r in records} == {"train"}


def test_manifest_reading_drops_a_cut_off_line_and_malformed_rows(tmp_path):
    m = Manifest(tmp_path)
    m.rewrite([{"name": "a", "status": "written", "message": "two\nlines"}])
    with m:
        m.append({"name": "b", "status": "failed", "message": "why, with a comma"})
    with (tmp_path / MANIFEST).open("a") as f:
        f.write("c,c,synth:0,0,0,clean,written,,3x4")  # killed mid-line
    rows = m.read()
    assert list(rows) == ["a", "b"]
    assert rows["a"]["message"] == "two lines" and rows["b"]["message"] == "why, with a comma"


@pytest.mark.parametrize("text", ["0.8,0.1", "a,b", "0.5", "0.5,0.25,0.125,0.125", "1.2,-0.2"])
def test_bad_split_fractions_are_refused(text):
    with pytest.raises(EcgkitError, match="--split"):
        parse_split(text)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--split", "0.9,0.2"], "sum to"),
        (["--scheduler", "local:x"], "local:N"),
        (["--scheduler", "local:2", "--split", "1,2,3"], "--split"),
    ],
)
def test_cli_bad_dataset_options_are_one_line_and_exit_2(tmp_path, capsys, argv, needle):
    assert main(["generate", "--synthetic", "1", "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ecgkit: error:") and needle in err[0]


@pytest.mark.slow
def test_cli_scheduler_local_runs_the_batch_on_a_dask_cluster(tmp_path, capsys):
    argv = ["generate", "--synthetic", "2", "--dpi", "50", "--split", "0.5,0.5"]
    assert main([*argv, "--out", str(tmp_path / "dask"), "--scheduler", "local:1"]) == 0
    assert "2 written" in capsys.readouterr().out
    assert main([*argv, "--out", str(tmp_path / "local")]) == 0
    assert digests(tmp_path / "dask") == digests(tmp_path / "local")
