"""Tests for ecgkit.generate.synth: the built-in dipole-model 12-lead source."""

from __future__ import annotations

import datetime as dt
import math
import time
import warnings

import numpy as np
import pytest
from scipy.signal import find_peaks

from ecgkit.errors import EcgkitError
from ecgkit.generate.synth import (
    SynthParams,
    builtin_record,
    expected_intervals,
    qt_at_rr,
    random_params,
    synthesize,
)
from ecgkit.io import LEADS, Record


def _lead(rec: Record, name: str) -> np.ndarray:
    return rec.signals[:, LEADS.index(name)]


def _beats(rec: Record) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in rec.metadata["beats"].items()}


def _window_values(rec: Record, lead: str, start: np.ndarray, stop: np.ndarray) -> list:
    """Samples of one lead between start and stop times (s), for beats fully inside."""
    x = _lead(rec, lead)
    out = []
    for a, b in zip(start, stop, strict=True):
        i, j = round(a * rec.fs), round(b * rec.fs) + 1
        if i >= 0 and j <= rec.n_samples:
            out.append(x[i:j])
    return out


@pytest.fixture(scope="module")
def rec0() -> Record:
    return builtin_record(0)


# ----------------------------------------------------------------------------- leads


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_limb_relations_exact(index: int) -> None:
    rec = builtin_record(index, seed=11)
    i, ii = _lead(rec, "I"), _lead(rec, "II")
    np.testing.assert_allclose(_lead(rec, "III"), ii - i, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_lead(rec, "aVR"), -(i + ii) / 2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_lead(rec, "aVL"), i - ii / 2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_lead(rec, "aVF"), ii - i / 2, rtol=0, atol=1e-12)
    assert np.isfinite(rec.signals).all()
    assert rec.present.all()


def test_avr_negative_and_clear_r_in_ii(rec0: Record) -> None:
    avr = _lead(rec0, "aVR")
    assert -avr.min() > 2 * avr.max()
    ii = _lead(rec0, "II")
    assert ii.max() > 0.6
    assert ii.max() > 2 * -ii.min()


def test_builtin_zero_is_a_normal_first_impression(rec0: Record) -> None:
    p = rec0.metadata["synth_params"]
    assert 60 <= p["heart_rate"] <= 75
    assert 0 <= p["axis"] <= 75
    assert p["noise"] <= 0.02
    assert rec0.name == "synth00000"
    assert rec0.metadata["dx"] == "Normal sinus rhythm"


def test_physiological_amplitudes(rec0: Record) -> None:
    b = _beats(rec0)
    qrs = _window_values(rec0, "II", b["QRS_on"], b["QRS_off"])
    r_amp = np.median([w.max() for w in qrs])
    t_amp = np.median(_window_values(rec0, "II", b["T_peak"], b["T_peak"]))
    p_amp = np.median(_window_values(rec0, "II", b["P_peak"], b["P_peak"]))
    assert 0.8 <= r_amp <= 1.5
    assert 0.2 <= t_amp <= 0.5
    assert 0.1 <= p_amp <= 0.25


def test_chest_leads_v1_negative_and_r_progression(rec0: Record) -> None:
    b = _beats(rec0)
    r_wave, s_wave = {}, {}
    for lead in ("V1", "V2", "V3", "V4", "V5", "V6"):
        windows = _window_values(rec0, lead, b["QRS_on"], b["QRS_off"])
        r_wave[lead] = np.median([w.max() for w in windows])
        s_wave[lead] = np.median([-w.min() for w in windows])
    assert s_wave["V1"] > 2 * r_wave["V1"]  # rS in V1
    assert r_wave["V1"] < r_wave["V2"] < r_wave["V3"] < r_wave["V4"]
    assert min(r_wave["V4"], r_wave["V5"], r_wave["V6"]) > 2 * r_wave["V1"]
    assert r_wave["V5"] > s_wave["V5"] and r_wave["V6"] > s_wave["V6"]


@pytest.mark.parametrize("axis", [-30.0, 0.0, 45.0, 90.0])
def test_frontal_axis_honoured(axis: float) -> None:
    params = SynthParams(axis=axis, noise=0.0, hrv=0.01)
    rec = synthesize(params, rng=np.random.default_rng(3))
    b = _beats(rec)
    area_i = np.mean([w.sum() for w in _window_values(rec, "I", b["QRS_on"], b["QRS_off"])])
    area_f = np.mean([w.sum() for w in _window_values(rec, "aVF", b["QRS_on"], b["QRS_off"])])
    measured = math.degrees(math.atan2(area_f, area_i))
    assert abs(measured - axis) < 5.0


# ----------------------------------------------------------------------------- randomness


def test_same_seed_identical_bytes() -> None:
    a, b = builtin_record(5, seed=3), builtin_record(5, seed=3)
    assert a.signals.tobytes() == b.signals.tobytes()
    assert a.metadata == b.metadata
    p = random_params(np.random.default_rng(9))
    x = synthesize(p, rng=np.random.default_rng(42))
    y = synthesize(p, rng=np.random.default_rng(42))
    assert x.signals.tobytes() == y.signals.tobytes()


