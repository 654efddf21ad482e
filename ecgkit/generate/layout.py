"""Paper geometry in millimetres: paper, speed, gain, panels, calibration pulses, grid.

Coordinates: paper coordinates are millimetres from the top-left corner of the sheet, x to
the right, y downwards; a paper point ``m`` mm is at ``m * px_per_mm - 0.5`` px
(:func:`mm_to_px`). Image coordinates follow the one convention written down in
:mod:`ecgkit.geometry` (points ``(x, y)``, pixel centres at integers).

A layout is data: a grid of cells (each a lead name, optionally ``-aVR`` for an inverted lead)
plus rhythm strips. :func:`make_layout` turns it into :class:`Panel` objects with positions
in millimetres, so a new layout needs no new code.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ecgkit.errors import EcgkitError
from ecgkit.io import LEADS

MM_PER_INCH = 25.4

#: Paper sizes in millimetres, (short side, long side). ``strip80`` and ``strip110`` are
#: lengths of thermal roll paper (80 and 110 mm wide) torn off a 3-channel cart's printout.
PAPER_SIZES: dict[str, tuple[float, float]] = {
    "letter": (215.9, 279.4),
    "a4": (210.0, 297.0),
    "strip80": (80.0, 280.0),
    "strip110": (110.0, 280.0),
}
ORIENTATIONS = ("landscape", "portrait")
SPEEDS = (12.5, 25.0, 50.0)
GAINS = (5.0, 10.0, 20.0)
PULSE_SECONDS = 0.2  # calibration pulse width
PULSE_MV = 1.0  # calibration pulse height
STUB_MM = 1.0  # baseline stub before and after a calibration pulse
PULSE_GAP_MM = 1.0  # paper between the pulse's second stub and the trace (before snapping)
SEPARATOR_MM = 3.0  # a separator tick reaches this far above and below the baseline
#: Where a row's calibration pulses go: at its left end (today's default), its right end,
#: both ends, only on the rhythm strips (left end), or nowhere (no room is kept for them).
PULSE_SIDES = ("left", "right", "both", "rhythm", "none")
PULSE_HEIGHTS = (0.5, 1.0, 2.0)  # mV: 1 mV is standard, some carts print 0.5 or 2
#: How rows share the paper height: ``"snap"`` (pitch a multiple of 5 mm), ``"fill"`` (the
#: whole available height, pitch a multiple of 1 mm: 12x1 without blank bands) or ``"auto"``
#: (the default: ``"fill"`` for 12x1, whose twelve rows snapped to 10 mm leave 3 cm of blank
#: paper above and below and overlap their neighbours; ``"snap"`` for every other layout).
SPACINGS = ("auto", "snap", "fill")

_LIMB_GRID = [["I", "II", "III"], ["aVR", "aVL", "aVF"]]
_CABRERA_LIMB = [["aVL", "I", "-aVR"], ["II", "aVF", "III"]]
_CHEST = [["V1", "V2", "V3"], ["V4", "V5", "V6"]]
#: Leads a page may show besides the 12 of a :class:`~ecgkit.io.Record`: right-sided V4R and
#: posterior V8, V9 (a 15-lead ECG). A record has no column for them; the renderer takes them
#: from ``record.metadata["extra_leads"]`` or simulates them (:mod:`ecgkit.generate.synth`).
EXTRA_LEADS: tuple[str, ...] = ("V4R", "V8", "V9")
#: Every lead a page can show: the 12 standard leads, then :data:`EXTRA_LEADS`. A page's mask
#: value ``k`` is the ink of ``PAGE_LEADS[k - 1]`` (``LEADS[k - 1]`` for ``k <= 12``).
PAGE_LEADS: tuple[str, ...] = (*LEADS, *EXTRA_LEADS)


def _columns_to_rows(columns: list[list[str]]) -> list[list[str]]:
    return [list(row) for row in zip(*columns, strict=True)]


def _grids(order: str) -> dict[str, list[list[str]]]:
    limb = _CABRERA_LIMB if order == "cabrera" else _LIMB_GRID
    six_limb = limb[0] + limb[1]
    six_chest = _CHEST[0] + _CHEST[1]
    return {
        "3x4": _columns_to_rows(limb + _CHEST),
        "6x2": _columns_to_rows([six_limb, six_chest]),
        "12x1": [[lead] for lead in six_limb + six_chest],
        "2x6": [six_limb, six_chest],
        "6x1:limb": [[lead] for lead in six_limb],
        "6x1:chest": [[lead] for lead in six_chest],
        "3x5:fifteen": _columns_to_rows([*limb, *_CHEST, list(EXTRA_LEADS)]),
        "3x4:channels": _columns_to_rows(limb + _CHEST),
    }


#: The built-in grid names (``6x1:limb`` and ``6x1:chest`` are pages of one lead group;
#: ``3x5:fifteen`` is a 15-lead page, the 3x4 columns plus a column V4R, V8, V9;
#: ``3x4:channels`` is a 3-channel cart's printout, each column one group of three leads
#: recorded together (I-III, aVR-aVF, V1-V3, V4-V6), the groups one after the other in time).
GRID_NAMES = (
    "3x4",
    "6x2",
    "12x1",
    "2x6",
    "6x1:limb",
    "6x1:chest",
    "3x5:fifteen",
    "3x4:channels",
)
ORDERS = ("standard", "cabrera")


@dataclass(frozen=True)
class Paper:
    """A sheet of paper and the resolution it is rendered at.

    Parameters
    ----------
    size : str
        A key of :data:`PAPER_SIZES`: ``"letter"``, ``"a4"``, or a length of thermal roll
        paper, ``"strip80"`` or ``"strip110"`` (280 mm long).
    orientation : str
        ``"landscape"`` or ``"portrait"``.
    dpi : float
        Dots per inch, 50 to 600.
    """

    size: str = "letter"
    orientation: str = "landscape"
    dpi: float = 200.0

    def __post_init__(self) -> None:
        if self.size not in PAPER_SIZES:
            raise EcgkitError(
                f"unknown paper size {self.size!r}; valid sizes: {', '.join(PAPER_SIZES)}"
            )
        if self.orientation not in ORIENTATIONS:
            raise EcgkitError(
                f"unknown orientation {self.orientation!r}; valid: {', '.join(ORIENTATIONS)}"
            )
        if not 50 <= float(self.dpi) <= 600:
            raise EcgkitError(f"resolution must be 50 to 600 DPI, got {self.dpi}")

    @property
    def width_mm(self) -> float:
        """Sheet width in mm."""
        short, long = PAPER_SIZES[self.size]
        return long if self.orientation == "landscape" else short

    @property
    def height_mm(self) -> float:
        """Sheet height in mm."""
        short, long = PAPER_SIZES[self.size]
        return short if self.orientation == "landscape" else long

    @property
    def px_per_mm(self) -> float:
        """Pixels per millimetre."""
        return float(self.dpi) / MM_PER_INCH

    @property
    def width_px(self) -> int:
        """Image width in pixels."""
        return int(round(self.width_mm * self.px_per_mm))

    @property
    def height_px(self) -> int:
        """Image height in pixels."""
        return int(round(self.height_mm * self.px_per_mm))


def mm_to_px(mm: float, px_per_mm: float) -> float:
    """Map a paper coordinate in mm to an image coordinate in pixels (pixel centres at integers).

    Parameters
    ----------
    mm : float or array
        Distance from the sheet's top or left edge, in mm.
    px_per_mm : float
        Resolution.

    Returns
    -------
    float or array
        Pixel coordinate.
    """
    return mm * px_per_mm - 0.5


@dataclass(frozen=True)
class Panel:
    """One plotted trace: a lead over a time window at a place on the paper.

    Attributes
    ----------
    lead : str
        Canonical lead name (one of :data:`PAGE_LEADS`: the 12 leads or an extra one).
    t0, t1 : float
        Time window in seconds, relative to the layout's start time.
    x_mm : float
        Paper x of time ``t0``.
    baseline_mm : float
        Paper y of 0 mV.
    gain : float
        mm per mV.
    row, col : int
        Position in the grid (rhythm strips have ``col == 0`` and rows after the grid).
    rhythm : bool
        Whether this is a full-length rhythm strip.
    inverted : bool
        Plotted upside down (Cabrera ``-aVR``).
    """

    lead: str
    t0: float
    t1: float
    x_mm: float
    baseline_mm: float
    gain: float
    row: int
    col: int
    rhythm: bool = False
    inverted: bool = False

    @property
    def label(self) -> str:
        """The printed label (``-aVR`` for an inverted aVR)."""
        return ("-" if self.inverted else "") + self.lead


@dataclass(frozen=True)
class Pulse:
    """A calibration pulse (``mv`` high, 0.2 s wide) at an end of a row.

    ``x_mm`` is where the pulse's baseline stub starts; the pulse rises at
    ``x_mm + stub_mm`` and falls ``PULSE_SECONDS * speed`` later. ``row`` is the trace row it
    belongs to and ``side`` is ``"left"`` or ``"right"``.
    """

    x_mm: float
    baseline_mm: float
    gain: float
    width_mm: float
    stub_mm: float
    mv: float = PULSE_MV
    row: int = 0
    side: str = "left"

    @property
    def box_mm(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` of the pulse's centre line in mm (stubs included)."""
        top = self.baseline_mm - self.mv * self.gain
        bottom = self.baseline_mm
        if top > bottom:
            top, bottom = bottom, top
        return (self.x_mm, top, self.x_mm + 2 * self.stub_mm + self.width_mm, bottom)


