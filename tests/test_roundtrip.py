"""Round trip: records -> images -> digitizer -> scores (library and ``ecgkit roundtrip``).

Most tests replace the digitizer with a stand-in that returns the plotted signal plus noise and a
delay, so they check the plumbing (files, counting, skipping, the report) cheaply and whatever the
model does; one test runs the real digitizer end to end.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import ecgkit.roundtrip as rt
from ecgkit.cli import main
from ecgkit.errors import EcgkitError
from ecgkit.evaluate.report import evaluate_dirs
from ecgkit.generate import generate
from ecgkit.generate.synth import builtin_record
from ecgkit.io import LEADS, Record

UNREADABLE = "synth00001"  # the stand-in refuses this image


class FakeDigitizer:
    """Returns the truth of the image it is given (+20 uV noise, 3 samples late) or refuses."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.truth: dict[str, Record] = {}
        self.calls: list[tuple[str, type, float]] = []
        self.refuse = refuse
        self._make = rt.make_sample

    def make_sample(self, record, **kw):
        page = self._make(record, **kw)
        self.truth[record.name] = page.plotted_record()
        return page

    def digitize(self, image, *, fs=500.0, name="digitized"):
        from ecgkit.digitize import Digitized

        self.calls.append((name, type(image), fs))
        if name in self.refuse:
            raise EcgkitError("no ECG grid found in the image")
        t = self.truth[name]
        rng = np.random.default_rng(len(self.calls))
        sig = np.roll(np.nan_to_num(t.signals), 3, axis=0) + rng.normal(0, 0.02, t.signals.shape)
        step = max(1, round(t.fs / fs))
        return Digitized(
            Record(sig[::step], t.fs / step, name="whatever"),
            dict.fromkeys(LEADS, 0.8),
            np.zeros((1, 1, 3), np.uint8),
            np.eye(3),
            8.0,
            "3x4+II",
            [],
            notes=["fake"],
        )


def install(mp: pytest.MonkeyPatch, refuse: tuple[str, ...] = ()) -> FakeDigitizer:
    fake = FakeDigitizer(refuse)
    mp.setattr(rt, "make_sample", fake.make_sample)
    mp.setattr(rt, "digitize", fake.digitize)
    return fake


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """One ``ecgkit roundtrip`` of 3 built-in records and a broken one, with the stand-in."""
    root = tmp_path_factory.mktemp("rt")
    bad = root / "bad"
    bad.mkdir()
    (bad / "broken.hea").write_text("this is not a header\n")
    out = root / "out"
    with pytest.MonkeyPatch.context() as mp:
        fake = install(mp, refuse=(UNREADABLE,))
        status = main(
            [
                "roundtrip",
                str(bad),
                "--synthetic",
                "3",
                "--preset",
                "clean",
                "--out",
                str(out),
                "--html",
                str(root / "r.html"),
            ]
        )
    return {"root": root, "out": out, "status": status, "fake": fake}


def test_cli_writes_samples_digitized_records_and_a_report(cli_run):
    out = cli_run["out"]
    for name in ("synth00000", "synth00001", "synth00002"):
        assert {f"{name}{s}" for s in (".png", ".json", ".hea", ".dat")} <= {
            p.name for p in (out / "samples").iterdir()
        }
    digitized = sorted(p.name for p in (out / "digitized").glob("*.hea"))
    assert digitized == ["synth00000.hea", "synth00002.hea"]  # synth00001 was unreadable
    # the digitizer got the image file, at the record's own rate (no --fs)
    calls = cli_run["fake"].calls
    assert [c[0] for c in calls] == ["synth00000", "synth00001", "synth00002"]
    assert all(c[1].__name__.endswith("Path") and c[2] == 500.0 for c in calls)
    report = json.loads((out / "report.json").read_text())
    s = report["summary"]
    assert s["n_records"] == 3 and s["n_missing_estimates"] == 1
    rows = {r["name"]: r for r in report["records"]}
    assert rows[UNREADABLE]["snr_db"] == [0.0] * 12  # counted as the Challenge counts it
    for n in ("synth00000", "synth00002"):
        assert all(math.isfinite(v) for v in rows[n]["snr_db"]) and rows[n]["mean_snr_db"] > 5
    assert report["intervals"]["agreement"]["RR"]["n"] == 2
    r = report["roundtrip"]
    assert (r["n_images"], r["n_digitized"], r["n_unreadable"], r["n_failed_records"]) == (
        4,
        2,
        1,
        1,
    )
    assert r["preset"] == "clean"
    errors = " ".join(report["errors"])
    assert "broken.hea" in errors and "synth00001" in errors and "0 dB" in errors
    assert (cli_run["root"] / "r.html").read_text().count("plotly") > 10


