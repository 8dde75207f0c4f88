"""Train the part segmentation model on generated characters (`pipeline.train.characters`, part labels).

Data: a pool of generated characters (seeds `seed * 100003 + i`), kept as line ink and part labels;
each step draws a batch, applies a seeded random affine (scale 0.7-1.1, shift, small rotation, flip) and
trains weighted cross-entropy (class weights 1/sqrt(frequency), so small parts such as eyes count).
The shared loop (loop.py) runs it: stop rule, checkpoints, resume, log; the final weights are
`parts.safetensors` in the run folder. `part_iou` is the held-out measure the model card and
`bench/prompts.py` report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from pipeline.models import parts as parts_model
from pipeline.models.colorizer import ink_of
from pipeline.models.parts import (
    PART_NAMES,
    PartsConfig,
    PartsModel,
    PartsNet,
    encode_parts_input,
)
from pipeline.train import loop
from pipeline.train.characters import PARTS, make_character
from pipeline.train.loop import TrainResult
from pipeline.train.schedule import warmup_cosine

__all__ = ["TrainConfig", "TrainResult", "make_pool", "part_iou", "train", "held_out_iou", "HELD_OUT_SEED"]

HELD_OUT_SEED = 424242  # bench / model card characters: seeds 424242 * 100003 + i, never trained on
assert tuple(PARTS) == PART_NAMES


@dataclass(frozen=True)
class TrainConfig(loop.LoopConfig):
    """Everything a run depends on; stored in the weights' metadata and summary.json."""

    out: str = "runs/parts"
    steps: int = 2000
    max_minutes: float = 55.0
    batch: int = 10
    seed: int = 5
    characters: int = 2000
    size: int = 256
    checkpoint_every: int = 250
    device: str = "cpu"
    model: PartsConfig = field(default_factory=PartsConfig)


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


def _lr(cfg: TrainConfig, step: int) -> float:
    """Linear warmup, then cosine decay to 5% of lr at the step budget."""
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return warmup_cosine(step, lr=cfg.lr, warmup=cfg.warmup, progress=progress, floor=0.05)


def train(
    cfg: TrainConfig,
    *,
    log: Callable[[str], None] = print,
    progress: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Train (or resume) into cfg.out; returns the final figures (the weights are out/parts.safetensors)."""
    device, rng = loop.start(cfg)
    t_start = time.perf_counter()
    inks, parts = make_pool(seed=cfg.seed, count=cfg.characters, size=cfg.size)
    val_inks, val_parts = make_pool(seed=cfg.seed + 7919, count=24, size=cfg.size)
    log(f"data: {len(inks)} train + {len(val_inks)} val characters ({time.perf_counter() - t_start:.0f} s)")
    freq = np.bincount(parts.ravel(), minlength=len(PART_NAMES)).astype(np.float64) + 1
    weight = torch.tensor(np.clip(np.sqrt(freq.max() / freq), 1, 20), dtype=torch.float32, device=device)
    net = PartsNet(cfg.model).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    val_rng = np.random.default_rng(cfg.seed + 1)
    val_batches = [_batch(val_rng, val_inks, val_parts, 8, augment=False) for _ in range(3)]

    def train_step(step: int) -> tuple[float, dict[str, float]]:
        x, y = _batch(rng, inks, parts, cfg.batch)
        loss = F.cross_entropy(net(x.to(device)), y.to(device), weight=weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        return loss.item(), {}

    @torch.no_grad()
    def evaluate() -> float:
        net.eval()
        total = sum(
            float(F.cross_entropy(net(x.to(device)), y.to(device), weight=weight)) for x, y in val_batches
        )
        net.train()
        return total / len(val_batches)

    def save_net(path: Path, notes: dict[str, str]) -> None:
        parts_model.save(net, path, extra=notes)

    result = loop.run(
        cfg,
        net=net,
        optimizer=opt,
        rng=rng,
        train_step=train_step,
        evaluate=evaluate,
        lr_at=lambda step: _lr(cfg, step),
        save_net=save_net,
        log=log,
        progress=progress,
    )
    return loop.finish(result, cfg, weights=Path(cfg.out) / "parts.safetensors", save_net=save_net)


def held_out_iou(model: PartsModel, *, count: int = 200, size: int = 256) -> dict[str, float]:
    """IoU per part (and "mean") of a loaded model on `count` held-out generated characters."""
    total = np.zeros((len(PART_NAMES), 2), np.int64)
    for i in range(count):
        c = make_character(seed=HELD_OUT_SEED * 100_003 + i, size=size)
        total += part_iou(model.part_map(c.drawing), c.parts)
    iou = {name: float(total[k, 0] / max(1, total[k, 1])) for k, name in enumerate(PART_NAMES)}
    iou["mean"] = float(np.mean([iou[n] for n in PART_NAMES]))
    return iou
