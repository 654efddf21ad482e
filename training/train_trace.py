"""Train the trace model on the CPU and export it to ONNX (``ecgkit/models/trace.onnx``).

    python -m training.data --pages 360 --out training/cache/train.npz   # the crops
    python -m training.train_trace --data training/cache/train.npz --steps 12299 \
        --checkpoint training/cache/trace.ckpt [--resume] [--stop-after 2000]

The network (:class:`TraceNet`, about 11 k parameters) maps a rectified page, RGB at 200 DPI,
to the probability that a trace's centre line crosses each pixel row at each half-pixel
column: two output channels per pixel, the left (x - 1/4) and right (x + 1/4) half-columns.
Full-resolution features see the stroke; a half-resolution branch with dilated convolutions
sees 40 px around it, enough to tell a trace from grid, text and a neighbour's spike.
Weights start from the seed and batches are drawn from it, and a run is a fixed number of steps
(never a time budget), so it is reproducible on a CPU with the same torch version and thread
count (``torch.use_deterministic_algorithms``), and it can be cut into resumable pieces.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

IGNORE = 255
REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "ecgkit" / "models" / "trace.onnx"


class TraceNet(nn.Module):
    """A small two-scale fully convolutional net: RGB page -> centre-line logits (2 per pixel).

    Parameters
    ----------
    c : int
        Channels at full resolution (twice that at half resolution).
    """

    def __init__(self, c: int = 8) -> None:
        super().__init__()
        relu = nn.ReLU(inplace=True)
        self.full = nn.Sequential(
            nn.Conv2d(3, c, 3, padding=1), relu, nn.Conv2d(c, c, 3, padding=1), relu
        )
        c2 = 2 * c
        self.coarse = nn.Sequential(
            nn.Conv2d(c, c2, 3, stride=2, padding=1),
            relu,
            nn.Conv2d(c2, c2, 3, padding=2, dilation=2),
            relu,
            nn.Conv2d(c2, c2, 3, padding=4, dilation=4),
            relu,
            nn.Conv2d(c2, c2, 3, padding=8, dilation=8),
            relu,
        )
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.fuse = nn.Sequential(nn.Conv2d(c + c2, c, 3, padding=1), relu, nn.Conv2d(c, 2, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` in 0..1 -> ``(N, 2, H, W)`` logits (H and W even)."""
        f = self.full(x)
        g = self.up(self.coarse(f))
        return self.fuse(torch.cat([f, g], dim=1))


def interleave(out: torch.Tensor) -> torch.Tensor:
    """``(N, 2, H, W)`` -> ``(N, H, 2W)``: left and right half-columns side by side."""
    n, _, h, w = out.shape
    return out.permute(0, 2, 3, 1).reshape(n, h, 2 * w)


