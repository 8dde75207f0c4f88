"""Train the part segmentation model on generated characters (`pipeline.train.characters`, part labels).

Data: a pool of generated characters (seeds `seed * 100003 + i`), kept as line ink and part labels;
each step draws a batch, applies a seeded random affine (scale 0.7-1.1, shift, small rotation, flip) and
trains weighted cross-entropy (class weights 1/sqrt(frequency), so small parts such as eyes count).
Stops at the step budget or the wall-clock budget. The output folder gets `checkpoint.safetensors`
(every `checkpoint_every` steps), `losses.jsonl`, `parts.safetensors` and `summary.json`.
`part_iou` is the held-out measure the model card and `bench/prompts.py` report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from pipeline.models import parts as parts_model
from pipeline.models.colorizer import ink_of
from pipeline.models.common import resolve_device
from pipeline.models.parts import (
    PART_NAMES,
    PartsConfig,
    PartsModel,
    PartsNet,
    encode_parts_input,
)
from pipeline.train.characters import PARTS, make_character
from pipeline.train.schedule import warmup_cosine

__all__ = ["PartsTrainConfig", "PartsTrainResult", "make_pool", "part_iou", "train_parts", "HELD_OUT_SEED"]

HELD_OUT_SEED = 424242  # bench / model card characters: seeds 424242 * 100003 + i, never trained on
assert tuple(PARTS) == PART_NAMES


@dataclass(frozen=True)
class PartsTrainConfig:
    """Everything a run depends on; stored in the weights' metadata and summary.json."""

    out: str
    steps: int = 2000
    max_minutes: float = 55.0
    batch: int = 10
    lr: float = 3e-3
    warmup: int = 50
    weight_decay: float = 1e-4
    seed: int = 5
    characters: int = 2000
    size: int = 256
    log_every: int = 25
    checkpoint_every: int = 250
    threads: int = 1
    device: str = "cpu"
    model: PartsConfig = field(default_factory=PartsConfig)


@dataclass
class PartsTrainResult:
    """What a finished run reports."""

    steps: int
    seconds: float
    stopped: str  # "budget" (steps) or "time"
    train_loss: float
    val_loss: float
    weights: str


