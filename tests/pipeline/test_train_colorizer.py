"""Colorizer training: a couple of steps lower the loss; a run checkpoints, resumes and writes weights."""

import json

import numpy as np
import pytest
import torch

from pipeline.models import colorizer as colorizer_model
from pipeline.models.colorizer import ColorizerConfig, ColorizerNet
from pipeline.train.colorizer import TrainConfig, colorizer_loss, train
from pipeline.train.colorizer_data import generated_examples, make_batch
from pipeline.train.losses import StyleLoss

SMALL = ColorizerConfig(widths=(8, 16, 32), patch=2, model_size=64)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny nets on a busy 2-core machine run several times faster on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_two_training_steps_lower_the_loss():
    torch.manual_seed(0)
    pool = list(generated_examples(seed=3, count=4, size=96))
    batch = make_batch(np.random.default_rng(0), pools=[pool], shares=[1], batch=4, crop=64)
    tensors = tuple(torch.from_numpy(a) for a in (batch.x, batch.target, batch.weight, batch.owner))
    net, style = ColorizerNet(SMALL), StyleLoss()
    cfg = TrainConfig(out="unused")
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3)
    before, _, _ = colorizer_loss(net, style, tensors, cfg)
    for _ in range(2):
        loss, _, _ = colorizer_loss(net, style, tensors, cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after, _, _ = colorizer_loss(net, style, tensors, cfg)
    assert after.item() < before.item()


def test_training_run_checkpoints_resumes_and_writes_loadable_weights(tmp_path):
    cfg = TrainConfig(
        out=str(tmp_path),
        steps=2,
        batch=2,
        crop=64,
        generated=4,
        openmoji_limit=0,
        openmoji_share=0.0,
        eval_every=1,
        log_every=1,
        checkpoint_every=1,
        model=SMALL,
        warmup=1,
    )
    first = train(cfg, log=lambda _: None)
    assert first.steps == 2 and first.stopped == "budget"
    resumed = train(TrainConfig(**{**cfg.__dict__, "steps": 3}), log=lambda _: None)
    assert resumed.steps == 3
    steps = [json.loads(line)["step"] for line in (tmp_path / "losses.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]
    assert colorizer_model.load(tmp_path / "colorizer.safetensors", device="cpu").config == SMALL
