"""Patch discriminator for the optional adversarial loss: (inputs, rgb) -> a grid of real/fake scores."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["PatchDiscriminator"]


class PatchDiscriminator(nn.Module):
    """PatchGAN-style: three stride-2 convs, each output cell judges one ~22 px patch of the image."""

    def __init__(self, in_channels: int = 6 + 3, width: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, width * 2, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width * 2, width * 4, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width * 4, 1, 3, padding=1),
        )

    def forward(self, inputs: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        """Scores (B, 1, H/8, W/8) for net inputs (B, 6, H, W) and an image (B, 3, H, W)."""
        return self.net(torch.cat([inputs, rgb], dim=1))
