"""`ecgkit evaluate`: folders of records in, a summary table, JSON and HTML out."""

import json

import numpy as np
import pytest

from ecgkit.cli import main
from ecgkit.generate import generate
from ecgkit.record import read_record, write_wfdb


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
    assert main(["evaluate", "--reference", str(folders / "ref"), "--estimate",
                 str(folders / "est"), "--out", str(out), "--html", str(page)]) == 0  # fmt: skip
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
