"""Signal metrics: the Kaggle 2025 SNR (against the competition's published examples and an
independent brute-force implementation), Pearson r, RMSE, and record_metrics on mismatched
inputs (sampling rate, length, missing leads)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.optimize

from ecgkit.errors import EcgkitError
from ecgkit.evaluate import (
    SamplingRateWarning,
    kaggle_dataset_score,
    kaggle_snr,
    pearson,
    record_metrics,
    rmse_uv,
    snr_record,
)
from ecgkit.evaluate.metrics import KAGGLE_MAX_RATIO
from ecgkit.generate.synth import builtin_record
from ecgkit.io import LEADS, Record


@pytest.fixture(scope="module")
def ref() -> Record:
    return builtin_record(1, duration=4.0)


def _noisy(record: Record, *, seed: int = 0, shift: int = 0, offset: float = 0.0) -> Record:
    rng = np.random.default_rng(seed)
    sig = np.roll(record.signals, shift, axis=0) + offset
    sig = sig + 0.03 * rng.standard_normal(sig.shape)
    return Record(sig, record.fs, name="estimate")


# --------------------------------------------------------------------------- Kaggle 2025


def _kaggle_example() -> tuple[Record, np.ndarray]:
    """The competition metric's docstring example: fs 1 Hz, 3 samples per lead, 12 for II."""
    values = [
        0.1,
        0.3,
        0.4,
        0.6,
        0.6,
        0.4,
        0.2,
        0.3,
        0.4,
        0.5,
        0.2,
        0.7,
        0.2,
        0.3,
        0.4,
        0.8,
        0.6,
        0.7,
        0.2,
        0.3,
        -0.1,
        0.5,
        0.6,
        0.7,
        0.2,
        0.9,
        0.4,
        0.5,
        0.6,
        0.7,
        0.1,
        0.3,
        0.4,
        0.6,
        0.6,
        0.4,
        0.2,
        0.3,
        0.4,
        0.5,
        0.2,
        0.7,
        0.2,
        0.3,
        0.4,
    ]
    order = ["I", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    sig = np.full((12, 12), np.nan)
    for j, lead in enumerate(order):
        sig[:3, LEADS.index(lead)] = values[3 * j : 3 * j + 3]
    sig[:, LEADS.index("II")] = values[33:]
    return Record(sig, fs=1.0, name="343"), sig


def test_kaggle_matches_the_competition_examples() -> None:
    reference, sig = _kaggle_example()
    est = sig.copy()
    est[0, LEADS.index("I")] = 0.9  # "introduce some noise"
    assert kaggle_snr(reference, Record(est, 1.0))["snr_db"] == pytest.approx(13.6291, abs=1e-4)
    est[1, LEADS.index("III")] = 0.3
    assert kaggle_snr(reference, Record(est, 1.0))["snr_db"] == pytest.approx(13.0576, abs=1e-4)
    perfect = kaggle_snr(reference, reference)
    assert perfect["ratio"] == KAGGLE_MAX_RATIO and perfect["snr_db"] == pytest.approx(60.0)


def _oracle_lead(x: np.ndarray, y: np.ndarray, max_shift: int) -> tuple[float, float, int]:
    """The competition's per-lead computation written out plainly (finite inputs)."""
    xc, yc = x - x.mean(), y - y.mean()
    best, best_lag = -math.inf, 0
    for lag in sorted(range(-max_shift, max_shift + 1), key=abs):
        # correlation at lag: sum_n xc[n + lag] * yc[n]
        total = sum(xc[n + lag] * yc[n] for n in range(len(y)) if 0 <= n + lag < len(x))
        if total > best:
            best, best_lag = total, lag
    aligned = np.full(len(x), np.nan)
    for n in range(len(y)):
        if 0 <= n + best_lag < len(x):
            aligned[n + best_lag] = y[n]

    def cost(v: float) -> float:
        return float(np.nansum((x - (aligned - v)) ** 2))

    v = scipy.optimize.minimize_scalar(cost, method="brent").x
    pred = np.nan_to_num(aligned - v, nan=0.0)
    return float(np.sum(x**2)), float(np.sum((x - pred) ** 2)), best_lag


@pytest.mark.parametrize("case", range(4))
def test_kaggle_matches_a_brute_force_implementation(case: int) -> None:
    rng = np.random.default_rng(case)
    fs, n = 50.0, 150
    t = np.arange(n) / fs
    ref_sig = np.stack([np.sin(2 * np.pi * (1 + k / 7) * t + k) for k in range(12)], axis=1)
    ref_sig += 0.2 * rng.standard_normal(ref_sig.shape)
    n_est = n + (0, -20, 13, 0)[case]  # shorter and longer estimates too
    est_sig = np.empty((n_est, 12))
    for k in range(12):
        s = int(rng.integers(-15, 16))
        src = np.roll(ref_sig[:, k], s)
        est_sig[:, k] = (
            np.resize(src, n_est) + rng.normal(0, 0.5) + 0.3 * rng.standard_normal(n_est)
        )
    got = kaggle_snr(Record(ref_sig, fs), Record(est_sig, fs))
    max_shift = int(0.2 * fs)
    sig_sum = noise_sum = 0.0
    for k in range(12):
        p_s, p_n, lag = _oracle_lead(ref_sig[:, k], est_sig[:, k], max_shift)
        assert got["shift"][k] == lag
        assert got["signal_power"][k] == pytest.approx(p_s, rel=1e-9)
        assert got["noise_power"][k] == pytest.approx(p_n, rel=1e-6)
        sig_sum, noise_sum = sig_sum + p_s, noise_sum + p_n
    assert got["ratio"] == pytest.approx(sig_sum / noise_sum, rel=1e-6)
    assert got["snr_db"] == pytest.approx(10 * math.log10(sig_sum / noise_sum), abs=1e-5)


def test_kaggle_recovers_shift_and_offset_within_the_limit(ref: Record) -> None:
    est = _noisy(ref, shift=30, offset=0.25)
    got = kaggle_snr(ref, est)
    assert np.all(got["shift"] == -30)  # the estimate lagged by 30 samples: moved earlier
    np.testing.assert_allclose(got["offset"], 0.25, atol=0.01)
    far = kaggle_snr(ref, _noisy(ref, shift=150))  # 0.3 s > 0.2 s: not found
    assert np.all(np.abs(far["shift"]) <= int(0.2 * ref.fs))
    assert far["snr_db"] < got["snr_db"]
    wide = kaggle_snr(ref, _noisy(ref, shift=150), max_shift_s=0.4)
    assert np.all(wide["shift"] == -150)


def test_kaggle_missing_leads_and_no_estimate(ref: Record) -> None:
    sig = ref.signals.copy()
    sig[:, 3] = np.nan
    got = kaggle_snr(ref, Record(sig, ref.fs))
    assert "aVR" in " ".join(got["notes"])
    # an absent lead is scored as zeros: after the best offset, noise = the lead's variance
    x = ref.signals[:, 3]
    assert got["noise_power"][3] == pytest.approx(np.sum((x - x.mean()) ** 2))
    none = kaggle_snr(ref, None)
    assert np.isfinite(none["ratio"]) and none["n_leads"] == 12
    ref_missing = Record(np.where(np.arange(12) == 5, np.nan, ref.signals), ref.fs)
    part = kaggle_snr(ref_missing, ref_missing)
    assert part["n_leads"] == 11 and np.isnan(part["signal_power"][5])


def test_kaggle_input_errors(ref: Record) -> None:
    with pytest.raises(EcgkitError, match="Record"):
        kaggle_snr(ref.signals, ref)  # type: ignore[arg-type]
    with pytest.raises(EcgkitError, match="max_shift_s"):
        kaggle_snr(ref, ref, max_shift_s=-1)


def test_kaggle_dataset_score() -> None:
    assert kaggle_dataset_score([1.0, 100.0]) == pytest.approx(10 * math.log10(50.5))
    assert kaggle_dataset_score(np.array([10.0, np.nan])) == pytest.approx(10.0)
    assert math.isnan(kaggle_dataset_score([]))
    assert kaggle_dataset_score([0.0, 0.0]) == -KAGGLE_MAX_RATIO
    with pytest.raises(EcgkitError, match="ratios"):
        kaggle_dataset_score([-3.0, 10.0])
    with pytest.raises(EcgkitError):
        kaggle_dataset_score(["a"])


# --------------------------------------------------------------------------- Pearson, RMSE


def test_pearson_and_rmse_by_hand() -> None:
    x = np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 0.0], [3.0, 3.0, 0.0], [4.0, np.nan, 0.0]])
    y = np.array([[2.0, 1.0, 1.0], [4.0, 2.5, 2.0], [6.0, np.nan, 3.0], [8.0, 9.0, 4.0]])
    r = pearson(x, y)
    assert r[0] == pytest.approx(1.0)
    assert r[1] == pytest.approx(1.0)  # two samples finite in both
    assert math.isnan(r[2])  # constant reference
    e = rmse_uv(x, y)
    assert e[0] == pytest.approx(1000 * math.sqrt((1 + 4 + 9 + 16) / 4))
    assert e[1] == pytest.approx(1000 * math.sqrt(0.25 / 2))
    assert e[2] == pytest.approx(1000 * math.sqrt((1 + 4 + 9 + 16) / 4))
    # 1-D, different lengths (padded with NaN), anticorrelated
    assert pearson([1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 7.0])[0] == pytest.approx(-1.0)
    assert np.isnan(pearson(np.full(5, np.nan), np.arange(5.0))[0])
    assert np.isnan(rmse_uv(np.full(5, np.nan), np.arange(5.0))[0])


