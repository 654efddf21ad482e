import pytest

from ecgkit.errors import EcgkitError
from ecgkit.generate.layout import (
    GRID_NAMES,
    ORDERS,
    Paper,
    lead_grid,
    make_layout,
    mm_to_px,
    parse_layout_name,
    pulse_region_mm,
)
from ecgkit.io import LEADS


def test_letter_200dpi_matches_ecg_image_kit_size():
    paper = Paper()
    assert (paper.width_px, paper.height_px) == (2200, 1700)
    assert Paper(orientation="portrait").width_px == 1700
    assert Paper("a4", dpi=300).width_px == round(297 / 25.4 * 300)


def test_mm_to_px_puts_pixel_centres_on_integers():
    ppmm = Paper(dpi=254).px_per_mm  # 10 px per mm
    assert mm_to_px(0.05, ppmm) == pytest.approx(0.0)  # centre of the first pixel
    assert mm_to_px(0.0, ppmm) == pytest.approx(-0.5)  # the sheet's edge


@pytest.mark.parametrize("grid", [g for g in GRID_NAMES if ":" not in g])
def test_every_grid_places_all_12_leads_once(grid):
    layout = make_layout(grid)
    leads = [p.lead for p in layout.panels if not p.rhythm]
    assert sorted(leads) == sorted(LEADS)
    assert layout.duration == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("name", "order", "rows"),
    [
        ("6x1:limb", "standard", [["I"], ["II"], ["III"], ["aVR"], ["aVL"], ["aVF"]]),
        ("6x1:limb", "cabrera", [["aVL"], ["I"], ["-aVR"], ["II"], ["aVF"], ["III"]]),
        ("6x1:chest", "cabrera", [["V1"], ["V2"], ["V3"], ["V4"], ["V5"], ["V6"]]),
        (
            "6x2+II",
            "standard",
            [[a, b] for a, b in zip(LEADS[:6], LEADS[6:], strict=True)] + [["II"]],
        ),
        (
            "6x2+II",
            "cabrera",
            [
                [a, b]
                for a, b in zip(["aVL", "I", "-aVR", "II", "aVF", "III"], LEADS[6:], strict=True)
            ]
            + [["II"]],
        ),
        (
            "3x4+V1,II,V5",
            "standard",
            [
                ["I", "aVR", "V1", "V4"],
                ["II", "aVL", "V2", "V5"],
                ["III", "aVF", "V3", "V6"],
                ["V1"],
                ["II"],
                ["V5"],
            ],
        ),
    ],
)
def test_new_layouts_place_the_named_rows(name, order, rows):
    layout = make_layout(name, order=order)
    got: dict[int, list[str]] = {}
    for p in sorted(layout.panels, key=lambda p: (p.row, p.col)):
        got.setdefault(p.row, []).append(p.label)
    assert [got[r] for r in sorted(got)] == rows
    assert lead_grid(name, order, labels=True) == rows
    # rows keep their order top to bottom, and rhythm strips span the whole width
    baselines = sorted({p.baseline_mm for p in layout.panels})
    assert [p.baseline_mm for p in layout.panels if p.col == 0] == baselines
    for p in layout.panels:
        if p.rhythm:
            assert (p.t0, p.t1) == (0.0, layout.duration)


