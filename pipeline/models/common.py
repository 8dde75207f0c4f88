"""What every Tint model shares: the U-Net blocks, device resolution, BatchNorm folding, and one way to
save and read safetensors with the model's config (and card) in the metadata.

The convention every model module follows: `save(net, path, *, extra=None)` writes weights with the
config beside them in the metadata, and `load(path=None, *, device=None)` rebuilds the model from them (the
shipped weights when path is None) with `.version` = its name and the first 12 hex digits of the file's
sha256. Model cards sit beside the weights, named alike (`weights/colorizer.safetensors`,
`weights/colorizer.md`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from pipeline.models import weights_digest

__all__ = [
    "ConvBlock",
    "Up",
    "PatchUNet",
    "Weights",
    "resolve_device",
    "fuse_batchnorm",
    "save_weights",
    "read_weights",
    "load_net",
]


class ConvBlock(nn.Module):
    """Two 3x3 convs, each BatchNorm + ReLU (without a norm the net collapsed to a constant output)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Up(nn.Module):
    """Bilinear x2 upsample, concat the skip, ConvBlock."""

    def __init__(self, c_in: int, c_skip: int, c_out: int) -> None:
        super().__init__()
        self.block = ConvBlock(c_in + c_skip, c_out)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.block(torch.cat([x, skip], dim=1))


class PatchUNet(nn.Module):
    """The U-Net the colorizer and the parts model share: space-to-depth by `patch`, ConvBlocks down,
    a global-average branch at the bottleneck (every pixel sees the whole drawing), Up blocks with skips,
    a 1x1 head and pixel shuffle back. `trunk(x)` maps (B, c_in, H, W) to (B, c_out, H, W) logits."""

    def __init__(self, c_in: int, c_out: int, *, widths: tuple[int, ...], patch: int) -> None:
        super().__init__()
        w, p = widths, patch
        self.patch = patch
        self.downs = nn.ModuleList([ConvBlock(c_in * p * p, w[0])])
        self.downs.extend(ConvBlock(w[i - 1], w[i]) for i in range(1, len(w)))
        self.glob = nn.Sequential(nn.Linear(w[-1], w[-1]), nn.ReLU())
        self.ups = nn.ModuleList(Up(w[i + 1], w[i], w[i]) for i in reversed(range(len(w) - 1)))
        self.head = nn.Conv2d(w[0], c_out * p * p, 1)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, c_out, H, W) of inputs (B, c_in, H, W); H, W multiples of patch * 2^(levels-1)."""
        x = F.pixel_unshuffle(x, self.patch)
        skips = []
        for i, down in enumerate(self.downs):
            x = down(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        x = x + self.glob(x.mean(dim=(2, 3)))[:, :, None, None]  # (B, C) summary to every pixel
        for up, skip in zip(self.ups, reversed(skips[:-1]), strict=True):
            x = up(x, skip)
        return F.pixel_shuffle(self.head(x), self.patch)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """None or "auto" -> cuda when present, else cpu; "cpu" / "cuda" (or a torch.device) as given."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def fuse_batchnorm(net: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm of its ConvBlocks into the conv before it (same outputs to float
    rounding, faster)."""
    for block in net.modules():
        if isinstance(block, ConvBlock):
            conv1, bn1, relu1, conv2, bn2, relu2 = block.net
            block.net = nn.Sequential(
                fuse_conv_bn_eval(conv1, bn1), relu1, fuse_conv_bn_eval(conv2, bn2), relu2
            )
    return net


@dataclass
class Weights:
    """A weights file read back: its config (tuples restored), tensors, other metadata and version."""

    config: dict[str, Any]
    state: dict[str, torch.Tensor]
    metadata: dict[str, str]
    version: str


def save_weights(
    net: nn.Module, path: str | Path, *, model: str, extra: dict[str, str] | None = None
) -> None:
    """Weights as safetensors (no pickle anywhere); `net.config` (a dataclass), the model name and `extra`
    notes in the metadata."""
    tensors = {k: v.detach().float().cpu().contiguous() for k, v in net.state_dict().items()}
    meta = {"config": json.dumps(asdict(net.config)), "model": model, **(extra or {})}
    save_file(tensors, str(path), metadata=meta)


def read_weights(path: str | Path, *, model: str) -> Weights:
    """Read a file `save_weights` wrote; version = `model` + "-" + the sha256 prefix of the file."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    if "config" not in meta:
        raise ValueError(f"{Path(path).name} carries no model config; write it with the model's save().")
    config = json.loads(meta["config"])
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
    return Weights(config=config, state=state, metadata=meta, version=f"{model}-{weights_digest(path)}")


def load_net(path: str | Path, *, model: str, config_cls: type, net_cls: type) -> tuple[nn.Module, str]:
    """(net rebuilt from its config and weights, version) of a file `save_weights` wrote."""
    weights = read_weights(path, model=model)
    net = net_cls(config_cls(**weights.config))
    net.load_state_dict(weights.state)
    return net, weights.version
