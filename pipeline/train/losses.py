"""Colorizer losses: L1 reconstruction (per pixel and per region), MSE style loss, LSGAN adversarial loss.

The style loss compares Gram matrices (channel correlations) of the predicted and true flats under a
fixed, seeded random conv feature extractor (random features capture texture and color statistics well
enough for a style term, and nothing has to be downloaded), plus the Gram of the colors themselves.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["pixel_l1", "region_l1", "StyleLoss", "adversarial_g", "adversarial_d"]


def pixel_l1(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted mean |pred - target| over (B, 3, H, W), weight (B, 1, H, W)."""
    return ((pred - target).abs() * weight).sum() / (3 * weight.sum()).clamp_min(1.0)


def region_l1(
    pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, owner: torch.Tensor
) -> torch.Tensor:
    """L1 between per-region weighted means of pred and target, area-weighted: what inference keeps."""
    ids = owner.reshape(-1)
    n = int(ids.max()) + 1
    w = weight.reshape(-1, 1)
    p = pred.permute(0, 2, 3, 1).reshape(-1, 3) * w
    t = target.permute(0, 2, 3, 1).reshape(-1, 3) * w
    area = torch.zeros(n, 1, device=pred.device).index_add_(0, ids, w)
    mp = torch.zeros(n, 3, device=pred.device).index_add_(0, ids, p) / area.clamp_min(1e-6)
    mt = torch.zeros(n, 3, device=pred.device).index_add_(0, ids, t) / area.clamp_min(1e-6)
    return ((mp - mt).abs() * area).sum() / (3 * area.sum()).clamp_min(1e-6)


def _gram(x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    f = x.reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (h * w)


class StyleLoss(nn.Module):
    """MSE between Gram matrices of colors and of two layers of fixed random conv features."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.w1 = nn.Parameter(torch.randn(8, 3, 3, 3, generator=gen) / 5.2, requires_grad=False)
        self.w2 = nn.Parameter(torch.randn(16, 8, 3, 3, generator=gen) / 8.5, requires_grad=False)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """At half resolution: flats are smooth, and full resolution cost as much as the net itself."""
        pred, target = F.avg_pool2d(pred, 2), F.avg_pool2d(target, 2)
        loss = F.mse_loss(_gram(pred), _gram(target))
        fp, ft = F.relu(F.conv2d(pred, self.w1, padding=1)), F.relu(F.conv2d(target, self.w1, padding=1))
        loss = loss + F.mse_loss(_gram(fp), _gram(ft))
        fp, ft = (
            F.relu(F.conv2d(fp, self.w2, stride=2, padding=1)),
            F.relu(F.conv2d(ft, self.w2, stride=2, padding=1)),
        )
        return loss + F.mse_loss(_gram(fp), _gram(ft))


def adversarial_g(fake_scores: torch.Tensor) -> torch.Tensor:
    """LSGAN generator loss: fakes should score 1."""
    return F.mse_loss(fake_scores, torch.ones_like(fake_scores))


def adversarial_d(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """LSGAN discriminator loss: reals 1, fakes 0."""
    return 0.5 * (
        F.mse_loss(real_scores, torch.ones_like(real_scores))
        + F.mse_loss(fake_scores, torch.zeros_like(fake_scores))
    )
