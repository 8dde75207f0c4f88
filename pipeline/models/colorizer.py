"""The colorization model (DESIGN.md's first model), all of it: config, inputs, U-Net, save/load, adapter.

The net sees a drawing at low resolution (longer side <= `ColorizerConfig.model_size`) as 6 channels:
line ink, region boundaries, hint colors painted over their whole region, and the hint mask; it returns 4
channels: flat RGB and a shading multiplier. `Colorizer.fill_unhinted` is the hook `pipeline.colorize`
takes: it averages the model's RGB over each unhinted region at full resolution (one color per region).
Weights live in safetensors with the config in the metadata, so `load(path)` rebuilds the net
(pipeline/models/common.py has the convention every model follows).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from pipeline.color import Color
from pipeline.models import WEIGHTS
from pipeline.models.common import PatchUNet, fuse_batchnorm, load_net, resolve_device, save_weights
from pipeline.regions import assign_line_pixels

__all__ = [
    "ColorizerConfig",
    "ColorizerNet",
    "multiple",
    "Colorizer",
    "encode_inputs",
    "ink_of",
    "save",
    "load",
    "SHIPPED_WEIGHTS",
]

SHIPPED_WEIGHTS = WEIGHTS / "colorizer.safetensors"


@dataclass(frozen=True)
class ColorizerConfig:
    """Shape of the net and the resolution it runs at."""

    in_channels: int = 6  # ink, boundary, hint rgb (3), hint mask
    out_channels: int = 4  # flat rgb (3), shade multiplier
    widths: tuple[int, ...] = (24, 48, 96, 160)  # channels per U-Net level
    patch: int = 4  # space-to-depth factor: the U-Net runs at 1/patch of the model resolution
    model_size: int = 256  # longer side the drawing is resized to (never up) before the net


def multiple(config: ColorizerConfig) -> int:
    """Input sides must be multiples of this: patch x 2 per pooling level."""
    return config.patch * 2 ** (len(config.widths) - 1)


class ColorizerNet(PatchUNet):
    """Conditional U-Net: (B, 6, H, W) inputs -> (B, 4, H, W) outputs in [0, 1] (rgb) and ~[0.5, 1.5] (shade).

    H and W must be multiples of `multiple(config)`. Space-to-depth by `patch` first (flats need one color
    per region, not per-pixel detail, and it made a training step 4x cheaper on CPU), pixel-shuffle back
    at the end. The bottleneck adds a global-average branch so every pixel sees the drawing's whole hint
    palette, whatever the receptive field.
    """

    def __init__(self, config: ColorizerConfig) -> None:
        super().__init__(config.in_channels, config.out_channels, widths=config.widths, patch=config.patch)
        self.config = config

    def forward(
        self, x: torch.Tensor, target: torch.Tensor | None = None, weight: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Outputs (B, 4, H, W); with target (B, 3, H, W) also the weighted L1 loss on rgb."""
        raw = self.trunk(x)  # (B, 4, H, W)
        out = torch.cat([torch.sigmoid(raw[:, :3]), 0.5 + torch.sigmoid(raw[:, 3:])], dim=1)
        if target is None:
            return out, None
        weight = torch.ones_like(target[:, :1]) if weight is None else weight
        diff = (out[:, :3].float() - target).abs() * weight
        return out, diff.sum() / (3 * weight.sum()).clamp_min(1.0)


def ink_of(drawing: np.ndarray) -> np.ndarray:
    """(H, W) float32 line ink 0..1 of an RGBA drawing: darkness of the drawing composited over white."""
    rgba = np.asarray(drawing)
    if int(rgba[..., 3].min()) == 255:  # opaque (the usual case): uint8 OpenCV ops, 10x faster
        r, g, b = cv2.split(np.ascontiguousarray(rgba[..., :3]))
        return cv2.subtract(255, cv2.min(cv2.min(r, g), b)).astype(np.float32) * np.float32(1 / 255)
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    grey = (rgba[..., :3].astype(np.float32) * a + 255.0 * (1 - a)).min(axis=2)
    return 1.0 - grey / 255.0


