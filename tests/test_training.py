"""Training runs in bounded, resumable pieces: a run cut in two ends with the same weights.

Needs torch (training only, not a dependency of the package): skipped where it is absent.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crops(tmp_path_factory):
    from training.data import build

    out = tmp_path_factory.mktemp("crops") / "train.npz"
    return build(out, 5, seed=0, n_crops=20, workers=1)  # 100 crops: 64 validation, 36 train


def test_a_run_cut_in_two_pieces_exports_the_same_model(tmp_path, crops):
    from training.train_trace import train

    kw = {"steps": 30, "batch": 4, "seed": 3}
    whole = train(crops, out=tmp_path / "whole.onnx", **kw)
    ckpt = tmp_path / "run.ckpt"
    first = train(crops, out=tmp_path / "cut.onnx", checkpoint=ckpt, stop_after=12, **kw)
    assert first["total_steps"] == 12 and ckpt.is_file()
    assert not (tmp_path / "cut.onnx").exists()  # nothing exported before the last step
    second = train(crops, out=tmp_path / "cut.onnx", checkpoint=ckpt, resume=True, **kw)
    assert whole["total_steps"] == second["total_steps"] == 30
    assert (tmp_path / "whole.onnx").read_bytes() == (tmp_path / "cut.onnx").read_bytes()


def test_resuming_with_other_settings_or_no_checkpoint_is_refused(tmp_path, crops):
    from training.train_trace import train

    ckpt = tmp_path / "run.ckpt"
    train(crops, out=tmp_path / "m.onnx", steps=10, batch=4, checkpoint=ckpt, stop_after=5)
    with pytest.raises(SystemExit, match="other settings"):
        train(crops, out=tmp_path / "m.onnx", steps=10, batch=8, checkpoint=ckpt, resume=True)
    with pytest.raises(SystemExit, match="no checkpoint"):
        train(crops, steps=10, checkpoint=tmp_path / "none.ckpt", resume=True)