@dataclass(frozen=True)
class Layout:
    """Where everything goes on the paper, in millimetres.

    Build one with :func:`make_layout`.
    """

    paper: Paper
    name: str
    speed: float
    limb_gain: float
    chest_gain: float
    start: float
    duration: float
    panels: tuple[Panel, ...]
    pulses: tuple[Pulse, ...]
    separators: tuple[tuple[float, float, float], ...]  # (x, y0, y1) mm
    grid_origin_mm: tuple[float, float]
    grid_box_mm: tuple[float, float, float, float]  # x0, y0, x1, y1
    header_box_mm: tuple[float, float, float, float]
    footer_y_mm: float
    order: str = "standard"
    notes: tuple[str, ...] = field(default=())
    pulse_side: str = "left"
    row_pitch_mm: float = 0.0
    label_mm: float = 0.0
    spacing: str = "snap"
    row_x_mm: float = 0.0  # where a row starts: its left pulse, or its trace


def parse_layout_name(name: str) -> tuple[str, list[str]]:
    """Split a layout name such as ``"3x4+II"`` or ``"3x4+II,V1,V5"`` into grid and rhythm leads.

    Parameters
    ----------
    name : str
        ``GRID`` or ``GRID+LEAD[,LEAD...]`` with GRID one of :data:`GRID_NAMES`.

    Returns
    -------
    tuple
        ``(grid, rhythm_leads)``.
    """
    m = re.fullmatch(r"\s*(\d+x\d+(?::[a-z]+)?)\s*(?:\+\s*(.*))?", name or "")
    if not m or m.group(1) not in GRID_NAMES:
        raise EcgkitError(
            f"unknown layout {name!r}; use one of {', '.join(GRID_NAMES)}, optionally with "
            "rhythm strips such as '3x4+II' or '3x4+II,V1,V5'"
        )
    rhythm: list[str] = []
    if m.group(2) is not None:
        for token in m.group(2).split(","):
            lead = _canonical(token.strip())
            if lead is None:
                raise EcgkitError(
                    f"unknown rhythm lead {token.strip()!r} in layout {name!r}; "
                    f"valid leads: {', '.join(PAGE_LEADS)}"
                )
            rhythm.append(lead)
    if len(rhythm) > 3:
        raise EcgkitError(f"layout {name!r}: at most 3 rhythm strips, got {len(rhythm)}")
    return m.group(1), rhythm


