"""Training of the partition model: degraded colored images in, true boundaries and flat colors as targets.

Data: the `train` split of ../shared/data/openmoji (never `test`) plus procedural characters from
`pipeline.train.characters`, each randomly rescaled, degraded (`pipeline.train.degrade`: cel shading,
highlights, gradients, texture, noise, blur, JPEG), cropped, flipped and channel-permuted. Targets: the
boundary map (line pixels plus a 2 px band where two flat colors meet) and the flat color of every non-line
pixel. Loss (`PartitionNet.forward`): L1 + MSE on boundary probabilities and on flat colors, plus a
class-balanced BCE on boundaries. The loop reads like nanoGPT's train.py: config, seed, data, model,
optimizer, one `while` with an eval every N steps and a one-line log, stopping at the loss threshold or
the step budget (or the time budget). This is the one part of `pipeline` that reads files.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from pipeline.images import decode_label_map
from pipeline.models.partition import PartitionConfig, PartitionNet, save
from pipeline.regions import assign_line_pixels
from pipeline.train.degrade import degrade
from pipeline.train.schedule import warmup_cosine

__all__ = ["TrainConfig", "Sample", "boundary_target", "load_openmoji", "make_batch", "train"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on; stored in the model card."""

    data: str = "../shared/data/openmoji"
    out: str = "pipeline/models/weights/partition.safetensors"
    model: PartitionConfig = field(default_factory=PartitionConfig)
    seed: int = 6
    crop: int = 128
    batch: int = 12
    lr: float = 3e-3
    max_steps: int = 4000
    max_minutes: float = 40.0
    loss_threshold: float = 0.15  # eval loss (clean + degraded val drawings) to stop at
    eval_every: int = 100
    val_count: int = 48  # train-split drawings held out for the eval loss (never the test split)
    characters: int = 400  # procedural characters rendered once at start
    character_share: float = 0.3
    clean_share: float = 0.15
    scale_range: tuple[float, float] = (0.8, 1.6)
    threads: int = 1
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
    """Linear warm-up for 100 steps, then cosine decay to 5% over the step or time budget, whichever
    runs out first (on a shared CPU the time budget usually does)."""
    progress = max(step / cfg.max_steps, minutes / cfg.max_minutes)
    return warmup_cosine(step, lr=cfg.lr, warmup=100, progress=progress, floor=0.05)


@torch.no_grad()
def _eval_loss(model: PartitionNet, batches: list[tuple[torch.Tensor, ...]], device: str) -> float:
    model.eval()
    total = 0.0
    for x, b, f, v in batches:
        _, loss = model(x.to(device), boundary=b.to(device), flat=f.to(device), valid=v.to(device))
        total += float(loss)
    model.train()
    return total / len(batches)


def train(cfg: TrainConfig, *, log=print) -> dict:
    """Train, save the weights with a model card, and return the card."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
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
    model = PartitionNet(cfg.model).to(cfg.device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    use_amp = cfg.device.startswith("cuda")
    scaler = torch.amp.GradScaler(enabled=use_amp)
    step, val_loss, train_loss, history = 0, float("inf"), float("nan"), []
    t_loop = time.perf_counter()
    stop = "step budget"
    while step < cfg.max_steps:
        for group in opt.param_groups:
            group["lr"] = _lr(step, cfg, minutes=(time.perf_counter() - t_loop) / 60)
        t0 = time.perf_counter()
        x, b, f, v = (t.to(cfg.device) for t in make_batch(pool, extra, cfg=cfg, rng=rng))
        with torch.autocast(device_type="cuda", dtype=torch.float16, enabled=use_amp):
            _, loss = model(x, boundary=b, flat=f, valid=v)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        value = float(loss.detach())
        train_loss = value if math.isnan(train_loss) else 0.9 * train_loss + 0.1 * value
        step += 1
        if step % cfg.eval_every == 0 or step == cfg.max_steps:
            val_loss = _eval_loss(model, val_batches, cfg.device)
            history.append({"step": step, "train": round(train_loss, 4), "val": round(val_loss, 4)})
            ms = (time.perf_counter() - t0) * 1000
            log(f"step {step} | train {train_loss:.4f} | val {val_loss:.4f} | {ms:.0f} ms")
            if val_loss < cfg.loss_threshold:
                stop = "loss threshold"
                break
        if (time.perf_counter() - t_loop) / 60 > cfg.max_minutes:
            val_loss = _eval_loss(model, val_batches, cfg.device)
            history.append({"step": step, "train": round(train_loss, 4), "val": round(val_loss, 4)})
            stop = "time budget"
            break
    minutes = (time.perf_counter() - t_start) / 60
    card = {
        "model": "partition",
        "data": f"openmoji train split ({len(pool)} drawings, {len(val)} held out for val) + "
        f"{len(extra)} procedural characters; degradations from pipeline/train/degrade.py",
        "steps": step,
        "stopped_by": stop,
        "final_train_loss": round(train_loss, 4),
        "final_val_loss": round(val_loss, 4),
        "minutes": round(minutes, 1),
        "history": history,
        "train_config": {k: v for k, v in asdict(cfg).items() if k != "model"},
        "params": sum(p.numel() for p in model.parameters()),
    }
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save(model.cpu(), out, card=card)
    log(f"saved {out} after {step} steps ({stop}), val {val_loss:.4f}, {minutes:.1f} min")
    return card