def make_pool(*, seed: int, count: int, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(N, H, W) uint8 ink 0..255 and (N, H, W) uint8 part labels of generated characters."""
    inks, parts = [], []
    for i in range(count):
        c = make_character(seed=seed * 100_003 + i, size=size)
        inks.append(np.round(ink_of(c.drawing) * 255).astype(np.uint8))
        parts.append(c.parts.astype(np.uint8))
    return np.stack(inks), np.stack(parts)


def _augment(rng: np.random.Generator, ink: np.ndarray, parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A random affine (scale, rotation, shift) and flip of one example; outside is paper / background."""
    h, w = ink.shape
    scale, angle = rng.uniform(0.7, 1.1), rng.uniform(-10, 10)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += rng.uniform(-0.12, 0.12, 2) * (w, h)
    ink = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    parts = cv2.warpAffine(parts, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    if rng.random() < 0.5:
        ink, parts = ink[:, ::-1], parts[:, ::-1]
    return ink, parts


def _batch(rng: np.random.Generator, inks: np.ndarray, parts: np.ndarray, n: int, *, augment: bool = True):
    xs, ys = [], []
    for i in rng.integers(len(inks), size=n):
        ink, lab = _augment(rng, inks[i], parts[i]) if augment else (inks[i], parts[i])
        xs.append(encode_parts_input(ink.astype(np.float32) / 255.0))
        ys.append(lab.astype(np.int64))
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def part_iou(pred: np.ndarray, truth: np.ndarray, *, parts: int = len(PART_NAMES)) -> np.ndarray:
    """(parts, 2) int64 intersection and union counts of one prediction, to sum over a set."""
    keys = truth.astype(np.int64).ravel() * parts + pred.astype(np.int64).ravel()
    conf = np.bincount(keys, minlength=parts * parts).reshape(parts, parts)
    inter = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - inter
    return np.stack([inter, union], 1)


def _lr(cfg: PartsTrainConfig, step: int) -> float:
    """Linear warmup, then cosine decay to 5% of lr at the step budget."""
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return warmup_cosine(step, lr=cfg.lr, warmup=cfg.warmup, progress=progress, floor=0.05)


def train_parts(
    cfg: PartsTrainConfig,
    *,
    log: Callable[[str], None] = print,
    progress: Callable[[int, int], None] | None = None,
) -> PartsTrainResult:
    """Train into cfg.out; returns the final figures (the weights are out/parts.safetensors)."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    rng = np.random.default_rng(cfg.seed)
    t_start = time.perf_counter()
    inks, parts = make_pool(seed=cfg.seed, count=cfg.characters, size=cfg.size)
    val_inks, val_parts = make_pool(seed=cfg.seed + 7919, count=24, size=cfg.size)
    log(f"data: {len(inks)} train + {len(val_inks)} val characters ({time.perf_counter() - t_start:.0f} s)")
    freq = np.bincount(parts.ravel(), minlength=len(PART_NAMES)).astype(np.float64) + 1
    weight = torch.tensor(np.clip(np.sqrt(freq.max() / freq), 1, 20), dtype=torch.float32, device=device)
    net = PartsNet(cfg.model).to(device)
    log(f"model: {sum(p.numel() for p in net.parameters()):,} parameters on {device}")
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    val_rng = np.random.default_rng(cfg.seed + 1)
    val_batches = [_batch(val_rng, val_inks, val_parts, 8, augment=False) for _ in range(3)]

    @torch.no_grad()
    def evaluate() -> float:
        net.eval()
        total = sum(
            float(F.cross_entropy(net(x.to(device)), y.to(device), weight=weight)) for x, y in val_batches
        )
        net.train()
        return total / len(val_batches)

    logfile = (out / "losses.jsonl").open("a")
    step, ema, val_loss, stopped = 0, None, float("nan"), "budget"
    t_loop, t_last = time.perf_counter(), time.perf_counter()
    net.train()
    while step < cfg.steps:
        if (time.perf_counter() - t_loop) / 60 > cfg.max_minutes:
            stopped = "time"
            log(f"stopping: wall-clock budget of {cfg.max_minutes} min reached")
            break
        for group in opt.param_groups:
            group["lr"] = _lr(cfg, step)
        x, y = _batch(rng, inks, parts, cfg.batch)
        loss = F.cross_entropy(net(x.to(device)), y.to(device), weight=weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        value = loss.item()
        ema = value if ema is None else 0.95 * ema + 0.05 * value
        if progress is not None:
            progress(step, cfg.steps)
        if step % cfg.log_every == 0 or step == cfg.steps:
            if step % (cfg.log_every * 4) == 0 or step == cfg.steps:
                val_loss = evaluate()
            elapsed = time.perf_counter() - t_loop
            rec = {
                "step": step,
                "loss": value,
                "ema": ema,
                "val": val_loss,
                "lr": _lr(cfg, step),
                "elapsed": elapsed,
            }
            logfile.write(json.dumps(rec) + "\n")
            logfile.flush()
            ms = (time.perf_counter() - t_last) / cfg.log_every * 1000
            t_last = time.perf_counter()
            log(f"step {step} | train {ema:.4f} | val {val_loss:.4f} | {ms:.0f} ms/step")
        if step % cfg.checkpoint_every == 0:
            parts_model.save(net, out / "checkpoint.safetensors", extra={"step": str(step)})
    logfile.close()
    val_loss = evaluate()
    seconds = time.perf_counter() - t_start
    weights = out / "parts.safetensors"
    extra = {
        "steps": str(step),
        "seconds": f"{seconds:.0f}",
        "train_loss": f"{ema or 0:.5f}",
        "val_loss": f"{val_loss:.5f}",
        "stopped": stopped,
        "train_config": json.dumps(asdict(cfg)),
    }
    parts_model.save(net, weights, extra=extra)
    parts_model.save(net, out / "checkpoint.safetensors", extra={"step": str(step)})
    result = PartsTrainResult(step, seconds, stopped, float(ema or 0), val_loss, str(weights))
    (out / "summary.json").write_text(json.dumps(asdict(result), indent=2))
    return result


def held_out_iou(model: PartsModel, *, count: int = 200, size: int = 256) -> dict[str, float]:
    """IoU per part (and "mean") of a loaded model on `count` held-out generated characters."""
    total = np.zeros((len(PART_NAMES), 2), np.int64)
    for i in range(count):
        c = make_character(seed=HELD_OUT_SEED * 100_003 + i, size=size)
        total += part_iou(model.part_map(c.drawing), c.parts)
    iou = {name: float(total[k, 0] / max(1, total[k, 1])) for k, name in enumerate(PART_NAMES)}
    iou["mean"] = float(np.mean([iou[n] for n in PART_NAMES]))
    return iou


__all__ += ["held_out_iou"]
