"""Agreement statistics (hand-computed values) and the evaluation figures."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from ecgkit.errors import EcgkitError
from ecgkit.evaluate import INTERVALS, agreement, interval_agreement, snr_record
from ecgkit.evaluate import figures as F
from ecgkit.generate.synth import builtin_record
from ecgkit.io import LEADS, Record

REF = [100.0, 200.0, 300.0, 400.0, np.nan]
EST = [110.0, 190.0, 320.0, np.nan, np.nan]


# --------------------------------------------------------------------------- agreement


def test_agreement_by_hand() -> None:
    a = agreement(REF, EST)
    # pairs (100, 110), (200, 190), (300, 320): differences 10, -10, 20
    assert a.n == 3 and a.n_total == 5 and a.n_failed == 2
    assert a.n_failed_reference == 1 and a.n_failed_estimate == 2
    assert a.bias == pytest.approx(20 / 3)
    sd = math.sqrt(((10 - 20 / 3) ** 2 + (-10 - 20 / 3) ** 2 + (20 - 20 / 3) ** 2) / 2)
    assert sd == pytest.approx(15.275252, rel=1e-6)
    assert a.sd == pytest.approx(sd)
    assert a.loa_lower == pytest.approx(20 / 3 - 1.96 * sd)
    assert a.loa_upper == pytest.approx(20 / 3 + 1.96 * sd)
    assert a.mae == pytest.approx(40 / 3)
    # r of (100, 200, 300) with (110, 190, 320): centred dot 21000, norms^2 20000 and 22466.67
    assert a.pearson_r == pytest.approx(21000 / math.sqrt(20000 * (22466 + 2 / 3)))


def test_agreement_edge_cases() -> None:
    none = agreement([np.nan, 1.0], [2.0, np.inf])
    assert none.n == 0 and none.n_failed == 2
    assert none.n_failed_reference == 1 and none.n_failed_estimate == 1
    assert all(
        math.isnan(getattr(none, k)) for k in ("bias", "sd", "loa_lower", "mae", "pearson_r")
    )
    one = agreement([5.0], [7.0])
    assert one.bias == 2.0 and one.mae == 2.0 and math.isnan(one.sd)
    assert math.isnan(one.pearson_r)
    const = agreement([1.0, 2.0, 3.0], [4.0, 4.0, 4.0])
    assert math.isnan(const.pearson_r) and const.sd == pytest.approx(1.0)
    assert agreement([], []).n == 0
    with pytest.raises(EcgkitError, match="one value per record"):
        agreement([1.0, 2.0], [1.0])
    with pytest.raises(EcgkitError, match="numbers"):
        agreement(["a"], ["b"])
    with pytest.raises(EcgkitError, match="1-D"):
        agreement(np.zeros((2, 2)), np.zeros((2, 2)))


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return [builtin_record(i) for i in range(3)]


def _noisy(record: Record, seed: int) -> Record:
    rng = np.random.default_rng(seed)
    sig = record.signals + 0.01 * rng.standard_normal(record.signals.shape)
    return Record(sig, record.fs, name=record.name + "-est")


def test_interval_agreement(records: list[Record]) -> None:
    same = interval_agreement(records[:2], records[:2])
    for name in INTERVALS:
        a = same.agreement[name]
        assert a.n == 2 and a.bias == 0.0 and a.sd == 0.0 and a.mae == 0.0
    res = interval_agreement(records, [_noisy(records[0], 1), None, _noisy(records[2], 2)])
    assert res.names == [r.name for r in records]
    assert res.failures == [
        {"record": records[1].name, "side": "estimate", "reason": "no estimate record"}
    ]
    for name in INTERVALS:
        a = res.agreement[name]
        assert a.n == 2 and a.n_failed_estimate == 1 and a.n_failed_reference == 0
        assert abs(a.bias) < 15
        assert res.reference[name].shape == (3,) and math.isnan(res.estimate[name][1])
    assert res.measurements[1]["estimate"] is None


def test_interval_agreement_passes_options_and_checks_inputs(records: list[Record]) -> None:
    res = interval_agreement(records[:1], records[:1], lead="V5", method="cwt")
    m = res.measurements[0]["reference"]
    assert m["lead"] == "V5" and m["method"] == "cwt"
    flat = Record(np.zeros_like(records[0].signals), records[0].fs, name="flat")
    res = interval_agreement(records[:1], [flat])
    assert res.failures[0]["side"] == "estimate" and "flat" in res.failures[0]["reason"]
    assert res.agreement["QT"].n_failed_estimate == 1
    with pytest.raises(EcgkitError, match="one estimate"):
        interval_agreement(records, records[:2])
    with pytest.raises(EcgkitError, match="not a Record"):
        interval_agreement([records[0].signals], [None])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="valid methods"):
        interval_agreement(records[:1], records[:1], method="nope")


# --------------------------------------------------------------------------- figures


def test_bland_altman_figure() -> None:
    fig = F.bland_altman_figure(REF, EST, name="QT", labels=list("abcde"))
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 1 and len(fig.data[0].x) == 3
    np.testing.assert_allclose(fig.data[0].y, [10.0, -10.0, 20.0])
    np.testing.assert_allclose(fig.data[0].x, [105.0, 195.0, 310.0])
    assert list(fig.data[0].text) == ["a", "b", "c"]
    assert len(fig.layout.shapes) == 3  # bias and the two limits
    assert {round(s.y0, 3) for s in fig.layout.shapes} == {
        round(v, 3) for v in (20 / 3, 20 / 3 + 1.96 * 15.275252, 20 / 3 - 1.96 * 15.275252)
    }
    title = fig.layout.title.text
    assert "QT" in title and "n=3" in title and "failed 2" in title
    assert fig.layout.xaxis.title.text.startswith("Mean") and "(ms)" in fig.layout.yaxis.title.text
    empty = F.bland_altman_figure([np.nan], [np.nan], name="PR")
    assert len(empty.data[0].x) == 0 and len(empty.layout.shapes) == 0
    assert "n=0" in empty.layout.title.text


def test_scatter_figure() -> None:
    fig = F.scatter_figure(REF, EST, name="QRS")
    assert len(fig.data) == 2 and fig.data[1].name == "identity"
    assert list(fig.data[1].x) == list(fig.data[1].y)
    assert "r = 0.991" in fig.layout.title.text and "failed 2" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "Reference QRS (ms)"
    nan_fig = F.scatter_figure([np.nan, np.nan], [1.0, np.nan])
    assert len(nan_fig.data[0].x) == 0 and "r = n/a" in nan_fig.layout.title.text
    with pytest.raises(EcgkitError, match="labels"):
        F.scatter_figure(REF, EST, labels=["a"])


def test_interval_figures(records: list[Record]) -> None:
    res = interval_agreement(records[:2], [records[0], None])
    figs = F.interval_figures(res)
    assert list(figs) == list(INTERVALS)
    assert all(len(f.data) == 1 for f in figs.values())
    assert "failed 1" in figs["QT"].layout.title.text
    scatters = F.interval_figures(res, kind="scatter")
    assert all(len(f.data) == 2 for f in scatters.values())
    with pytest.raises(ValueError, match="bland_altman, scatter"):
        F.interval_figures(res, kind="violin")
    with pytest.raises(EcgkitError, match="interval_agreement"):
        F.interval_figures({})


def test_snr_heatmap_and_boxplot(records: list[Record]) -> None:
    values = [snr_record(r, _noisy(r, 3)) for r in records[:2]] + [np.full(12, np.nan)]
    heat = F.snr_heatmap(values, record_names=["a", "b", "c"])
    assert len(heat.data) == 1 and isinstance(heat.data[0], go.Heatmap)
    assert list(heat.data[0].x) == list(LEADS) and list(heat.data[0].y) == ["a", "b", "c"]
    assert heat.data[0].z[2] == (None,) * 12 or list(heat.data[0].z[2]) == [None] * 12
    assert "12 missing" in heat.layout.title.text
    assert heat.layout.xaxis.title.text == "Lead"
    box = F.snr_boxplot(values)
    assert len(box.data) == 12 and [b.name for b in box.data] == list(LEADS)
    assert all(len(b.y) == 2 for b in box.data)
    assert box.layout.yaxis.title.text == "SNR (dB)"
    assert len(F.snr_boxplot([]).data) == 12
    with pytest.raises(EcgkitError, match="12 SNR values"):
        F.snr_heatmap([[1.0, 2.0]])
    with pytest.raises(EcgkitError, match="record names"):
        F.snr_heatmap(values, record_names=["a"])


def test_overlay_figure(records: list[Record]) -> None:
    ref = builtin_record(4, duration=3.0)
    sig = np.roll(ref.signals, 10, axis=0) + 0.1
    sig[:, LEADS.index("V3")] = np.nan
    est = Record(sig, ref.fs, name="est")
    fig = F.overlay_figure(ref, est)
    assert len(fig.data) == 24
    assert [t.name for t in fig.data[:2]] == ["reference", "estimate"]
    titles = [a.text for a in fig.layout.annotations]
    assert len(titles) == 12 and titles[0].startswith("I ") and titles[1].startswith("aVR")
    assert "shift 20 ms" in titles[0]  # 10 samples at 500 Hz, undone by the alignment
    k = LEADS.index("II")
    ii_est = next(t for t in fig.data if t.xaxis == "x5" and t.name == "estimate")
    np.testing.assert_allclose(ii_est.y[:-20], ref.signals[:-20, k], atol=1e-2)
    v3_est = next(t for i, t in enumerate(fig.data) if i == 2 * 10 + 1)  # V3: row 3, col 3
    assert np.all(np.isnan(np.asarray(v3_est.y, dtype=float)))
    assert "V3" in titles[10] and "SNR 0.0 dB" in titles[10]
    assert fig.layout.xaxis9.title.text == "Time (s)"
    none = F.overlay_figure(ref, None)
    assert len(none.data) == 24
    half = Record(ref.signals[::2], ref.fs / 2, name="half")
    assert len(F.overlay_figure(ref, half).data) == 24
    with pytest.raises(EcgkitError, match="Record"):
        F.overlay_figure(ref.signals, est)  # type: ignore[arg-type]


def test_figures_of_the_issue_a_new_user_met(records: list[Record]) -> None:
    """Fixed SNR colours (item 15), two-line agreement titles (14), lead windows (12)."""
    from ecgkit.generate import make_sample

    low, high = F.snr_heatmap([np.full(12, 15.0)]), F.snr_heatmap([np.linspace(0, 40, 12)])
    for heat in (low, high):
        assert (heat.data[0].zmin, heat.data[0].zmax) == F.SNR_SCALE_DB == (-5.0, 30.0)
        assert heat.data[0].zauto is False
    for fig in (F.bland_altman_figure(REF, EST, name="QT"), F.scatter_figure(REF, EST)):
        main, detail = fig.layout.title.text.split("<br>")
        assert len(main) < 40 and "failed 2" in detail
    page = make_sample(records[0], preset="clean")
    truth = page.plotted_record()  # 3x4+II: 2.5 s per lead, NaN elsewhere; II also 10 s
    fig = F.overlay_figure(truth, truth)
    order = [lead for row in F._PAPER_GRID for lead in row]
    for i, lead in enumerate(order):
        ref, est = fig.data[2 * i], fig.data[2 * i + 1]
        span = float(np.ptp(np.asarray(ref.x, dtype=float)))
        assert span == pytest.approx(10.0 if lead == "II" else 2.5, abs=0.01), lead
        assert np.isfinite(np.asarray(ref.y, dtype=float)).all()
        assert ref.line.width > est.line.width and "rgba" in ref.line.color
