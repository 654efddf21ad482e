"""Record + Layout + Style -> Page (the image and its exact ground truth). No randomness inside.

Drawing uses NumPy, OpenCV and Pillow. Traces are anti-aliased polylines drawn at 1/16 pixel
precision, so the ink is centred on the ground-truth points to a small fraction of a pixel. The
coordinate convention is the one written down in :mod:`ecgkit.generate.layout`.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ecgkit import __version__
from ecgkit.errors import EcgkitError
from ecgkit.generate.layout import PAGE_LEADS, SEPARATOR_MM, Layout, Panel, mm_to_px
from ecgkit.geometry import Box, clip_box  # Box: x0, y0, x1, y1 in pixels (re-exported)
from ecgkit.io import LEADS, Record

FORMAT_VERSION = "ecgkit-sample/1"

#: Grid colours (major, minor) in RGB.
GRID_COLOURS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "red": ((226, 83, 83), (246, 190, 190)),
    "pink": ((238, 140, 166), (251, 214, 225)),
    "blue": ((82, 124, 201), (186, 205, 238)),
    "green": ((64, 150, 96), (176, 222, 188)),
    "grey": ((140, 140, 140), (208, 208, 208)),
    "bw": ((70, 70, 70), (175, 175, 175)),
    "orange": ((236, 128, 52), (250, 204, 168)),
    "black": ((40, 40, 40), (150, 150, 150)),
    "thermal": ((214, 182, 182), (236, 222, 222)),  # the faint grid of thermal paper
}
GRID_CHOICES = (*GRID_COLOURS, "custom", "none")
GRID_KINDS = ("lines", "dots")
FONTS = ("sans", "mono", "serif")
SEPARATORS = ("tick", "bar", "gap", "none")
LABEL_POSITIONS = ("panel", "left", "above", "below", "baseline")
LABEL_CASES = ("as_is", "upper", "lower")
#: Paper left of a row for labels printed before the trace (``label_position = "left"``).
LABEL_LEFT_MM = 10.0
#: Style fields added after format 1 and their defaults (today's look): they go into the JSON
#: only when set to something else, so pages in the older styles keep their bytes.
STYLE_EXTRAS: dict[str, Any] = {
    "grid_kind": "lines",
    "pulse_side": "left",
    "pulse_mv": 1.0,
    "separator": "tick",
    "separator_rgb": None,
    "label_position": "panel",
    "label_case": "as_is",
}
_SHIFT = 4  # cv2 fixed-point bits: 1/16 pixel
_SCALE = 1 << _SHIFT


@dataclass(frozen=True)
class Style:
    """How the page looks (not where things are: that is the :class:`.Layout`).

    Parameters
    ----------
    grid : str
        One of :data:`GRID_CHOICES`; ``"custom"`` uses ``grid_major_rgb``/``grid_minor_rgb``.
    grid_major_rgb, grid_minor_rgb : tuple of int, optional
        Custom grid colours.
    paper_rgb, ink_rgb : tuple of int
        Paper and trace colours.
    pen_mm : float
        Trace width in mm.
    minor_mm, major_mm : float
        Grid line widths in mm.
    labels, pulses, separators, header, footer : bool
        Which furniture to print.
    font : str
        ``"sans"``, ``"mono"`` or ``"serif"``.
    font_mm : float
        Text cap height scale (font size in mm).
    grid_kind : str
        ``"lines"`` or ``"dots"`` (a dot at every 1-mm crossing, bigger ones every 5 mm).
    pulse_side : str
        Where the calibration pulses go (:data:`ecgkit.generate.layout.PULSE_SIDES`); the
        layout keeps room for them (:func:`layout_options`).
    pulse_mv : float
        Pulse height: 0.5, 1 or 2 mV.
    separator : str
        Between columns: ``"tick"`` (a short vertical line), ``"bar"`` (a taller, thicker
        line in ``separator_rgb``), ``"gap"`` (blank paper: the column's trace stops short) or
        ``"none"``.
    separator_rgb : tuple of int, optional
        Colour of bars (the ink colour when None).
    label_position : str
        ``"panel"`` (top-left of each panel), ``"left"`` (before the row's trace, in
        :data:`LABEL_LEFT_MM` of room; later columns as ``"panel"``), ``"above"`` (higher over
        the trace), ``"below"`` (under the trace, as viewers print it) or ``"baseline"`` (on
        the zero line where the panel's trace starts, the trace running through it).
    label_case : str
        ``"as_is"`` (``aVR``), ``"upper"`` (``AVR``) or ``"lower"`` (``avr``).
    """

    grid: str = "red"
    grid_major_rgb: tuple[int, int, int] | None = None
    grid_minor_rgb: tuple[int, int, int] | None = None
    paper_rgb: tuple[int, int, int] = (255, 255, 255)
    ink_rgb: tuple[int, int, int] = (0, 0, 0)
    pen_mm: float = 0.3
    minor_mm: float = 0.1
    major_mm: float = 0.2
    labels: bool = True
    pulses: bool = True
    separators: bool = True
    header: bool = True
    footer: bool = True
    font: str = "sans"
    font_mm: float = 3.2
    grid_kind: str = "lines"
    pulse_side: str = "left"
    pulse_mv: float = 1.0
    separator: str = "tick"
    separator_rgb: tuple[int, int, int] | None = None
    label_position: str = "panel"
    label_case: str = "as_is"

    def __post_init__(self) -> None:
        from ecgkit.generate.layout import PULSE_HEIGHTS, PULSE_SIDES

        for key, valid in (
            ("grid_kind", GRID_KINDS),
            ("pulse_side", PULSE_SIDES),
            ("separator", SEPARATORS),
            ("label_position", LABEL_POSITIONS),
            ("label_case", LABEL_CASES),
        ):
            if getattr(self, key) not in valid:
                raise EcgkitError(
                    f"unknown {key} {getattr(self, key)!r}; valid: {', '.join(valid)}"
                )
        if float(self.pulse_mv) not in PULSE_HEIGHTS:
            raise EcgkitError(f"pulse_mv must be one of {PULSE_HEIGHTS} mV, got {self.pulse_mv}")
        if self.grid not in GRID_CHOICES:
            raise EcgkitError(
                f"unknown grid colour {self.grid!r}; valid: {', '.join(GRID_CHOICES)}"
            )
        if self.grid == "custom" and (self.grid_major_rgb is None or self.grid_minor_rgb is None):
            raise EcgkitError("grid 'custom' needs grid_major_rgb and grid_minor_rgb")
        if self.font not in FONTS:
            raise EcgkitError(f"unknown font {self.font!r}; valid: {', '.join(FONTS)}")
        if not 0.05 <= self.pen_mm <= 2.0:
            raise EcgkitError(f"pen width must be 0.05 to 2 mm, got {self.pen_mm}")

    def grid_rgb(self) -> tuple[tuple[int, int, int], tuple[int, int, int]] | None:
        """Major and minor grid colours, or None when the grid is off."""
        if self.grid == "none":
            return None
        if self.grid == "custom":
            return tuple(self.grid_major_rgb), tuple(self.grid_minor_rgb)  # type: ignore[return-value]
        return GRID_COLOURS[self.grid]

    def extras(self) -> dict[str, Any]:
        """The fields of :data:`STYLE_EXTRAS` set to something other than today's look."""
        return {k: getattr(self, k) for k, v in STYLE_EXTRAS.items() if getattr(self, k) != v}

    def to_dict(self) -> dict[str, Any]:
        """The style for the JSON: format-1 fields, plus the extra ones that are set."""
        out = asdict(self)
        for key in STYLE_EXTRAS:
            if key not in self.extras():
                del out[key]
        return out

    def layout_options(self) -> dict[str, Any]:
        """What this style asks of :func:`ecgkit.generate.layout.make_layout`.

        Returns
        -------
        dict
            ``pulse_side``, ``pulse_mv``, ``column_gap_mm`` and ``label_mm`` (only those that
            differ from the layout's defaults).
        """
        out: dict[str, Any] = {}
        if self.pulse_side != "left":
            out["pulse_side"] = self.pulse_side
        if float(self.pulse_mv) != 1.0:
            out["pulse_mv"] = float(self.pulse_mv)
        if self.separator == "gap":
            out["column_gap_mm"] = 2.0
        if self.label_position == "left":
            out["label_mm"] = LABEL_LEFT_MM
        return out


def label_text(label: str, case: str = "as_is") -> str:
    """A lead label as printed in a case (``aVR`` -> ``AVR`` or ``avr``).

    Parameters
    ----------
    label : str
        The label (``-aVR`` for an inverted lead).
    case : str
        ``"as_is"``, ``"upper"`` or ``"lower"``.

    Returns
    -------
    str
    """
    if case == "upper":
        return label.upper()
    if case == "lower":
        return label.lower()
    return label


@dataclass
class PulseTruth:
    """Ground truth of one calibration pulse.

    Attributes
    ----------
    row : int
        The trace row it belongs to.
    side : str
        ``"left"`` or ``"right"`` end of the row.
    mv : float
        Its height in mV.
    bbox : tuple
        ``(x0, y0, x1, y1)`` in pixels, the drawn line's width (and its anti-aliased fringe,
        1 px beyond half the pen width) included.
    """

    row: int
    side: str
    mv: float
    bbox: Box | None


@dataclass
class LeadTruth:
    """Ground truth of one plotted panel.

    Attributes
    ----------
    lead : str
        Canonical lead name (one of :data:`~ecgkit.generate.layout.PAGE_LEADS`).
    label : str
        Printed label (``-aVR`` for an inverted lead).
    start_sample, end_sample : int
        Record sample indices plotted, ``end_sample`` exclusive (an extra lead's samples are
        those of :attr:`Page.extra_leads`, at the record's indices).
    x, y : numpy.ndarray
        Sub-pixel image coordinates of every plotted sample (NaN where the sample is NaN).
    bbox : tuple
        ``(x0, y0, x1, y1)`` of the drawn trace in pixels, or None if nothing was drawn.
    label_bbox : tuple or None
        Box of the printed lead label.
    baseline_y : float
        Pixel row of 0 mV.
    px_per_second, px_per_mv : float
        Scale of this panel.
    row, col : int
        Grid position.
    rhythm, inverted : bool
        Rhythm strip; plotted upside down.
    simulated : bool
        An extra lead (V4R, V8, V9) simulated from the record's 12 leads.
    """

    lead: str
    label: str
    start_sample: int
    end_sample: int
    x: np.ndarray
    y: np.ndarray
    bbox: Box | None
    label_bbox: Box | None
    baseline_y: float
    px_per_second: float
    px_per_mv: float
    row: int
    col: int
    rhythm: bool
    inverted: bool
    simulated: bool = False


@dataclass
class TextBox:
    """A piece of printed text and its box in pixels."""

    text: str
    bbox: Box
    kind: str  # "label", "header", "footer"


@dataclass
class Page:
    """A rendered ECG page: the RGB image and everything known about it.

    Attributes
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB.
    leads : list of LeadTruth
        One per plotted panel, in layout order.
    texts : list of TextBox
        Every printed text.
    mask : numpy.ndarray
        ``(H, W)`` uint8: 0 background, ``k`` = ink of lead ``PAGE_LEADS[k - 1]`` (that is
        ``LEADS[k - 1]`` for ``k <= 12``; 13, 14, 15 are V4R, V8, V9 on a 15-lead page).
    px_per_mm : float
        Grid spacing in pixels per millimetre.
    corners : numpy.ndarray
        ``(4, 2)`` paper corners (x, y) in pixels: top-left, top-right, bottom-right, bottom-left.
    record : Record
        The record that was plotted.
    layout : Layout
    style : Style
    parameters : dict
        Anything drawn at random to make this page (filled by the generator).
    pulses : list of PulseTruth
        The calibration pulses drawn.
    extra_leads : dict
        ``{name: ExtraLead}`` (:class:`ecgkit.generate.synth.ExtraLead`) for each lead shown
        that a :class:`~ecgkit.io.Record` has no column for (V4R, V8, V9): its samples, and
        whether they were simulated. Empty on a 12-lead page.
    """

    image: np.ndarray
    leads: list[LeadTruth]
    texts: list[TextBox]
    mask: np.ndarray
    px_per_mm: float
    corners: np.ndarray
    record: Record
    layout: Layout
    style: Style
    parameters: dict[str, Any] = field(default_factory=dict)
    pulses: list[PulseTruth] = field(default_factory=list)
    extra_leads: dict[str, Any] = field(default_factory=dict)

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.image.shape[1])

    def plotted_record(self) -> Record:
        """The signal as plotted: the shown window at the record's rate, NaN where not on the page.

        Returns
        -------
        Record
            ``round(duration * fs)`` samples from the layout's start time; an inverted panel
            contributes the lead's true (not inverted) values. Only the 12 standard leads:
            the extra leads of a 15-lead page are in :meth:`plotted_extra_leads`.
        """
        rec = self.record
        first = int(round(self.layout.start * rec.fs))
        n = int(round(self.layout.duration * rec.fs))
        out = np.full((n, len(LEADS)), np.nan)
        for lt in self.leads:
            if lt.lead not in LEADS:
                continue
            k = LEADS.index(lt.lead)
            a, b = lt.start_sample, lt.end_sample
            out[a - first : b - first, k] = rec.signals[a:b, k]
        meta = dict(rec.metadata)
        meta["plotted_from"] = rec.name
        return Record(out, rec.fs, name=rec.name, metadata=meta)

    def plotted_extra_leads(self) -> dict[str, np.ndarray]:
        """The extra leads (V4R, V8, V9) as plotted, like :meth:`plotted_record`'s columns.

        Returns
        -------
        dict
            ``{name: (round(duration * fs),) array}`` in mV, NaN where not on the page; empty
            on a 12-lead page.
        """
        rec = self.record
        first = int(round(self.layout.start * rec.fs))
        n = int(round(self.layout.duration * rec.fs))
        out = {name: np.full(n, np.nan) for name in self.extra_leads}
        for lt in self.leads:
            if lt.lead in out:
                a, b = lt.start_sample, lt.end_sample
                out[lt.lead][a - first : b - first] = self.extra_leads[lt.lead].signal[a:b]
        return out

    def to_json(self) -> dict[str, Any]:
        """The sample's JSON: a superset of ECG-Image-Kit's.

        Returns
        -------
        dict
            JSON-serialisable; NaN coordinates are written as ``null``.
        """
        ppmm = self.px_per_mm
        leads = []
        for lt in self.leads:
            leads.append(
                {
                    "lead_name": lt.lead,
                    "label": lt.label,
                    "start_sample": lt.start_sample,
                    "end_sample": lt.end_sample,
                    "plotted_pixels": _yx_list(lt.x, lt.y),
                    "lead_bounding_box": _corners_yx(lt.bbox),
                    "text_bounding_box": _corners_yx(lt.label_bbox),
                    "baseline_y": round(lt.baseline_y, 4),
                    "px_per_second": round(lt.px_per_second, 6),
                    "px_per_mv": round(lt.px_per_mv, 6),
                    "row": lt.row,
                    "col": lt.col,
                    "rhythm": lt.rhythm,
                    "inverted": lt.inverted,
                }
            )
            if lt.lead not in LEADS:  # an extra lead: 12-lead JSON keeps its bytes
                leads[-1]["simulated"] = lt.simulated
        layout = self.layout
        doc = {
            "format_version": FORMAT_VERSION,
            "generator": f"ecgkit {__version__}",
            "coordinates": "pixel centres at integers; plotted_pixels and boxes are [y, x]",
            "record_name": self.record.name,
            "sampling_frequency": self.record.fs,
            "start_time": layout.start,
            "duration": layout.duration,
            "width": self.width,
            "height": self.height,
            "resolution": layout.paper.dpi,
            "px_per_mm": round(ppmm, 6),
            "x_grid": round(5 * ppmm, 4),
            "y_grid": round(5 * ppmm, 4),
            "paper": {
                "size": layout.paper.size,
                "orientation": layout.paper.orientation,
                "corners_xy": np.round(self.corners, 4).tolist(),
            },
            "layout": {
                "name": layout.name,
                "order": layout.order,
                "speed_mm_per_s": layout.speed,
                "limb_gain_mm_per_mv": layout.limb_gain,
                "chest_gain_mm_per_mv": layout.chest_gain,
            },
            "style": _jsonable(self.style.to_dict()),
            "leads": leads,
            "text_boxes": [
                {"text": t.text, "kind": t.kind, "bounding_box": _corners_yx(t.bbox)}
                for t in self.texts
            ],
            "parameters": _jsonable(self.parameters),
        }
        doc["layout"].update(
            pulse_side=layout.pulse_side,
            spacing=layout.spacing,
            row_pitch_mm=round(layout.row_pitch_mm, 4),
        )
        doc["pulses"] = [
            {"row": p.row, "side": p.side, "mv": p.mv, "bounding_box": _corners_yx(p.bbox)}
            for p in self.pulses
        ]
        if self.extra_leads:
            doc["extra_leads"] = {
                name: {
                    "simulated": extra.simulated,
                    "coefficients": dict(extra.coefficients),
                    "mask_value": PAGE_LEADS.index(name) + 1,
                }
                for name, extra in self.extra_leads.items()
            }
        return doc


def _yx_list(x: np.ndarray, y: np.ndarray) -> list[list[float | None]]:
    yx = np.round(np.stack([y, x], axis=1), 3)
    out = yx.tolist()
    if np.isnan(yx).any():
        out = [[None, None] if v[0] != v[0] else v for v in out]
    return out


def _corners_yx(box: Box | None) -> dict[str, list[float]] | None:
    if box is None:
        return None
    x0, y0, x1, y1 = (round(float(v), 2) for v in box)
    return {"0": [y0, x0], "1": [y0, x1], "2": [y1, x1], "3": [y1, x0]}


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


# --------------------------------------------------------------------------------------------
# fonts


def _font_dirs() -> list[Path]:
    dirs = []
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            dirs.append(Path(loc) / "mpl-data" / "fonts" / "ttf")
    dirs += [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype")]
    return dirs


_FONT_FILES = {
    "sans": ("DejaVuSans.ttf", "LiberationSans-Regular.ttf"),
    "mono": ("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf"),
    "serif": ("DejaVuSerif.ttf", "LiberationSerif-Regular.ttf"),
}


@functools.lru_cache(maxsize=64)
def get_font(family: str, size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A TrueType font from installed packages (matplotlib's DejaVu, or the system's).

    Parameters
    ----------
    family : str
        ``"sans"``, ``"mono"`` or ``"serif"``.
    size_px : int
        Font size in pixels.

    Returns
    -------
    PIL.ImageFont.FreeTypeFont
        Pillow's built-in font if no TrueType file is installed.
    """
    path = find_font_file(*_FONT_FILES[family])
    if path is not None:
        return ImageFont.truetype(str(path), size_px)
    return ImageFont.load_default(size_px)


def find_font_file(*names: str) -> Path | None:
    """The first installed font file of these names (matplotlib's fonts, then the system's).

    Parameters
    ----------
    *names : str
        File names (``"DejaVuSans.ttf"``), in order of preference within each directory.

    Returns
    -------
    pathlib.Path or None
        None when none is installed.
    """
    for directory in _font_dirs():
        for fname in names:
            for path in (directory / fname, *directory.glob(f"*/{fname}")):
                if path.is_file():
                    return path
    return None


# --------------------------------------------------------------------------------------------
# grid


def _line_coverage(n: int, centres: np.ndarray, width: float) -> np.ndarray:
    """Fraction of each of ``n`` pixels covered by lines of ``width`` px at ``centres``."""
    cov = np.zeros(n, dtype=np.float32)
    half = width / 2
    for c in centres:
        lo, hi = c - half, c + half
        i0 = max(int(np.floor(lo + 0.5)), 0)
        i1 = min(int(np.floor(hi + 0.5)), n - 1)
        for i in range(i0, i1 + 1):
            overlap = min(hi, i + 0.5) - max(lo, i - 0.5)
            if overlap > 0:
                cov[i] = min(1.0, cov[i] + overlap)
    return cov


@functools.lru_cache(maxsize=8)
def _background(
    width: int,
    height: int,
    ppmm: float,
    origin: tuple[float, float],
    box: tuple[float, float, float, float],
    paper: tuple[int, int, int],
    colours: tuple[tuple[int, int, int], tuple[int, int, int]] | None,
    minor_mm: float,
    major_mm: float,
    dots: bool = False,
) -> np.ndarray:
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = paper
    if colours is None:
        img.flags.writeable = False
        return img
    x0, y0, x1, y1 = box
    ox, oy = origin
    kx = np.arange(np.ceil(x0 - ox), np.floor(x1 - ox) + 1)
    ky = np.arange(np.ceil(y0 - oy), np.floor(y1 - oy) + 1)
    major_x, major_y = kx[kx % 5 == 0], ky[ky % 5 == 0]
    minor_x, minor_y = kx[kx % 5 != 0], ky[ky % 5 != 0]
    if dots:  # a dot at every 1-mm crossing, bigger (and in the major colour) every 5 mm
        minor_x, minor_y = kx, ky
        minor_mm, major_mm = 2.0 * minor_mm, 2.0 * major_mm
    to_px = functools.partial(mm_to_px, px_per_mm=ppmm)
    c0, r0 = int(np.ceil(to_px(x0))), int(np.ceil(to_px(y0)))
    c1, r1 = int(np.floor(to_px(x1))) + 1, int(np.floor(to_px(y1))) + 1
    c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, width), min(r1, height)
    # The grid is separable: a row's colours depend only on that row's two line coverages, so
    # compute each distinct row once and gather (rows without horizontal lines are all alike).
    cov = []
    for xs, ys, lw in ((minor_x, minor_y, minor_mm), (major_x, major_y, major_mm)):
        cov.append(
            (
                _line_coverage(width, to_px(ox + xs), lw * ppmm)[c0:c1],
                _line_coverage(height, to_px(oy + ys), lw * ppmm)[r0:r1],
            )
        )
    (cx_min, cy_min), (cx_maj, cy_maj) = cov
    pairs, which = np.unique(np.stack([cy_min, cy_maj], 1), axis=0, return_inverse=True)
    rows = np.empty((len(pairs), c1 - c0, 3), np.float32)
    rows[:] = np.asarray(paper, np.float32)
    for cy, cx, colour in ((pairs[:, 0], cx_min, colours[1]), (pairs[:, 1], cx_maj, colours[0])):
        if dots:
            alpha = (cy[:, None] * cx[None, :])[:, :, None]
        else:
            alpha = (1.0 - (1.0 - cy[:, None]) * (1.0 - cx[None, :]))[:, :, None]
        rows = rows * (1.0 - alpha) + np.asarray(colour, np.float32) * alpha
    img[r0:r1, c0:c1] = np.clip(rows + 0.5, 0, 255).astype(np.uint8)[which.ravel()]
    img.flags.writeable = False
    return img


# --------------------------------------------------------------------------------------------
# traces


def _sample_range(panel: Panel, layout: Layout, rec: Record) -> tuple[int, int]:
    """Record samples ``[a, b)`` that fall in the panel's time window."""
    a = int(np.ceil((layout.start + panel.t0) * rec.fs - 1e-6))
    b = int(np.ceil((layout.start + panel.t1) * rec.fs - 1e-6))
    a = min(a, rec.n_samples)
    return a, min(max(b, a), rec.n_samples)


def _polylines(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Split at NaN and convert to cv2 fixed-point int32 arrays."""
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return []
    pts = np.stack([x, y], axis=1)
    breaks = np.flatnonzero(np.diff(ok.astype(np.int8)))
    bounds = np.concatenate([[0], breaks + 1, [len(ok)]])
    out = []
    for s, e in zip(bounds[:-1], bounds[1:], strict=True):
        if ok[s]:
            seg = np.round(pts[s:e] * _SCALE).astype(np.int32)
            if len(seg) == 1:
                seg = np.repeat(seg, 2, axis=0)
            out.append(seg.reshape(-1, 1, 2))
    return out


def render(record: Record, layout: Layout, style: Style | None = None) -> Page:
    """Render a record on paper.

    Parameters
    ----------
    record : Record
        The signals to plot.
    layout : Layout
        Where each lead goes (from :func:`ecgkit.generate.layout.make_layout`).
    style : Style, optional
        How it looks; defaults to :class:`Style()`.

    Returns
    -------
    Page
        The image with its ground truth.
    """
    style = style or Style()
    paper = layout.paper
    ppmm = paper.px_per_mm
    width, height = paper.width_px, paper.height_px
    to_px = functools.partial(mm_to_px, px_per_mm=ppmm)
    colours = style.grid_rgb()
    image = _background(
        width,
        height,
        ppmm,
        layout.grid_origin_mm,
        layout.grid_box_mm,
        tuple(style.paper_rgb),
        colours,
        style.minor_mm,
        style.major_mm,
        *((True,) if style.grid_kind == "dots" else ()),
    ).copy()

    thickness = max(1, int(round(style.pen_mm * ppmm)))
    ink = tuple(int(v) for v in style.ink_rgb)
    mask = np.zeros((height, width), dtype=np.uint8)
    leads: list[LeadTruth] = []
    half = thickness / 2 + 0.5
    extra = _extra_leads(record, layout)
    for panel in layout.panels:
        a, b = _sample_range(panel, layout, record)
        k = PAGE_LEADS.index(panel.lead)
        if panel.lead in extra:
            values = extra[panel.lead].signal[a:b]
        else:
            values = record.signals[a:b, k]
        t = np.arange(a, b) / record.fs - layout.start
        x = to_px(panel.x_mm + (t - panel.t0) * layout.speed)
        sign = -1.0 if panel.inverted else 1.0
        y = to_px(panel.baseline_mm - sign * values * panel.gain)
        lines = _polylines(x, y)
        if lines:
            cv2.polylines(image, lines, False, ink, thickness, cv2.LINE_AA, _SHIFT)
            cv2.polylines(mask, lines, False, k + 1, thickness, cv2.LINE_8, _SHIFT)
        ok = np.isfinite(y)
        bbox = None
        if ok.any():
            bbox = clip_box(
                (x[ok].min() - half, y[ok].min() - half, x[ok].max() + half, y[ok].max() + half),
                width,
                height,
            )
        leads.append(
            LeadTruth(
                lead=panel.lead,
                label=panel.label,
                start_sample=a,
                end_sample=b,
                x=x,
                y=y,
                bbox=bbox,
                label_bbox=None,
                baseline_y=float(to_px(panel.baseline_mm)),
                px_per_second=layout.speed * ppmm,
                px_per_mv=panel.gain * ppmm,
                row=panel.row,
                col=panel.col,
                rhythm=panel.rhythm,
                inverted=panel.inverted,
                simulated=bool(panel.lead in extra and extra[panel.lead].simulated),
            )
        )

    pulses: list[PulseTruth] = []
    if style.pulses:
        for pulse in layout.pulses:
            xs = [0, pulse.stub_mm, pulse.stub_mm, pulse.stub_mm + pulse.width_mm]
            xs += [pulse.stub_mm + pulse.width_mm, 2 * pulse.stub_mm + pulse.width_mm]
            ys = [0, 0, pulse.mv, pulse.mv, 0, 0]
            px = to_px(pulse.x_mm + np.asarray(xs, float))
            py = to_px(pulse.baseline_mm - np.asarray(ys, float) * pulse.gain)
            cv2.polylines(image, _polylines(px, py), False, ink, thickness, cv2.LINE_AA, _SHIFT)
            x0, y0, x1, y1 = (float(v) for v in to_px(np.asarray(pulse.box_mm)))
            # cv2's anti-aliased thick lines reach about 1 px beyond half the thickness
            pad = thickness / 2 + 1.0
            box = clip_box((x0 - pad, y0 - pad, x1 + pad, y1 + pad), width, height)
            pulses.append(PulseTruth(pulse.row, pulse.side, float(pulse.mv), box))
    if style.separators and style.separator in ("tick", "bar"):
        colour, sep_thickness, reach = ink, thickness, 0.0
        if style.separator == "bar":
            if style.separator_rgb is not None:
                colour = tuple(int(v) for v in style.separator_rgb)
            sep_thickness, reach = max(thickness, int(round(0.5 * ppmm))), SEPARATOR_MM
        for sx, sy0, sy1 in layout.separators:
            seg = _polylines(to_px(np.array([sx, sx])), to_px(np.array([sy0 - reach, sy1 + reach])))
            cv2.polylines(image, seg, False, colour, sep_thickness, cv2.LINE_AA, _SHIFT)

    texts = _draw_texts(image, record, layout, style, leads)
    w, h = width - 0.5, height - 0.5
    corners = np.array([[-0.5, -0.5], [w, -0.5], [w, h], [-0.5, h]])
    page = Page(image, leads, texts, mask, ppmm, corners, record, layout, style)
    page.pulses = pulses
    page.extra_leads = extra
    return page


def _extra_leads(record: Record, layout: Layout) -> dict[str, Any]:
    """The layout's leads that a record has no column for, simulated or from its metadata."""
    names = sorted({p.lead for p in layout.panels if p.lead not in LEADS}, key=PAGE_LEADS.index)
    if not names:
        return {}
    from ecgkit.generate.synth import extra_leads

    return extra_leads(record, names)


def header_lines(record: Record) -> list[str]:
    """The printed header lines for a record, from its metadata.

    Parameters
    ----------
    record : Record

    Returns
    -------
    list of str
        Up to three lines (identity, demographics, diagnosis codes).
    """
    meta = record.metadata
    first = [f"ID: {meta.get('patient_id', record.name)}"]
    when = " ".join(str(meta[k]) for k in ("date", "time") if meta.get(k))
    if when:
        first.append(when)
    second = []
    if meta.get("sex"):
        second.append(str(meta["sex"]))
    if meta.get("age") is not None:
        second.append(f"{meta['age']} years")
    second.append(f"Record: {record.name}")
    lines = ["     ".join(first), "     ".join(second)]
    dx = meta.get("dx")
    if dx:
        codes = ", ".join(dx) if isinstance(dx, (list, tuple)) else str(dx)
        lines.append(f"Dx: {codes}")
    return lines


def footer_line(layout: Layout) -> str:
    """The device line printed at the bottom (speed, gain, filter)."""
    gain = f"{layout.limb_gain:g} mm/mV"
    if layout.chest_gain != layout.limb_gain:
        gain = f"limb {layout.limb_gain:g} mm/mV  chest {layout.chest_gain:g} mm/mV"
    return f"{layout.speed:g} mm/s     {gain}     0.5-150 Hz     ~50 Hz"


def _draw_texts(
    image: np.ndarray, record: Record, layout: Layout, style: Style, leads: list[LeadTruth]
) -> list[TextBox]:
    if not (style.labels or style.header or style.footer):
        return []
    ppmm = layout.paper.px_per_mm
    to_px = functools.partial(mm_to_px, px_per_mm=ppmm)
    font = get_font(style.font, max(6, int(round(style.font_mm * ppmm))))
    ink = tuple(style.ink_rgb)
    height, width = image.shape[:2]
    texts: list[TextBox] = []

    def put(xy: tuple[float, float], text: str, kind: str, anchor: str = "ls") -> Box:
        # draw on a crop around the text: far cheaper than converting the whole page
        xy = (float(round(xy[0])), float(round(xy[1])))
        left, top, right, bottom = font.getbbox(text, anchor=anchor)
        c0 = max(int(np.floor(xy[0] + left)) - 2, 0)
        r0 = max(int(np.floor(xy[1] + top)) - 2, 0)
        c1 = min(int(np.ceil(xy[0] + right)) + 3, width)
        r1 = min(int(np.ceil(xy[1] + bottom)) + 3, height)
        if c1 <= c0 or r1 <= r0:
            return (-0.5, -0.5, -0.5, -0.5)
        crop = Image.fromarray(image[r0:r1, c0:c1])
        local = (xy[0] - c0, xy[1] - r0)
        ImageDraw.Draw(crop).text(local, text, fill=ink, font=font, anchor=anchor)
        image[r0:r1, c0:c1] = np.asarray(crop)
        box = (xy[0] + left, xy[1] + top, xy[0] + right, xy[1] + bottom)
        box = clip_box(tuple(float(v) for v in box), width, height)
        texts.append(TextBox(text, box, kind))
        return box

    if style.labels:
        for lt, panel in zip(leads, layout.panels, strict=True):
            x_mm, y_mm = panel.x_mm + 1.5, panel.baseline_mm - 5.5
            if style.label_position == "left" and panel.col == 0:
                x_mm = layout.row_x_mm - layout.label_mm + 0.5
                y_mm = panel.baseline_mm + style.font_mm / 2
            elif style.label_position == "above":
                x_mm = panel.x_mm + 0.5
                y_mm = panel.baseline_mm - max(5.5, min(10.0, 0.55 * layout.row_pitch_mm))
            elif style.label_position == "below":  # under the trace, as viewers print it
                x_mm = panel.x_mm + 1.5
                y_mm = panel.baseline_mm + max(4.0, min(9.0, 0.3 * layout.row_pitch_mm))
                y_mm += style.font_mm
            elif style.label_position == "baseline":  # on the zero line, where the trace starts
                x_mm = panel.x_mm + 0.5
                y_mm = panel.baseline_mm + style.font_mm / 2
            text = label_text(panel.label, style.label_case)
            lt.label = text
            lt.label_bbox = put((to_px(x_mm), to_px(y_mm)), text, "label")
    if style.header:
        x0, y0, _, _ = layout.header_box_mm
        line_mm = style.font_mm * 1.5
        for i, line in enumerate(header_lines(record)):
            put((to_px(x0), to_px(y0 + style.font_mm + i * line_mm)), line, "header")
    if style.footer:
        put(
            (to_px(layout.header_box_mm[0]), to_px(layout.footer_y_mm)),
            footer_line(layout),
            "footer",
        )
    return texts
