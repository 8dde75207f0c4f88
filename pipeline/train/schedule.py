"""The learning-rate schedule every training loop here uses: linear warm-up, then cosine decay to a floor."""

from __future__ import annotations

import math

__all__ = ["warmup_cosine"]


def warmup_cosine(step: int, *, lr: float, warmup: int, progress: float, floor: float) -> float:
    """lr * (step + 1) / warmup during warm-up; then cosine from lr down to floor * lr as progress goes
    from 0 to 1 (clipped at 1). Each loop defines its own progress (steps, or steps and time budget)."""
    if step < warmup:
        return lr * (step + 1) / warmup
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))
