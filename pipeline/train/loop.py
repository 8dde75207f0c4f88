"""The one training loop every Tint model uses: stop rule, checkpoints, resume, seeded RNG, one-line log.

A model's training module (`colorizer`, `partition`, `parts`) builds its data, net and optimizer, then
hands `run` one function that takes a training step and one that measures the validation loss. The loop:

- stops at the step budget (`steps`), the wall-clock budget (`max_minutes`), or when the smoothed training
  loss has stayed under `stop_loss` for `stop_window` steps (0 turns that off), whichever comes first;
- logs `step 1200 | train 0.041 | val 0.045 | 38 ms` every `log_every` steps (validation every
  `eval_every`), and appends the same figures to `losses.jsonl`;
- every `checkpoint_every` steps and at the end writes `checkpoint.safetensors` (the net), `optimizer.pt`
  (optimizer and extra module state, tensors only, read back with weights_only=True) and `state.json`
  (step, time, smoothed loss, the RNG's state and the config), so the same call on the same folder resumes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["LoopConfig", "TrainResult", "start", "run", "finish"]

SMOOTHING = 0.98  # of the training loss the stop rule and the log read


@dataclass(frozen=True)
class LoopConfig:
    """The loop's part of every model's TrainConfig (each model's config adds its data and net fields)."""

    out: str = "runs/model"
    steps: int = 2000
    stop_loss: float = 0.0  # 0 = never stop early
    stop_window: int = 200
    max_minutes: float = 60.0
    lr: float = 3e-3
    warmup: int = 50
    weight_decay: float = 1e-4
    seed: int = 0
    log_every: int = 25
    eval_every: int = 100
    checkpoint_every: int = 500
    threads: int = 1  # on 2 loaded cores 1 thread trained several times faster than 2
    device: str = "auto"


@dataclass
class TrainResult:
    """What a finished run reports (also written to summary.json)."""

    steps: int
    seconds: float
    stopped: str  # "threshold", "budget" or "time"
    train_loss: float
    val_loss: float
    weights: str


@dataclass
class _State:
    step: int = 0
    elapsed: float = 0.0
    ema: float | None = None
    under: int = 0


def start(cfg: LoopConfig) -> tuple[torch.device, np.random.Generator]:
    """Threads and seeds for a run: torch seeded with cfg.seed; returns the device and the run's RNG."""
    from pipeline.models.common import resolve_device

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    return resolve_device(cfg.device), np.random.default_rng(cfg.seed)


def _save_checkpoint(
    out: Path,
    *,
    cfg: LoopConfig,
    state: _State,
    save_net: Callable[[Path, dict[str, str]], None],
    stateful: dict[str, Any],
    rng: np.random.Generator,
) -> None:
    save_net(out / "checkpoint.safetensors", {"step": str(state.step)})
    torch.save({name: obj.state_dict() for name, obj in stateful.items()}, out / "optimizer.pt")
    record = {**asdict(state), "rng": rng.bit_generator.state, "config": asdict(cfg)}
    (out / "state.json").write_text(json.dumps(record))


def _resume(
    out: Path, *, net: nn.Module, stateful: dict[str, Any], rng: np.random.Generator
) -> _State | None:
    path = out / "state.json"
    if not path.exists():
        return None
    from safetensors.torch import load_file

    record = json.loads(path.read_text())
    net.load_state_dict(load_file(str(out / "checkpoint.safetensors")))
    saved = torch.load(out / "optimizer.pt", weights_only=True)
    for name, obj in stateful.items():
        if name in saved:
            obj.load_state_dict(saved[name])
    rng.bit_generator.state = record["rng"]
    return _State(step=record["step"], elapsed=record["elapsed"], ema=record["ema"], under=record["under"])


def run(
    cfg: LoopConfig,
    *,
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
    train_step: Callable[[int], tuple[float, dict[str, float]]],
    evaluate: Callable[[], float],
    lr_at: Callable[[int], float],
    save_net: Callable[[Path, dict[str, str]], None],
    stateful: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
    progress: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Train `net` into cfg.out (resuming a run found there) and return the final figures.

    train_step(step) takes one optimizer step and returns (loss, loss parts for the log); evaluate()
    returns the validation loss with the net in eval mode; save_net(path, notes) writes the net's weights.
    `stateful` holds more state_dict owners to checkpoint (a discriminator and its optimizer).
    """
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    stateful = {"optimizer": optimizer, **(stateful or {})}
    state = _resume(out, net=net, stateful=stateful, rng=rng) or _State()
    if state.step:
        log(f"resumed at step {state.step}")
    log(f"model: {sum(p.numel() for p in net.parameters()):,} parameters")
    stopped, val_loss = "budget", float("nan")
    t_loop = t_last = time.perf_counter()
    net.train()
    with (out / "losses.jsonl").open("a") as losses:
        while state.step < cfg.steps:
            if cfg.max_minutes and (time.perf_counter() - t_loop) / 60 > cfg.max_minutes:
                stopped = "time"
                log(f"stopping: wall-clock budget of {cfg.max_minutes} min reached")
                break
            t0 = time.perf_counter()
            for group in optimizer.param_groups:
                group["lr"] = lr_at(state.step)
            value, parts = train_step(state.step)
            state.step += 1
            state.elapsed += time.perf_counter() - t0
            state.ema = value if state.ema is None else SMOOTHING * state.ema + (1 - SMOOTHING) * value
            state.under = state.under + 1 if cfg.stop_loss > 0 and state.ema < cfg.stop_loss else 0
            if progress is not None:
                progress(state.step, cfg.steps)
            last = state.step == cfg.steps
            if state.step % cfg.log_every == 0 or last:
                if state.step % cfg.eval_every == 0 or last:
                    val_loss = evaluate()
                record = {"step": state.step, "loss": value, "ema": state.ema, "val": val_loss}
                record |= {"lr": lr_at(state.step - 1), "elapsed": state.elapsed, **parts}
                losses.write(json.dumps(record) + "\n")
                losses.flush()
                ms = (time.perf_counter() - t_last) / cfg.log_every * 1000
                t_last = time.perf_counter()
                log(f"step {state.step} | train {state.ema:.4f} | val {val_loss:.4f} | {ms:.0f} ms")
            if state.step % cfg.checkpoint_every == 0:
                _save_checkpoint(out, cfg=cfg, state=state, save_net=save_net, stateful=stateful, rng=rng)
            if cfg.stop_loss > 0 and state.under >= cfg.stop_window:
                stopped = "threshold"
                log(f"stopping: smoothed loss under {cfg.stop_loss} for {cfg.stop_window} steps")
                break
    val_loss = evaluate()
    _save_checkpoint(out, cfg=cfg, state=state, save_net=save_net, stateful=stateful, rng=rng)
    return TrainResult(
        steps=state.step,
        seconds=state.elapsed,
        stopped=stopped,
        train_loss=float(state.ema or 0.0),
        val_loss=val_loss,
        weights="",
    )


def finish(
    result: TrainResult, cfg: LoopConfig, *, weights: Path, save_net: Callable[[Path, dict[str, str]], None]
) -> TrainResult:
    """Write the final weights (the run's figures and config in their metadata) and summary.json."""
    notes = {
        "steps": str(result.steps),
        "seconds": f"{result.seconds:.0f}",
        "train_loss": f"{result.train_loss:.5f}",
        "val_loss": f"{result.val_loss:.5f}",
        "stopped": result.stopped,
        "train_config": json.dumps(asdict(cfg)),
    }
    weights.parent.mkdir(parents=True, exist_ok=True)
    save_net(weights, notes)
    result.weights = str(weights)
    (Path(cfg.out) / "summary.json").write_text(json.dumps(asdict(result), indent=2))
    return result
