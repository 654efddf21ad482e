"""The `wild` mixture preset: a device style and a capture drawn per image, exact and replayable."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from ecgkit.errors import EcgkitError
from ecgkit.generate import make_sample
from ecgkit.generate.batch import draw_settings, image_rng, replay_sample
from ecgkit.generate.presets import load_preset, parse_preset
from ecgkit.generate.sample import write_sample
from ecgkit.generate.synth import builtin_record


def test_wild_draws_a_style_and_a_capture_per_image_from_its_weights():
    wild = load_preset("wild")
    styles, captures = collections.Counter(), collections.Counter()
    for i in range(400):
        picked = wild.pick(image_rng(0, f"r{i}", 0))
        style, capture = picked.description.split(" + ")
        styles[style] += 1
        captures[capture] += 1
        assert picked.artifacts == load_preset(capture).artifacts
        assert picked.values.get("layout") == load_preset(style).values.get("layout")
    spec = wild.mix["style"]
    want = dict(zip(spec["choices"], np.divide(spec["weights"], sum(spec["weights"])), strict=True))
    assert set(styles) == set(want)  # every style is reached
    for name, p in want.items():  # binomial: within 4 standard deviations
        assert abs(styles[name] / 400 - p) < 4 * np.sqrt(p * (1 - p) / 400) + 1e-9, name
    assert set(captures) == set(wild.mix["capture"]["choices"])


def test_an_ordinary_preset_picks_itself_and_draws_nothing():
    clean = load_preset("clean")
    rng = image_rng(3, "x", 0)
    state = rng.bit_generator.state
    assert clean.pick(rng) is clean
    assert rng.bit_generator.state == state


def test_draw_settings_and_make_sample_agree_on_the_component():
    record = builtin_record(4)
    for index in range(6):
        drawn = draw_settings(load_preset("wild"), image_rng(0, record.name, index))
        page = make_sample(record, preset="wild", index=index)
        assert page.parameters["drawn"] == drawn
        assert page.parameters["preset"] == "wild" and " + " in page.parameters["components"]


@pytest.mark.parametrize("index", range(4))
def test_wild_samples_replay_byte_for_byte_with_the_truth_on_the_ink(tmp_path, index):
    record = builtin_record(5, seed=2)
    page = make_sample(record, preset="wild", seed=2, index=index, source="synth:5")
    out = page.parameters["drawn"]["output"]  # the capture's format (a photo is a JPEG)
    first = write_sample(
        page,
        tmp_path / "a",
        "s",
        image_format=out.get("format", "png"),
        jpeg_quality=out.get("jpeg_quality", 95),
    )
    replay_sample(tmp_path / "a" / "s.json", tmp_path / "b")
    for f in first:
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name
    dark = 255 - page.image.min(axis=2).astype(int)
    h, w = dark.shape
    hits = total = 0
    for lt in page.leads:
        ok = np.isfinite(lt.x) & (lt.x >= 0) & (lt.x <= w - 1) & (lt.y >= 0) & (lt.y <= h - 1)
        hits += int((dark[np.rint(lt.y[ok]).astype(int), np.rint(lt.x[ok]).astype(int)] > 20).sum())
        total += int(ok.sum())
    assert total > 1000 and hits / total > 0.95, (page.parameters["components"], hits / total)


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"mix": {"style": ["clean"]}}, "exactly the keys style and capture"),
        ({"mix": {"style": ["nope"], "capture": ["scan"]}}, "'nope' is not a built-in preset"),
        ({"mix": {"style": ["wild"], "capture": ["scan"]}}, "is itself a mixture"),
        (
            {"mix": {"style": ["clean"], "capture": ["scan"]}, "style": {"grid": "red"}},
            "remove [style]",
        ),
    ],
)
def test_a_bad_mix_is_one_clear_error(doc, needle):
    with pytest.raises(EcgkitError, match=None) as info:
        parse_preset(doc, "my.toml")
    assert needle in str(info.value) and str(info.value).startswith("my.toml")