def test_pearson_rmse_errors(ref: Record) -> None:
    with pytest.raises(EcgkitError, match="leads"):
        pearson(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(EcgkitError, match="Record"):
        rmse_uv(ref, ref.signals)
    with pytest.raises(EcgkitError):
        pearson(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))


# --------------------------------------------------------------------------- record_metrics


def test_record_metrics_noisy_copy(ref: Record) -> None:
    est = _noisy(ref, seed=3)
    m = record_metrics(ref, est)
    np.testing.assert_allclose(m.per_lead.snr_db, snr_record(ref, est))
    assert m.record.snr_db == pytest.approx(np.mean(m.per_lead.snr_db))
    assert m.record.pearson_r > 0.95
    assert 25 < m.record.rmse_uv < 35  # white noise of 30 uV RMS
    assert m.record.kaggle_snr_db == pytest.approx(kaggle_snr(ref, est)["snr_db"])
    assert m.n_leads_scored == 12 and m.n_missing_estimate == 0 and m.notes == []
    assert set(m.to_dict()["per_lead"]) == {"snr_db", "pearson_r", "rmse_uv", "kaggle_snr_db"}
    assert all(v.shape == (12,) for v in m.per_lead.to_dict().values())


def test_record_metrics_identical(ref: Record) -> None:
    m = record_metrics(ref, ref)
    assert m.record.pearson_r == pytest.approx(1.0)
    assert m.record.rmse_uv == 0.0
    assert m.record.kaggle_ratio == KAGGLE_MAX_RATIO
    assert math.isnan(m.record.snr_db)  # as the official Challenge scorer: noise power 0


