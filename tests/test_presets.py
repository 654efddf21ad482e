import numpy as np
import pytest

from ecgkit.errors import EcgkitError
from ecgkit.generate import draw_settings
from ecgkit.generate.presets import list_presets, load_preset, parse_preset


def test_builtin_clean_preset_loads():
    assert "clean" in list_presets()
    preset = load_preset("clean")
    drawn = preset.draw(np.random.default_rng(0))
    assert drawn["layout"]["name"] == "3x4+II" and drawn["layout"]["dpi"] == 200


RANGED = {
    "layout": {"name": ["3x4+II", "6x2"], "dpi": {"min": 100, "max": 300}},
    "style": {
        "grid": {"choices": ["red", "bw"], "weights": [3, 1]},
        "pen_mm": {"min": 0.2, "max": 0.4},
        "ink_rgb": [[0, 0, 0], [20, 20, 90]],
    },
}


def test_choices_and_ranges_are_drawn_from_the_generator():
    preset = parse_preset(RANGED)
    a = preset.draw(np.random.default_rng(1))
    assert a == preset.draw(np.random.default_rng(1))
    draws = [preset.draw(np.random.default_rng(s)) for s in range(40)]
    assert {d["layout"]["name"] for d in draws} == {"3x4+II", "6x2"}
    assert all(
        100 <= d["layout"]["dpi"] <= 300 and isinstance(d["layout"]["dpi"], int) for d in draws
    )
    assert all(0.2 <= d["style"]["pen_mm"] <= 0.4 for d in draws)
    assert {tuple(d["style"]["ink_rgb"]) for d in draws} == {(0, 0, 0), (20, 20, 90)}


def test_an_override_does_not_shift_the_other_draws():
    preset = parse_preset(RANGED)
    plain = draw_settings(preset, np.random.default_rng(5))
    over = draw_settings(preset, np.random.default_rng(5), {"style": {"grid": "blue"}})
    assert over["style"]["grid"] == "blue"
    assert over["style"]["pen_mm"] == plain["style"]["pen_mm"]
    assert over["layout"] == plain["layout"]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"layout": {"colour": "red"}}, "unknown key 'colour' in \\[layout\\]"),
        ({"artefacts": {}}, "unknown key 'artefacts'"),
        ({"layout": {"dpi": 2000}}, "\\[layout\\] dpi = 2000 must be a number from 50 to 600"),
        ({"layout": {"speed": 30}}, "\\[layout\\] speed = 30 must be one of"),
        ({"style": {"grid": ["red", "purple"]}}, "grid = 'purple'"),
        ({"style": {"pen_mm": {"min": 0.5, "max": 0.1}}}, "above max"),
        ({"style": {"pen_mm": {"low": 0.1}}}, "min and max"),
        ({"style": {"ink_rgb": [0, 0, 300]}}, "colour"),
        ({"layout": {"name": "4x4"}}, "unknown layout"),
        ({"style": {"grid": {"choices": ["red"], "weights": [1, 2]}}}, "weights"),
        ({"schema": 7}, "schema 7"),
        ({"style": {"pulse_side": "top"}}, "\\[style\\] pulse_side = 'top' must be one of left"),
        ({"style": {"pulse_mv": [1.0, 1.5]}}, "pulse_mv = 1.5 must be one of"),
        ({"style": {"separator": "dashes"}}, "separator = 'dashes'"),
        ({"style": {"separator_rgb": [0, 0]}}, "separator_rgb .* colour"),
        ({"style": {"grid_kind": "crosses"}}, "grid_kind = 'crosses'"),
        ({"style": {"label_position": "sideways"}}, "label_position = 'sideways'"),
        ({"style": {"label_case": "title"}}, "label_case = 'title'"),
        ({"layout": {"spacing": "loose"}}, "\\[layout\\] spacing = 'loose'"),
        ({"layout": {"name": "6x1:feet"}}, "unknown layout"),
    ],
)
def test_bad_presets_are_refused_with_a_message_naming_the_key(data, needle):
    with pytest.raises(EcgkitError, match=needle):
        parse_preset(data, "my.toml")


def test_user_toml_file_works_and_errors_name_the_file(tmp_path):
    good = tmp_path / "mine.toml"
    good.write_text('name = "mine"\n[style]\ngrid = "blue"\n')
    assert load_preset(good).values["style"]["grid"] == "blue"
    bad = tmp_path / "broken.toml"
    bad.write_text("[style\n")
    with pytest.raises(EcgkitError, match="broken.toml: not valid TOML"):
        load_preset(bad)
    with pytest.raises(EcgkitError, match="unknown preset 'nosuch'"):
        load_preset("nosuch")
    with pytest.raises(EcgkitError, match="not found"):
        load_preset(tmp_path / "missing.toml")
