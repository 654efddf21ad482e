"""The digitizer pipeline: rectify, scale, layout, traces, signals."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.signal import butter, sosfiltfilt

from ecgkit.digitize.io import load_image
from ecgkit.digitize.layout_detect import PanelBox, detect_layout
from ecgkit.digitize.model import TraceModel, get_model
from ecgkit.digitize.rectify import GridInfo, rectify
from ecgkit.digitize.traces import classical_ink, follow, pen_width, read_runs, to_signal
from ecgkit.digitize.warp import Displacement, grid_displacement
from ecgkit.errors import EcgkitError
from ecgkit.io import LEADS, Record, check_fs

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in rectified pixels


@dataclass
class LeadResult:
    """One traced panel.

    Attributes
    ----------
    lead : str
        Canonical lead name.
    box : tuple
        ``(x0, y0, x1, y1)`` of the panel in the rectified image.
    x, y : numpy.ndarray
        The traced path in rectified pixels (NaN where the trace was lost).
    baseline_y : float
        Row of 0 mV in the rectified image.
    t0 : float
        Seconds from the record start of the panel's left edge.
    confidence : float
        0 (unreadable) to 1.
    rhythm : bool
        A full-length rhythm strip.
    label_box : tuple or None
        ``(x0, y0, x1, y1)`` of the printed lead label in the rectified image (None: not read).
    """

    lead: str
    box: Box
    x: np.ndarray
    y: np.ndarray
    baseline_y: float
    t0: float
    confidence: float
    rhythm: bool = False
    label_box: Box | None = None


@dataclass
class Digitized:
    """What the digitizer found in one image.

    Attributes
    ----------
    record : Record
        12 canonical leads in mV at the requested rate; a lead that could not be read is NaN.
    confidence : dict
        Lead name -> 0..1 (0 where the lead is NaN).
    rectified : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB page after rectification (what ``leads`` refer to).
    homography : numpy.ndarray
        ``3x3``: input image pixels -> rectified pixels.
    px_per_mm : float
        Scale of the rectified image.
    layout : str
        The detected layout name (``"3x4+II"``...).
    leads : list of LeadResult
        Every traced panel.
    grid : GridInfo or None
        What was measured of the grid (period in px, angle, found or not); None: not known.
    notes : list of str
        Anything the user should know (a lead not found, a fallback taken).
    seconds : float
        Wall time of the call.
    scale_source : str
        Where px/mm came from: ``"grid"`` (measured), ``"pulses"`` or ``"assumed"``.
    speed, gain : float
        Paper speed (mm/s) and gain (mm/mV) the signals were read at.
    pulse_side : str
        Where the calibration pulses were: ``"left"``, ``"right"``, ``"both"`` or ``"none"``.
    input_shape : tuple or None
        Shape of the input image (what :attr:`homography` maps from).
    """

    record: Record
    confidence: dict[str, float]
    rectified: np.ndarray
    homography: np.ndarray
    px_per_mm: float
    layout: str
    leads: list[LeadResult]
    grid: GridInfo | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    scale_source: str = "grid"
    speed: float = 25.0
    gain: float = 10.0
    pulse_side: str = "left"
    input_shape: tuple[int, ...] | None = None

    def to_json_dict(self, *, image: str | None = None) -> dict[str, Any]:
        """What was found, as JSON data (see :func:`ecgkit.digitize.report.to_json_dict`).

        Parameters
        ----------
        image : str, optional
            The image's file name.

        Returns
        -------
        dict
        """
        from ecgkit.digitize.report import to_json_dict

        return to_json_dict(self, image=image)


Path2 = tuple[np.ndarray, np.ndarray]

# Tuning of the digitizer. Lengths in mm are multiplied by the rectified page's px/mm.
#: Largest Einthoven/Goldberger residual (mV) spread over a group's leads; a larger one is a
#: misread lead (chosen on the built-in pages in the session that made the projection skip
#: misread instants, commit 0b5a2e2).
EINTHOVEN_MAX_MV = 0.15
#: Two panels' paths sharing this many columns took one trace (tuned on the built-in pages in
#: the session that added the follower's crossing-trace rule, commit 41dbbd3).
SHARED_COLUMNS = 20
#: Row pitch (mm) assumed where fewer than two rows are found (chosen by hand on the built-in
#: pages in the digitizer's first version, commit e39d967).
FALLBACK_PITCH_MM = 40.0
#: Displacement reference (mm left of where the traces start): the rising edge of the row's
#: calibration pulse, which the generator draws 1 mm in from an 8 mm pulse region at 25 mm/s
#: (``ecgkit.generate.layout``: 1 mm stub, 5 mm pulse, 1 mm stub, 1 mm gap), commit 4b136e3.
PULSE_REF_MM = 7.0
#: Half-height of the band a trace is followed in, in row pitches: a QRS can reach well into
#: the neighbouring rows (tuned on the built-in pages in the session that added the
#: follower, commit 41dbbd3; 0.95 before).
BAND_PITCHES = 1.6
#: Cap of that half-height (mm): a 3 mV QRS at the standard 10 mm/mV (digitizer's first
#: version, commit e39d967).
BAND_MAX_MM = 30.0
#: How far from its row's zero line a trace may be picked up, in row pitches: nearer its own
#: row's line than the neighbours' (follower session, commit 41dbbd3).
START_REACH_PITCHES = 0.45
#: Cap of that reach (mm): half of :data:`BAND_MAX_MM` (follower session, commit 41dbbd3).
START_REACH_MAX_MM = 15.0
#: The trace model's median certainty that counts as sure (it is about 0.9 on a crisp trace;
#: chosen when the shipped model was added, commit 739dad4, see ``ecgkit/models/MODEL.md``).
MODEL_SURE = 0.8
#: Low-pass cutoff in Hz per rectified px/s: a quarter of the page's half-pixel sampling
#: rate (100 Hz at 25 mm/s and 200 DPI); above it the reading is only jitter (commit 679d58f,
#: +0.3 to +0.7 dB on the bench pages).
LOWPASS_PER_PX_PER_S = 0.5
#: Order of that Butterworth low-pass (commit 679d58f).
LOWPASS_ORDER = 2
#: Stretches of finite samples this short or shorter are left unfiltered (chosen by hand on
#: the built-in pages; ``sosfiltfilt`` pads 9 samples each side at order 2).
LOWPASS_MIN_SAMPLES = 30
#: Peak-to-peak (mV) above which a lead is suspect: physiological QRS complexes rarely exceed
#: 4-5 mV even in left-ventricular hypertrophy (Sokolow-Lyon sums reach 3.5-5 mV over two
#: leads); more on one lead is a misread gain or another row's trace.
MAX_PLAUSIBLE_MV = 5.0
#: Confidence of such a lead at most.
IMPLAUSIBLE_CONFIDENCE = 0.2
#: A lead traced over less than this share of its window is "mostly missing" (a note).
MIN_COVER = 0.5
#: Confidence caps where the page's reading rests on a fallback (chosen by hand: each says how
#: far a reading can be trusted when that evidence is missing; the development scans, 2026-12).
CAP_NO_PULSES = 0.6  # rows from the ink's projection; 0 mV and time 0 from the trace itself
CAP_SCALE_ASSUMED = 0.5  # no grid period and no pulses: the page size gave the scale
CAP_RHYTHM_ASSUMED = 0.7  # the rhythm strip's lead is assumed (labels are not read)


def _merge(model_xy: Path2, classical_xy: Path2) -> Path2:
    """The model's points, plus the classical ones in columns where the model found none."""
    mx, my = model_xy
    cx, cy = classical_xy
    if len(mx) == 0:
        return cx, cy
    if len(cx):
        idx = np.searchsorted(mx, cx)
        right = mx[np.minimum(idx, len(mx) - 1)]
        left = mx[np.maximum(idx - 1, 0)]
        keep = np.minimum(np.abs(right - cx), np.abs(left - cx)) > 1.0
        mx, my = np.r_[mx, cx[keep]], np.r_[my, cy[keep]]
    order = np.argsort(mx, kind="stable")
    return mx[order], my[order]


