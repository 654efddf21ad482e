"""Built-in 12-lead ECG source: a cardiac-dipole (vectorcardiogram) model.

The model follows the 3-D extension of McSharry's ECGSYN (Sameni et al., "Multichannel ECG
and noise modeling", IEEE TBME 2007), written directly in time instead of phase:

1. **Rhythm.** A beat-to-beat RR series with heart-rate variability from the ECGSYN bimodal
   spectrum: a Mayer-wave peak at 0.1 Hz and a respiratory (RSA) peak at the respiration rate,
   LF/HF power ratio 0.5, random phases. The continuous RR(t) process is normalised over the
   record to mean ``60 / heart_rate`` and standard deviation ``hrv`` (seconds), and beats are
   placed by ``t[k+1] = t[k] + RR(t[k])`` from a random start phase.
2. **Dipole.** Each of the three Frank components X (right to left), Y (head to feet) and
   Z (front to back) is a sum of Gaussian waves per beat: P (plus a small biphasic atrial
   component in Z), Q, R, S, a late posterior R in Z, an asymmetric T (a split Gaussian: slower
   rise than fall) and an optional small U. Every centre and width is in seconds, relative to
   the beat's R time, so the intervals are known exactly (see :func:`expected_intervals`).
3. **Axis.** The QRS waves are rotated in the frontal (X-Y) plane by the angle that makes the
   net QRS area in leads I and aVF point at ``axis`` (``atan2(aVF, I)``, the hexaxial angle):
   the axis is honoured exactly for the template, up to the small respiratory swing. The T waves
   are rotated by half that angle (the QRS-T angle stays small); the P waves are not rotated
   (the atrial axis does not follow the ventricular one). Breathing swings every beat by about
   +/-3 degrees in the frontal plane and +/-4 % in amplitude.
4. **Leads.** The dipole is projected onto I, II and V1..V6 with Dower's transform (Dower,
   Machado and Osborne, Clin. Cardiol. 1980; as used for EASI, Dower et al. 1988); noise is
   added to these 8 recorded leads, and III, aVR, aVL, aVF are derived exactly (Einthoven and
   Goldberger), as an electrocardiograph does.

Interval conventions
--------------------
The onset and offset of a P or T wave are its centre -/+ :data:`K_ONSET` (2.2) sigma (the
side's sigma for the split-Gaussian T); the QRS onset is the Q centre - :data:`K_QRS` (2.8)
sigma_Q and the QRS offset the S centre + ``K_QRS`` sigma_S. PR is P onset to QRS onset, QRS is
Q onset to S offset, QT is Q onset to T offset: the way a delineator measures them. The two
constants were tuned so that ``neurokit2.ecg_delineate(method="dwt")`` on lead II of a clean
record recovers the intervals (median over beats) within about 10 ms for PR and QT and 15 ms
for QRS, for heart rates 50-100 bpm, normal axes and 250-1000 Hz. (neurokit2 uses a coarser
wavelet scale below 60 bpm, which measures the QRS about 15 ms longer than above 60 bpm; the
QRS convention sits between the two. Its ``ecg_clean`` smooths the QRS and adds about 15 ms
more.) QT follows each beat's preceding RR with the Framingham rule (Sagie et al. 1992),
``QT = qt_interval - 0.154 * (1 - RR)`` with ``qt_interval`` the QT at 60 bpm; QTc is reported
with Bazett's formula, ``QT / sqrt(RR)``. PR and QRS do not depend on the rate. The exact
per-beat fiducials (seconds) are in ``Record.metadata["beats"]``.

All randomness comes from the ``numpy.random.Generator`` passed in; the same generator state
gives bit-identical arrays.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError
from ecgkit.io import LEADS, Record

__all__ = [
    "DOWER",
    "EXTRA_LEAD_VECTORS",
    "ExtraLead",
    "K_ONSET",
    "K_QRS",
    "SynthParams",
    "builtin_record",
    "expected_intervals",
    "extra_lead_coefficients",
    "extra_leads",
    "qt_at_rr",
    "random_params",
    "synthesize",
]

#: Onset/offset of a P or T wave (Gaussian) = centre -/+ ``K_ONSET`` * sigma.
K_ONSET: float = 2.2
#: QRS onset = Q centre - ``K_QRS`` * sigma_Q; QRS offset = S centre + ``K_QRS`` * sigma_S.
K_QRS: float = 2.8

#: Dower transform, rows I, II, V1..V6, columns X, Y, Z (Frank leads, mV -> mV).
DOWER: np.ndarray = np.array(
    [
        [0.632, -0.235, 0.059],  # I
        [0.235, 1.066, -0.132],  # II
        [-0.515, 0.157, -0.917],  # V1
        [0.044, 0.164, -1.387],  # V2
        [0.882, 0.098, -1.277],  # V3
        [1.213, 0.127, -0.601],  # V4
        [1.125, 0.127, -0.086],  # V5
        [0.831, 0.076, 0.230],  # V6
    ]
)
DOWER.setflags(write=False)

_FRAMINGHAM_SLOPE = 0.154  # s of QT per s of RR
_P_DURATION = 0.11  # s, longest P (P onset to offset); shorter with a short PR, see _waves
_SQRT_2PI = math.sqrt(2.0 * math.pi)

# Template dipole amplitudes (mV) per wave, columns X, Y, Z, before the axis rotation and the
# amplitude scale. Timing fractions of the QRS duration D (centres relative to the R time, the
# Q onset at -D/2 and the S offset at +D/2 by construction).
_QRS_SIGMA = {"Q": 0.11, "R": 0.11, "S": 0.10, "Rz": 0.12}
_QRS_CENTRE = {"R": 0.0, "Rz": 0.14}  # Q and S centres follow from K_QRS
_AMP = {
    "P": (0.13, 0.11, 0.0),
    "Pa": (0.0, 0.0, -0.045),  # right atrium: anterior, early half of P
    "Pb": (0.0, 0.0, 0.055),  # left atrium: posterior, late half of P
    "Q": (-0.18, -0.22, -0.20),
    "R": (0.70, 1.00, -0.20),
    "Rz": (0.15, 0.0, 0.90),
    "S": (-0.22, -0.25, 0.18),
    "T": (0.32, 0.22, -0.17),
}
_TEMPLATE_P_Z_SHIFT = 0.35  # centre offset of Pa/Pb, in P sigmas
_TEMPLATE_P_Z_WIDTH = 0.65  # width of Pa/Pb, in P sigmas
_T_SIGMA_RIGHT = 0.10  # fraction of the beat's QT
_T_SIGMA_LEFT = 0.16  # fraction of the beat's QT
_U_DELAY = 0.07  # s from T offset to U centre
_U_SIGMA = 0.035  # s
_RESP_ROTATION = math.radians(3.0)
_RESP_AMPLITUDE = 0.04
_BEAT_JITTER = 0.01


@dataclass(frozen=True)
class SynthParams:
    """Parameters of one synthetic 12-lead ECG (physiological defaults).

    Attributes
    ----------
    heart_rate : float
        Mean heart rate in beats per minute.
    hrv : float
        Standard deviation of the RR intervals, seconds (0 gives a perfectly regular rhythm).
    axis : float
        Frontal QRS axis in degrees (hexaxial convention: 0 = lead I, +90 = aVF).
    amplitude : float
        Scale of the whole cardiac signal (1 = typical adult amplitudes).
    pr_interval : float
        P onset to QRS onset, seconds.
    qrs_duration : float
        QRS onset to QRS offset, seconds.
    qt_interval : float
        QRS onset to T offset at 60 bpm, seconds; each beat's QT follows its preceding RR with
        the Framingham rule (see :func:`qt_at_rr`).
    noise : float
        Total noise RMS in mV, split into baseline wander (0.8), white noise (0.5) and mains
        hum at 50 or 60 Hz (0.33) as RMS fractions; 0 gives a clean signal.
    duration : float
        Record length in seconds.
    fs : float
        Sampling rate in Hz.
    respiration_rate : float
        Breaths per minute (respiratory sinus arrhythmia, axis swing and baseline wander).
    u_wave : float
        U wave amplitude as a fraction of the T wave (0 = no U wave).
    """

    heart_rate: float = 70.0
    hrv: float = 0.03
    axis: float = 60.0
    amplitude: float = 1.0
    pr_interval: float = 0.16
    qrs_duration: float = 0.09
    qt_interval: float = 0.40
    noise: float = 0.02
    duration: float = 10.0
    fs: float = 500.0
    respiration_rate: float = 15.0
    u_wave: float = 0.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise EcgkitError(f"SynthParams.{f.name} must be a number, got {value!r}")
            object.__setattr__(self, f.name, float(value))
        limits = {
            "heart_rate": (20.0, 250.0),
            "hrv": (0.0, 0.3),
            "axis": (-180.0, 180.0),
            "amplitude": (0.0, 10.0),
            "pr_interval": (0.06, 0.40),
            "qrs_duration": (0.04, 0.20),
            "qt_interval": (0.20, 0.70),
            "noise": (0.0, 5.0),
            "duration": (0.0, 3600.0),
            "fs": (50.0, 20000.0),
            "respiration_rate": (4.0, 60.0),
            "u_wave": (0.0, 1.0),
        }
        for name, (lo, hi) in limits.items():
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise EcgkitError(f"SynthParams.{name}={value} is out of range [{lo}, {hi}]")
        if self.amplitude <= 0 or self.duration <= 0:
            raise EcgkitError("SynthParams.amplitude and SynthParams.duration must be > 0")
        if round(self.duration * self.fs) < 1:
            raise EcgkitError("SynthParams: duration * fs must give at least one sample")
        rr = 60.0 / self.heart_rate
        if self.pr_interval + qt_at_rr(self.qt_interval, rr) >= 1.5 * rr + 0.2:
            raise EcgkitError(
                f"SynthParams: PR {self.pr_interval} s + QT cannot fit a {self.heart_rate:g} bpm"
                " cycle; lower the heart rate or shorten the intervals"
            )


def qt_at_rr(qt_interval: float, rr: float | np.ndarray) -> Any:
    """QT for a given RR by the Framingham rule (Sagie et al. 1992).

    Parameters
    ----------
    qt_interval : float
        QT at 60 bpm (RR = 1 s), seconds.
    rr : float or numpy.ndarray
        Preceding RR interval(s), seconds.

    Returns
    -------
    float or numpy.ndarray
        ``qt_interval - 0.154 * (1 - rr)``, seconds.
    """
    return qt_interval - _FRAMINGHAM_SLOPE * (1.0 - rr)


def expected_intervals(params: SynthParams) -> dict[str, float]:
    """Intervals the parameters imply, in milliseconds, as a delineator measures them.

    Parameters
    ----------
    params : SynthParams
        The synthesis parameters.

    Returns
    -------
    dict of str to float
        ``RR`` (60000 / heart rate), ``PR`` (P onset to QRS onset), ``QRS`` (Q onset to S
        offset), ``QT`` (Q onset to T offset, Framingham-adapted to the mean RR; the median over
        beats when the rhythm is nearly regular) and ``QTc`` (Bazett: QT / sqrt(RR in s)).
        Onsets/offsets are Gaussian centres -/+ :data:`K_ONSET` sigmas.
    """
    rr = 60.0 / params.heart_rate
    qt = float(qt_at_rr(params.qt_interval, rr))
    return {
        "RR": 1000.0 * rr,
        "PR": 1000.0 * params.pr_interval,
        "QRS": 1000.0 * params.qrs_duration,
        "QT": 1000.0 * qt,
        "QTc": 1000.0 * qt / math.sqrt(rr),
    }


def random_params(rng: np.random.Generator, **overrides: Any) -> SynthParams:
    """Draw the parameters of a plausible adult ECG in normal sinus rhythm.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    **overrides
        Fields of :class:`SynthParams` to set instead of drawing (they are still drawn, so
        the other fields do not depend on which ones are overridden).

    Returns
    -------
    SynthParams
        Heart rate 50-100 bpm, axis -30..90 degrees, PR 120-200 ms, QRS 80-110 ms, QT at 60 bpm
        370-430 ms, HRV 10-60 ms, amplitude 0.75-1.3, noise 0.005-0.04 mV, respiration
        10-20 per minute, U wave absent in 60 % of draws.
    """
    unknown = set(overrides) - {f.name for f in dataclasses.fields(SynthParams)}
    if unknown:
        valid = ", ".join(f.name for f in dataclasses.fields(SynthParams))
        raise EcgkitError(f"unknown SynthParams field(s) {sorted(unknown)}; valid: {valid}")
    u = rng.uniform(size=10)
    drawn: dict[str, Any] = {
        "heart_rate": 50.0 + 50.0 * u[0],
        "hrv": 0.01 + 0.05 * u[1],
        "axis": -30.0 + 120.0 * u[2],
        "amplitude": 0.75 + 0.55 * u[3],
        "pr_interval": 0.12 + 0.08 * u[4],
        "qrs_duration": 0.08 + 0.03 * u[5],
        "qt_interval": 0.37 + 0.06 * u[6],
        "noise": 0.005 + 0.035 * u[7],
        "respiration_rate": 10.0 + 10.0 * u[8],
        "u_wave": 0.0 if u[9] < 0.6 else 0.05 + 0.25 * (u[9] - 0.6),
    }
    drawn = {key: float(value) for key, value in drawn.items()}
    drawn.update(overrides)
    return SynthParams(**drawn)


def builtin_record(
    index: int = 0, *, seed: int = 0, duration: float = 10.0, fs: float = 500.0
) -> Record:
    """The app's built-in record number ``index``.

    Parameters
    ----------
    index : int
        Record number (>= 0). Record 0 is a clean normal sinus rhythm at 60-75 bpm with a
        normal axis; the others are drawn by :func:`random_params`.
    seed : int
        Seed of the collection; the record's generator is ``default_rng([seed, index])``.
    duration : float
        Length in seconds.
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    Record
        Named ``f"synth{index:05d}"``.
    """
    if index < 0 or seed < 0:
        raise EcgkitError(f"builtin_record: index and seed must be >= 0, got {index}, {seed}")
    rng = np.random.default_rng([seed, index])
    if index == 0:
        u = rng.uniform(size=4)
        params = random_params(
            rng,
            heart_rate=62.0 + 10.0 * u[0],
            axis=40.0 + 25.0 * u[1],
            hrv=0.02 + 0.02 * u[2],
            noise=0.01 + 0.005 * u[3],
            amplitude=1.0,
            u_wave=0.0,
            duration=duration,
            fs=fs,
        )
    else:
        params = random_params(rng, duration=duration, fs=fs)
    return synthesize(params, rng=rng, name=f"synth{index:05d}")


def synthesize(params: SynthParams, *, rng: np.random.Generator, name: str = "synthetic") -> Record:
    """Synthesize a 12-lead ECG from a cardiac-dipole model.

    Parameters
    ----------
    params : SynthParams
        Rhythm, axis, intervals, noise, length and sampling rate.
    rng : numpy.random.Generator
        The only source of randomness. Independent streams are split off it for the header,
        the rhythm, the beat-to-beat morphology and the noise, so changing ``noise`` keeps the
        same heart beats (a clean/noisy pair from the same generator state).
    name : str
        Record name.

    Returns
    -------
    Record
        ``round(duration * fs)`` samples of the 12 leads in mV. ``metadata`` holds ``source``
        (``"ecgkit.synth"``), ``synth_params``, ``intervals_ms`` (:func:`expected_intervals`),
        ``beats`` (per-beat ground-truth fiducials in seconds), ``dx`` and printable header
        fields ``patient_id``, ``age``, ``sex``, ``date``, ``time``.
    """
    seeds = rng.integers(0, 2**63 - 1, size=4)
    rng_header, rng_rhythm, rng_beat, rng_noise = (np.random.default_rng(int(s)) for s in seeds)
    header = _draw_header(rng_header)

    fs = params.fs
    n = round(params.duration * fs)
    r_times, rr_prev = _beat_times(params, rng_rhythm)
    waves, fid = _waves(params, r_times, rr_prev, rng_beat)
    dipole = _render(waves, n, fs)
    leads8 = dipole @ DOWER.T
    if params.noise > 0:
        leads8 += _noise(params, n, rng_noise)

    lead_i, lead_ii = leads8[:, 0], leads8[:, 1]
    signals = np.empty((n, len(LEADS)))
    signals[:, 0] = lead_i
    signals[:, 1] = lead_ii
    signals[:, 2] = lead_ii - lead_i
    signals[:, 3] = -(lead_i + lead_ii) / 2.0
    signals[:, 4] = lead_i - lead_ii / 2.0
    signals[:, 5] = lead_ii - lead_i / 2.0
    signals[:, 6:] = leads8[:, 2:]

    inside = (fid["R"] >= 0.0) & (fid["R"] < n / fs)
    beats = {key: [float(v) for v in val[inside]] for key, val in fid.items()}
    metadata: dict[str, Any] = {
        "source": "ecgkit.synth",  # a data value (in every sample JSON): kept stable
        "synth_params": dataclasses.asdict(params),
        "intervals_ms": expected_intervals(params),
        "beats": beats,
        "dx": _diagnosis(params),
        **header,
    }
    return Record(signals=signals, fs=fs, name=name, metadata=metadata)


# --------------------------------------------------------------------------- internals


def _draw_header(rng: np.random.Generator) -> dict[str, Any]:
    """Printable patient/header fields."""
    day = _dt.date(2012, 1, 1) + _dt.timedelta(days=int(rng.integers(0, 365 * 13)))
    seconds = int(rng.integers(7 * 3600, 19 * 3600))
    return {
        "patient_id": f"{int(rng.integers(10**7, 10**8)):08d}",
        "age": int(rng.integers(18, 91)),
        "sex": "Male" if rng.uniform() < 0.5 else "Female",
        "date": day.isoformat(),
        "time": f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
    }


def _diagnosis(params: SynthParams) -> str:
    """A plausible machine statement for the parameters."""
    if params.heart_rate < 60:
        rhythm = "Sinus bradycardia"
    elif params.heart_rate > 100:
        rhythm = "Sinus tachycardia"
    else:
        rhythm = "Normal sinus rhythm"
    notes = [rhythm]
    if params.axis < -30:
        notes.append("Left axis deviation")
    elif params.axis > 90:
        notes.append("Right axis deviation")
    if params.pr_interval > 0.20:
        notes.append("First degree AV block")
    if params.qrs_duration >= 0.12:
        notes.append("Wide QRS")
    return "; ".join(notes)


def _beat_times(params: SynthParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """R times (s) covering the record with margins, and each beat's preceding RR (s).

    The RR(t) process has the ECGSYN bimodal spectrum (Gaussians at 0.1 Hz and at the
    respiration frequency, SD 0.01 Hz each, LF/HF = 0.5) with random phases, is sampled at
    4 Hz, normalised over the record to mean 60/heart_rate and SD ``hrv``.
    """
    rr_mean = 60.0 / params.heart_rate
    margin = 2.0 + 2.0 * rr_mean
    f_grid = 4.0
    t0 = -margin
    n_grid = int(math.ceil((params.duration + 2 * margin) * f_grid)) + 1
    n_fft = max(256, 1 << (n_grid - 1).bit_length())
    freqs = np.fft.rfftfreq(n_fft, d=1.0 / f_grid)
    f_resp = params.respiration_rate / 60.0
    spectrum = 0.5 * np.exp(-0.5 * ((freqs - 0.1) / 0.01) ** 2) + np.exp(
        -0.5 * ((freqs - f_resp) / 0.01) ** 2
    )
    phases = rng.uniform(0.0, 2.0 * math.pi, size=freqs.size)
    z = np.fft.irfft(np.sqrt(spectrum) * np.exp(1j * phases), n=n_fft)[:n_grid]
    t_grid = t0 + np.arange(n_grid) / f_grid
    inside = (t_grid >= 0.0) & (t_grid <= params.duration)
    if inside.sum() < 2:
        inside[:] = True
    z = z - z[inside].mean()
    sd = z[inside].std()
    z = z / sd if sd > 0 else np.zeros_like(z)
    rr_grid = np.maximum(rr_mean + params.hrv * z, 0.35 * rr_mean)

    start = -margin + rr_mean * rng.uniform()
    end = params.duration + margin
    times = [start]
    t = start
    while t < end:
        t = t + float(np.interp(t, t_grid, rr_grid))
        times.append(t)
    r_times = np.asarray(times)
    rr_prev = np.empty_like(r_times)
    rr_prev[1:] = np.diff(r_times)
    rr_prev[0] = rr_prev[1] if r_times.size > 1 else rr_mean
    return r_times, rr_prev


def _rot(angle: np.ndarray | float) -> np.ndarray:
    """Frontal-plane rotation matrices (..., 3, 3): X toward Y (clockwise, seen from the front)."""
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(c), np.ones_like(c)
    return np.stack(
        [np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)],
        -2,
    )


def _qrs_rotation(axis_deg: float) -> float:
    """Frontal rotation (rad) of the template QRS making atan2(aVF, I) of its area = axis."""
    area = np.zeros(3)
    for key, sigma in _QRS_SIGMA.items():
        area += np.asarray(_AMP[key]) * sigma * _SQRT_2PI
    # Areas in I and aVF are linear in (cos phi, sin phi): v(phi) = v0 + cos*v1 + sin*v2.
    m = np.stack([DOWER[0], DOWER[1] - DOWER[0] / 2.0])  # rows I, aVF
    x, y, z = area
    v1 = m[:, :2] @ np.array([x, y])
    v2 = m[:, :2] @ np.array([-y, x])
    v0 = m[:, 2] * z
    a = math.radians(axis_deg)
    normal = np.array([-math.sin(a), math.cos(a)])
    direction = np.array([math.cos(a), math.sin(a)])
    ca, cb, cc = normal @ v1, normal @ v2, normal @ v0
    r = math.hypot(ca, cb)
    delta = math.atan2(cb, ca)
    ratio = max(-1.0, min(1.0, -cc / r))
    best, best_score = 0.0, -math.inf
    for sign in (1.0, -1.0):
        phi = delta + sign * math.acos(ratio)
        score = direction @ (v0 + math.cos(phi) * v1 + math.sin(phi) * v2)
        if score > best_score:
            best, best_score = phi, score
    return (best + math.pi) % (2 * math.pi) - math.pi


def _waves(
    params: SynthParams, r_times: np.ndarray, rr_prev: np.ndarray, rng: np.random.Generator
) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], dict[str, np.ndarray]]:
    """Per-wave (centre, sigma_left, sigma_right, amplitude (beats, 3)) and fiducials (s)."""
    nb = r_times.size
    k = K_ONSET
    kq = K_QRS
    d = params.qrs_duration
    qrs_on = r_times - d / 2.0
    qrs_off = r_times + d / 2.0

    # beat-to-beat modulation: breathing (axis swing, amplitude) and a little jitter
    f_resp = params.respiration_rate / 60.0
    resp_phase = rng.uniform(0.0, 2.0 * math.pi)
    resp = np.sin(2.0 * math.pi * f_resp * r_times + resp_phase)
    gain = (
        params.amplitude
        * (1.0 + _RESP_AMPLITUDE * resp)
        * (1.0 + _BEAT_JITTER * rng.standard_normal(nb))
    )
    swing = _RESP_ROTATION * resp
    phi_qrs = _qrs_rotation(params.axis)
    rot_qrs = _rot(phi_qrs + swing)  # (nb, 3, 3)
    rot_t = _rot(0.5 * phi_qrs + swing)
    rot_p = _rot(swing)

    def amp(key: str, rot: np.ndarray) -> np.ndarray:
        return (rot @ np.asarray(_AMP[key])) * gain[:, None]

    ones = np.ones(nb)
    waves = []

    # P: onset PR before the QRS onset; lasts min(110 ms, max(PR / 2, PR - 45 ms)), so a
    # short PR keeps a visible PR segment (which delineators need to find the QRS onset)
    p_dur = min(_P_DURATION, max(0.5 * params.pr_interval, params.pr_interval - 0.045))
    sp = p_dur / (2.0 * k)
    p_on = qrs_on - params.pr_interval
    p_c = p_on + k * sp
    waves.append((p_c, sp * ones, sp * ones, amp("P", rot_p)))
    pz_s = _TEMPLATE_P_Z_WIDTH * sp * ones
    waves.append((p_c - _TEMPLATE_P_Z_SHIFT * sp, pz_s, pz_s, amp("Pa", rot_p)))
    waves.append((p_c + _TEMPLATE_P_Z_SHIFT * sp, pz_s, pz_s, amp("Pb", rot_p)))

    # QRS: Q onset at -D/2 and S offset at +D/2 relative to the R time
    sq, sr, ss, srz = (_QRS_SIGMA[w] * d for w in ("Q", "R", "S", "Rz"))
    waves.append((qrs_on + kq * sq, sq * ones, sq * ones, amp("Q", rot_qrs)))
    waves.append((r_times + _QRS_CENTRE["R"] * d, sr * ones, sr * ones, amp("R", rot_qrs)))
    waves.append((r_times + _QRS_CENTRE["Rz"] * d, srz * ones, srz * ones, amp("Rz", rot_qrs)))
    waves.append((qrs_off - kq * ss, ss * ones, ss * ones, amp("S", rot_qrs)))

    # T: split Gaussian ending QT after the QRS onset; QT from the preceding RR (Framingham)
    qt = qt_at_rr(params.qt_interval, rr_prev)
    st_r = _T_SIGMA_RIGHT * qt
    st_l = _T_SIGMA_LEFT * qt
    t_off = qrs_on + qt
    t_c = t_off - k * st_r
    t_amp = amp("T", rot_t)
    waves.append((t_c, st_l, st_r, t_amp))
    if params.u_wave > 0:
        u_s = _U_SIGMA * ones
        waves.append((t_off + _U_DELAY, u_s, u_s, params.u_wave * t_amp))

    fid = {
        "P_on": p_on,
        "P_peak": p_c,
        "P_off": p_on + p_dur,
        "QRS_on": qrs_on,
        "R": r_times,
        "QRS_off": qrs_off,
        "T_on": t_c - k * st_l,
        "T_peak": t_c,
        "T_off": t_off,
        "RR_prev": rr_prev,
    }
    return waves, fid


def _render(
    waves: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], n: int, fs: float
) -> np.ndarray:
    """Sum the Gaussian waves into an (n, 3) dipole, evaluating each within 6 sigma."""
    idx_all, val_all = [], []
    for centre, s_left, s_right, amp in waves:
        half = int(math.ceil(6.0 * max(s_left.max(), s_right.max()) * fs)) + 1
        offs = np.arange(-half, half + 1)
        idx = np.rint(centre * fs).astype(np.int64)[:, None] + offs[None, :]
        t = idx / fs - centre[:, None]
        sigma = np.where(t < 0, s_left[:, None], s_right[:, None])
        g = np.exp(-0.5 * (t / sigma) ** 2)
        ok = (idx >= 0) & (idx < n)
        if not ok.any():
            continue
        rows = np.nonzero(ok)[0]
        idx_all.append(idx[ok])
        val_all.append(g[ok][:, None] * amp[rows])
    out = np.zeros((n, 3))
    if idx_all:
        idx_cat = np.concatenate(idx_all)
        val_cat = np.concatenate(val_all)
        for c in range(3):
            out[:, c] = np.bincount(idx_cat, weights=val_cat[:, c], minlength=n)
    return out


def _noise(params: SynthParams, n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise for the 8 recorded leads (n, 8), total RMS about ``params.noise`` mV.

    Baseline wander (RMS 0.8 * noise): the breathing frequency plus three random sinusoids at
    0.05-0.5 Hz with random per-lead gains. White noise (RMS 0.5 * noise). Mains hum at 50 or
    60 Hz (RMS 0.33 * noise), left out when the sampling rate cannot carry it (fs < 2.4 * f).
    """
    t = np.arange(n) / params.fs
    n_leads = DOWER.shape[0]
    freqs = np.concatenate(
        [[params.respiration_rate / 60.0], rng.uniform(0.05, 0.5, size=3)]
    )  # (4,)
    phases = rng.uniform(0.0, 2.0 * math.pi, size=(4, n_leads))
    gains = rng.standard_normal((4, n_leads))
    gains /= np.sqrt((gains**2).sum(axis=0) / 2.0)  # RMS 1 per lead
    wander = np.zeros((n, n_leads))
    for j in range(4):
        wander += gains[j] * np.sin(2.0 * math.pi * freqs[j] * t[:, None] + phases[j])
    out = 0.8 * params.noise * wander
    out += 0.5 * params.noise * rng.standard_normal((n, n_leads))
    f_line = 50.0 if rng.uniform() < 0.5 else 60.0
    line_phase = rng.uniform(0.0, 2.0 * math.pi, size=n_leads)
    line_gain = rng.uniform(0.5, 1.5, size=n_leads)
    if params.fs >= 2.4 * f_line:
        amp_line = 0.33 * params.noise * math.sqrt(2.0) * line_gain
        out += amp_line * np.sin(2.0 * math.pi * f_line * t[:, None] + line_phase)
    return out