def test_record_metrics_other_rate_length_and_missing_leads(ref: Record) -> None:
    est = _noisy(ref, seed=4)
    half = Record(est.signals[::2], ref.fs / 2, name="half")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SamplingRateWarning)  # record_metrics notes, not warns
        m = record_metrics(ref, half)
    assert any("resampled" in n and "250 Hz" in n for n in m.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingRateWarning)
        np.testing.assert_allclose(m.per_lead.snr_db, snr_record(ref, half))
    assert m.record.pearson_r > 0.9

    short = Record(est.signals[: ref.n_samples - 300], ref.fs, name="short")
    m = record_metrics(ref, short)
    assert any("padded" in n for n in m.notes)
    assert np.all(np.isfinite(m.per_lead.snr_db))

    sig = est.signals.copy()
    sig[:, LEADS.index("V2")] = np.nan
    m = record_metrics(ref, Record(sig, ref.fs))
    k = LEADS.index("V2")
    assert m.missing_estimate == ["V2"] and m.n_missing_estimate == 1
    assert math.isnan(m.per_lead.pearson_r[k]) and math.isnan(m.per_lead.rmse_uv[k])
    assert m.per_lead.snr_db[k] == 0.0
    assert np.isfinite(m.record.pearson_r)  # mean over the other leads
    assert m.n_leads_scored == 11

    ref_sig = ref.signals.copy()
    ref_sig[:, 0] = np.nan
    m = record_metrics(Record(ref_sig, ref.fs), est)
    assert m.missing_reference == ["I"] and m.n_missing_reference == 1
    assert all(math.isnan(v[0]) for v in m.per_lead.to_dict().values())


def test_record_metrics_without_estimate(ref: Record) -> None:
    m = record_metrics(ref, None)
    assert np.all(m.per_lead.snr_db == 0.0)
    assert np.all(np.isnan(m.per_lead.pearson_r))
    assert m.n_missing_estimate == 12 and m.n_leads_scored == 0
    with pytest.raises(EcgkitError, match="Record"):
        record_metrics(ref, ref.signals)  # type: ignore[arg-type]