def _follow_all(ink: np.ndarray, panels: list, up: int, reach: float) -> list[tuple]:
    """Follow every panel; where two took the same trace, the one it strays from re-follows.

    Traces of neighbouring rows can cross or touch (a wandering baseline, a QRS tall enough
    to reach the next row): a follower can then take its neighbour's trace. Where two
    panels' paths share :data:`SHARED_COLUMNS` columns or more, the panel whose own zero line
    the shared stretch lies further from gives it up and is followed again on the ink
    without the other's path.
    """
    paths = [follow(ink, p, up, up, start_reach=reach) for p in panels]
    for a in range(len(panels)):
        for b in range(len(panels)):
            pa, pb = panels[a], panels[b]
            if a == b or pa.row == pb.row:
                continue
            ca, ta, ba = paths[a]
            cb, tb, bb = paths[b]
            if len(ca) == 0 or len(cb) == 0:
                continue
            lo, hi = max(ca[0], cb[0]), min(ca[-1], cb[-1])
            if hi <= lo:
                continue
            ia = slice(int(lo - ca[0]), int(hi - ca[0]) + 1)
            ib = slice(int(lo - cb[0]), int(hi - cb[0]) + 1)
            both = np.isfinite(ta[ia]) & np.isfinite(tb[ib])
            shared = both & (ta[ia] <= bb[ib]) & (tb[ib] <= ba[ia])
            if shared.sum() < SHARED_COLUMNS:
                continue
            # the path belongs to the panel whose zero line it keeps nearer
            stray_a = np.nanmean(np.abs((ta[ia] + ba[ia])[shared] / 2 - pa.baseline))
            stray_b = np.nanmean(np.abs((tb[ib] + bb[ib])[shared] / 2 - pb.baseline))
            if stray_a <= stray_b:
                continue
            masked = ink.copy()
            for c, t, bo in zip(cb, tb, bb, strict=True):
                if np.isfinite(t):
                    masked[max(0, int(t) - 1) : int(bo) + 2, int(c)] = 0.0
            paths[a] = follow(masked, pa, up, up, start_reach=reach)
    return paths


