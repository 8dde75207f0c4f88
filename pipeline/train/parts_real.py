"""Real part labels for the parts trainer: OpenMoji drawings with only skin, hair and "other" known.

`load_real_parts` reads the labels `pipeline.train.openmoji_parts` wrote (0 other, 1 skin, 2 hair) beside
the set's line drawings; `real_part_loss` supervises only what those labels say: a skin or hair pixel is
pulled to its class, an "other" pixel is pushed away from skin and hair (towards any of the remaining
parts, which the labels do not tell apart), and line pixels (IGNORE) are left out, since the groups were
drawn under the artists' lines, which the bench does not score either.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from pipeline.errors import NotFound
from pipeline.models.colorizer import ink_of
from pipeline.models.parts import PART_NAMES

__all__ = ["IGNORE", "LABELLED", "load_real_parts", "split_held_out", "real_part_loss", "mask_lines"]

IGNORE = 255  # label of a pixel the loss leaves out
LABELLED = (PART_NAMES.index("skin"), PART_NAMES.index("hair"))  # the classes real labels name; 0 = other
LINE_INK = 0.5  # ink above this is a line pixel


def load_real_parts(
    labels: str | Path, data: str | Path, *, split: str = "train", size: int = 256
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(names, (N, size, size) uint8 ink 0..255, (N, size, size) uint8 labels 0/1/2) of a split's labelled
    drawings: `labels/{split}/{name}_parts.png` beside `data/{split}/{name}_line.png`."""
    labels, data = Path(labels).expanduser(), Path(data).expanduser()
    index = labels / "index.json"
    if not index.is_file():
        raise NotFound(f"no index.json in {labels}; build it with python -m pipeline.train.openmoji_parts.")
    names = [r["name"] for r in json.loads(index.read_text())["items"] if r["split"] == split]
    if not names:
        raise NotFound(f"no {split} drawings are labelled in {index}.")
    inks, parts = [], []
    for name in names:
        line = np.asarray(Image.open(data / split / f"{name}_line.png").convert("RGBA"))
        lab = np.asarray(Image.open(labels / split / f"{name}_parts.png"))
        ink = np.round(ink_of(line) * 255).astype(np.uint8)
        if ink.shape != (size, size):
            ink = cv2.resize(ink, (size, size), interpolation=cv2.INTER_AREA)
        if lab.shape != (size, size):
            lab = cv2.resize(lab, (size, size), interpolation=cv2.INTER_NEAREST)
        inks.append(ink)
        parts.append(lab.astype(np.uint8))
    return names, np.stack(inks), np.stack(parts)


def split_held_out(count: int, *, every: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices of `count` drawings: every `every`-th is held out for choosing steps."""
    idx = np.arange(count)
    held = idx % every == every - 1
    return idx[~held], idx[held]


def mask_lines(ink: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels with line pixels (ink 0..255 above LINE_INK) set to IGNORE."""
    out = labels.copy()
    out[ink > LINE_INK * 255] = IGNORE
    return out


def real_part_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean over the label kinds present (other, skin, hair) of each kind's mean negative log-likelihood:
    -log p(skin) / -log p(hair) on skin / hair pixels, -log(1 - p(skin) - p(hair)) on "other" pixels;
    IGNORE pixels count for nothing. logits (B, parts, H, W), labels (B, H, W) int64."""
    logp = torch.log_softmax(logits.float(), dim=1)
    rest = [k for k in range(logits.shape[1]) if k not in LABELLED]
    terms = []
    other = labels == 0
    if other.any():
        terms.append(-torch.logsumexp(logp[:, rest], dim=1)[other].mean())
    for k in LABELLED:
        sel = labels == k
        if sel.any():
            terms.append(-logp[:, k][sel].mean())
    if not terms:
        return logits.sum() * 0.0
    return torch.stack(terms).mean()
