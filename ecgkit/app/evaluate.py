"""What the Evaluate page calls: one function per way in, each giving an :class:`Evaluation`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError
from ecgkit.evaluate.intervals import INTERVALS
from ecgkit.evaluate.report import evaluate_records
from ecgkit.io import LEADS, Record, records_from_uploads

#: What the example simulates, shown on the page.
EXAMPLE_LABEL = (
    "Example: built-in records 0-2 scored against simulated digitizer output (20 uV noise, "
    "8 ms late, 3 % low gain; record 2 lost V4-V6), so the plots are not empty. Upload your own "
    "records or run a round trip to score a real digitizer."
)


@dataclass
class Evaluation:
    """A report and the records behind it, ready to show.

    Attributes
    ----------
    report : dict
        :func:`~ecgkit.evaluate.report.evaluate_records`' report (``errors`` added).
    references, estimates : list
        The scored pairs in report order (estimate None where it is missing).
    label : str
        What was evaluated, in words.
    messages : list of str
        Problems to show as errors (unreadable files, skipped records).
    unmatched : list of str
        Records without a partner of the same name.
    """

    report: dict[str, Any]
    references: list[Record]
    estimates: list[Record | None]
    label: str
    messages: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Record names, in report order."""
        return [r.name for r in self.references]


def example(n: int = 3) -> Evaluation:
    """Built-in records against noisy, delayed copies: a ready example with every figure.

    Parameters
    ----------
    n : int
        Number of built-in records (at least 1).

    Returns
    -------
    Evaluation
    """
    from ecgkit.generate.synth import builtin_record

    refs, ests = [], []
    for i in range(max(1, int(n))):
        ref = builtin_record(i)
        rng = np.random.default_rng(i)
        sig = np.roll(ref.signals, 4, axis=0) * 0.97 + rng.normal(0, 0.02, ref.signals.shape)
        if i == 2:
            sig[:, LEADS.index("V4") :] = np.nan
        refs.append(ref)
        ests.append(Record(sig, ref.fs, name=ref.name))
    report = evaluate_records(refs, ests)
    report["errors"] = []
    return Evaluation(report, refs, ests, EXAMPLE_LABEL)  # type: ignore[arg-type]


def match_by_name(
    references: Sequence[Record], estimates: Sequence[Record]
) -> tuple[list[Record], list[Record | None], list[str]]:
    """Pair records by name.

    Parameters
    ----------
    references, estimates : sequence of Record

    Returns
    -------
    refs, ests : list
        Every reference, with its estimate or None (scored as missing, 0 dB).
    unmatched : list of str
        One line per reference without an estimate and per estimate without a reference.

    Raises
    ------
    EcgkitError
        If no name is shared (nothing would be scored but zeros).
    """
    by_name: dict[str, Record] = {}
    for est in estimates:
        by_name.setdefault(est.name, est)
    ref_names = [r.name for r in references]
    if references and estimates and not set(ref_names) & set(by_name):
        raise EcgkitError(
            "no digitized record has the name of a reference record; records are matched by "
            f"name (references: {', '.join(ref_names[:5])}; digitized: "
            f"{', '.join(list(by_name)[:5])})"
        )
    unmatched = [
        f"reference {n}: no digitized record of this name (scored as 0 dB)"
        for n in ref_names
        if n not in by_name
    ]
    unmatched += [
        f"digitized {n}: no reference of this name (not scored)"
        for n in by_name
        if n not in ref_names
    ]
    return list(references), [by_name.get(n) for n in ref_names], unmatched


#: File types the Evaluate page reads.
RECORD_SUFFIXES = (".hea", ".dat", ".mat", ".zip")


def _read(files: Mapping[str, bytes]) -> tuple[list[Record], list[str]]:
    """Records in uploaded files; a file of another type (a PDF, an image) is refused."""
    errors = [
        f"{name}: not a WFDB record file (upload .hea with .dat or .mat, or a .zip)"
        for name in files
        if not name.lower().endswith(RECORD_SUFFIXES)
    ]
    good = {n: b for n, b in files.items() if n.lower().endswith(RECORD_SUFFIXES)}
    if not good:
        return [], errors
    records, more = records_from_uploads(good)
    return records, errors + more


