"""The training loop every model shares: its stop rules, its log and checkpoints, and resuming a run."""

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pipeline.train import loop


class Tiny(nn.Module):
    """A one-weight net."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))


def _run(cfg: loop.LoopConfig, losses=None):
    """Run the loop on a one-weight regression; `losses(step)` replaces the real loss when given.
    Returns (result, the values the run's RNG drew, one per step)."""
    net = Tiny()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    device, rng = loop.start(cfg)
    drawn = []

    def train_step(step: int):
        drawn.append(float(rng.random()))
        loss = (net.w - 3.0).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return (losses(step) if losses else loss.item()), {"part": 1.0}

    def save_net(path, notes):
        from safetensors.torch import save_file

        save_file(
            {k: v.detach().contiguous() for k, v in net.state_dict().items()}, str(path), metadata=notes
        )

    def evaluate() -> float:
        return float((net.w.detach() - 3.0).pow(2).sum())

    hooks = {"train_step": train_step, "evaluate": evaluate, "lr_at": lambda step: 0.1, "save_net": save_net}
    result = loop.run(cfg, net=net, optimizer=opt, rng=rng, log=lambda _: None, **hooks)
    return loop.finish(result, cfg, weights=Path(cfg.out) / "tiny.safetensors", save_net=save_net), drawn


def test_the_step_budget_stops_a_run_and_every_step_is_logged(tmp_path):
    result, _ = _run(loop.LoopConfig(out=str(tmp_path), steps=4, log_every=1, eval_every=2))
    assert (result.steps, result.stopped) == (4, "budget")
    lines = [json.loads(line) for line in (tmp_path / "losses.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 2, 3, 4] and lines[0]["part"] == 1.0
    assert json.loads((tmp_path / "summary.json").read_text())["steps"] == 4
    assert (tmp_path / "tiny.safetensors").is_file() and (tmp_path / "checkpoint.safetensors").is_file()


def test_a_smoothed_loss_under_stop_loss_for_stop_window_steps_stops_the_run(tmp_path):
    cfg = loop.LoopConfig(out=str(tmp_path), steps=100, stop_loss=0.5, stop_window=5)
    result, _ = _run(cfg, losses=lambda step: 0.1)
    assert (result.steps, result.stopped) == (5, "threshold")


def test_the_wall_clock_budget_stops_a_run(tmp_path):
    result, _ = _run(loop.LoopConfig(out=str(tmp_path), steps=100, max_minutes=1e-12))
    assert result.stopped == "time" and result.steps < 100


def test_a_run_resumes_where_it_stopped_with_the_same_random_draws(tmp_path):
    whole, drawn_whole = _run(loop.LoopConfig(out=str(tmp_path / "a"), steps=6, log_every=1))
    _, first = _run(loop.LoopConfig(out=str(tmp_path / "b"), steps=3, log_every=1))
    rest, second = _run(loop.LoopConfig(out=str(tmp_path / "b"), steps=6, log_every=1))
    assert rest.steps == 6 and len(second) == 3
    assert first + second == drawn_whole
    assert np.isclose(rest.val_loss, whole.val_loss)
    steps = [json.loads(line)["step"] for line in (tmp_path / "b" / "losses.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]
