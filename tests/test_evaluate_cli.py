"""`ecgkit evaluate`: folders of records in, a summary table, JSON and HTML out."""

import json

import numpy as np
import pytest

from ecgkit.cli import main
from ecgkit.generate import generate
from ecgkit.io import LEADS, Record, read_record, write_wfdb


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    generate(out_dir=root / "ref", synthetic=4)
    rng = np.random.default_rng(0)
    for path in sorted((root / "ref").glob("*.hea"))[:3]:  # the 4th has no estimate
        rec = read_record(path)
        rec.signals = rec.signals + rng.normal(0, 0.02, rec.signals.shape)
        write_wfdb(rec, root / "est")
    return root


def test_evaluate_prints_a_summary_and_writes_json_and_html(folders, capsys):
    out, page = folders / "report.json", folders / "report.html"
    assert (
        main(
            [
                "evaluate",
                "--reference",
                str(folders / "ref"),
                "--estimate",
                str(folders / "est"),
                "--out",
                str(out),
                "--html",
                str(page),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "records: 4 (1 without an estimate)" in text and "mean SNR" in text
    for name in ("RR", "PR", "QRS", "QT", "QTc"):
        assert f"\n{name} " in text
    report = json.loads(out.read_text())
    s = report["summary"]
    assert s["n_records"] == 4 and s["n_missing_estimates"] == 1
    missing = [r for r in report["records"] if r["missing_estimate"]]
    assert missing[0]["snr_db"] == [0.0] * 12  # as the Challenge scores a missing record
    present = [r for r in report["records"] if not r["missing_estimate"]]
    assert all(r["mean_snr_db"] > 5 for r in present)
    assert report["intervals"]["agreement"]["RR"]["n"] == 3
    assert abs(report["intervals"]["agreement"]["RR"]["bias"]) < 5
    assert page.read_text().count("plotly") > 10


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--reference", "/no/such", "--estimate", "."], "not found"),
        (["--method", "magic"], "unknown method"),
    ],
)
def test_evaluate_bad_input_is_one_line_and_exit_2(folders, capsys, argv, needle):
    base = ["--reference", str(folders / "ref"), "--estimate", str(folders / "est")]
    assert main(["evaluate", *base, *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_mixed_rates_missing_leads_and_empty_files(tmp_path, capsys):
    """250 Hz estimate of a 500 Hz truth, an estimate without V1-V6, empty headers both sides."""
    ref, est = tmp_path / "ref", tmp_path / "est"
    generate(out_dir=ref, synthetic=3)
    rng = np.random.default_rng(1)
    r0, r1 = read_record(ref / "synth00000.hea"), read_record(ref / "synth00001.hea")
    half = np.nan_to_num(r0.signals)[::2] + rng.normal(0, 0.02, (r0.n_samples // 2, 12))
    write_wfdb(Record(half, 250.0, name=r0.name), est)
    chestless = r1.signals + rng.normal(0, 0.02, r1.signals.shape)
    chestless[:, LEADS.index("V1") :] = np.nan
    write_wfdb(Record(chestless, r1.fs, name=r1.name), est)
    (est / "synth00002.hea").write_bytes(b"")  # an empty estimate: scored as missing
    (ref / "empty.hea").write_bytes(b"")  # an empty reference: skipped
    out = tmp_path / "r.json"
    assert (
        main(["evaluate", "--reference", str(ref), "--estimate", str(est), "--out", str(out)]) == 0
    )
    err = capsys.readouterr().err
    assert "skipped reference" in err and "empty.hea" in err
    assert "skipped estimate" in err and "synth00002.hea" in err and "scored as missing" in err
    report = json.loads(out.read_text())
    rows = {r["name"]: r for r in report["records"]}
    assert set(rows) == {"synth00000", "synth00001", "synth00002"}
    # the 250 Hz estimate was resampled to 500 Hz and scores like a good one
    assert any("250 Hz" in n and "resampled" in n for n in rows["synth00000"]["notes"])
    assert min(rows["synth00000"]["snr_db"]) > 0
    # missing chest leads score 0 dB (as the Challenge does), the limb leads keep their score
    chest = rows["synth00001"]["snr_db"][LEADS.index("V1") :]
    limb = rows["synth00001"]["snr_db"][: LEADS.index("V1")]
    assert chest == [0.0] * 6 and min(limb) > 0
    assert rows["synth00002"]["missing_estimate"] and rows["synth00002"]["snr_db"] == [0.0] * 12
    assert report["summary"]["n_missing_estimates"] == 1
    per_lead = report["summary"]["per_lead_snr_db"]
    assert per_lead["V1"] < per_lead["I"]
    assert report["intervals"]["agreement"]["RR"]["n"] == 2  # the missing record fails


def test_evaluate_an_empty_reference_folder_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "ref").mkdir()
    (tmp_path / "est").mkdir()
    assert (
        main(
            ["evaluate", "--reference", str(tmp_path / "ref"), "--estimate", str(tmp_path / "est")]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ecgkit: error:")
