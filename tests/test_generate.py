import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from ecgkit.cli import main
from ecgkit.generate import generate, image_rng, make_sample, plan_jobs
from ecgkit.generate.synth import builtin_record
from ecgkit.io import read_wfdb

VARIED = Path(__file__).parent / "data" / "varied.toml"


def digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.mark.slow
def test_same_seed_same_bytes_with_one_and_two_workers(tmp_path):
    one = generate(out_dir=tmp_path / "w1", synthetic=3, preset=VARIED, seed=7, workers=1)
    two = generate(out_dir=tmp_path / "w2", synthetic=3, preset=VARIED, seed=7, workers=2)
    assert one.written == two.written == 3 and not one.failed
    a, b = digests(tmp_path / "w1"), digests(tmp_path / "w2")
    assert len(a) == 13 and a == b  # 3 x 4 sample files and manifest.csv
    other = generate(out_dir=tmp_path / "s8", synthetic=3, preset=VARIED, seed=8)
    assert digests(tmp_path / "s8") != a and other.written == 3


def test_rng_depends_on_seed_record_and_index_only():
    a = image_rng(1, "rec", 0).random()
    assert a == image_rng(1, "rec", 0).random()
    assert a != image_rng(2, "rec", 0).random() != image_rng(1, "rec", 1).random()


def test_rerun_skips_complete_samples_and_remakes_interrupted_ones(tmp_path):
    out = tmp_path / "out"
    generate(out_dir=out, synthetic=2)
    before = digests(out)
    (out / "synth00001.json").unlink()  # as if killed before the last rename
    (out / ".synth00001.abc").mkdir()  # a temp folder an interrupted run left behind
    summary = generate(out_dir=out, synthetic=2)
    assert (summary.written, summary.skipped) == (1, 1)
    assert digests(out) == before
    assert not any(p.name.startswith(".") for p in out.iterdir())


def test_a_bad_record_is_reported_and_skipped_and_the_batch_goes_on(tmp_path, records_dir):
    bad = tmp_path / "in" / "broken.hea"
    bad.parent.mkdir()
    bad.write_text("broken 12 500 5000\nbroken.dat 16 1000/mV 16 0 0 0 0 I\n")
    good = records_dir / "ptbxl" / "17918_hr"
    seen = []
    summary = generate(
        [bad, good],
        tmp_path / "out",
        synthetic=1,
        progress=lambda r, done, total: seen.append((r.status, done, total)),
    )
    assert summary.written == 2 and len(summary.failed) == 1
    assert "broken" in summary.failed[0].message
    assert [s[1:] for s in seen] == [(1, 3), (2, 3), (3, 3)]
    assert (tmp_path / "out" / "17918_hr.png").is_file()


def test_written_wfdb_is_the_plotted_signal(tmp_path):
    generate(out_dir=tmp_path, synthetic=1)
    plotted = read_wfdb(tmp_path / "synth00000.hea")
    record = builtin_record(0)
    assert plotted.n_samples == 5000 and plotted.fs == 500
    i = 0  # lead I: first 2.5 s only
    assert np.isnan(plotted.signals[1250:, i]).all()
    np.testing.assert_allclose(plotted.signals[:1250, i], record.signals[:1250, i], atol=6e-4)
    doc = json.loads((tmp_path / "synth00000.json").read_text())
    assert doc["parameters"]["seed"] == 0 and doc["parameters"]["preset"] == "clean"


def test_plan_jobs_names(tmp_path, records_dir):
    jobs = plan_jobs([records_dir / "ptbxl" / "17918_hr"], synthetic=1, images_per_record=2)
    assert [j.name for j in jobs] == ["17918_hr-0", "17918_hr-1", "synth00000-0", "synth00000-1"]
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        (d / "x.csv").write_text("I,II\n0.1,0.2\n")
    assert [j.name for j in plan_jobs([a / "x.csv", b / "x.csv"])] == ["a_x", "b_x"]


def test_make_sample_records_what_was_drawn():
    page = make_sample(builtin_record(1), preset=VARIED, seed=3)
    drawn = page.parameters["drawn"]
    assert page.layout.name == drawn["layout"]["name"]
    assert page.style.grid == drawn["style"]["grid"]


def test_cli_generate_writes_samples(tmp_path, capsys):
    assert (
        main(
            [
                "generate",
                "--synthetic",
                "1",
                "--out",
                str(tmp_path),
                "--layout",
                "6x2",
                "--grid",
                "bw",
                "--mask",
                "--format",
                "jpg",
            ]
        )
        == 0
    )
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {
        "synth00000.jpg",
        "synth00000.json",
        "synth00000.hea",
        "synth00000.dat",
        "synth00000-mask.png",
        "manifest.csv",
    }
    assert "1 written" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--preset", "nosuch", "--synthetic", "1"], "unknown preset"),
        (["--layout", "9x9", "--synthetic", "1"], "unknown layout"),
        (["--dpi", "5000", "--synthetic", "1"], "dpi = 5000"),
        ([], "no input records"),
        (["/no/such/record"], "not found"),
        (["--workers", "0", "--synthetic", "1"], "--workers"),
        (["--grid", "custom", "--synthetic", "1"], "--grid custom needs both colours"),
        (["--grid-major", "#112233", "--synthetic", "1"], "go with --grid custom"),
        (
            [
                "--grid",
                "custom",
                "--grid-major",
                "#12",
                "--grid-minor",
                "#ffffff",
                "--synthetic",
                "1",
            ],
            "not a colour",
        ),
    ],
)
def test_cli_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path, capsys, argv, needle):
    assert main(["generate", "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ecgkit: error:") and needle in err[0]


def test_cli_custom_grid_takes_its_colours(tmp_path):
    out = tmp_path / "o"
    argv = ["generate", "--synthetic", "1", "--grid", "custom", "--out", str(out)]
    assert main([*argv, "--grid-major", "#102030", "--grid-minor", "#405060"]) == 0
    style = json.loads((out / "synth00000.json").read_text())["parameters"]["drawn"]["style"]
    assert style["grid_major_rgb"] == [16, 32, 48] and style["grid_minor_rgb"] == [64, 80, 96]


def test_cli_help_names_every_command_in_plain_text(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "`" not in text
    head = text.split("positional arguments")[0]
    for command in ("generate", "digitize", "evaluate", "roundtrip"):
        assert command in head.split("usage:")[1].split("\n", 1)[1]


def test_cli_reports_a_bad_record_and_keeps_the_good_ones(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("I,II\nfoo,bar\n")
    assert (
        main(
            ["generate", str(bad), "--fs", "500", "--synthetic", "1", "--out", str(tmp_path / "o")]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "skipped" in err and "bad.csv" in err
    assert (tmp_path / "o" / "synth00000.png").is_file()


def test_replay_remakes_a_sample_byte_for_byte(tmp_path):
    generate(out_dir=tmp_path / "a", synthetic=2, preset=VARIED, seed=11)
    for name in ("synth00000", "synth00001"):
        assert (
            main(
                [
                    "generate",
                    "--replay",
                    str(tmp_path / "a" / f"{name}.json"),
                    "--out",
                    str(tmp_path / "b"),
                ]
            )
            == 0
        )
    made = digests(tmp_path / "a")
    assert made.pop("manifest.csv") and made == digests(tmp_path / "b")


def test_replay_of_a_non_sample_fails_cleanly(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    assert main(["generate", "--replay", str(bad)]) == 2
    assert "not an ecgkit sample JSON" in capsys.readouterr().err
