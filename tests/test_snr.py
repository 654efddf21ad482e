"""The Challenge 2024 digitization SNR: official reference values, alignment, edge cases, errors.

The reference vectors (``snr2024.npz``, the official scorer's values) are read from
``ECGKIT_METRIC_VECTORS`` (default ``<repo>/../shared/data/metric_vectors/snr2024.npz``); the
tests that need them skip with the reason when the file is absent.
"""

from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from ecgkit.errors import EcgkitError
from ecgkit.evaluate import SamplingRateWarning, align, mean_snr, snr, snr_record
from ecgkit.io import LEADS, Record

snr_mod = importlib.import_module("ecgkit.evaluate.snr")  # the module (``snr`` is the function)

REPO = Path(__file__).resolve().parent.parent
VECTORS = Path(
    os.environ.get("ECGKIT_METRIC_VECTORS")
    or REPO.parent / "shared" / "data" / "metric_vectors" / "snr2024.npz"
).expanduser()
MISSING = f"official SNR vectors not found at {VECTORS}; set ECGKIT_METRIC_VECTORS"
TOL_DB = 1e-6


def _case_names() -> list[str]:
    if not VECTORS.is_file():
        return []
    with np.load(VECTORS) as data:
        return sorted(k[: -len("__snr")] for k in data.files if k.endswith("__snr"))


CASES = _case_names()


@pytest.fixture(scope="module")
def vectors() -> dict[str, np.ndarray]:
    if not VECTORS.is_file():
        pytest.skip(MISSING)
    with np.load(VECTORS) as data:
        return {k: data[k] for k in data.files}