# --------------------------------------------------------------------------------------------
# extra leads of a 15-lead page (V4R, V8, V9), simulated from a record's own leads

#: Lead vectors (X, Y, Z, in the frame of :data:`DOWER`) of the leads a 15-lead page adds.
#: V4R is V4 mirrored to the right chest (X negated) at half its length (further from the
#: heart); V8 and V9 continue V4-V6 round the left side to the back, in the transverse plane at
#: 70 and 85 degrees from X towards posterior Z (V6 is at 15), shorter (0.55 and 0.45, V6 0.86).
EXTRA_LEAD_VECTORS: dict[str, tuple[float, float, float]] = {
    "V4R": (-0.6065, 0.0635, -0.3005),
    "V8": (0.1881, 0.05, 0.5168),
    "V9": (0.0392, 0.04, 0.4483),
}
_RECORDED = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")  # the rows of DOWER


@dataclass(frozen=True)
class ExtraLead:
    """An extra lead's samples and where they come from.

    Attributes
    ----------
    lead : str
        ``"V4R"``, ``"V8"`` or ``"V9"``.
    signal : numpy.ndarray
        ``(n_samples,)`` mV at the record's rate (NaN where it cannot be known).
    simulated : bool
        True when computed from the record's 12 leads, False when the record carried it.
    coefficients : dict
        ``{lead: weight}``: the simulated signal is ``sum(weight * record lead)`` (empty when
        not simulated, or when too few leads are present: the signal is then all NaN).
    """

    lead: str
    signal: np.ndarray
    simulated: bool
    coefficients: dict[str, float]


