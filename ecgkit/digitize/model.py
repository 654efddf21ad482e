"""The trace model: where a trace's centre line crosses each half-pixel column.

A small fully convolutional net (``training/train_trace.py``, about 11 k parameters) maps
rectified RGB at 200 DPI to, per pixel, the probability that a trace's centre line crosses that
row in the left and in the right half of the column. It is run with onnxruntime on the CPU,
only in windows around the path the run follower found (so a page costs a fraction of its
area), and read out with a soft arg-max near that path (:meth:`TraceModel.read`).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError

MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "trace.onnx"
_CHUNK = 96  # columns per inference window
_CONTEXT = 24  # pixels of context around a window
_JUMP = 40  # most the centre line moves in half a pixel column (px)
# rows each side of the peak in the soft arg-max: the whole blurred response of a thick or
# blurred stroke (measured: +0.6 to +1.3 dB per preset over +-2 rows)
_SOFT = 10


class TraceModel:
    """An onnxruntime session of the trace model.

    Parameters
    ----------
    path : str or Path
        The ``.onnx`` file.
    threads : int
        CPU threads for onnxruntime.
    """

    def __init__(self, path: str | Path, threads: int = 2) -> None:
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise EcgkitError(f"trace model not found: {path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a bad file
            raise EcgkitError(f"cannot load the trace model {path}: {exc}") from None
        self.path = path

    def heat(self, rgb: np.ndarray) -> np.ndarray:
        """Centre-line probability of an RGB window, ``(h, 2w)`` (half-pixel columns).

        Parameters
        ----------
        rgb : numpy.ndarray
            ``(h, w, 3)`` uint8.

        Returns
        -------
        numpy.ndarray
            float32; column ``j`` is at ``x = j / 2 - 0.25``.
        """
        h, w = rgb.shape[:2]
        ph, pw = (-h) % 4, (-w) % 4
        x = rgb.astype(np.float32) / 255.0
        if ph or pw:
            x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="edge")
        logits = self.session.run(None, {"image": x.transpose(2, 0, 1)[None]})[0][0]
        logits = logits[:, :h, :w]
        out = np.empty((h, 2 * w), np.float32)
        out[:, 0::2] = logits[0]
        out[:, 1::2] = logits[1]
        return 1.0 / (1.0 + np.exp(-out))

    def read(
        self, rgb: np.ndarray, cols: np.ndarray, top: np.ndarray, bot: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sub-pixel centre line of one followed trace, at half-pixel columns.

        Parameters
        ----------
        rgb : numpy.ndarray
            The rectified page.
        cols, top, bot : numpy.ndarray
            The run follower's path (:func:`ecgkit.digitize.traces.follow`).

        Returns
        -------
        tuple
            ``(x, y, p)``: points where the model found the line, and its probability there.
        """
        h, w = rgb.shape[:2]
        ok = np.isfinite(top)
        xs: list[float] = []
        ys: list[float] = []
        ps: list[float] = []
        prev = None
        for s in range(0, len(cols), _CHUNK):
            sel = slice(s, min(len(cols), s + _CHUNK))
            if not ok[sel].any():
                continue
            c0, c1 = int(cols[sel][0]), int(cols[sel][-1])
            y0 = int(max(0, np.nanmin(top[sel]) - _CONTEXT))
            y1 = int(min(h, np.nanmax(bot[sel]) + _CONTEXT + 1))
            x0, x1 = max(0, c0 - _CONTEXT), min(w, c1 + _CONTEXT + 1)
            heat = self.heat(rgb[y0:y1, x0:x1])
            for i in range(sel.start, sel.stop):
                if not ok[i] and prev is None:
                    continue
                t_i, b_i = (top[i], bot[i]) if ok[i] else (prev, prev)
                c = int(cols[i])
                for half in (0, 1):
                    # the followed run, widened to where the line can have moved since the
                    # last half-column (a spike narrower than the pen leaves the run there)
                    lo_y, hi_y = t_i - 3, b_i + 3
                    if prev is not None:
                        lo_y, hi_y = min(lo_y, prev - _JUMP), max(hi_y, prev + _JUMP)
                    a = int(max(y0, lo_y)) - y0
                    b = int(min(y1 - 1, hi_y)) - y0
                    j = 2 * (c - x0) + half
                    col = heat[a : b + 1, j]
                    if col.size < 3:
                        continue
                    top_v = float(col.max())
                    if top_v < 0.15:
                        continue
                    inner = col[1:-1]
                    is_peak = (inner >= max(0.3 * top_v, 0.15)) & (inner >= col[:-2])
                    peaks = np.flatnonzero(is_peak & (inner >= col[2:])) + 1
                    # a peak on the followed run first; off it only where the run has none
                    # (a spike narrower than the pen): so the read-out cannot wander onto a
                    # neighbour's trace that the tip of a QRS touched
                    on_run = peaks[(peaks + a + y0 >= t_i - 3) & (peaks + a + y0 <= b_i + 3)]
                    if len(on_run):
                        peaks = on_run
                    if len(peaks) == 0:
                        k = int(np.argmax(col))
                    elif prev is not None and len(peaks) > 1:
                        k = int(peaks[np.argmin(np.abs(peaks + (a + y0) - prev))])
                    else:
                        k = int(peaks[np.argmax(col[peaks])])
                    lo, hi = max(0, k - _SOFT), min(len(col), k + _SOFT + 1)
                    wts = col[lo:hi]
                    y = y0 + a + float((np.arange(lo, hi) * wts).sum() / wts.sum())
                    xs.append(c - 0.25 + 0.5 * half)
                    ys.append(y)
                    ps.append(float(col[k]))
                    prev = y
        return np.asarray(xs), np.asarray(ys), np.asarray(ps)


@functools.lru_cache(maxsize=4)
def _cached(path: str, threads: int) -> TraceModel:
    return TraceModel(path, threads)


def get_model(model: Any = None, threads: int = 2) -> TraceModel | None:
    """The trace model to use.

    Parameters
    ----------
    model : None, str, Path or TraceModel
        None: the shipped weights (None is returned where none are shipped); a path: that
        file; a :class:`TraceModel`: itself.
    threads : int
        CPU threads.

    Returns
    -------
    TraceModel or None
    """
    if isinstance(model, TraceModel):
        return model
    if model is None:
        return _cached(str(MODEL_PATH), threads) if MODEL_PATH.is_file() else None
    return _cached(str(Path(model).resolve()), threads)