def _lowpass(sig: np.ndarray, fs: float, cutoff: float) -> np.ndarray:
    """Zero-phase Butterworth low-pass (:data:`LOWPASS_ORDER`) of each finite stretch."""
    out = sig.copy()
    ok = np.isfinite(sig)
    if not ok.any() or cutoff >= fs / 2:
        return out
    sos = butter(LOWPASS_ORDER, cutoff / (fs / 2), output="sos")
    idx = np.flatnonzero(ok)
    segs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    for seg in segs:
        if len(seg) > LOWPASS_MIN_SAMPLES:
            out[seg] = sosfiltfilt(sos, sig[seg])
    return out


def _einthoven(signals: np.ndarray) -> np.ndarray:
    """Project the limb leads onto the relations they obey where each was read on its own.

    ``I - II + III = 0`` and ``aVR + aVL + aVF = 0`` hold for the true signals; where all three
    of a group were read at the same instants, the least-squares correction spreads the
    residual equally over them (where the residual is under :data:`EINTHOVEN_MAX_MV`: a larger
    one is a misread lead, not reading noise).
    """
    out = signals.copy()
    idx = {name: i for i, name in enumerate(LEADS)}
    for names, signs in (
        (("I", "II", "III"), (1.0, -1.0, 1.0)),
        (("aVR", "aVL", "aVF"), (1.0, 1.0, 1.0)),
    ):
        cols = [idx[n] for n in names]
        block = out[:, cols]
        ok = np.isfinite(block).all(axis=1)
        if not ok.any():
            continue
        sg = np.asarray(signs)
        resid = block @ sg
        # a large residual means one of the three was misread: spreading it would spoil the
        # other two, so those instants are left as read
        ok &= np.abs(np.nan_to_num(resid, nan=np.inf)) < EINTHOVEN_MAX_MV
        block[ok] -= np.outer(resid[ok], sg) / 3.0
        out[:, cols] = block
    return out


def _band(rows: list[float], ppmm: float) -> tuple[int, float]:
    """Half-height (px) of the band each trace is followed in, and its start reach (px).

    A QRS can reach well into the neighbouring rows (up to 3 mV); a trace starts nearer its
    own row's line than the neighbours'. Both scale with the row pitch (the median spacing of
    ``rows``, or :data:`FALLBACK_PITCH_MM`), capped in mm.
    """
    rows = sorted(rows)
    pitch = float(np.median(np.diff(rows))) if len(rows) > 1 else FALLBACK_PITCH_MM * ppmm
    up = int(min(pitch * BAND_PITCHES, BAND_MAX_MM * ppmm))
    reach = min(START_REACH_PITCHES * pitch, START_REACH_MAX_MM * ppmm)
    return up, reach


