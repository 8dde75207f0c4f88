"""The partition model (DESIGN.md's second model): a small U-Net that reads any colored image and predicts,
per pixel, the probability of lying on a region boundary (a line, or an edge between two flat colors) and
the flat color the region would have without shading, highlights, texture, noise or compression.

Everything about the network is in this file: config, blocks, model (`forward` returns `(output, loss)`),
`save`/`load` as safetensors with the config and model card in the metadata, and `predict`, which runs it
on one image at a fixed working size and returns full-size maps. Turning maps into blocks is
`pipeline.blockify`'s job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from pipeline.models import WEIGHTS
from pipeline.models.common import ConvBlock, read_weights, resolve_device, save_weights

__all__ = [
    "DEFAULT_WEIGHTS",
    "PartitionConfig",
    "PartitionMaps",
    "PartitionNet",
    "load",
    "predict",
    "read_card",
    "save",
]

DEFAULT_WEIGHTS = WEIGHTS / "partition.safetensors"


@dataclass(frozen=True)
class PartitionConfig:
    """Shape of the network and the working size images are scaled to before it sees them."""

    widths: tuple[int, ...] = (8, 16, 32, 48, 64)  # channels per level; each level halves the resolution
    work_px: int = 320  # longer side of the image the network sees (training crops are ~256 px drawings)
    boundary_weight: float = 1.0
    color_weight: float = 1.0
    bce_weight: float = 1.0


@dataclass
class PartitionMaps:
    """Full-size outputs for one image."""

    boundary: np.ndarray  # (H, W) float32 0..1: probability of a region boundary (line or color edge)
    flat: np.ndarray  # (H, W, 3) float32 0..255: predicted flat color


class PartitionNet(nn.Module):
    """U-Net: (B, 3, H, W) RGB in 0..1 -> (B, 4, H, W): boundary logit, flat RGB in 0..1."""

    def __init__(self, config: PartitionConfig) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        self.down = nn.ModuleList([ConvBlock(3, w[0])])
        self.pool = nn.ModuleList()
        for cin, cout in zip(w[:-1], w[1:], strict=True):
            self.pool.append(nn.Conv2d(cin, cin, 3, stride=2, padding=1))
            self.down.append(ConvBlock(cin, cout))
        self.up = nn.ModuleList([ConvBlock(w[i + 1] + w[i], w[i]) for i in reversed(range(len(w) - 1))])
        self.head = nn.Conv2d(w[0], 4, 1)

    def forward(
        self,
        x: torch.Tensor,
        *,
        boundary: torch.Tensor | None = None,
        flat: torch.Tensor | None = None,
        valid: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, 3, H, W) 0..1, H and W multiples of 2**(levels-1); targets: boundary (B, 1, H, W) 0/1,
        flat (B, 3, H, W) 0..1, valid (B, 1, H, W) 0/1 (non-line pixels, where the flat color is known)."""
        skips = []
        h = self.down[0](x - 0.5)
        for pool, block in zip(self.pool, self.down[1:], strict=True):
            skips.append(h)
            h = block(pool(h))
        for block in self.up:
            skip = skips.pop()
            h = F.interpolate(h, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            h = block(torch.cat([h, skip], 1))
        out = self.head(h)  # (B, 4, H, W)
        out = torch.cat([out[:, :1], torch.sigmoid(out[:, 1:])], 1)
        if boundary is None or flat is None or valid is None:
            return out, None
        cfg = self.config
        prob = torch.sigmoid(out[:, :1].float())
        # positives (boundaries) are a minority; weight them so both classes count about equally
        share = boundary.mean().clamp(0.02, 0.98)
        weight = torch.where(boundary > 0.5, 0.5 / share, 0.5 / (1 - share))
        diff = prob - boundary
        loss_b = (weight * (diff.abs() + diff.square())).mean()
        bce = F.binary_cross_entropy_with_logits(out[:, :1].float(), boundary, weight=weight)
        cdiff = (out[:, 1:].float() - flat) * valid
        loss_c = (cdiff.abs() + cdiff.square()).sum() / (3 * valid.sum()).clamp(min=1)
        loss = cfg.boundary_weight * loss_b + cfg.bce_weight * bce + cfg.color_weight * loss_c
        return out, loss


def save(net: PartitionNet, path: str | Path, *, card: dict) -> None:
    """Weights as safetensors with the config and the model card (JSON) in the metadata."""
    save_weights(net, path, model="tint-partition", extra={"card": json.dumps(card, sort_keys=True)})


def read_card(path: str | Path = DEFAULT_WEIGHTS) -> dict:
    """The model card stored in a weights file `save` wrote."""
    return json.loads(read_weights(path, model="partition").metadata.get("card", "{}"))


def load(path: str | Path | None = None, *, device: str | None = None) -> PartitionNet:
    """The partition model in `path` (None: the shipped weights), in eval mode on `device` (None: auto);
    `.version` = "partition-" + the file's sha256 prefix, `.card` its model card."""
    weights = read_weights(DEFAULT_WEIGHTS if path is None else path, model="partition")
    model = PartitionNet(PartitionConfig(**weights.config))
    model.load_state_dict(weights.state)
    model.card = json.loads(weights.metadata.get("card", "{}"))  # type: ignore[attr-defined]
    model.version = weights.version  # type: ignore[attr-defined]
    return model.to(resolve_device(device)).eval()


@torch.no_grad()
def predict(model: PartitionNet, rgb: np.ndarray) -> PartitionMaps:
    """Run the model (on its own device) on (H, W, 3) uint8 at its working size; maps come back at (H, W)."""
    device = next(model.parameters()).device
    height, width = rgb.shape[:2]
    scale = model.config.work_px / max(height, width)
    mult = 2 ** (len(model.config.widths) - 1)
    wh = max(mult, round(height * scale / mult) * mult)
    ww = max(mult, round(width * scale / mult) * mult)
    interp = cv2.INTER_AREA if wh < height else cv2.INTER_LINEAR
    small = cv2.resize(rgb, (ww, wh), interpolation=interp)
    x = torch.from_numpy(small).to(device).permute(2, 0, 1)[None].float() / 255.0
    use_amp = device.type == "cuda"
    with torch.autocast(device_type="cuda", dtype=torch.float16, enabled=use_amp):
        out, _ = model(x)
    out = out.float()
    maps = torch.cat([torch.sigmoid(out[:, :1]), out[:, 1:] * 255.0], 1)
    maps = F.interpolate(maps, size=(height, width), mode="bilinear", align_corners=False)[0]
    maps = maps.permute(1, 2, 0).cpu().numpy()
    return PartitionMaps(
        boundary=np.ascontiguousarray(maps[..., 0]), flat=np.ascontiguousarray(maps[..., 1:])
    )
