"""Whole presets: every built-in one makes a sample whose truth lies on the ink, replayably."""

import hashlib
import json

import cv2
import numpy as np
import pytest

from ecgkit.cli import main
from ecgkit.generate import generate, make_sample
from ecgkit.generate.presets import list_presets, load_preset
from ecgkit.generate.synth import builtin_record

PRESETS = ("clean", "scan", "photo", "archive", "challenge2024")


def test_the_issue_presets_are_built_in():
    assert set(PRESETS) <= set(list_presets())
    for name in PRESETS:
        preset = load_preset(name)
        assert preset.description and preset.version >= 1


@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize("index", [0, 1])
def test_ink_lies_under_the_truth_after_every_preset(name, index):
    page = make_sample(builtin_record(2), preset=name, index=index)
    doc = json.loads(json.dumps(page.to_json(), allow_nan=False))
    applied = [a["name"] for a in doc["parameters"]["artifacts"]]
    assert set(applied) <= set(load_preset(name).artifacts)
    gray8 = cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
    gray = gray8.astype(np.float32)
    local = cv2.medianBlur(gray8, 15).astype(np.float32)  # the paper around each point
    h, w = gray.shape
    covered = np.zeros((h, w), bool)  # text, handwriting, stamps and holes may hide the ink
    for t in page.texts:
        if t.kind in ("printed", "handwriting", "stamp", "occlusion"):
            x0, y0, x1, y1 = (int(round(v)) for v in t.bbox)
            covered[max(y0 - 3, 0) : y1 + 4, max(x0 - 3, 0) : x1 + 4] = True
    hits, total = 0, 0
    for lt in page.leads:
        ok = np.isfinite(lt.x) & (lt.x >= 0) & (lt.x <= w - 1) & (lt.y >= 0) & (lt.y <= h - 1)
        cols, rows = np.rint(lt.x[ok]).astype(int), np.rint(lt.y[ok]).astype(int)
        keep = ~covered[rows, cols]
        cols, rows = cols[keep], rows[keep]
        hits += int((gray[rows, cols] < local[rows, cols] - 20).sum())
        total += len(cols)
    assert total > 10000  # of 20000: the rest may be under recorded text
    assert hits / total > 0.95, (name, applied, hits / total)


@pytest.mark.parametrize("name", ["scan", "photo", "archive"])
def test_replay_is_byte_for_byte_with_artifacts(tmp_path, name):
    generate(out_dir=tmp_path / "a", synthetic=1, preset=name, seed=5)
    sample = next((tmp_path / "a").glob("*.json"))
    assert main(["generate", "--replay", str(sample), "--out", str(tmp_path / "b")]) == 0
    for f in (tmp_path / "a").iterdir():
        if f.name == "manifest.csv":  # the run's manifest: a replay remakes samples, not runs
            continue
        assert (
            hashlib.sha256(f.read_bytes()).digest()
            == hashlib.sha256((tmp_path / "b" / f.name).read_bytes()).digest()
        ), f.name


@pytest.mark.slow
def test_same_seed_same_bytes_with_artifacts_whatever_the_workers(tmp_path):
    generate(out_dir=tmp_path / "w1", synthetic=2, preset="photo", seed=3, workers=1)
    generate(out_dir=tmp_path / "w2", synthetic=2, preset="photo", seed=3, workers=2)
    for f in (tmp_path / "w1").iterdir():
        assert f.read_bytes() == (tmp_path / "w2" / f.name).read_bytes(), f.name


def test_an_artifact_override_turns_one_off_without_changing_the_rest():
    rec = builtin_record(0)
    base = make_sample(rec, preset="scan", index=4)
    off = make_sample(
        rec, preset="scan", index=4, overrides={"artifacts": {"handwriting": {"probability": 0.0}}}
    )
    names = [a["name"] for a in off.parameters["artifacts"]]
    assert "handwriting" not in names
    kept = [a for a in base.parameters["artifacts"] if a["name"] != "handwriting"]
    assert kept == off.parameters["artifacts"]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"artifacts": {"sparkles": {}}}, "unknown artifact 'sparkles'"),
        ({"artifacts": {"blur": {"strength": 3}}}, "strength = 3"),
        ({"artifacts": {"blur": {"probability": -1}}}, "probability = -1"),
        ({"artifacts": {"blur": {"radius": 2}}}, "unknown key 'radius'"),
    ],
)
def test_bad_artifact_settings_are_refused(data, needle):
    from ecgkit.errors import EcgkitError
    from ecgkit.generate.presets import parse_preset

    with pytest.raises(EcgkitError, match=needle):
        parse_preset(data, "mine.toml")
