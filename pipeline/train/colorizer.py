"""Train the colorizer: its data, net, loss and one training step, run by the shared loop (loop.py).

Loss = L1 (per pixel) + L1 (per region mean) + style_weight * MSE style loss [+ adv_weight * LSGAN loss
from a patch discriminator]. Stop rule, checkpoints, resume and the log are the loop's: the output folder
holds `checkpoint.safetensors`, `optimizer.pt`, `state.json`, `losses.jsonl`, `summary.json` and the final
`colorizer.safetensors`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from pipeline.models import colorizer as colorizer_model
from pipeline.models.colorizer import ColorizerConfig, ColorizerNet
from pipeline.models.discriminator import PatchDiscriminator
from pipeline.train import loop
from pipeline.train.colorizer_data import DEFAULT_DATA, Batch, generated_examples, load_openmoji, make_batch
from pipeline.train.loop import TrainResult
from pipeline.train.losses import StyleLoss, adversarial_d, adversarial_g, region_l1
from pipeline.train.schedule import warmup_cosine

__all__ = ["TrainConfig", "TrainResult", "colorizer_loss", "train"]


@dataclass(frozen=True)
class TrainConfig(loop.LoopConfig):
    """Everything a run depends on; stored in state.json and in the final weights' metadata."""

    out: str = "runs/colorizer"
    steps: int = 1800
    batch: int = 12
    crop: int = 128
    lr: float = 2e-3
    warmup: int = 100
    eval_every: int = 250
    generated: int = 1500  # generated characters in the pool (seeds from `seed`)
    openmoji_limit: int | None = None  # None = the whole train split
    openmoji_share: float = 0.5  # share of batch samples drawn from OpenMoji
    data: str = str(DEFAULT_DATA)
    region_weight: float = 1.0
    style_weight: float = 1.0
    adv_weight: float = 0.0  # > 0 trains a patch discriminator alongside
    model: ColorizerConfig = field(default_factory=ColorizerConfig)


def _tensors(batch: Batch, device: torch.device) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(a).to(device) for a in (batch.x, batch.target, batch.weight, batch.owner))


def _lr(cfg: TrainConfig, step: int) -> float:
    """Linear warmup, then cosine decay to 10% of lr at the budget."""
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return warmup_cosine(step, lr=cfg.lr, warmup=cfg.warmup, progress=progress, floor=0.1)


def colorizer_loss(
    net: ColorizerNet, style: StyleLoss, batch: tuple[torch.Tensor, ...], cfg: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
    """(total loss, predicted rgb (B, 3, H, W), loss parts for the log)."""
    x, target, weight, owner = batch
    out, l1 = net(x, target, weight)
    rgb = out[:, :3].float()
    rl1 = region_l1(rgb, target, weight, owner)
    st = style(rgb * (weight > 0), target * (weight > 0))
    total = l1 + cfg.region_weight * rl1 + cfg.style_weight * st
    return total, rgb, {"l1": l1.item(), "region_l1": rl1.item(), "style": st.item()}


def _load_pools(cfg: TrainConfig, log: Callable[[str], None]) -> tuple[list, list, list]:
    """Train pools (OpenMoji train minus a 5% validation slice, generated) and a fixed validation pool."""
    t0 = time.perf_counter()
    openmoji = load_openmoji(Path(cfg.data), split="train", limit=cfg.openmoji_limit)
    n_val = max(1, len(openmoji) // 20)
    generated = list(generated_examples(seed=cfg.seed + 1, count=cfg.generated))
    val = openmoji[:n_val] + list(generated_examples(seed=cfg.seed + 7919, count=max(4, cfg.generated // 20)))
    log(
        f"data: {len(openmoji) - n_val} openmoji + {len(generated)} generated, {len(val)} val "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    return openmoji[n_val:], generated, val


def train(
    cfg: TrainConfig,
    *,
    log: Callable[[str], None] = print,
    progress: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Run (or resume) a training run into cfg.out; returns the final figures."""
    device, rng = loop.start(cfg)
    amp = device.type == "cuda"
    om_pool, gen_pool, val_pool = _load_pools(cfg, log)
    val_rng = np.random.default_rng(cfg.seed + 1)
    val_batches = [
        make_batch(val_rng, pools=[val_pool], shares=[1], batch=cfg.batch, crop=cfg.crop) for _ in range(4)
    ]
    net = ColorizerNet(cfg.model).to(device)
    style = StyleLoss(seed=cfg.seed).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    disc = PatchDiscriminator().to(device) if cfg.adv_weight > 0 else None
    opt_d = torch.optim.AdamW(disc.parameters(), lr=cfg.lr / 2, betas=(0.5, 0.999)) if disc else None
    scaler = torch.amp.GradScaler("cuda", enabled=amp)

    def train_step(step: int) -> tuple[float, dict[str, float]]:
        batch = make_batch(
            rng,
            pools=[om_pool, gen_pool],
            shares=[cfg.openmoji_share, 1 - cfg.openmoji_share],
            batch=cfg.batch,
            crop=cfg.crop,
        )
        tensors = _tensors(batch, device)
        x, target = tensors[0], tensors[1]
        with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
            loss, rgb, parts = colorizer_loss(net, style, tensors, cfg)
            if disc is not None:
                adv = adversarial_g(disc(x, rgb))
                loss = loss + cfg.adv_weight * adv
                parts["adv"] = adv.item()
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        if disc is not None:
            with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
                d_loss = adversarial_d(disc(x, target), disc(x, rgb.detach()))
            opt_d.zero_grad(set_to_none=True)
            scaler.scale(d_loss).backward()
            scaler.step(opt_d)
            scaler.update()
            parts["disc"] = d_loss.item()
        return loss.item(), parts

    @torch.no_grad()
    def evaluate() -> float:
        net.eval()
        total = 0.0
        for b in val_batches:
            with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
                loss, _, _ = colorizer_loss(net, style, _tensors(b, device), cfg)
            total += float(loss)
        net.train()
        return total / len(val_batches)

    def save_net(path: Path, notes: dict[str, str]) -> None:
        colorizer_model.save(net, path, extra=notes)

    result = loop.run(
        cfg,
        net=net,
        optimizer=opt,
        rng=rng,
        train_step=train_step,
        evaluate=evaluate,
        lr_at=lambda step: _lr(cfg, step),
        save_net=save_net,
        stateful={"disc": disc, "opt_d": opt_d} if disc is not None else None,
        log=log,
        progress=progress,
    )
    return loop.finish(result, cfg, weights=Path(cfg.out) / "colorizer.safetensors", save_net=save_net)