def encode_inputs(*, ink: np.ndarray, owner: np.ndarray, hinted: dict[int, Color]) -> np.ndarray:
    """(6, H, W) float32 net inputs from ink (H, W), owner ids (H, W, every pixel a region) and hints."""
    h, w = owner.shape
    boundary = np.zeros((h, w), np.float32)
    boundary[:, 1:] += owner[:, 1:] != owner[:, :-1]
    boundary[1:, :] += owner[1:, :] != owner[:-1, :]
    count = int(owner.max(initial=0))
    table = np.zeros((count + 1, 4), np.float32)
    for rid, rgb in hinted.items():
        if 0 < rid <= count:
            table[rid] = (rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0, 1.0)
    hint = table[owner]  # (H, W, 4): rgb + mask
    return np.concatenate([ink[None], np.minimum(boundary, 1)[None], hint.transpose(2, 0, 1)], 0)


class Colorizer:
    """A loaded colorizer: `fill_unhinted` for pipeline.colorize, `predict` for the raw outputs."""

    def __init__(self, net: ColorizerNet, *, device: torch.device, version: str) -> None:
        self._cache = threading.local()  # fill_unhinted then shade reuse one forward pass, per thread
        self.net = fuse_batchnorm(net.eval()).to(device)
        self.device = device
        self.version = version
        self.config = net.config

    def _low_res(self, shape: tuple[int, int]) -> tuple[int, int]:
        h, w = shape
        scale = min(1.0, self.config.model_size / max(h, w))
        return max(1, round(h * scale)), max(1, round(w * scale))

    def prepare(self, drawing: np.ndarray, regions: np.ndarray, hinted: dict[int, Color]) -> np.ndarray:
        """The net's input (C, h', w') float32 at its resolution, edge-padded to the net's multiple.

        Inputs of one drawing size class have one shape, so they stack into one batch."""
        height, width = regions.shape
        h, w = self._low_res((height, width))
        small, labels = drawing, regions
        if (h, w) != (height, width):  # work at the net's resolution: 4x fewer pixels at 512 px
            small = cv2.resize(drawing, (w, h), interpolation=cv2.INTER_AREA)
            labels = cv2.resize(regions, (w, h), interpolation=cv2.INTER_NEAREST)
        x = encode_inputs(ink=ink_of(small), owner=assign_line_pixels(labels), hinted=hinted)
        step = multiple(self.config)
        return np.pad(x, ((0, 0), (0, -h % step), (0, -w % step)), mode="edge")

    @torch.no_grad()
    def forward_batch(self, inputs: np.ndarray) -> np.ndarray:
        """Outputs (N, 4, H, W) float32 of prepared inputs (N, C, H, W) of one shape, in one forward pass."""
        tensor = torch.from_numpy(np.ascontiguousarray(inputs, np.float32)).to(self.device)
        with torch.autocast("cuda", dtype=torch.float16, enabled=self.device.type == "cuda"):
            out, _ = self.net(tensor)
        return out.float().cpu().numpy()

    def _forward(self, drawing: np.ndarray, regions: np.ndarray, hinted: dict[int, Color]) -> np.ndarray:
        """(h, w, 4) float32 outputs at the net's resolution; this thread's last call's result is reused."""
        # the cache holds the arrays themselves, so identity cannot match a new array at a reused address
        key = (drawing, regions, tuple(sorted(hinted.items())))
        last = getattr(self._cache, "last", None)
        if last is not None and last[0][0] is drawing and last[0][1] is regions and last[0][2] == key[2]:
            return last[1]
        h, w = self._low_res(regions.shape)
        x = self.prepare(drawing, regions, hinted)
        out = self.forward_batch(x[None])[0]
        out = np.ascontiguousarray(out[:, :h, :w].transpose(1, 2, 0))
        self._cache.last = (key, out)
        return out

    def predict(self, drawing: np.ndarray, regions: np.ndarray, hinted: dict[int, Color]) -> np.ndarray:
        """(H, W, 4) float32 outputs at the drawing's size: rgb 0..1 and channel 4 (reserved: shade)."""
        out = self._forward(drawing, regions, hinted)
        height, width = regions.shape
        return (
            cv2.resize(out, (width, height), interpolation=cv2.INTER_LINEAR)
            if out.shape[:2] != (height, width)
            else out
        )

    def _rgb(self, drawing: np.ndarray, regions: np.ndarray, hinted: dict[int, Color]) -> np.ndarray:
        """(H, W, 3) float32 model rgb at the drawing's size."""
        out = np.ascontiguousarray(self._forward(drawing, regions, hinted)[..., :3])
        height, width = regions.shape
        return (
            cv2.resize(out, (width, height), interpolation=cv2.INTER_LINEAR)
            if out.shape[:2] != (height, width)
            else out
        )

    def fill_unhinted(
        self, drawing: np.ndarray, regions: np.ndarray, hinted: dict[int, Color]
    ) -> dict[int, Color]:
        """One color per unhinted region: the mean of the model's rgb over its non-line pixels."""
        out = self._rgb(drawing, regions, hinted)
        count = int(regions.max(initial=0))
        ids = regions.ravel()
        area = np.bincount(ids, minlength=count + 1).astype(np.float64)
        means = (
            np.stack(
                [np.bincount(ids, weights=out[..., c].ravel(), minlength=count + 1) for c in range(3)], 1
            )
            / np.maximum(area, 1)[:, None]
        )
        rgb = np.clip(np.round(means * 255), 0, 255).astype(int)
        return {
            rid: tuple(rgb[rid].tolist()) for rid in range(1, count + 1) if rid not in hinted and area[rid]
        }

    def shade(
        self,
        drawing: np.ndarray,
        regions: np.ndarray,
        region_colors: dict[int, Color],
        hinted: dict[int, Color],
    ) -> np.ndarray:
        """Shaded fills (H, W, 3) uint8: each region's color times the model's relative lightness there.

        The lightness ratio is the model's luminance over its region mean, and a region's offsets shrink
        until none clips, so the mean over its non-line pixels stays on its color (to rounding). Line
        pixels take their owner region's shading, as flats do.
        """
        out = self._rgb(drawing, regions, hinted)
        owner = assign_line_pixels(regions)
        count = int(owner.max(initial=0))
        lum = out @ np.array([0.299, 0.587, 0.114], np.float32)
        ids = owner.ravel()
        inside = (regions > 0).ravel().astype(np.float64)
        area = np.bincount(ids, weights=inside, minlength=count + 1)
        mean = np.bincount(ids, weights=lum.ravel() * inside, minlength=count + 1) / np.maximum(area, 1)
        ratio = (lum / np.maximum(mean[owner], 1e-3)).astype(np.float32)
        table = np.full((count + 1, 3), 255, np.float32)
        for rid, rgb in region_colors.items():
            if 0 < rid <= count:
                table[rid] = rgb
        base = table[owner]
        offset = base * (ratio[..., None] - 1)  # zero mean over each region by construction
        # shrink a region's offsets just enough that no pixel clips, so its mean stays exactly on its color
        room = np.where(offset > 0, (255 - base) / np.maximum(offset, 1e-6), base / np.maximum(-offset, 1e-6))
        room = np.where(offset == 0, np.inf, room).min(axis=2).ravel()
        scale = np.ones(count + 1, np.float32)
        np.minimum.at(scale, ids, np.minimum(room, 1).astype(np.float32))
        shaded = base + offset * scale[owner][..., None]
        return np.clip(np.round(shaded), 0, 255).astype(np.uint8)

    __call__ = fill_unhinted


def save(net: ColorizerNet, path: str | Path, *, extra: dict[str, str] | None = None) -> None:
    """Weights as safetensors with the config (and `extra` notes) in the metadata."""
    save_weights(net, path, model="tint-colorizer", extra=extra)


def load(path: str | Path | None = None, *, device: str | None = None) -> Colorizer:
    """The colorizer in `path` (None: the shipped weights) on `device` (None: auto); version = "colorizer-"
    + the file's sha256 prefix."""
    path = SHIPPED_WEIGHTS if path is None else path
    net, version = load_net(path, model="colorizer", config_cls=ColorizerConfig, net_cls=ColorizerNet)
    return Colorizer(net, device=resolve_device(device), version=version)
