"""The part segmentation model: a line drawing in, per-pixel part logits out (skin, hair, eyes, top, ...).

The net sees the drawing's line ink at low resolution (longer side <= `PartsConfig.model_size`) plus two
coordinate channels (x and y in -1..1 over the padded canvas), runs a small U-Net at 1/`patch` of that
resolution (space-to-depth, as the colorizer) with a global-average branch at the bottleneck, and returns
one logit per part of `PART_NAMES` for every pixel. `PartsModel.part_map` gives the (H, W) argmax at the
drawing's size; `region_parts` gives each region the part most of its pixels are predicted as.
Weights live in safetensors with the config in the metadata, so `load(path)` rebuilds the net.
`render_part_map` and `part_table` show a part map to a person (`tint parts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from pipeline.models import WEIGHTS
from pipeline.models.colorizer import ink_of
from pipeline.models.common import PatchUNet, fuse_batchnorm, load_net, resolve_device, save_weights
from pipeline.part_maps import PART_COLORS, PART_NAMES, part_table, region_parts, render_part_map

__all__ = [
    "PART_COLORS",
    "render_part_map",
    "part_table",
    "PART_NAMES",
    "PartsConfig",
    "PartsNet",
    "PartsModel",
    "encode_parts_input",
    "region_parts",
    "save",
    "load",
    "SHIPPED_PARTS",
]

SHIPPED_PARTS = WEIGHTS / "parts.safetensors"


@dataclass(frozen=True)
class PartsConfig:
    """Shape of the net and the resolution it runs at."""

    in_channels: int = 3  # ink, x, y
    parts: int = len(PART_NAMES)
    widths: tuple[int, ...] = (32, 64, 96, 128)
    patch: int = 4
    model_size: int = 256


def _multiple(config: PartsConfig) -> int:
    return config.patch * 2 ** (len(config.widths) - 1)


class PartsNet(PatchUNet):
    """U-Net: (B, 3, H, W) -> (B, parts, H, W) logits; H, W multiples of patch * 2^(levels-1)."""

    def __init__(self, config: PartsConfig) -> None:
        super().__init__(config.in_channels, config.parts, widths=config.widths, patch=config.patch)
        self.config = config

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Part logits (B, parts, H, W)."""
        return self.trunk(x)


def encode_parts_input(ink: np.ndarray) -> np.ndarray:
    """(3, H, W) float32 net input from ink (H, W) float 0..1: ink, x and y coordinates in -1..1."""
    h, w = ink.shape
    ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None].repeat(w, 1)
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :].repeat(h, 0)
    return np.stack([ink.astype(np.float32), xs, ys])


class PartsModel:
    """A loaded part segmentation model: `logits` at the net's resolution, `part_map` at the drawing's."""

    def __init__(self, net: PartsNet, *, device: torch.device, version: str) -> None:
        self.net = fuse_batchnorm(net.eval()).to(device)
        self.device = device
        self.version = version
        self.config = net.config

    @torch.no_grad()
    def probabilities(self, drawing: np.ndarray) -> np.ndarray:
        """(H, W, parts) float32 softmax at the drawing's size, from an (H, W, 4) uint8 RGBA drawing."""
        height, width = drawing.shape[:2]
        scale = min(1.0, self.config.model_size / max(height, width))
        h, w = max(1, round(height * scale)), max(1, round(width * scale))
        small = (
            drawing
            if (h, w) == (height, width)
            else cv2.resize(drawing, (w, h), interpolation=cv2.INTER_AREA)
        )
        step = _multiple(self.config)
        ink = np.pad(ink_of(small), ((0, -h % step), (0, -w % step)))
        x = torch.from_numpy(encode_parts_input(ink))[None].to(self.device)
        prob = torch.softmax(self.net(x).float(), dim=1)[0, :, :h, :w]
        out = np.ascontiguousarray(prob.cpu().numpy().transpose(1, 2, 0))
        if (h, w) != (height, width):
            out = np.stack(
                [
                    cv2.resize(out[..., c], (width, height), interpolation=cv2.INTER_LINEAR)
                    for c in range(out.shape[2])
                ],
                axis=2,
            )
        return out

    def part_map(self, drawing: np.ndarray) -> np.ndarray:
        """(H, W) uint8 index into PART_NAMES of the most likely part at each pixel."""
        return self.probabilities(drawing).argmax(axis=2).astype(np.uint8)

    __call__ = part_map


def save(net: PartsNet, path: str | Path, *, extra: dict[str, str] | None = None) -> None:
    """Weights as safetensors with the config, the part names (and `extra` notes) in the metadata."""
    save_weights(net, path, model="tint-parts", extra={"parts": json.dumps(PART_NAMES), **(extra or {})})


def load(path: str | Path | None = None, *, device: str | None = None) -> PartsModel:
    """The parts model in `path` (None: the shipped weights) on `device` (None: auto); version = "parts-"
    + the file's sha256 prefix."""
    path = SHIPPED_PARTS if path is None else path
    net, version = load_net(path, model="parts", config_cls=PartsConfig, net_cls=PartsNet)
    return PartsModel(net, device=resolve_device(device), version=version)