def extra_lead_coefficients(lead: str, present: tuple[str, ...] = _RECORDED) -> dict[str, float]:
    """Weights that simulate an extra lead from a record's leads (the heart vector's projection).

    The heart vector is the least-squares fit of Dower's transform (:data:`DOWER`) to the
    recorded leads I, II, V1..V6 that are ``present``; the extra lead is its projection on the
    lead's vector (:data:`EXTRA_LEAD_VECTORS`). So the lead is a fixed linear combination of the
    record's leads, rounded to 6 decimals: V4R comes out like V1-V2 less V4-V6 (a mirrored V4),
    V8 and V9 like V5-V6 less V1-V3 (the anterior leads mirrored to the back).

    Parameters
    ----------
    lead : str
        One of :data:`EXTRA_LEAD_VECTORS`.
    present : tuple of str
        The recorded leads to use (a subset of I, II, V1..V6).

    Returns
    -------
    dict
        ``{lead: weight}`` in :data:`ecgkit.io.LEADS` order; empty when the present leads do not
        determine the heart vector (fewer than 3 independent ones).
    """
    if lead not in EXTRA_LEAD_VECTORS:
        raise EcgkitError(f"unknown extra lead {lead!r}; known: {', '.join(EXTRA_LEAD_VECTORS)}")
    rows = [i for i, name in enumerate(_RECORDED) if name in present]
    sub = DOWER[rows]
    if len(rows) < 3 or np.linalg.matrix_rank(sub) < 3:
        return {}
    weights = np.asarray(EXTRA_LEAD_VECTORS[lead]) @ np.linalg.pinv(sub)
    return {_RECORDED[i]: round(float(w), 6) for i, w in zip(rows, weights, strict=True)}


