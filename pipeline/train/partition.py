"""Training of the partition model: degraded colored images in, true boundaries and flat colors as targets.

Data: the `train` split of ../shared/data/openmoji (never `test`) plus procedural characters from
`pipeline.train.characters`, each randomly rescaled, degraded (`pipeline.train.degrade`: cel shading,
highlights, gradients, texture, noise, blur, JPEG), cropped, flipped and channel-permuted. Targets: the
boundary map (line pixels plus a 2 px band where two flat colors meet) and the flat color of every non-line
pixel. Loss (`PartitionNet.forward`): L1 + MSE on boundary probabilities and on flat colors, plus a
class-balanced BCE on boundaries. The shared loop (loop.py) runs it: stop rule, checkpoints, resume and the
log; the final weights, with the model card in their metadata, are `partition.safetensors` in the run
folder. Training reads files (the data set) and writes them (the run folder); the rest of `pipeline` does
neither.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from pipeline.images import decode_label_map
from pipeline.models.partition import PartitionConfig, PartitionNet, save
from pipeline.regions import assign_line_pixels
from pipeline.train import loop
from pipeline.train.degrade import degrade
from pipeline.train.loop import TrainResult
from pipeline.train.schedule import warmup_cosine

__all__ = ["TrainConfig", "TrainResult", "Sample", "boundary_target", "load_openmoji", "make_batch", "train"]


@dataclass(frozen=True)
class TrainConfig(loop.LoopConfig):
    """Everything a run depends on; stored in the model card."""

    data: str = "../shared/data/openmoji"
    out: str = "runs/partition"
    model: PartitionConfig = field(default_factory=PartitionConfig)
    seed: int = 6
    crop: int = 128
    batch: int = 12
    steps: int = 4000
    max_minutes: float = 40.0
    warmup: int = 100
    val_count: int = 48  # train-split drawings held out for the eval loss (never the test split)
    characters: int = 400  # procedural characters rendered once at start
    character_share: float = 0.3
    clean_share: float = 0.15
    scale_range: tuple[float, float] = (0.8, 1.6)
    device: str = "cpu"


@dataclass
class Sample:
    """One training drawing at its native size."""

    colored: np.ndarray  # (H, W, 3) uint8
    regions: np.ndarray  # (H, W) int32, 0 = line
    colors: np.ndarray  # (N + 1, 3) uint8 flat color per region id (row 0 unused)


def boundary_target(regions: np.ndarray) -> np.ndarray:
    """(H, W) float32: 1 on line pixels and on both sides of every edge between two regions."""
    edge = regions == 0
    for a, b, sa, sb in (
        (regions[:, :-1], regions[:, 1:], np.s_[:, :-1], np.s_[:, 1:]),
        (regions[:-1, :], regions[1:, :], np.s_[:-1, :], np.s_[1:, :]),
    ):
        differ = (a != b) & (a > 0) & (b > 0)
        edge[sa] |= differ
        edge[sb] |= differ
    return edge.astype(np.float32)


def load_openmoji(root: Path, *, split: str = "train") -> list[Sample]:
    """Every drawing of one split as Samples (region colors from index.json)."""
    if split == "test":
        raise ValueError("the test split is for benchmarks only; train on 'train'.")
    items = [i for i in json.loads((root / "index.json").read_text())["items"] if i["split"] == split]
    samples = []
    for item in items:
        folder = root / split
        bgr = cv2.imread(str(folder / f"{item['name']}_color.png"), cv2.IMREAD_COLOR)
        regions = decode_label_map((folder / f"{item['name']}_regions.png").read_bytes(), name=item["name"])
        colors = np.zeros((len(item["regions"]) + 1, 3), np.uint8)
        for r in item["regions"]:
            colors[r["id"]] = [int(r["color"][i : i + 2], 16) for i in (1, 3, 5)]
        samples.append(Sample(colored=bgr[..., ::-1].copy(), regions=regions.astype(np.int32), colors=colors))
    return samples


def make_characters(count: int, *, seed: int) -> list[Sample]:
    """Procedural characters (helper module `pipeline.train.characters`) as Samples."""
    from pipeline.train.characters import make_character

    out = []
    for i in range(count):
        c = make_character(seed=seed * 100_000 + i, size=256)
        colors = np.zeros((int(c.regions.max()) + 1, 3), np.uint8)
        for rid, rgb in c.region_colors.items():
            colors[rid] = rgb
        out.append(
            Sample(colored=c.colored[..., :3].copy(), regions=c.regions.astype(np.int32), colors=colors)
        )
    return out


def _example(s: Sample, *, cfg: TrainConfig, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """One augmented crop: image (3, c, c) 0..1, boundary (1, c, c), flat (3, c, c), valid (1, c, c)."""
    scale = rng.uniform(*cfg.scale_range)
    height, width = s.regions.shape
    size = (max(cfg.crop, round(width * scale)), max(cfg.crop, round(height * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    colored = cv2.resize(s.colored, size, interpolation=interp)
    regions = cv2.resize(s.regions, size, interpolation=cv2.INTER_NEAREST)
    y = rng.integers(0, size[1] - cfg.crop + 1)
    x = rng.integers(0, size[0] - cfg.crop + 1)
    colored = colored[y : y + cfg.crop, x : x + cfg.crop]
    regions = regions[y : y + cfg.crop, x : x + cfg.crop]
    if rng.random() >= cfg.clean_share:  # degrade the crop only, in units of the whole drawing
        colored = degrade(colored, labels=assign_line_pixels(regions), rng=rng, size=max(size))
    flat = s.colors[regions]
    perm = rng.permutation(3)  # channel permutation: hue-independent boundaries
    colored, flat = colored[..., perm], flat[..., perm]
    if rng.random() < 0.5:
        colored, flat, regions = colored[:, ::-1], flat[:, ::-1], regions[:, ::-1]
    if rng.random() < 0.5:
        colored, flat, regions = colored.swapaxes(0, 1), flat.swapaxes(0, 1), regions.swapaxes(0, 1)
    image = np.ascontiguousarray(colored.transpose(2, 0, 1), np.float32) / 255.0
    flat = np.ascontiguousarray(flat.transpose(2, 0, 1), np.float32) / 255.0
    regions = np.ascontiguousarray(regions)
    return image, boundary_target(regions)[None], flat, (regions > 0).astype(np.float32)[None]


def make_batch(
    pool: list[Sample], extra: list[Sample], *, cfg: TrainConfig, rng: np.random.Generator
) -> tuple[torch.Tensor, ...]:
    """A batch of `cfg.batch` examples; a share `cfg.character_share` comes from `extra` when given."""
    examples = []
    for _ in range(cfg.batch):
        source = extra if extra and rng.random() < cfg.character_share else pool
        examples.append(_example(source[rng.integers(len(source))], cfg=cfg, rng=rng))
    return tuple(torch.from_numpy(np.stack(parts)) for parts in zip(*examples, strict=True))


def _lr(step: int, cfg: TrainConfig, *, minutes: float) -> float:
    """Linear warm-up, then cosine decay to 5% over the step or time budget, whichever runs out first
    (on a shared CPU the time budget usually does)."""
    progress = max(step / cfg.steps, minutes / cfg.max_minutes)
    return warmup_cosine(step, lr=cfg.lr, warmup=cfg.warmup, progress=progress, floor=0.05)


@torch.no_grad()
def _eval_loss(model: PartitionNet, batches: list[tuple[torch.Tensor, ...]], device: torch.device) -> float:
    model.eval()
    total = 0.0
    for x, b, f, v in batches:
        _, loss = model(x.to(device), boundary=b.to(device), flat=f.to(device), valid=v.to(device))
        total += float(loss)
    model.train()
    return total / len(batches)


def train(
    cfg: TrainConfig,
    *,
    log: Callable[[str], None] = print,
    progress: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Train (or resume) into cfg.out; the weights, with a model card, are out/partition.safetensors."""
    device, rng = loop.start(cfg)
    t_start = time.perf_counter()
    samples = load_openmoji(Path(cfg.data), split="train")
    order = rng.permutation(len(samples))
    val = [samples[i] for i in order[: cfg.val_count]]
    pool = [samples[i] for i in order[cfg.val_count :]]
    extra = make_characters(cfg.characters, seed=cfg.seed) if cfg.characters else []
    val_rng = np.random.default_rng(cfg.seed + 1)
    val_batches = [make_batch(val, [], cfg=cfg, rng=val_rng) for _ in range(6)]
    log(
        f"data: {len(pool)} train drawings, {len(val)} val, {len(extra)} characters "
        f"({time.perf_counter() - t_start:.0f} s)"
    )
    model = PartitionNet(cfg.model).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler(enabled=use_amp)
    t_loop = time.perf_counter()

    def train_step(step: int) -> tuple[float, dict[str, float]]:
        x, b, f, v = (t.to(device) for t in make_batch(pool, extra, cfg=cfg, rng=rng))
        with torch.autocast(device_type="cuda", dtype=torch.float16, enabled=use_amp):
            _, loss = model(x, boundary=b, flat=f, valid=v)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return float(loss.detach()), {}

    def save_net(path: Path, notes: dict[str, str]) -> None:
        card = {
            "model": "partition",
            "data": f"openmoji train split ({len(pool)} drawings, {len(val)} held out for val) + "
            f"{len(extra)} procedural characters; degradations from pipeline/train/degrade.py",
            "params": sum(p.numel() for p in model.parameters()),
            **notes,
        }
        save(model, path, card=card)

    result = loop.run(
        cfg,
        net=model,
        optimizer=opt,
        rng=rng,
        train_step=train_step,
        evaluate=lambda: _eval_loss(model, val_batches, device),
        lr_at=lambda step: _lr(step, cfg, minutes=(time.perf_counter() - t_loop) / 60),
        save_net=save_net,
        log=log,
        progress=progress,
    )
    return loop.finish(result, cfg, weights=Path(cfg.out) / "partition.safetensors", save_net=save_net)