@pytest.mark.parametrize(
    ("side", "sides"),
    [
        ("left", {"left"}),
        ("right", {"right"}),
        ("both", {"left", "right"}),
        ("rhythm", {"left"}),
        ("none", set()),
    ],
)
def test_pulse_sides_put_the_pulses_where_asked(side, sides):
    layout = make_layout("3x4+II,V1", pulse_side=side, pulse_mv=0.5)
    assert {p.side for p in layout.pulses} == sides
    rows = sorted({p.row for p in layout.panels})
    rhythm_rows = {p.row for p in layout.panels if p.rhythm}
    expect_rows = rhythm_rows if side == "rhythm" else set(rows)
    if side != "none":
        assert {p.row for p in layout.pulses} == expect_rows
    x_trace = min(p.x_mm for p in layout.panels)
    x_end = max(p.x_mm + (p.t1 - p.t0) * layout.speed for p in layout.panels)
    for p in layout.pulses:
        x0, y0, x1, y1 = p.box_mm
        assert p.mv == 0.5 and y1 - y0 == pytest.approx(0.5 * p.gain)
        assert y1 == next(q.baseline_mm for q in layout.panels if q.row == p.row)
        if p.side == "left":
            assert x1 <= x_trace
        else:
            assert x0 >= x_end
        assert 0 < x0 and x1 < layout.paper.width_mm
    if side == "none":
        assert layout.row_x_mm == x_trace  # no room kept for pulses


def test_fill_spacing_spreads_12x1_over_the_page_height():
    snap, fill = make_layout("12x1", spacing="snap"), make_layout("12x1", spacing="fill")
    assert snap.row_pitch_mm == 10.0  # 5-mm multiples leave 3 cm blank bands
    assert fill.row_pitch_mm == 14.0
    auto = make_layout("12x1")  # the default for 12x1 is to fill the page
    assert auto.spacing == "fill" and auto.row_pitch_mm == 14.0
    other = make_layout("3x4+II")  # other layouts keep the 5-mm pitch
    assert other.spacing == "snap" and other.row_pitch_mm % 5 == 0
    bases = [p.baseline_mm for p in fill.panels]
    assert all(b == round(b) for b in bases)  # on 1-mm grid lines
    assert bases[-1] - bases[0] == 11 * 14.0
    assert bases[-1] < fill.paper.height_mm - 8.0


def test_column_gap_stops_each_column_short():
    layout = make_layout("3x4", column_gap_mm=2.0)
    for p in layout.panels:
        width = (p.t1 - p.t0) * layout.speed
        assert width == pytest.approx(62.5 - (2.0 if p.col < 3 else 0.0))


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"pulse_side": "top"}, "pulse side"),
        ({"pulse_mv": 1.5}, "pulse height"),
        ({"spacing": "loose"}, "row spacing"),
    ],
)
def test_bad_style_layout_options_raise(kwargs, needle):
    with pytest.raises(EcgkitError, match=needle):
        make_layout("3x4+II", **kwargs)


def test_3x4_columns_show_consecutive_windows_and_rhythm_strip():
    layout = make_layout("3x4+II")
    by_lead = {p.lead: p for p in layout.panels if not p.rhythm}
    assert [by_lead[x].t0 for x in ("I", "aVR", "V1", "V4")] == [0.0, 2.5, 5.0, 7.5]
    assert by_lead["aVR"].x_mm == pytest.approx(by_lead["I"].x_mm + 2.5 * 25)
    rhythm = [p for p in layout.panels if p.rhythm]
    assert [(p.lead, p.t0, p.t1) for p in rhythm] == [("II", 0.0, 10.0)]
    assert len(layout.pulses) == 4  # one per row
    assert len(layout.separators) == 9  # 3 rows x 3 column boundaries


def test_three_rhythm_strips_and_rows_do_not_overlap():
    layout = make_layout("3x4+II,V1,V5")
    rhythm = [p.lead for p in layout.panels if p.rhythm]
    assert rhythm == ["II", "V1", "V5"]
    baselines = sorted({p.baseline_mm for p in layout.panels})
    assert len(baselines) == 6
    assert min(b - a for a, b in zip(baselines, baselines[1:], strict=False)) >= 15


def test_baselines_and_trace_start_lie_on_grid_lines():
    layout = make_layout("6x2+II")
    ox, oy = layout.grid_origin_mm
    for p in layout.panels:
        assert (p.baseline_mm - oy) % 5 == pytest.approx(0)
        assert (p.x_mm - ox - p.t0 * layout.speed) == pytest.approx(0)