def _case(vectors: dict[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ref = vectors[f"{name}__ref"].astype(np.float64)
    est = vectors[f"{name}__est"].astype(np.float64)
    return ref, est, vectors[f"{name}__snr"]


def _first_case(kind: str) -> str:
    names = [c for c in CASES if c.endswith(f"__{kind}")]
    if not names:
        pytest.skip(MISSING if not CASES else f"no '{kind}' case in {VECTORS}")
    return names[0]


def _ecg(n: int = 2500, fs: float = 500.0, seed: int = 0) -> np.ndarray:
    """A small ECG-like lead (mV): spiky beats on a wandering baseline, plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    beat = (t * 1.2) % 1.0
    x = 1.2 * np.exp(-(((beat - 0.3) / 0.012) ** 2)) - 0.25 * np.exp(-(((beat - 0.33) / 0.01) ** 2))
    x += 0.3 * np.exp(-(((beat - 0.6) / 0.05) ** 2)) + 0.1 * np.exp(-(((beat - 0.15) / 0.03) ** 2))
    return x + 0.05 * np.sin(2 * np.pi * 0.3 * t) + rng.normal(0, 0.005, n)


def _record(n: int = 2500, fs: float = 500.0, seed: int = 0, name: str = "ref") -> Record:
    sig = np.stack([_ecg(n, fs, seed + k) * (0.5 + 0.1 * k) for k in range(len(LEADS))], 1)
    return Record(sig, fs, name=name)


# ---------------------------------------------------------------- official vectors


@pytest.mark.parametrize("case", CASES or [pytest.param("none", marks=pytest.mark.skip(MISSING))])
def test_matches_official_scorer(vectors: dict[str, np.ndarray], case: str) -> None:
    ref, est, official = _case(vectors, case)
    ours = snr(ref, est, fs=float(vectors["fs"]))
    assert ours.dtype == np.float64 and ours.shape == official.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(official), err_msg=case)
    finite = ~np.isnan(official)
    assert np.max(np.abs(ours[finite] - official[finite]), initial=0.0) <= TOL_DB, case


def test_identical_signals_give_nan_as_official(vectors: dict[str, np.ndarray]) -> None:
    ref, est, official = _case(vectors, _first_case("identical"))
    assert np.isnan(official).all()  # the official scorer: noise power 0 -> NaN, not inf
    assert np.isnan(snr(ref, est, fs=float(vectors["fs"]))).all()


def test_missing_estimate_case_is_zero_db(vectors: dict[str, np.ndarray]) -> None:
    ref, est, official = _case(vectors, _first_case("estimate_all_nan"))
    assert np.all(official == 0.0)
    np.testing.assert_array_equal(snr(ref, est, fs=float(vectors["fs"])), 0.0)


def test_fast_search_agrees_with_official_computation() -> None:
    """The bound-and-verify search picks the official argmax on varied, awkward inputs."""
    rng = np.random.default_rng(1)
    n = 700
    x = _ecg(n, seed=3)
    estimates = [
        x + rng.normal(0, 0.1, n),  # noisy: flat correlation surface
        np.roll(x, 40) + 0.2,
        np.clip(x, 0.0, 0.5),  # many samples on the edge levels
        np.round(x * 5) / 5,
        np.where(np.arange(n) % 97 < 30, np.nan, x * 0.8),  # gaps
        np.roll(x, -300),  # far shift
        x + 0.9 * (x.max() - x.min()),  # far vertical offset
    ]
    for y in estimates:
        fx, fy = np.isfinite(x), np.isfinite(y)
        lo = min(x[fx].min(), y[fy].min())
        hi = max(x[fx].max(), y[fy].max())
        qa, qb = snr_mod._quantise(x, lo, hi), snr_mod._quantise(y, lo, hi)
        assert snr_mod._lags([(qa, qb)], n)[0] == snr_mod._official_lags(qa, qb)


# ------------------------------------------------------------------------ alignment


@pytest.mark.parametrize("lag", [7, -7, 120])
def test_align_recovers_a_known_shift(lag: int) -> None:
    x = _ecg()
    y = np.roll(x, lag)  # the estimate lags the reference by `lag` samples
    if lag > 0:
        y[:lag] = np.nan
    else:
        y[lag:] = np.nan
    shifted, h, v = align(x, y, fs=500.0)
    assert h == lag
    assert abs(v) < 1e-9
    both = np.isfinite(shifted)
    assert both.sum() == x.size - abs(lag)
    np.testing.assert_allclose(shifted[both], x[both])


def test_align_recovers_a_vertical_offset() -> None:
    x = _ecg()
    shifted, h, v = align(x, x + 0.3, fs=500.0)
    step = (x.max() + 0.3 - x.min()) / 255  # one quantisation level
    assert h == 0
    assert abs(v - 0.3) <= step / 2 + 1e-12
    np.testing.assert_allclose(shifted, x + 0.3 - v)


def test_align_rejects_shifts_beyond_the_limits() -> None:
    x = _ecg(5000)
    late = np.concatenate([np.zeros(300), x[:-300]])  # 0.6 s > 0.5 s
    shifted, h, v = align(x, late, fs=500.0)
    assert (h, v) == (0, 0.0)
    np.testing.assert_array_equal(shifted, late)
    high = x + 3.0  # 3 mV > 1 mV
    assert align(x, high, fs=500.0)[1:] == (0, 0.0)


def test_align_returns_the_scoring_grid_for_unequal_lengths() -> None:
    x = _ecg(1000)
    shifted, h, _ = align(x, x[:600], fs=500.0)
    assert shifted.shape == (1000,) and h == 0
    assert np.isnan(shifted[600:]).all()


# ------------------------------------------------------------------------ the metric


def test_missing_samples_are_penalised_by_alpha() -> None:
    rng = np.random.default_rng(2)
    x = _ecg(2000)
    y = x + rng.normal(0, 0.05, x.size)
    full = snr(x, y, fs=500.0)[0]
    half = snr(x, y[:1000], fs=500.0)[0]
    shifted, h, _ = align(x, y[:1000], fs=500.0)
    both = np.isfinite(shifted)
    assert both.sum() == 1000 - abs(h)
    raw = 10 * np.log10(np.mean(x[both] ** 2) / np.mean((x[both] - shifted[both]) ** 2))
    assert half == pytest.approx(raw * both.sum() / x.size, abs=1e-9)
    assert 0 < half < full
    # a shorter estimate is the same as one padded with NaN
    padded = np.concatenate([y[:1000], np.full(1000, np.nan)])
    assert snr(x, padded, fs=500.0)[0] == half


def test_one_d_and_two_d_inputs() -> None:
    x = _ecg(1000)
    y = x + 0.01 * np.cos(np.arange(1000))
    one = snr(x, y, fs=500.0)
    assert one.shape == (1,)
    two = snr(np.stack([x, 2 * x], 1), np.stack([y, 2 * y], 1), fs=500.0)
    assert two.shape == (2,) and two[0] == one[0]


def test_reference_lead_without_samples_is_nan() -> None:
    x = np.stack([_ecg(800), np.full(800, np.nan)], 1)
    out = snr(x, np.zeros((800, 2)) + 0.1, fs=500.0)
    assert np.isfinite(out[0]) and np.isnan(out[1])


# --------------------------------------------------------------------------- records


def test_missing_record_scores_zero_db_per_lead() -> None:
    ref = _record()
    np.testing.assert_array_equal(snr_record(ref, None), np.zeros(len(LEADS)))
    sig = ref.signals.copy()
    sig[:, LEADS.index("V3")] = np.nan  # a lead the reference lacks stays NaN
    out = snr_record(Record(sig, ref.fs), None)
    assert np.isnan(out[LEADS.index("V3")]) and np.count_nonzero(out == 0) == 11


def test_record_scores_match_array_scores() -> None:
    ref = _record(1500)
    rng = np.random.default_rng(4)
    est = Record(ref.signals + rng.normal(0, 0.02, ref.signals.shape), ref.fs, name="est")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same rate: no warning
        out = snr_record(ref, est)
    np.testing.assert_array_equal(out, snr(ref.signals, est.signals, fs=ref.fs))
    assert mean_snr([out]) > 10


def test_mismatched_sampling_rate_is_resampled_with_a_warning() -> None:
    ref = _record(2000, fs=500.0)
    low = Record(ref.signals[::2].copy(), 250.0, name="digitized")
    low.signals[100:140, 0] = np.nan  # a gap survives resampling as a gap
    with pytest.warns(SamplingRateWarning, match="resampled"):
        out = snr_record(ref, low)
    assert out.shape == (12,) and np.all(np.isfinite(out))
    assert np.all(out > 10)  # good agreement after resampling 250 -> 500 Hz


def test_mean_snr_ignores_nan() -> None:
    assert mean_snr([np.array([1.0, np.nan, 3.0]), np.array([5.0])]) == 3.0
    assert mean_snr(np.array([[2.0, np.nan], [4.0, 6.0]])) == 4.0
    assert np.isnan(mean_snr([np.array([np.nan])]))
    assert np.isnan(mean_snr([]))


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: snr(np.zeros((10, 12)), np.zeros((10, 11)), fs=500), "12 leads"),
        (lambda: snr(np.zeros((10, 2)), np.zeros((10, 2)), fs=0), "positive"),
        (lambda: snr(np.zeros((10, 2)), np.zeros((10, 2)), fs=-5.0), "positive"),
        (lambda: snr(np.zeros((10, 2)), np.zeros((10, 2)), fs=float("nan")), "positive"),
        (lambda: snr(np.zeros((10, 2)), np.zeros((10, 2)), fs="fast"), "number"),
        (lambda: snr(np.zeros((4, 3, 2)), np.zeros((4, 3, 2)), fs=500), "shape"),
        (lambda: snr(np.zeros(()), np.zeros(()), fs=500), "shape"),
        (lambda: snr([["a"]], [["b"]], fs=500), "numbers"),
        (lambda: align(np.zeros((10, 2)), np.zeros(10), fs=500), "1-D"),
        (lambda: align(np.zeros(10), np.zeros(10), fs=0), "positive"),
        (lambda: snr_record(np.zeros((10, 12)), None), "Record"),
        (lambda: snr_record(_record(100), np.zeros((100, 12))), "Record"),
        (lambda: mean_snr(["x"]), "numbers"),
    ],
)
def test_bad_input_raises_ecgkit_error(call, match: str) -> None:
    with pytest.raises(EcgkitError, match=match):
        call()