def _read_panel(
    image: np.ndarray,
    ink: np.ndarray,
    panel: PanelBox,
    path: tuple[np.ndarray, np.ndarray, np.ndarray],
    pen: float,
    tm: TraceModel | None,
    shift: Displacement | None,
    x_ref: float,
    px_per_s: float,
    fs: float,
    n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One panel's traced points, its signal (``n`` samples at ``fs``) and its confidence.

    The followed runs are read to sub-pixel points (the trace model's where it has them),
    moved back by the grid's local displacement relative to ``x_ref`` on the panel's zero
    line, resampled, and low-passed (the page cannot show more than about a quarter of its
    half-pixel sampling rate; above that the reading is only jitter).
    """
    cols, top, bot = path
    x, y = read_runs(ink, cols, top, bot, pen)
    sure = 1.0
    if tm is not None:
        mx, my, mp = tm.read(image, cols, top, bot)
        x, y = _merge((mx, my), (x, y))
        # the model's certainty along the line
        sure = float(np.clip(np.median(mp) / MODEL_SURE, 0.0, 1.0)) if len(mp) else 0.0
    xs, ys = (x, y) if shift is None else shift.correct(x, y, x_ref, panel.baseline)
    order = np.argsort(xs, kind="stable")
    sig, cover = to_signal(xs[order], ys[order], panel, px_per_s, fs, n)
    sig = _lowpass(sig, fs, LOWPASS_PER_PX_PER_S * px_per_s)
    return x, y, sig, float(np.clip(cover * sure, 0.0, 1.0))


def digitize(
    image: Any,
    *,
    fs: float = 500.0,
    name: str = "digitized",
    model: Any = None,
    duration: float = 10.0,
) -> Digitized:
    """Digitize one image of a paper ECG.

    Parameters
    ----------
    image : numpy.ndarray, str, Path or bytes
        ``(H, W, 3)`` uint8 RGB, ``(H, W)`` grey, or a file path / encoded bytes that
        :func:`ecgkit.digitize.io.load_image` reads.
    fs : float
        Sampling rate of the returned record.
    name : str
        Name of the returned record.
    model : str, Path, TraceModel or False, optional
        The trace model (default: the shipped weights; ``False``: the classical reading only).
    duration : float
        Seconds of the returned record when the page shows less (10 s on a standard ECG).

    Returns
    -------
    Digitized
    """
    start = time.perf_counter()
    fs = check_fs(fs, "digitize")
    rgb = load_image(image)
    rect = rectify(rgb)
    ppmm = rect.px_per_mm
    notes = list(rect.notes)
    tm = None if model is False else get_model(model)
    ink = classical_ink(rect.image, ppmm)
    if tm is None:
        notes.append("classical reading (no trace model)")
    measured = rect.grid.scale_measured if rect.grid is not None else True
    lay = detect_layout(ink, ppmm, scale_known=measured)
    if lay.name in ("none", "unknown") or not lay.panels:
        why = lay.notes[-1] if lay.notes else "no trace rows found"
        raise EcgkitError(f"{name}: no ECG layout recognised: {why}")
    notes += lay.notes
    pen = pen_width(ink, lay.panels)
    shown = max([p.t1 for p in lay.panels], default=duration)
    n = int(round(max(duration, shown) * fs))
    signals = np.full((n, len(LEADS)), np.nan)
    confidence = {lead: 0.0 for lead in LEADS}
    leads: list[LeadResult] = []
    rhythm_leads = {p.lead for p in lay.panels if p.rhythm}
    # what the homography left (curl, a scanner's skew): moved back relative to each row's
    # pulse, where 0 mV and time 0 are read
    shift = grid_displacement(rect.image, ppmm, ink) if measured else None
    x_ref = lay.x_ref if lay.x_ref is not None else lay.x_trace - PULSE_REF_MM * ppmm
    up, reach = _band(lay.rows, ppmm)
    paths = _follow_all(ink, lay.panels, up, reach)
    for p, path in zip(lay.panels, paths, strict=True):
        x, y, sig, conf = _read_panel(
            rect.image, ink, p, path, pen, tm, shift, x_ref, lay.px_per_s, fs, n
        )
        k = LEADS.index(p.lead)
        if p.rhythm or p.lead not in rhythm_leads:
            have = np.isfinite(sig)
            signals[have, k] = sig[have]
            confidence[p.lead] = max(confidence[p.lead], conf)
        box = (float(p.x0), float(p.baseline - up), float(p.x1), float(p.baseline + up))
        leads.append(LeadResult(p.lead, box, x, y, p.baseline, p.t0, conf, p.rhythm))
    signals = _einthoven(signals)
    missing = [lead for lead in LEADS if not np.isfinite(signals[:, LEADS.index(lead)]).any()]
    if len(missing) == len(LEADS):
        raise EcgkitError(
            f"{name}: no ECG layout recognised: {lay.name} rows found, but no trace could be "
            "followed in any of their panels"
        )
    if missing:
        notes.append("not found on the page: " + ", ".join(missing))
    scale_source = "grid" if measured else lay.scale_source
    _sanity(signals, lay, leads, confidence, scale_source, notes, fs)
    record = Record(signals, fs, name=name, metadata={"digitized_by": "ecgkit", "layout": lay.name})
    return Digitized(
        record=record,
        confidence=confidence,
        rectified=rect.image,
        homography=rect.homography,
        px_per_mm=ppmm,
        layout=lay.name,
        leads=leads,
        grid=rect.grid,
        notes=notes,
        seconds=time.perf_counter() - start,
        scale_source=scale_source,
        speed=float(lay.speed),
        gain=float(lay.gain),
        pulse_side=lay.pulse_side,
        input_shape=tuple(rgb.shape),
    )


def _sanity(
    signals: np.ndarray,
    lay: Any,
    leads: list[LeadResult],
    confidence: dict[str, float],
    scale_source: str,
    notes: list[str],
    fs: float,
) -> None:
    """Lower the confidences a wrong reading would show, and say why (in place).

    A lead taller than :data:`MAX_PLAUSIBLE_MV` peak to peak or traced over less than
    :data:`MIN_COVER` of its window is suspect; where the layout rests on a fallback (no
    pulses, an assumed scale, an assumed rhythm-strip lead) every lead's confidence is capped.
    """
    caps: dict[str, float] = {}
    if lay.pulse_side == "none":
        notes.append(
            f"no calibration pulses: rows, 0 mV and time 0 from the traces; confidence at "
            f"most {CAP_NO_PULSES:g}"
        )
        caps.update({lead: CAP_NO_PULSES for lead in LEADS})
    if scale_source == "assumed":
        notes.append(
            f"scale assumed (no grid period, no pulses); confidence at most {CAP_SCALE_ASSUMED:g}"
        )
        caps.update({lead: min(caps.get(lead, 1.0), CAP_SCALE_ASSUMED) for lead in LEADS})
    strips = sorted({lr.lead for lr in leads if lr.rhythm})
    if strips:
        notes.append(
            "rhythm strip lead assumed (" + ", ".join(strips) + "): labels are not read; "
            f"confidence at most {CAP_RHYTHM_ASSUMED:g}"
        )
        for lead in strips:
            caps[lead] = min(caps.get(lead, 1.0), CAP_RHYTHM_ASSUMED)
    for k, lead in enumerate(LEADS):
        col = signals[:, k]
        ok = np.isfinite(col)
        if not ok.any():
            continue
        ptp = float(col[ok].max() - col[ok].min())
        if ptp > MAX_PLAUSIBLE_MV:
            notes.append(
                f"{lead}: {ptp:.1f} mV peak to peak, more than a QRS reaches (about "
                f"{MAX_PLAUSIBLE_MV:g} mV): a misread gain or another lead's trace"
            )
            caps[lead] = min(caps.get(lead, 1.0), IMPLAUSIBLE_CONFIDENCE)
        own = [lr for lr in leads if lr.lead == lead]
        window = sum(lr.x.size > 0 for lr in own)
        if window and confidence[lead] > 0:
            cover = _cover(col, own, lay, fs)
            if cover < MIN_COVER:
                notes.append(f"{lead}: only {100 * cover:.0f} % of its window traced")
    for lead, cap in caps.items():
        confidence[lead] = min(confidence[lead], cap)
    for lr in leads:
        lr.confidence = min(lr.confidence, caps.get(lr.lead, 1.0))


def _cover(col: np.ndarray, own: list[LeadResult], lay: Any, fs: float) -> float:
    """Share of the lead's time window (its best panel's) that holds finite samples."""
    best = 0.0
    for lr in own:
        panel = next((p for p in lay.panels if p.lead == lr.lead and p.t0 == lr.t0), None)
        if panel is None:
            continue
        a, b = int(panel.t0 * fs), int(panel.t1 * fs)
        if b > a:
            best = max(best, float(np.isfinite(col[a:b]).mean()))
    return best