def test_different_index_or_seed_differs() -> None:
    a = builtin_record(1)
    assert not np.array_equal(a.signals, builtin_record(2).signals)
    assert not np.array_equal(a.signals, builtin_record(1, seed=1).signals)
    assert builtin_record(2).name == "synth00002"


def test_no_global_random_state_used() -> None:
    state = np.random.get_state()  # noqa: NPY002 (the legacy global state must stay untouched)
    builtin_record(4)
    after = np.random.get_state()  # noqa: NPY002
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_noise_does_not_change_the_heart() -> None:
    """The same generator state with and without noise gives the same beats."""
    clean = synthesize(SynthParams(noise=0.0), rng=np.random.default_rng(8))
    noisy = synthesize(SynthParams(noise=0.05), rng=np.random.default_rng(8))
    assert clean.metadata["beats"] == noisy.metadata["beats"]
    recorded = [0, 1, 6, 7, 8, 9, 10, 11]
    residual = noisy.signals[:, recorded] - clean.signals[:, recorded]
    rms = float(np.sqrt(np.mean(residual**2)))
    assert 0.02 < rms < 0.1


def test_zero_noise_is_flat_between_beats() -> None:
    rec = synthesize(SynthParams(noise=0.0, heart_rate=50, hrv=0.0), rng=np.random.default_rng(1))
    b = _beats(rec)
    # the end of the TP segment (between U/T end and P onset) is at the baseline
    gaps = _window_values(rec, "II", b["P_on"] - 0.08, b["P_on"] - 0.05)
    assert max(np.abs(g).max() for g in gaps) < 0.01


# ----------------------------------------------------------------------------- rhythm


@pytest.mark.parametrize("heart_rate", [48.0, 72.0, 95.0, 130.0])
def test_rr_recovered_from_lead_ii(heart_rate: float) -> None:
    params = SynthParams(heart_rate=heart_rate, hrv=0.01, axis=60.0, duration=20.0)
    rec = synthesize(params, rng=np.random.default_rng(int(heart_rate)))
    ii = _lead(rec, "II")
    rr = 60.0 / heart_rate
    peaks, _ = find_peaks(ii, height=0.5 * ii.max(), distance=int(0.5 * rr * rec.fs))
    mean_rr = float(np.mean(np.diff(peaks))) / rec.fs
    assert abs(mean_rr - rr) < 0.02 * rr
    assert abs(expected_intervals(params)["RR"] - 1000 * rr) < 1e-9


def test_hrv_matches_requested_sd() -> None:
    params = SynthParams(heart_rate=70.0, hrv=0.05, duration=120.0, fs=250.0, noise=0.0)
    rr = np.diff(_beats(synthesize(params, rng=np.random.default_rng(2)))["R"])
    assert abs(rr.mean() - 60 / 70) < 0.01
    assert 0.035 < rr.std() < 0.065
    regular = SynthParams(heart_rate=70.0, hrv=0.0, noise=0.0)
    rr0 = np.diff(_beats(synthesize(regular, rng=np.random.default_rng(2)))["R"])
    np.testing.assert_allclose(rr0, 60 / 70, atol=1e-9)


# ----------------------------------------------------------------------------- intervals


def test_expected_intervals_conventions() -> None:
    p = SynthParams(heart_rate=60.0, pr_interval=0.17, qrs_duration=0.1, qt_interval=0.41)
    e = expected_intervals(p)
    assert set(e) == {"RR", "PR", "QRS", "QT", "QTc"}
    assert e["RR"] == pytest.approx(1000.0)
    assert e["PR"] == pytest.approx(170.0)
    assert e["QRS"] == pytest.approx(100.0)
    assert e["QT"] == pytest.approx(410.0)
    assert e["QTc"] == pytest.approx(410.0)
    fast = expected_intervals(SynthParams(heart_rate=100.0, qt_interval=0.41))
    assert fast["QT"] == pytest.approx(1000 * (0.41 - 0.154 * 0.4))  # Framingham
    assert fast["QTc"] == pytest.approx(fast["QT"] / math.sqrt(0.6))  # Bazett
    assert qt_at_rr(0.4, 1.0) == pytest.approx(0.4)


def test_ground_truth_fiducials_match_expected_intervals() -> None:
    params = SynthParams(heart_rate=80.0, hrv=0.0, pr_interval=0.15, qrs_duration=0.095)
    rec = synthesize(params, rng=np.random.default_rng(0))
    b, e = _beats(rec), rec.metadata["intervals_ms"]
    assert e == expected_intervals(params)
    np.testing.assert_allclose(1000 * (b["QRS_on"] - b["P_on"]), e["PR"], atol=1e-3)
    np.testing.assert_allclose(1000 * (b["QRS_off"] - b["QRS_on"]), e["QRS"], atol=1e-3)
    np.testing.assert_allclose(1000 * (b["T_off"] - b["QRS_on"]), e["QT"], atol=1e-3)
    assert ((b["R"] >= 0) & (b["R"] < rec.duration)).all()


