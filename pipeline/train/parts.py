"""Train the part segmentation model on generated characters (`pipeline.train.characters`, part labels).

Data: a pool of generated characters (seeds `seed * 100003 + i`), kept as line ink and part labels;
each step draws a batch, applies a seeded random affine (scale 0.7-1.1, shift, small rotation, flip) and
trains weighted cross-entropy (class weights 1/sqrt(frequency), so small parts such as eyes count).
The shared loop (loop.py) runs it: stop rule, checkpoints, resume, log; the final weights are
`parts.safetensors` in the run folder. `part_iou` is the held-out measure the model card and
`bench/prompts.py` report.

With `real_labels` (issue 18, item 6) each step also draws `real_batch` OpenMoji train-split drawings with
their skin/hair labels (`parts_real`), augmented the same way, in the same forward pass; their loss
(`real_part_loss`, weight `real_weight`) supervises only skin, hair and "not skin or hair". Every 7th
labelled drawing is held out: its loss joins the validation loss and its skin/hair IoU is logged, so the
test split is never looked at. `init` starts from a weights file (fine-tuning the shipped model).
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
from pipeline.models.common import load_net
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
from pipeline.train.parts_real import (
    LABELLED,
    load_real_parts,
    mask_lines,
    real_part_loss,
    split_held_out,
)
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
    init: str = ""  # weights file to start from ("" = random init)
    real_labels: str = ""  # openmoji_parts output folder ("" = generated characters only)
    real_data: str = ""  # the OpenMoji set with the line drawings ("" = openmoji_parts.DEFAULT_DATA)
    real_batch: int = 4
    real_weight: float = 1.0


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


def _batch(
    rng: np.random.Generator,
    inks: np.ndarray,
    parts: np.ndarray,
    n: int,
    *,
    augment: bool = True,
    real: bool = False,
    pick: np.ndarray | None = None,
):
    """(x, y) tensors of n examples (of `pick` indices if given); real: line pixels -> IGNORE."""
    xs, ys = [], []
    for i in rng.integers(len(inks), size=n) if pick is None else pick:
        ink, lab = _augment(rng, inks[i], parts[i]) if augment else (inks[i], parts[i])
        xs.append(encode_parts_input(ink.astype(np.float32) / 255.0))
        ys.append((mask_lines(ink, lab) if real else lab).astype(np.int64))
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def _real_pools(cfg: TrainConfig, log: Callable[[str], None]):
    """(train inks, train labels, held-out inks, held-out labels) of the real labels, or None."""
    if not cfg.real_labels:
        return None
    from pipeline.train.openmoji_parts import DEFAULT_DATA

    names, inks, labels = load_real_parts(cfg.real_labels, cfg.real_data or DEFAULT_DATA, size=cfg.size)
    train_idx, held_idx = split_held_out(len(names))
    log(f"real labels: {len(train_idx)} train + {len(held_idx)} held-out OpenMoji train-split drawings")
    return inks[train_idx], labels[train_idx], inks[held_idx], labels[held_idx]


def _init_net(cfg: TrainConfig) -> PartsNet:
    """A new net, or the one in cfg.init (its config must match cfg.model)."""
    if not cfg.init:
        return PartsNet(cfg.model)
    net, _ = load_net(cfg.init, model="parts", config_cls=PartsConfig, net_cls=PartsNet)
    if net.config != cfg.model:
        raise ValueError(f"{cfg.init} has config {net.config}, not {cfg.model}")
    return net


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
    real = _real_pools(cfg, log)
    net = _init_net(cfg).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    val_rng = np.random.default_rng(cfg.seed + 1)
    val_batches = [_batch(val_rng, val_inks, val_parts, 8, augment=False) for _ in range(3)]
    real_val = []
    if real is not None:
        held = np.arange(len(real[2]))
        real_val = [
            _batch(val_rng, real[2], real[3], 0, augment=False, real=True, pick=held[i : i + 8])
            for i in range(0, len(held), 8)
        ]

    def train_step(step: int) -> tuple[float, dict[str, float]]:
        x, y = _batch(rng, inks, parts, cfg.batch)
        if real is None:
            loss = F.cross_entropy(net(x.to(device)), y.to(device), weight=weight)
            parts_log = {}
        else:
            xr, yr = _batch(rng, real[0], real[1], cfg.real_batch, real=True)
            logits = net(torch.cat([x, xr]).to(device))
            gen = F.cross_entropy(logits[: len(x)], y.to(device), weight=weight)
            rl = real_part_loss(logits[len(x) :], yr.to(device))
            loss = gen + cfg.real_weight * rl
            parts_log = {"generated": gen.item(), "real": rl.item()}
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        return loss.item(), parts_log

    @torch.no_grad()
    def evaluate() -> float:
        net.eval()
        total = sum(
            float(F.cross_entropy(net(x.to(device)), y.to(device), weight=weight)) for x, y in val_batches
        )
        total /= len(val_batches)
        if real_val:
            counts, rl = np.zeros((len(PART_NAMES), 2), np.int64), 0.0
            for x, y in real_val:
                logits = net(x.to(device))
                rl += float(real_part_loss(logits, y.to(device))) / len(real_val)
                pred, keep = logits.argmax(1).cpu().numpy(), y.numpy() != 255
                counts += part_iou(pred[keep], y.numpy()[keep])
            iou = " ".join(f"{PART_NAMES[k]} {counts[k, 0] / max(1, counts[k, 1]):.3f}" for k in LABELLED)
            log(f"held-out real: loss {rl:.4f} | IoU {iou}")
            total += cfg.real_weight * rl
        net.train()
        return total

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