def extra_leads(record: Record, leads: tuple[str, ...] | list[str]) -> dict[str, ExtraLead]:
    """The extra leads a page shows: the record's own, or simulated from its 12 leads.

    A record carries an extra lead as ``record.metadata["extra_leads"][name]``, an array of
    ``record.n_samples`` mV values; every other one is simulated
    (:func:`extra_lead_coefficients`, from the recorded leads that have samples).

    Parameters
    ----------
    record : Record
    leads : sequence of str
        Names from :data:`EXTRA_LEAD_VECTORS`.

    Returns
    -------
    dict
        ``{name: ExtraLead}``.
    """
    own = record.metadata.get("extra_leads") or {}
    present = tuple(name for name, ok in zip(LEADS, record.present, strict=True) if ok)
    out: dict[str, ExtraLead] = {}
    for lead in leads:
        if lead in own:
            signal = np.asarray(own[lead], dtype=np.float64).reshape(-1)
            if signal.shape != (record.n_samples,):
                raise EcgkitError(
                    f"record {record.name!r}: extra lead {lead} has {signal.size} samples, "
                    f"the record {record.n_samples}"
                )
            out[lead] = ExtraLead(lead, signal, False, {})
            continue
        coefficients = extra_lead_coefficients(lead, present)
        signal = np.full(record.n_samples, np.nan)
        if coefficients:
            signal = np.zeros(record.n_samples)
            for name, weight in coefficients.items():
                signal += weight * record.signals[:, LEADS.index(name)]
        out[lead] = ExtraLead(lead, signal, True, coefficients)
    return out