# (heart rate, axis, PR, QRS, QT at 60 bpm): 55 bpm uses neurokit2's coarser wavelet scale
DELINEATION_CASES = [
    (65.0, 60.0, 0.16, 0.09, 0.40),
    (90.0, 45.0, 0.14, 0.08, 0.38),
    (55.0, 75.0, 0.19, 0.10, 0.42),
    (75.0, 20.0, 0.18, 0.105, 0.41),
]
TOLERANCE_MS = {"PR": 20.0, "QRS": 20.0, "QT": 30.0}


@pytest.mark.parametrize(("hr", "axis", "pr", "qrs", "qt"), DELINEATION_CASES)
def test_intervals_recovered_by_neurokit2(
    hr: float, axis: float, pr: float, qrs: float, qt: float
) -> None:
    nk = pytest.importorskip("neurokit2")
    params = SynthParams(
        heart_rate=hr,
        axis=axis,
        pr_interval=pr,
        qrs_duration=qrs,
        qt_interval=qt,
        hrv=0.02,
        noise=0.0,
        duration=10.0,
        fs=500.0,
    )
    rec = synthesize(params, rng=np.random.default_rng(int(hr)))
    sig, fs = _lead(rec, "II"), int(rec.fs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = nk.ecg_peaks(sig, sampling_rate=fs)
        _, waves = nk.ecg_delineate(sig, info["ECG_R_Peaks"], sampling_rate=fs, method="dwt")

    def get(key: str) -> np.ndarray:
        return np.asarray(waves[key], dtype=float)

    measured = {
        "PR": np.nanmedian(get("ECG_R_Onsets") - get("ECG_P_Onsets")) / fs * 1000,
        "QRS": np.nanmedian(get("ECG_R_Offsets") - get("ECG_R_Onsets")) / fs * 1000,
        "QT": np.nanmedian(get("ECG_T_Offsets") - get("ECG_R_Onsets")) / fs * 1000,
    }
    expected = expected_intervals(params)
    for key, tol in TOLERANCE_MS.items():
        assert abs(measured[key] - expected[key]) <= tol, (key, measured, expected)


# ----------------------------------------------------------------------------- shape, API


@pytest.mark.parametrize("fs", [100.0, 250.0, 500.0, 1000.0])
def test_shape_fs_duration(fs: float) -> None:
    rec = builtin_record(7, duration=7.3, fs=fs)
    assert isinstance(rec, Record)
    assert rec.signals.shape == (round(7.3 * fs), 12)
    assert rec.fs == fs
    assert rec.duration == pytest.approx(7.3, abs=1 / fs)
    assert rec.metadata["synth_params"]["fs"] == fs
    assert np.isfinite(rec.signals).all()


def test_metadata_fields(rec0: Record) -> None:
    m = rec0.metadata
    assert m["source"] == "ecgkit.synth"
    assert m["synth_params"] == {k: float(v) for k, v in m["synth_params"].items()}
    assert m["intervals_ms"] == expected_intervals(SynthParams(**m["synth_params"]))
    assert len(m["patient_id"]) == 8 and m["patient_id"].isdigit()
    assert isinstance(m["age"], int) and 18 <= m["age"] <= 90
    assert m["sex"] in ("Male", "Female")
    dt.date.fromisoformat(m["date"])
    dt.time.fromisoformat(m["time"])
    assert len(m["time"]) == 8


def test_random_params_ranges_and_overrides() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = random_params(rng)
        assert 50 <= p.heart_rate <= 100
        assert -30 <= p.axis <= 90
        assert 0.12 <= p.pr_interval <= 0.20
        assert 0.08 <= p.qrs_duration <= 0.11
        assert 0.35 <= p.qt_interval <= 0.45
        assert p.noise > 0 and p.hrv > 0
    a = random_params(np.random.default_rng(1), heart_rate=80.0, fs=250.0)
    b = random_params(np.random.default_rng(1))
    assert a.heart_rate == 80.0 and a.fs == 250.0
    assert a.axis == b.axis  # overriding one field does not reshuffle the others
    with pytest.raises(EcgkitError, match="unknown"):
        random_params(rng, heart_rat=70)


@pytest.mark.parametrize(
    "bad",
    [
        {"heart_rate": 0.0},
        {"fs": -1.0},
        {"duration": 0.0},
        {"qrs_duration": 0.5},
        {"noise": -0.1},
        {"heart_rate": "70"},
        {"axis": float("nan")},
    ],
)
def test_invalid_params_raise(bad: dict) -> None:
    with pytest.raises(EcgkitError):
        SynthParams(**bad)


def test_synthesis_is_fast() -> None:
    params = SynthParams(duration=10.0, fs=500.0)
    best = math.inf
    for seed in range(5):
        t0 = time.perf_counter()
        synthesize(params, rng=np.random.default_rng(seed))
        best = min(best, time.perf_counter() - t0)
    assert best < 0.05