def loss_fn(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Soft-target binary cross-entropy, heavier on the (rare) trace pixels, IGNORE skipped."""
    valid = target != IGNORE
    t = torch.where(valid, target.float() / 250.0, torch.zeros_like(logits))
    w = torch.where(t > 0.05, torch.full_like(t, 8.0), torch.ones_like(t)) * valid
    bce = nn.functional.binary_cross_entropy_with_logits(logits, t, reduction="none")
    return (bce * w).sum() / w.sum().clamp(min=1.0)


def centre_error(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Median |row error| (px) of the arg-max row where one trace crosses a half-column."""
    t = target.float()
    t = torch.where(target == IGNORE, torch.zeros_like(t), t)
    has = (t.max(dim=1).values > 200) & ((t > 200).sum(dim=1) <= 2)
    if not has.any():
        return float("nan")
    rows = torch.arange(t.shape[1]).view(1, -1, 1).float()

    def centre(a: torch.Tensor) -> torch.Tensor:
        peak = a.argmax(dim=1, keepdim=True)
        win = (rows - peak.float()).abs() <= 2
        wts = torch.where(win, a.clamp(min=0), torch.zeros_like(a))
        return (wts * rows).sum(1) / wts.sum(1).clamp(min=1e-6)

    err = (centre(torch.sigmoid(logits)) - centre(t))[has].abs()
    return float(err.median())


#: Steps of the shipped model's run (its log, ``ecgkit/models/trace.json``).
DEFAULT_STEPS = 12_299
#: Steps between checkpoints and between validation entries in the log.
CHECKPOINT_EVERY = 500
LOG_EVERY = 50


def train(
    data: str | Path,
    *,
    out: str | Path = DEFAULT_OUT,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    batch: int = 24,
    lr: float = 3e-3,
    channels: int = 8,
    threads: int = 2,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    stop_after: int | None = None,
) -> dict:
    """Train from a crops file for a fixed number of steps, export ONNX, return the log.

    The run is a function of (data, seed, steps, batch, lr, channels, threads) only, never of
    the machine's speed: the learning rate follows the step count (50 warm-up steps, then a
    cosine to 0 at ``steps``). With ``checkpoint``, the model, the optimiser, both random
    generators, the step and the log are saved every :data:`CHECKPOINT_EVERY` steps, and
    ``resume=True`` continues from the file: a run cut into pieces (``stop_after``, or a
    stopped session) ends with the same weights as one run straight through.

    Parameters
    ----------
    data : str or Path
        ``.npz`` from :mod:`training.data`.
    out : str or Path
        The ONNX file to write when the run reaches ``steps`` (a ``.json`` log beside it).
    steps : int
        Optimisation steps of the whole run.
    seed : int
        Initialisation and batch order.
    batch, lr, channels, threads : int, float, int, int
        Batch size, peak learning rate, network width, CPU threads.
    checkpoint : str or Path, optional
        Where to keep the resumable state (e.g. ``training/cache/trace.ckpt``).
    resume : bool
        Continue from ``checkpoint`` (its settings must match these).
    stop_after : int, optional
        Stop (checkpointed, nothing exported) after this many steps of this call: a bounded
        piece of a longer run.

    Returns
    -------
    dict
        The log (steps so far, seconds, losses, validation error).
    """
    if steps < 1:
        raise SystemExit("error: --steps must be at least 1")
    if resume and (checkpoint is None or not Path(checkpoint).is_file()):
        raise SystemExit(f"error: no checkpoint to resume from at {checkpoint}")
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    d = np.load(data)
    x_all, t_all = d["x"], d["t"]
    n = len(x_all)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_val = max(64, n // 20)
    val, tr = order[:n_val], order[n_val:]
    model = TraceNet(channels)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    settings = {
        "seed": seed,
        "steps_total": steps,
        "batch": batch,
        "lr": lr,
        "channels": channels,
        "threads": threads,
        "crops": int(n),
    }
    log: dict = {
        **settings,
        "params": sum(p.numel() for p in model.parameters()),
        "steps": [],
        "seconds": 0.0,
    }
    step = 0
    if resume:
        state = torch.load(checkpoint, weights_only=False)
        if state["settings"] != settings:
            raise SystemExit(
                f"error: {checkpoint} was made with other settings: {state['settings']}"
            )
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        step, log = state["step"], state["log"]
        print(f"resumed at step {step} of {steps} from {checkpoint}", flush=True)

    def save() -> None:
        if checkpoint is None:
            return
        path = Path(checkpoint)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "settings": settings,
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "rng": rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "step": step,
            "log": log,
        }
        tmp = path.with_suffix(path.suffix + ".tmp")
        torch.save(state, tmp)
        tmp.replace(path)  # a kill mid-save leaves the previous checkpoint whole

    def batch_of(idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        xb = torch.from_numpy(x_all[idx]).permute(0, 3, 1, 2).float() / 255.0
        return xb, torch.from_numpy(t_all[idx])

    xv, tv = batch_of(val[:256])
    start = time.perf_counter()
    seconds0 = float(log["seconds"])
    end = steps if stop_after is None else min(steps, step + stop_after)
    while step < end:
        for g in opt.param_groups:  # warm-up, then cosine decay over the steps
            g["lr"] = lr * min(1.0, (step + 1) / 50) * 0.5 * (1 + np.cos(np.pi * step / steps))
        idx = tr[rng.integers(0, len(tr), batch)]
        xb, tb = batch_of(idx)
        # colour jitter (the generator already varies paper, ink and light)
        if rng.random() < 0.5:
            xb = xb[:, torch.from_numpy(rng.permutation(3))]
        model.train()
        loss = loss_fn(interleave(model(xb)), tb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        log["seconds"] = round(seconds0 + time.perf_counter() - start, 1)
        if step % LOG_EVERY == 0:
            model.eval()
            with torch.no_grad():
                lv = interleave(model(xv))
                entry = {
                    "step": step,
                    "seconds": log["seconds"],
                    "loss": float(loss),
                    "val_loss": float(loss_fn(lv, tv)),
                    "val_centre_err_px": centre_error(lv, tv),
                }
            log["steps"].append(entry)
            print(json.dumps(entry), flush=True)
        if step % CHECKPOINT_EVERY == 0 or step == end:
            save()
    log["total_steps"] = step
    if step < steps:
        print(f"stopped at step {step} of {steps}; resume with --resume", flush=True)
        return log
    export(model, out)
    Path(out).with_suffix(".json").write_text(json.dumps(log, indent=1))
    return log


def export(model: nn.Module, out: str | Path) -> Path:
    """Write the model as ONNX with dynamic height and width.

    Parameters
    ----------
    model : torch.nn.Module
    out : str or Path

    Returns
    -------
    Path
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    dummy = torch.zeros(1, 3, 96, 128)
    torch.onnx.export(
        model,
        (dummy,),
        str(out),
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {2: "h", 3: "w"}, "logits": {2: "h", 3: "w"}},
        opset_version=17,
        dynamo=False,
    )
    return out


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description="train the trace model")
    ap.add_argument("--data", default="training/cache/train.npz")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="steps of the whole run")
    ap.add_argument("--checkpoint", help="resumable state, saved every 500 steps")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    ap.add_argument("--stop-after", type=int, help="stop after this many steps of this call")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    train(
        a.data,
        out=a.out,
        steps=a.steps,
        seed=a.seed,
        batch=a.batch,
        lr=a.lr,
        channels=a.channels,
        threads=a.threads,
        checkpoint=a.checkpoint,
        resume=a.resume,
        stop_after=a.stop_after,
    )


if __name__ == "__main__":
    main()