def test_cli_report_is_what_ecgkit_evaluate_gives_on_the_folders(cli_run):
    out = cli_run["out"]
    report = json.loads((out / "report.json").read_text())
    again = evaluate_dirs(out / "samples", out / "digitized")
    assert again["summary"] == report["summary"]
    assert again["intervals"]["agreement"] == report["intervals"]["agreement"]


def test_cli_exit_status_is_2_when_a_record_failed_and_0_otherwise(cli_run, tmp_path):
    assert cli_run["status"] == 2  # the broken record; the unreadable image alone is a score
    with pytest.MonkeyPatch.context() as mp:
        install(mp, refuse=("synth00000",))
        assert main(["roundtrip", "--synthetic", "1", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["mean_snr_db"] == 0.0


def test_cli_prints_summary_and_skipped_lines(tmp_path, capsys):
    bad = tmp_path / "broken.hea"
    bad.write_text("")
    with pytest.MonkeyPatch.context() as mp:
        install(mp)
        status = main(
            ["roundtrip", str(bad), "--synthetic", "1", "--out", str(tmp_path / "o"), "--fs", "250"]
        )
    cap = capsys.readouterr()
    assert status == 2
    assert "mean SNR (Challenge 2024)" in cap.out and "\nQT " in cap.out
    assert "images: 2 (1 digitized, 0 unreadable, 1 records failed)" in cap.out
    assert any(
        line.startswith("skipped ") and "broken.hea" in line for line in cap.err.splitlines()
    )
    assert cap.err.strip().splitlines()[-1].startswith("ecgkit: error: 1 of 2 images")
    # --fs 250: the estimate was written at 250 Hz and resampled to the truth's 500 Hz
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert any("250 Hz" in n for n in report["records"][0]["notes"])


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--synthetic", "1", "--preset", "nosuch"], "nosuch"),
        (["--synthetic", "1", "--method", "magic"], "unknown method"),
        (["--synthetic", "1", "--fs", "0"], "--fs"),
        (["--synthetic", "1", "--workers", "0"], "--workers"),
        (["--synthetic", "1", "--lead", "V7"], "unknown lead"),
        ([], "no input records"),
        (["/no/such/record"], "/no/such/record"),
    ],
)
def test_cli_bad_options_are_one_line_and_exit_2(tmp_path, capsys, argv, needle):
    assert main(["roundtrip", *argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and err[0].startswith("ecgkit: error:")


def test_samples_are_byte_identical_to_ecgkit_generate(tmp_path):
    with pytest.MonkeyPatch.context() as mp:
        install(mp)
        rt.roundtrip(synthetic=1, out_dir=tmp_path / "rt", preset="scan", seed=3)
    generate(out_dir=tmp_path / "gen", synthetic=1, preset="scan", seed=3)
    for suffix in (".jpg", ".hea", ".dat"):
        a = (tmp_path / "rt" / "samples" / f"synth00000{suffix}").read_bytes()
        assert a == (tmp_path / "gen" / f"synth00000{suffix}").read_bytes(), suffix


def test_records_in_memory_several_images_and_progress(monkeypatch):
    fake = install(monkeypatch)
    stages = []
    recs = [builtin_record(0), builtin_record(0)]  # same name twice: made unique
    res = rt.roundtrip_records(
        recs, images_per_record=2, progress=lambda s, d, t, r: stages.append((s, d, t))
    )
    names = [r.name for r in res.images]
    assert names == ["synth00000-0", "synth00000-1", "synth00000_-0", "synth00000_-1"]
    assert all(c[1] is bytes for c in fake.calls)  # the encoded image, as a user uploads it
    assert [s for s in stages if s[0] == "images"][-1] == ("images", 4, 4)
    assert stages[-1][0] == "evaluate"
    assert res.report["summary"]["n_records"] == 4 and res.messages == []
    assert len(res.references) == len(res.estimates) == 4
    assert recs[0].name == "synth00000"  # the caller's records are not renamed


def test_no_usable_record_raises_a_user_error(tmp_path):
    bad = tmp_path / "x.hea"
    bad.write_text("nonsense\n")
    with pytest.raises(EcgkitError, match="no image could be made"):
        rt.roundtrip([bad])


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_real_digitizer_round_trip_on_two_built_in_records(tmp_path, capsys):
    status = main(["roundtrip", "--synthetic", "2", "--preset", "clean", "--out", str(tmp_path)])
    assert status == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "report.json").read_text())
    r = report["roundtrip"]
    assert r["n_images"] == 2 and r["n_digitized"] + r["n_unreadable"] == 2
    assert report["summary"]["n_records"] == 2
    assert math.isfinite(report["summary"]["mean_snr_db"])
    for row in report["records"]:
        assert len(row["snr_db"]) == 12
    assert len(list((tmp_path / "digitized").glob("*.hea"))) == r["n_digitized"]