def evaluate_uploads(
    reference_files: Mapping[str, bytes],
    estimate_files: Mapping[str, bytes],
    *,
    lead: str = "II",
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Score uploaded digitized records against uploaded references of the same name.

    Parameters
    ----------
    reference_files, estimate_files : mapping of str to bytes
        File name -> content: WFDB ``.hea`` with ``.dat``/``.mat``, or ``.zip`` archives.
    lead : str
        Lead for the intervals, or ``"median"``.
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    Evaluation
        ``messages`` lists the files that could not be read, ``unmatched`` the names without
        a partner.

    Raises
    ------
    EcgkitError
        If no reference or no digitized record could be read, or no names match (the
        message then also names the files that could not be read).
    """
    refs, ref_errors = _read(reference_files)
    ests, est_errors = _read(estimate_files)
    messages = [f"reference upload: {m}" for m in ref_errors]
    messages += [f"digitized upload: {m}" for m in est_errors]
    if not refs:
        raise EcgkitError(
            "no reference record could be read: " + ("; ".join(ref_errors) or "no files")
        )
    if not ests:
        raise EcgkitError(
            "no digitized record could be read: " + ("; ".join(est_errors) or "no files")
        )
    try:
        refs, paired, unmatched = match_by_name(refs, ests)
    except EcgkitError as exc:  # say what could not be read too: it may be why none match
        if not messages:
            raise
        raise EcgkitError(f"{exc}. Also: {'; '.join(messages)}") from None
    report = evaluate_records(refs, paired, lead=lead, progress=progress)
    report["errors"] = messages + unmatched
    label = f"{len(refs)} uploaded reference record(s), {len(ests)} digitized"
    return Evaluation(report, refs, paired, label, messages, unmatched)


def run_roundtrip(
    records: Sequence[Record],
    *,
    preset: str = "clean",
    images_per_record: int = 1,
    seed: int = 0,
    progress: Callable[[float, str], None] | None = None,
) -> Evaluation:
    """Render records as images, digitize them and score the result (in memory).

    Parameters
    ----------
    records : sequence of Record
    preset : str
        Preset of the images.
    images_per_record : int
        Images (variants of the preset) per record.
    seed : int
        Run seed.
    progress : callable, optional
        ``progress(fraction, text)``, for ``st.progress``.

    Returns
    -------
    Evaluation
        ``messages`` holds the skipped records and unreadable images.

    Raises
    ------
    EcgkitError
        If no record gives an image, or the digitizer is not available.
    """
    from ecgkit.roundtrip import roundtrip_records

    def step(stage: str, done: int, total: int, _res: Any) -> None:
        if progress is None:
            return
        if stage == "images":
            progress(0.9 * done / total, f"image {done} of {total} digitized")
        else:
            progress(0.9 + 0.1 * done / total, f"scoring {done} of {total}")

    try:
        res = roundtrip_records(
            records, preset=preset, images_per_record=images_per_record, seed=seed, progress=step
        )
    except NotImplementedError:
        raise EcgkitError("the digitizer is not available in this installation yet") from None
    n = len(res.images)
    label = (
        f"round trip: {n} image(s) with preset {preset}, "
        f"{res.report['roundtrip']['n_digitized']} digitized"
    )
    return Evaluation(res.report, res.references, res.estimates, label, res.messages)


def summary_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The summary as table rows (``metric``, ``value``) for ``st.dataframe``.

    Parameters
    ----------
    report : dict

    Returns
    -------
    list of dict
    """
    s = report["summary"]
    rows = [
        ("records", s["n_records"]),
        ("without an estimate", s["n_missing_estimates"]),
        ("mean SNR, Challenge 2024 (dB)", s["mean_snr_db"]),
        ("Kaggle 2025 score (dB)", s["kaggle_score_db"]),
        ("mean Pearson r", s["mean_pearson_r"]),
        ("mean RMSE (uV)", s["mean_rmse_uv"]),
    ]
    rows += [(f"SNR {lead} (dB)", v) for lead, v in s["per_lead_snr_db"].items()]
    return [{"metric": k, "value": None if v is None else round(float(v), 3)} for k, v in rows]


def interval_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Agreement per interval as table rows for ``st.dataframe``.

    Parameters
    ----------
    report : dict

    Returns
    -------
    list of dict
        ``interval``, ``n``, ``failed``, ``bias``, ``sd``, ``loa_lower``, ``loa_upper``,
        ``mae`` (ms) and ``r``, as text: a value that cannot be computed is
        :data:`NO_VALUE` (:func:`interval_note` says why).
    """

    def r(v: Any, digits: int = 1) -> Any:
        return NO_VALUE if v is None else f"{float(v):.{digits}f}"

    rows = []
    for name in INTERVALS:
        a = {
            k: (v if k.startswith("n") else r(v, 3 if k == "pearson_r" else 1))
            for k, v in report["intervals"]["agreement"][name].items()
        }
        rows.append(
            {
                "interval": name,
                "n": a["n"],
                "failed": a["n_failed"],
                "bias (ms)": a["bias"],
                "SD (ms)": a["sd"],
                "LoA low (ms)": a["loa_lower"],
                "LoA high (ms)": a["loa_upper"],
                "MAE (ms)": a["mae"],
                "r": a["pearson_r"],
            }
        )
    return rows


#: What the interval table shows where a statistic cannot be computed.
NO_VALUE = "–"


def interval_note(report: Mapping[str, Any]) -> str:
    """Why some cells of :func:`interval_rows` hold a dash (empty string if none do).

    Parameters
    ----------
    report : dict

    Returns
    -------
    str
    """
    short = [
        name
        for name in INTERVALS
        if report["intervals"]["agreement"][name].get("sd") is None
        or report["intervals"]["agreement"][name].get("pearson_r") is None
    ]
    if not short:
        return ""
    return (
        f"{NO_VALUE}: not computable for {', '.join(short)}. The SD and the limits of agreement "
        "need at least 2 records where both the reference and the estimate were measured, "
        "Pearson r at least 2 with some spread; bias and MAE need 1."
    )


def snr_matrix(report: Mapping[str, Any]) -> np.ndarray:
    """``(records, 12)`` per-lead Challenge SNR from a report (NaN where None).

    Parameters
    ----------
    report : dict

    Returns
    -------
    numpy.ndarray
    """
    return np.array(
        [[np.nan if v is None else v for v in r["snr_db"]] for r in report["records"]], float
    ).reshape(-1, len(LEADS))


def interval_values(report: Mapping[str, Any], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Reference and estimate values (ms) of one interval over the records, NaN where failed.

    Parameters
    ----------
    report : dict
    name : str
        RR, PR, QRS, QT or QTc.

    Returns
    -------
    tuple of numpy.ndarray
    """
    iv = report["intervals"]
    return tuple(
        np.array([np.nan if v is None else v for v in iv[side][name]], float)
        for side in ("reference_ms", "estimate_ms")
    )  # type: ignore[return-value]


def image_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A round trip's images as table rows: status, mean confidence, time, notes.

    Parameters
    ----------
    report : dict
        A round-trip report (others give no rows).

    Returns
    -------
    list of dict
    """
    rows = []
    for im in report.get("roundtrip", {}).get("images", []):
        conf = [v for v in im["confidence"].values() if v is not None]
        rows.append(
            {
                "image": im["name"],
                "status": im["status"],
                "mean confidence": round(float(np.mean(conf)), 3) if conf else None,
                "seconds": round(im["seconds"], 2),
                "notes": "; ".join(im["notes"]) or im["message"],
            }
        )
    return rows


def report_json(report: Mapping[str, Any]) -> str:
    """The report as JSON text (the file ``ecgkit evaluate --out`` writes).

    Parameters
    ----------
    report : dict

    Returns
    -------
    str
    """
    return json.dumps(report, indent=1, allow_nan=False)
