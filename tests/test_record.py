"""Reading and writing records: WFDB (.dat/.mat), CSV, uploads, and every bad-input path."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import wfdb

from ecgkit.errors import EcgkitError
from ecgkit.io import (
    LEADS,
    Record,
    find_records,
    normalize_lead_name,
    parse_header_comments,
    read_csv,
    read_record,
    read_wfdb,
    records_from_uploads,
    write_csv,
    write_wfdb,
)
from ecgkit.io import uploads as rec_mod


def make_record(n: int = 600, fs: float = 250.0, name: str = "synth") -> Record:
    """A small deterministic 12-lead record with metadata."""
    rng = np.random.default_rng(7)
    t = np.arange(n) / fs
    sig = np.stack([np.sin(2 * np.pi * (1 + k / 4) * t) * (0.2 + 0.1 * k) for k in range(12)], 1)
    sig += rng.normal(0, 0.02, sig.shape)
    meta = {
        "age": 63,
        "sex": "Female",
        "dx": ["426783006", "164865005"],
        "rx": "Unknown",
        "source": "unit test",
        "date": "2020-02-29",
        "time": "08:15:30",
    }
    return Record(signals=sig, fs=fs, name=name, metadata=meta)


@pytest.fixture
def wfdb_record(tmp_path: Path) -> Path:
    """A valid record written by write_wfdb; tests corrupt it in place."""
    return write_wfdb(make_record(name="rec"), tmp_path)


def assert_raises_naming(path_fragment: str, func, *args, **kwargs) -> str:
    with pytest.raises(EcgkitError) as info:
        func(*args, **kwargs)
    msg = str(info.value)
    assert path_fragment in msg, msg
    return msg


# --------------------------------------------------------------------------- names, comments


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("avr", "aVR"),
        ("AVR", "aVR"),
        ("aVR", "aVR"),
        ("aVl", "aVL"),
        ("AVF", "aVF"),
        ("i", "I"),
        ("ii", "II"),
        ("III", "III"),
        ("v1", "V1"),
        ("V6", "V6"),
        (" II ", "II"),
        ("Lead I", "I"),
        ("lead_v3", "V3"),
        ("MLII", None),
        ("vx", None),
        ("V7", None),
        ("", None),
        ("-aVR", None),
    ],
)
def test_normalize_lead_name(raw: str, expected: str | None) -> None:
    assert normalize_lead_name(raw) == expected


def test_parse_header_comments_challenge_style() -> None:
    meta = parse_header_comments(
        ["Age: 56", "Sex: Male", "Dx: 426783006,164865005", "Rx: Unknown", "Hx: Unknown"]
    )
    assert meta == {
        "age": 56,
        "sex": "Male",
        "dx": ["426783006", "164865005"],
        "rx": "Unknown",
        "hx": "Unknown",
    }


def test_parse_header_comments_ptbdb_style_and_odd_values() -> None:
    meta = parse_header_comments(
        [
            "# age: 81",
            "sex: female",
            "ECG date: 01/10/1990",
            "Diagnose:",
            "Reason for admission: Myocardial infarction",
            "Catheterization date: 16-Oct-90",
            "Catheterization date: 17-Oct-90",
            "free text without a key",
        ]
    )
    assert meta["age"] == 81
    assert meta["sex"] == "Female"
    assert meta["ecg date"] == "01/10/1990"
    assert meta["reason for admission"] == "Myocardial infarction"
    assert meta["catheterization date"] == "16-Oct-90"  # first occurrence wins
    assert "diagnose" not in meta
    assert meta["comments"] == ["free text without a key"]
    for unknown in ("NaN", "Unknown", ""):
        assert "age" not in parse_header_comments([f"Age: {unknown}", "Sex: Unknown"])
        assert "sex" not in parse_header_comments([f"Sex: {unknown}"])


# --------------------------------------------------------------------------- shared data


@pytest.mark.data
def test_read_cinc2021_mat(records_dir: Path) -> None:
    r = read_record(records_dir / "cinc2021" / "E07500.mat")
    assert r.name == "E07500"
    assert r.fs == 500.0
    assert r.signals.shape == (5000, 12)
    assert np.isfinite(r.signals).all()
    assert 0.2 < np.abs(r.signals).max() < 20  # mV, not uV or V
    assert r.metadata["age"] == 78
    assert r.metadata["sex"] == "Male"
    assert r.metadata["dx"] == ["67741000119109", "426177001"]
    assert r.notes == []
    # header path and bare record path give the same record
    same = read_wfdb(records_dir / "cinc2021" / "E07500")
    np.testing.assert_array_equal(same.signals, r.signals)


@pytest.mark.data
def test_read_ptbxl_500hz_dat(records_dir: Path) -> None:
    hea = sorted((records_dir / "ptbxl").glob("*.hea"))[0]
    r = read_record(hea)
    assert r.name == hea.stem
    assert (r.fs, r.n_samples) == (500.0, 5000)
    assert np.isfinite(r.signals).all()
    assert 0.2 < np.abs(r.signals).max() < 40
    assert np.nanstd(r.signals, axis=0).min() > 0.005
    assert "PTB-XL" in r.metadata["source"]


@pytest.mark.data
def test_read_ptbxl_100hz_upper_case_names(records_dir: Path) -> None:
    r = read_record(records_dir / "ptbxl_100hz" / "00001_lr.dat")
    assert (r.fs, r.n_samples) == (100.0, 1000)
    assert r.present.all()
    assert any("AVR->aVR" in n for n in r.notes)
    # Einthoven: II = I + III, aVR = -(I + II) / 2 (to the 1 uV quantisation)
    i, ii, iii = r.lead("I"), r.lead("II"), r.lead("III")
    assert np.abs(ii - (i + iii)).max() < 0.005
    assert np.abs(r.lead("aVR") + (i + ii) / 2).max() < 0.005


@pytest.mark.data
def test_read_ptbdb_lower_case_15_channels(records_dir: Path) -> None:
    r = read_record(records_dir / "ptbdb" / "s0010_re")
    assert (r.fs, r.n_samples) == (1000.0, 38400)
    assert r.present.all()
    assert 0.2 < np.abs(r.signals).max() < 20
    assert any("ignored channels vx, vy, vz" in n for n in r.notes)
    assert any("units missing" in n for n in r.notes)
    assert r.metadata["age"] == 81
    assert r.metadata["sex"] == "Female"
    assert r.metadata["ecg date"] == "01/10/1990"


@pytest.mark.data
def test_find_records_on_shared_folder(records_dir: Path) -> None:
    found = find_records([records_dir / "cinc2021"])
    assert len(found) == 50
    assert found == sorted(found)
    assert all(p.suffix == ".hea" for p in found)
    both = find_records([records_dir / "ptbdb" / "s0010_re", records_dir / "ptbdb"])
    assert both == [records_dir / "ptbdb" / "s0010_re.hea"]  # deduplicated


@pytest.mark.data
def test_real_record_round_trip(records_dir: Path, tmp_path: Path) -> None:
    r = read_record(records_dir / "cinc2021" / "HR06000.hea")
    back = read_wfdb(write_wfdb(r, tmp_path))
    np.testing.assert_allclose(back.signals, r.signals, atol=1e-3)
    assert back.fs == r.fs and back.name == r.name
    assert back.metadata == r.metadata


# --------------------------------------------------------------------------- writing


def test_wfdb_round_trip_signals_nan_metadata(tmp_path: Path) -> None:
    r = make_record()
    r.signals[10:20, 3] = np.nan
    r.signals[:, 11] = np.nan  # a missing lead
    hea = write_wfdb(r, tmp_path / "out")
    assert hea == tmp_path / "out" / "synth.hea"
    text = hea.read_text()
    assert "# Age: 63" in text and "# Sex: Female" in text
    assert "# Dx: 426783006,164865005" in text
    header = wfdb.rdheader(str(hea.with_suffix("")))
    assert header.sig_name == list(LEADS)
    assert header.fmt == ["16"] * 12 and header.units == ["mV"] * 12
    assert header.adc_gain == [1000.0] * 12

    back = read_wfdb(hea)
    assert back.name == "synth" and back.fs == 250.0
    assert np.array_equal(np.isnan(back.signals), np.isnan(r.signals))
    np.testing.assert_allclose(back.signals, r.signals, atol=5e-4 + 1e-12)
    assert back.metadata == r.metadata
    assert back.notes == []


def test_write_wfdb_is_deterministic(tmp_path: Path) -> None:
    a = write_wfdb(make_record(), tmp_path / "a")
    b = write_wfdb(make_record(), tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()
    assert a.with_suffix(".dat").read_bytes() == b.with_suffix(".dat").read_bytes()
    r = make_record()
    del r.metadata["date"], r.metadata["time"]
    line = write_wfdb(r, tmp_path / "c").read_text().splitlines()[0]
    assert line.split() == ["synth", "12", "250", "600"]  # no date/time injected


def test_write_wfdb_reduces_gain_on_overflow(tmp_path: Path) -> None:
    r = make_record()
    r.signals[5, 1] = 50.0  # 50 mV does not fit int16 at 1000 adu/mV
    back = read_wfdb(write_wfdb(r, tmp_path, name="big"))
    assert back.name == "big"
    assert any("reduced ADC gain" in n and "II" in n for n in r.notes)
    assert abs(back.signals[5, 1] - 50.0) < 1e-3
    np.testing.assert_allclose(back.signals[:, 1], r.signals[:, 1], atol=2e-3)
    np.testing.assert_allclose(back.signals[:, 0], r.signals[:, 0], atol=5e-4 + 1e-12)


def test_write_wfdb_rejects_bad_name(tmp_path: Path) -> None:
    with pytest.raises(EcgkitError, match="record name"):
        write_wfdb(make_record(), tmp_path, name="a b/c")


def test_csv_round_trip(tmp_path: Path) -> None:
    r = make_record()
    r.signals[3, 2] = np.nan
    path = write_csv(r, tmp_path / "x.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == "time_s," + ",".join(LEADS)
    assert [float(line.split(",")[0]) for line in lines[1:4]] == [0.0, 1 / 250, 2 / 250]
    back = read_csv(path, fs=250)
    assert back.name == "x" and back.fs == 250.0
    np.testing.assert_array_equal(back.signals, r.signals)
    bare = write_csv(r, tmp_path / "bare.csv", time=False)  # leads only
    assert bare.read_text().splitlines()[0] == ",".join(LEADS)
    np.testing.assert_array_equal(read_csv(bare, fs=250).signals, r.signals)


def test_csv_time_column_other_names_and_missing_lead(tmp_path: Path) -> None:
    path = tmp_path / "y.csv"
    path.write_text("time_s,lead i,AVR,v1,resp\n0.0,0.1,-0.05,0.2,9\n0.002,0.2,,0.3,9\n")
    r = read_record(path, fs=500)
    assert r.signals.shape == (2, 12)
    np.testing.assert_array_equal(r.lead("I"), [0.1, 0.2])
    assert np.isnan(r.lead("aVR")[1])
    assert np.isnan(r.lead("V6")).all()
    assert any("ignored channels resp" in n for n in r.notes)
    assert any("missing leads" in n and "V6" in n for n in r.notes)


def test_missing_and_duplicate_lead_in_wfdb(tmp_path: Path) -> None:
    sig = np.tile(np.linspace(-1, 1, 100)[:, None], (1, 4))
    wfdb.wrsamp(
        "partial",
        fs=200,
        units=["mV"] * 4,
        sig_name=["I", "ii", "II", "Pleth"],
        p_signal=sig,
        fmt=["16"] * 4,
        adc_gain=[1000.0] * 4,
        baseline=[0] * 4,
        write_dir=str(tmp_path),
    )
    r = read_wfdb(tmp_path / "partial.hea")
    assert r.present.tolist() == [True, True] + [False] * 10
    assert np.isnan(r.lead("V1")).all()
    notes = " | ".join(r.notes)
    assert "duplicate lead II" in notes
    assert "ignored channels Pleth" in notes
    assert "missing leads III" in notes


def test_units_conversion(tmp_path: Path) -> None:
    hea = write_wfdb(make_record(), tmp_path)
    ref = read_wfdb(hea)
    hea.write_text(hea.read_text().replace("/mV", "/uV"))
    np.testing.assert_allclose(read_wfdb(hea).signals, ref.signals / 1000)
    hea.write_text(hea.read_text().replace("/uV", "/V"))
    np.testing.assert_allclose(read_wfdb(hea).signals, ref.signals * 1000)
    hea.write_text(hea.read_text().replace("/V", "/furlong"))
    r = read_wfdb(hea)
    np.testing.assert_allclose(r.signals, ref.signals)
    assert any("unknown units 'furlong'" in n for n in r.notes)


# --------------------------------------------------------------------------- corrupt input


def test_missing_dat(wfdb_record: Path) -> None:
    wfdb_record.with_suffix(".dat").unlink()
    msg = assert_raises_naming("rec.hea", read_record, wfdb_record)
    assert "rec.dat is missing" in msg


def test_truncated_dat(wfdb_record: Path) -> None:
    dat = wfdb_record.with_suffix(".dat")
    dat.write_bytes(dat.read_bytes()[:1000])
    msg = assert_raises_naming("rec.dat", read_record, wfdb_record)
    assert "truncated" in msg


def test_garbage_header(wfdb_record: Path) -> None:
    wfdb_record.write_text("this is not\na header at all\n")
    assert_raises_naming("rec.hea", read_record, wfdb_record)
    wfdb_record.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    assert_raises_naming("rec.hea", read_record, wfdb_record)
    wfdb_record.write_text("")
    assert_raises_naming("rec.hea", read_record, wfdb_record)


def test_unknown_signal_format(wfdb_record: Path) -> None:
    wfdb_record.write_text(wfdb_record.read_text().replace("rec.dat 16 ", "rec.dat 999 "))
    msg = assert_raises_naming("rec.hea", read_record, wfdb_record)
    assert "unknown signal format '999'" in msg


@pytest.mark.parametrize("fs", ["0", "-5"])
def test_bad_sampling_rate_in_header(wfdb_record: Path, fs: str) -> None:
    wfdb_record.write_text(wfdb_record.read_text().replace("rec 12 250", f"rec 12 {fs}"))
    msg = assert_raises_naming("rec.hea", read_record, wfdb_record)
    assert "sampling rate" in msg


def test_zero_signals(wfdb_record: Path) -> None:
    wfdb_record.write_text("rec 0 250 600\n")
    assert_raises_naming("rec.hea", read_record, wfdb_record)


def test_no_standard_leads(tmp_path: Path) -> None:
    wfdb.wrsamp(
        "frank",
        fs=100,
        units=["mV"] * 3,
        sig_name=["vx", "vy", "vz"],
        p_signal=np.zeros((50, 3)),
        fmt=["16"] * 3,
        adc_gain=[1000.0] * 3,
        baseline=[0] * 3,
        write_dir=str(tmp_path),
    )
    msg = assert_raises_naming("frank.hea", read_record, tmp_path / "frank")
    assert "no standard ECG leads" in msg and "vx, vy, vz" in msg


def test_missing_files(tmp_path: Path) -> None:
    assert_raises_naming("nope", read_record, tmp_path / "nope")
    assert_raises_naming("nope.hea", read_record, tmp_path / "nope.hea")
    assert_raises_naming("nope.csv", read_record, tmp_path / "nope.csv", fs=500)
    (tmp_path / "lonely.dat").write_bytes(b"\x00" * 48)
    msg = assert_raises_naming("lonely.dat", read_record, tmp_path / "lonely.dat")
    assert "lonely.hea" in msg
    (tmp_path / "pic.png").write_bytes(b"\x89PNG")
    assert_raises_naming("pic.png", read_record, tmp_path / "pic.png")


@pytest.mark.parametrize(
    ("content", "fs", "expect"),
    [
        ("I,II\n0.1,0.2\n", None, "sampling rate"),
        ("I,II\n0.1,0.2\n", 0, "sampling rate"),
        ("I,II\n0.1,0.2\n", -250, "sampling rate"),
        ("", 500, "empty"),
        ("\n  \n", 500, "empty"),
        ("0.1,0.2\n0.3,0.4\n", 500, "no header"),
        ("I,II\n0.1,abc\n", 500, "not a number"),
        ("foo,bar\n1,2\n", 500, "no standard ECG leads"),
        ("I,II\n", 500, "no samples"),
        ("I,II\n1,2,3\n", 500, "cells"),
    ],
)
def test_csv_errors(tmp_path: Path, content: str, fs: float | None, expect: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    msg = assert_raises_naming("bad.csv", read_record, path, fs=fs)
    assert expect in msg


# --------------------------------------------------------------------------- discovery, uploads


def test_find_records(tmp_path: Path) -> None:
    write_wfdb(make_record(name="b"), tmp_path / "data" / "sub")
    write_wfdb(make_record(name="a"), tmp_path / "data")
    write_wfdb(make_record(name="c"), tmp_path / "data" / "sub")
    csv_path = write_csv(make_record(), tmp_path / "x.csv")
    found = find_records([tmp_path / "data", csv_path, tmp_path / "data" / "a"])
    assert found == [
        tmp_path / "data" / "a.hea",
        tmp_path / "data" / "sub" / "b.hea",
        tmp_path / "data" / "sub" / "c.hea",
        csv_path,
    ]
    assert find_records([tmp_path / "data" / "sub" / "b.dat"]) == [
        tmp_path / "data" / "sub" / "b.hea"
    ]
    assert_raises_naming("missing_thing", find_records, [tmp_path / "missing_thing"])
    (tmp_path / "empty").mkdir()
    assert_raises_naming("empty", find_records, [tmp_path / "empty"])


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _record_files(tmp_path: Path, name: str) -> dict[str, bytes]:
    hea = write_wfdb(make_record(name=name), tmp_path / "src")
    return {hea.name: hea.read_bytes(), f"{name}.dat": hea.with_suffix(".dat").read_bytes()}


def test_uploads_zip_csv_and_pair(tmp_path: Path) -> None:
    one = _record_files(tmp_path, "one")
    two = _record_files(tmp_path, "two")
    csv_bytes = write_csv(make_record(), tmp_path / "three.csv").read_bytes()
    archive = _zip(
        {f"batch/{k}": v for k, v in one.items()}
        | {"__MACOSX/._one.hea": b"junk", "readme.txt": b"hello", "three.csv": csv_bytes}
    )
    records, errors = records_from_uploads(
        {"batch.zip": archive, **two, "../../evil/four.csv": csv_bytes}, csv_fs=250
    )
    assert errors == []
    assert sorted(r.name for r in records) == ["four", "one", "three", "two"]
    assert all(r.signals.shape == (600, 12) for r in records)
    assert {r.fs for r in records} == {250.0}


def test_uploads_missing_dat_and_bad_files(tmp_path: Path) -> None:
    one = _record_files(tmp_path, "x")
    orphan = _record_files(tmp_path, "y")
    records, errors = records_from_uploads(
        {
            "x.hea": one["x.hea"],
            "y.dat": orphan["y.dat"],
            "broken.zip": b"PK\x03\x04 not really",
            "z.csv": b"I,II\n0.1,0.2\n",
        }
    )
    assert records == []
    text = "\n".join(errors)
    assert "x.hea: signal file x.dat is missing; upload it with the header" in errors
    assert "y.dat: header y.hea is missing" in text
    assert "broken.zip: not a valid zip archive" in text
    assert any(e.startswith("z.csv:") and "sampling rate" in e for e in errors)
    assert "/tmp" not in text and "ecgkit-upload" not in text


def test_uploads_zip_guards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = _record_files(tmp_path, "one")
    evil = _zip({"../../escape.hea": one["one.hea"], "/abs/one.dat": b"x", **one})
    records, errors = records_from_uploads({"evil.zip": evil})
    assert [r.name for r in records] == ["one"]
    assert any("unsafe paths" in e and "escape.hea" in e for e in errors)
    assert not (tmp_path.parent / "escape.hea").exists()

    monkeypatch.setattr(rec_mod, "MAX_UNZIPPED_BYTES", 1000)
    records, errors = records_from_uploads({"big.zip": _zip(one)})
    assert records == []
    assert any(e.startswith("big.zip:") and "limit" in e for e in errors)

    records, errors = records_from_uploads({})
    assert records == [] and "no ECG records found" in errors[0]


def test_structured_metadata_round_trips_through_the_header(tmp_path):
    from ecgkit.generate.synth import builtin_record

    rec = builtin_record(0)
    back = read_wfdb(write_wfdb(rec, tmp_path))
    assert back.metadata["intervals_ms"] == rec.metadata["intervals_ms"]
    assert back.metadata["synth_params"] == rec.metadata["synth_params"]
