"""Train the colorizer: config, seed, data, model, optimizer, one loop with eval, checkpoints and a loss log.

Loss = L1 (per pixel) + L1 (per region mean) + style_weight * MSE style loss [+ adv_weight * LSGAN loss
from a patch discriminator]. Training stops when the smoothed training loss stays under `stop_loss` for
`stop_window` steps, or at the step budget. Everything needed to resume sits in the output folder:
`checkpoint.safetensors` (net), `optimizer.pt` (tensors only, loaded with weights_only=True),
`state.json` (step, RNG states, elapsed time) and `losses.jsonl` (one line per logged step).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from pipeline.models import colorizer as colorizer_model
from pipeline.models.colorizer import ColorizerConfig, ColorizerNet
from pipeline.models.common import resolve_device
from pipeline.models.discriminator import PatchDiscriminator
from pipeline.train.colorizer_data import DEFAULT_DATA, Batch, generated_examples, load_openmoji, make_batch
from pipeline.train.losses import StyleLoss, adversarial_d, adversarial_g, region_l1
from pipeline.train.schedule import warmup_cosine

__all__ = ["TrainConfig", "TrainResult", "colorizer_loss", "train_colorizer"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on; stored in state.json and in the final weights' metadata."""

    out: str
    steps: int = 1800
    batch: int = 12
    crop: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 100
    seed: int = 0
    generated: int = 1500  # generated characters in the pool (seeds from `seed`)
    openmoji_limit: int | None = None  # None = the whole train split
    openmoji_share: float = 0.5  # share of batch samples drawn from OpenMoji
    data: str = str(DEFAULT_DATA)
    region_weight: float = 1.0
    style_weight: float = 1.0
    adv_weight: float = 0.0  # > 0 trains a patch discriminator alongside
    stop_loss: float = 0.0  # 0 = never stop early
    stop_window: int = 200
    eval_every: int = 250
    checkpoint_every: int = 500
    log_every: int = 25
    threads: int = 1  # on 2 loaded cores 1 thread trained 5x faster than 2
    device: str = "auto"
    model: ColorizerConfig = field(default_factory=ColorizerConfig)


@dataclass
class TrainResult:
    """What a finished run reports (also written to summary.json)."""

    steps: int
    seconds: float
    stopped: str  # "threshold" or "budget"
    train_loss: float
    val_loss: float
    weights: str


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


def train_colorizer(
    cfg: TrainConfig,
    *,
    log: Callable[[str], None] = print,
    progress: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Run (or resume) a training run into cfg.out; returns the final figures."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    amp = device.type == "cuda"
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
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
    step, elapsed, under = 0, 0.0, 0
    ema: float | None = None
    state_path = out / "state.json"
    if state_path.exists():  # resume
        from safetensors.torch import load_file

        state = json.loads(state_path.read_text())
        net.load_state_dict(load_file(str(out / "checkpoint.safetensors")))
        optim = torch.load(out / "optimizer.pt", weights_only=True)
        opt.load_state_dict(optim["net"])
        if disc is not None and "disc" in optim:
            disc.load_state_dict(optim["disc"])
            opt_d.load_state_dict(optim["opt_d"])
        rng.bit_generator.state = state["rng"]
        step, elapsed, under, ema = state["step"], state["elapsed"], state["under"], state["ema"]
        log(f"resumed at step {step}")
    n_params = sum(p.numel() for p in net.parameters())
    log(f"model: {n_params:,} parameters on {device}{' (mixed precision)' if amp else ''}")

    def save_checkpoint() -> None:
        colorizer_model.save(net, out / "checkpoint.safetensors", extra={"step": str(step)})
        optim = {"net": opt.state_dict()}
        if disc is not None:
            optim |= {"disc": disc.state_dict(), "opt_d": opt_d.state_dict()}
        torch.save(optim, out / "optimizer.pt")
        state = {
            "step": step,
            "elapsed": elapsed,
            "under": under,
            "ema": ema,
            "rng": rng.bit_generator.state,
            "config": asdict(cfg),
        }
        state_path.write_text(json.dumps(state))

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

    stopped, val_loss = "budget", float("nan")
    logfile = (out / "losses.jsonl").open("a")
    t_last = time.perf_counter()
    net.train()
    while step < cfg.steps:
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = _lr(cfg, step)
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
        step += 1
        elapsed += time.perf_counter() - t0
        value = loss.item()
        ema = value if ema is None else 0.98 * ema + 0.02 * value
        under = under + 1 if cfg.stop_loss > 0 and ema < cfg.stop_loss else 0
        if progress is not None:
            progress(step, cfg.steps)
        if step % cfg.log_every == 0 or step == cfg.steps:
            record = {"step": step, "loss": value, "ema": ema, "lr": _lr(cfg, step - 1), "elapsed": elapsed}
            record |= parts
            if step % cfg.eval_every == 0 or step == cfg.steps:
                val_loss = evaluate()
                record["val"] = val_loss
            logfile.write(json.dumps(record) + "\n")
            logfile.flush()
            ms = (time.perf_counter() - t_last) / cfg.log_every * 1000
            t_last = time.perf_counter()
            log(f"step {step} | train {ema:.4f} | val {val_loss:.4f} | {ms:.0f} ms")
        if step % cfg.checkpoint_every == 0:
            save_checkpoint()
        if cfg.stop_loss > 0 and under >= cfg.stop_window:
            stopped = "threshold"
            log(f"stopping: smoothed loss under {cfg.stop_loss} for {cfg.stop_window} steps")
            break
    logfile.close()
    val_loss = evaluate()
    save_checkpoint()
    weights = out / "colorizer.safetensors"
    colorizer_model.save(
        net,
        weights,
        extra={
            "steps": str(step),
            "seconds": f"{elapsed:.0f}",
            "train_loss": f"{ema:.5f}",
            "val_loss": f"{val_loss:.5f}",
            "stopped": stopped,
            "train_config": json.dumps(asdict(cfg)),
        },
    )
    result = TrainResult(
        steps=step,
        seconds=elapsed,
        stopped=stopped,
        train_loss=float(ema or 0),
        val_loss=val_loss,
        weights=str(weights),
    )
    (out / "summary.json").write_text(json.dumps(asdict(result), indent=2))
    return result