def test_cabrera_order_inverts_avr():
    layout = make_layout("3x4", order="cabrera")
    first_col = [p.label for p in layout.panels if p.col == 0]
    assert first_col == ["aVL", "I", "-aVR"]
    inv = [p for p in layout.panels if p.inverted]
    assert [p.lead for p in inv] == ["aVR"]


def test_duration_is_cut_to_what_fits():
    layout = make_layout("3x4", speed=50)
    assert layout.duration < 10
    assert layout.duration * 50 <= Paper().width_mm
    assert layout.notes


def test_chest_gain_can_differ():
    layout = make_layout("3x4", gain=10, chest_gain=5)
    gains = {p.lead: p.gain for p in layout.panels}
    assert gains["II"] == 10 and gains["V3"] == 5


def test_custom_cells_make_a_new_layout_without_code():
    layout = make_layout("2x6", cells=[["V1", "V2"], ["II", "-aVR"]])
    assert [p.label for p in layout.panels] == ["V1", "V2", "II", "-aVR"]


def test_parse_layout_name():
    assert parse_layout_name("3x4+ii,v5") == ("3x4", ["II", "V5"])


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"name": "5x5"}, "unknown layout"),
        ({"name": "3x4+X7"}, "unknown rhythm lead"),
        ({"speed": 30}, "paper speed"),
        ({"gain": 7}, "gain"),
        ({"order": "alphabetical"}, "lead order"),
        ({"duration": 0}, "nothing to plot"),
    ],
)
def test_bad_layout_options_raise_clear_errors(kwargs, needle):
    with pytest.raises(EcgkitError, match=needle):
        make_layout(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"size": "tabloid"}, "paper size"),
        ({"dpi": 20}, "50 to 600"),
        ({"orientation": "diagonal"}, "orientation"),
    ],
)
def test_bad_paper_raises(kwargs, needle):
    with pytest.raises(EcgkitError, match=needle):
        Paper(**kwargs)


CANDIDATES = ["3x4", "3x4+II", "3x4+II,V1", "3x4+II,V1,V5", "6x2", "12x1", "2x6"]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", CANDIDATES)
def test_lead_grid_is_the_rows_make_layout_draws(name, order):
    layout = make_layout(name, order=order)
    rows: dict[int, list] = {}
    for p in sorted(layout.panels, key=lambda p: (p.row, p.col)):
        rows.setdefault(p.row, []).append(p)
    assert lead_grid(name, order) == [[p.lead for p in rows[r]] for r in sorted(rows)]
    labels = [[p.label for p in rows[r]] for r in sorted(rows)]
    assert lead_grid(name, order, labels=True) == labels
    assert len(layout.pulses) == len(rows)  # one pulse per row, at the same x
    for pulse in layout.pulses:
        assert layout.grid_origin_mm[0] - pulse.x_mm == pulse_region_mm(layout.speed)


def test_lead_grid_refuses_what_make_layout_refuses():
    with pytest.raises(EcgkitError, match="unknown layout"):
        lead_grid("5x5")
    with pytest.raises(EcgkitError, match="lead order"):
        lead_grid("3x4", "alphabetical")


def _panel_rows(layout) -> list[list[str]]:
    rows: dict[int, list[str]] = {}
    for p in sorted(layout.panels, key=lambda p: (p.row, p.col)):
        rows.setdefault(p.row, []).append(p.lead)
    return [rows[r] for r in sorted(rows)]


@pytest.mark.parametrize("order", ORDERS)
def test_every_layout_the_digitizer_chooses_is_one_the_generator_draws(order):
    from ecgkit.digitize.layout_detect import _choose

    seen = set()
    columns = [[6, 6], [4] * 3, [4] * 3 + [1], [4] * 3 + [1] * 2, [4] * 3 + [1] * 3]
    for n_cols in [*columns, [2] * 6, [1] * 12]:
        name, grid = _choose(len(n_cols), n_cols, order)
        assert grid == _panel_rows(make_layout(name, order=order)), name
        seen.add(name)
    assert seen == set(CANDIDATES)