def _canonical(token: str) -> str | None:
    folded = {lead.casefold(): lead for lead in PAGE_LEADS}
    return folded.get(token.casefold())


def lead_grid(name: str, order: str = "standard", *, labels: bool = False) -> list[list[str]]:
    """The leads of each trace row of a named layout, as :func:`make_layout` lays them out.

    Rows go top to bottom: the grid's rows, then one row per rhythm strip.

    Parameters
    ----------
    name : str
        A layout name such as ``"3x4"``, ``"3x4+II,V1,V5"`` or ``"6x2"``.
    order : str
        ``"standard"`` or ``"cabrera"``.
    labels : bool
        Give the printed labels (``-aVR`` for the inverted aVR of the Cabrera order) instead of
        the canonical lead names.

    Returns
    -------
    list of list of str
        One list per row, left to right (a new list on every call).
    """
    if order not in ORDERS:
        raise EcgkitError(f"unknown lead order {order!r}; valid: {', '.join(ORDERS)}")
    grid_name, rhythm = parse_layout_name(name)
    rows = [list(row) for row in _grids(order)[grid_name]] + [[lead] for lead in rhythm]
    if labels:
        return rows
    return [[_cell_lead(cell)[0] for cell in row] for row in rows]


def pulse_region_mm(speed: float) -> float:
    """Paper width before the traces of a row: stub, pulse, stub and gap, snapped to 1 mm.

    The calibration pulse's baseline stub starts this far left of the row's first trace.

    Parameters
    ----------
    speed : float
        Paper speed in mm/s.

    Returns
    -------
    float
        Width in mm.
    """
    return _snap(PULSE_SECONDS * speed + 2 * STUB_MM + PULSE_GAP_MM, 1.0)


