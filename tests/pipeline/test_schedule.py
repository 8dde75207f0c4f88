"""The training loops' learning-rate schedule."""

from __future__ import annotations

import pytest

from pipeline.train.schedule import warmup_cosine


def test_warm_up_is_linear_then_cosine_decays_to_the_floor_and_stays():
    lr = 2e-3
    assert warmup_cosine(0, lr=lr, warmup=10, progress=0.0, floor=0.1) == pytest.approx(lr / 10)
    assert warmup_cosine(9, lr=lr, warmup=10, progress=0.0, floor=0.1) == pytest.approx(lr)
    assert warmup_cosine(10, lr=lr, warmup=10, progress=0.0, floor=0.1) == pytest.approx(lr)
    assert warmup_cosine(50, lr=lr, warmup=10, progress=0.5, floor=0.1) == pytest.approx(lr * 0.55)
    assert warmup_cosine(99, lr=lr, warmup=10, progress=1.0, floor=0.1) == pytest.approx(lr * 0.1)
    assert warmup_cosine(500, lr=lr, warmup=10, progress=3.0, floor=0.1) == pytest.approx(lr * 0.1)