def _snap(value: float, step: float) -> float:
    return round(value / step) * step


def make_layout(
    name: str = "3x4+II",
    *,
    paper: Paper | None = None,
    speed: float = 25.0,
    gain: float = 10.0,
    chest_gain: float | None = None,
    duration: float = 10.0,
    start: float = 0.0,
    seconds: float = 10.0,
    order: str = "standard",
    cells: list[list[str]] | None = None,
    header_mm: float = 24.0,
    margin_mm: float = 8.0,
    pulse_side: str = "left",
    pulse_mv: float = PULSE_MV,
    column_gap_mm: float = 0.0,
    label_mm: float = 0.0,
    spacing: str = "auto",
) -> Layout:
    """Build a layout: every panel, pulse and separator with its position in mm.

    The trace start of the first row and the first baseline lie on major grid lines,
    and every baseline and column boundary on a grid line, as ECG machines print them.
    The shown duration is the record time available (``duration``) cut to what fits across the
    paper at ``speed``; the columns of a grid show consecutive windows of it.

    Parameters
    ----------
    name : str
        ``"3x4"``, ``"3x4+II"``, ``"3x4+II,V1,V5"``, ``"6x2"``, ``"12x1"``, ``"2x6"``...
    paper : Paper, optional
        Defaults to Letter landscape at 200 DPI.
    speed : float
        Paper speed in mm/s (12.5, 25 or 50).
    gain : float
        Limb-lead gain in mm/mV (5, 10 or 20).
    chest_gain : float, optional
        Chest-lead gain; defaults to ``gain``.
    duration : float
        Seconds of signal available from ``start``.
    start : float
        Record time (s) at the left edge of the traces.
    seconds : float
        Window to show (10 s on a standard ECG), cut to the record and the paper.
    order : str
        ``"standard"`` or ``"cabrera"``.
    cells : list of list of str, optional
        A custom grid of lead names (rows of cells) that replaces the named grid's.
    header_mm, margin_mm : float
        Height of the printed header and the page margin.
    pulse_side : str
        Where the calibration pulses go, one of :data:`PULSE_SIDES`.
    pulse_mv : float
        Pulse height in mV, one of :data:`PULSE_HEIGHTS`.
    column_gap_mm : float
        Blank paper at the end of every column but the last (a gap as separator): the
        column's trace stops this much earlier.
    label_mm : float
        Paper kept left of every row for lead labels printed before the trace.
    spacing : str
        ``"auto"`` (default), ``"snap"`` or ``"fill"`` (:data:`SPACINGS`); the layout records
        the one used.

    Returns
    -------
    Layout
    """
    paper = paper or Paper()
    chest_gain = gain if chest_gain is None else chest_gain
    if float(speed) not in SPEEDS:
        raise EcgkitError(f"paper speed must be one of {SPEEDS} mm/s, got {speed}")
    for g in (gain, chest_gain):
        if float(g) not in GAINS:
            raise EcgkitError(f"gain must be one of {GAINS} mm/mV, got {g}")
    if order not in ORDERS:
        raise EcgkitError(f"unknown lead order {order!r}; valid: {', '.join(ORDERS)}")
    if not duration > 0:
        raise EcgkitError(f"nothing to plot: duration must be > 0 s, got {duration}")
    if start < 0:
        raise EcgkitError(f"start time must be >= 0 s, got {start}")
    if pulse_side not in PULSE_SIDES:
        raise EcgkitError(f"unknown pulse side {pulse_side!r}; valid: {', '.join(PULSE_SIDES)}")
    if float(pulse_mv) not in PULSE_HEIGHTS:
        raise EcgkitError(f"pulse height must be one of {PULSE_HEIGHTS} mV, got {pulse_mv}")
    if spacing not in SPACINGS:
        raise EcgkitError(f"unknown row spacing {spacing!r}; valid: {', '.join(SPACINGS)}")
    if not 0 <= column_gap_mm <= 10 or not 0 <= label_mm <= 40:
        raise EcgkitError("column_gap_mm must be 0 to 10 mm and label_mm 0 to 40 mm")
    grid_name, rhythm = parse_layout_name(name)
    if spacing == "auto":
        spacing = "fill" if grid_name == "12x1" else "snap"
    grid = cells if cells is not None else _grids(order)[grid_name]
    _check_cells(grid)
    n_rows = len(grid) + len(rhythm)
    n_cols = len(grid[0])

    width, height = paper.width_mm, paper.height_mm
    stub = STUB_MM
    pulse_w = PULSE_SECONDS * speed
    pulse_region = pulse_region_mm(speed)
    n_regions = {"none": 0, "both": 2}.get(pulse_side, 1)
    avail_w = width - 2 * margin_mm - pulse_region * n_regions - label_mm
    # shown time: what the record has, cut to what fits, in whole tenths of a second
    shown = math.floor(min(duration, seconds, avail_w / speed) * 10 + 1e-6) / 10
    if shown <= 0:
        raise EcgkitError(
            f"layout {name!r} does not fit on {paper.size} {paper.orientation} at {speed} mm/s"
        )
    trace_w = shown * speed
    if n_regions == 1 and label_mm == 0:
        x_pulse = _snap((width - trace_w - pulse_region) / 2, 1.0)  # today's arithmetic
    else:
        x_pulse = _snap((width - trace_w - pulse_region * n_regions + label_mm) / 2, 1.0)
    x_trace = x_pulse + (0.0 if pulse_side in ("right", "none") else pulse_region)
    if pulse_side == "right":
        x_pulse = x_trace + trace_w + PULSE_GAP_MM
    x_right = x_trace + trace_w + PULSE_GAP_MM  # the right-hand pulse of "both"

    top = margin_mm + header_mm
    bottom = height - margin_mm - 4.0  # room for the footer line
    pitch = (bottom - top) / n_rows
    if spacing == "fill" and pitch >= 1.0:
        pitch_snap = float(math.floor(pitch))
    else:
        pitch_snap = max(5.0, math.floor(pitch / 5.0) * 5.0) if pitch >= 5.0 else pitch
    used = pitch_snap * n_rows
    first_baseline = _snap(top + (bottom - top - used) / 2 + pitch_snap * 0.6, 1.0)

    def row_pulses(r: int, base: float, g: float, is_rhythm: bool) -> list[Pulse]:
        if pulse_side == "none" or (pulse_side == "rhythm" and not is_rhythm):
            return []
        side = "right" if pulse_side == "right" else "left"
        out = [Pulse(x_pulse, base, g, pulse_w, stub, float(pulse_mv), r, side)]
        if pulse_side == "both":
            out.append(Pulse(x_right, base, g, pulse_w, stub, float(pulse_mv), r, "right"))
        return out

    panels: list[Panel] = []
    pulses: list[Pulse] = []
    separators: list[tuple[float, float, float]] = []
    col_w = shown / n_cols
    for r, row in enumerate(grid):
        base = first_baseline + r * pitch_snap
        row_gain = gain
        for c, cell in enumerate(row):
            lead, inverted = _cell_lead(cell)
            g = chest_gain if lead.startswith("V") else gain
            if c == 0:
                row_gain = g
            t0 = c * col_w
            t1 = t0 + col_w
            if column_gap_mm and c < len(row) - 1:
                t1 -= column_gap_mm / speed
            panels.append(Panel(lead, t0, t1, x_trace + t0 * speed, base, g, r, c, False, inverted))
            if c > 0:
                x_sep = x_trace + t0 * speed
                separators.append((x_sep, base - SEPARATOR_MM, base + SEPARATOR_MM))
        pulses += row_pulses(r, base, row_gain, False)
    for k, lead in enumerate(rhythm):
        r = len(grid) + k
        base = first_baseline + r * pitch_snap
        g = chest_gain if lead.startswith("V") else gain
        panels.append(Panel(lead, 0.0, shown, x_trace, base, g, r, 0, True, False))
        pulses += row_pulses(r, base, g, True)

    grid_box = (
        margin_mm / 2,
        margin_mm + header_mm - 4.0,
        width - margin_mm / 2,
        height - margin_mm / 2 - 4.0,
    )
    notes = []
    if shown + 1e-9 < min(duration, seconds):
        notes.append(
            f"shows {shown:.1f} s: {min(duration, seconds):.1f} s do not fit across "
            f"{paper.size} {paper.orientation} at {speed:g} mm/s"
        )
    return Layout(
        paper=paper,
        name=name,
        speed=float(speed),
        limb_gain=float(gain),
        chest_gain=float(chest_gain),
        start=float(start),
        duration=float(shown),
        panels=tuple(panels),
        pulses=tuple(pulses),
        separators=tuple(separators),
        grid_origin_mm=(x_trace, first_baseline),
        grid_box_mm=grid_box,
        header_box_mm=(margin_mm, margin_mm, width - margin_mm, margin_mm + header_mm - 5.0),
        footer_y_mm=height - margin_mm / 2 - 3.0,
        order=order,
        notes=tuple(notes),
        pulse_side=pulse_side,
        row_pitch_mm=float(pitch_snap),
        label_mm=float(label_mm),
        spacing=spacing,
        row_x_mm=float(min(x_pulse, x_trace)),
    )


def _cell_lead(cell: str) -> tuple[str, bool]:
    inverted = cell.startswith("-")
    lead = _canonical(cell.lstrip("-"))
    if lead is None:
        raise EcgkitError(f"unknown lead {cell!r} in layout; valid leads: {', '.join(PAGE_LEADS)}")
    return lead, inverted


def _check_cells(cells: list[list[str]]) -> None:
    if not cells or not cells[0] or any(len(row) != len(cells[0]) for row in cells):
        raise EcgkitError("a layout grid needs at least one row, all rows of the same length")
    for row in cells:
        for cell in row:
            _cell_lead(cell)
