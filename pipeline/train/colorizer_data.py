"""Colorizer training data: OpenMoji `train` drawings + generated characters, hints sampled like users.

Every example keeps what inference will see: the drawing's ink and the regions *the region engine finds*
(extract_lines -> find_regions -> assign_line_pixels, same defaults as colorize), next to the truth
(flat colors, true region map). A batch crops examples, hints 0-100% of the true regions with a few
points or a short stroke each, resolves those hints to found regions exactly as colorize does
(`resolve_hints`), and encodes the net inputs with the same `encode_inputs` the adapter uses.
The `test` split is never read here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from pipeline.fill import resolve_hints
from pipeline.hints import Hints
from pipeline.lines import extract_lines
from pipeline.models.colorizer import encode_inputs, ink_of
from pipeline.regions import assign_line_pixels, find_regions
from pipeline.train.characters import make_character

__all__ = [
    "DEFAULT_DATA",
    "Example",
    "Batch",
    "prepare_example",
    "load_openmoji",
    "generated_examples",
    "sample_hints",
    "make_batch",
]

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "openmoji"


@dataclass
class Example:
    """One drawing at training resolution: inputs as inference sees them, plus the truth."""

    ink: np.ndarray  # (H, W) uint8 line ink 0..255
    owner: np.ndarray  # (H, W) int32 found regions, line pixels given to a neighbour
    truth: np.ndarray  # (H, W) int32 true regions, 0 = line
    flats: np.ndarray  # (H, W, 3) uint8 true flat colors


@dataclass
class Batch:
    """Net inputs and targets for one step, as tensors-to-be (numpy, float32)."""

    x: np.ndarray  # (B, 6, C, C)
    target: np.ndarray  # (B, 3, C, C) 0..1
    weight: np.ndarray  # (B, 1, C, C): 0 on line pixels, lower on hinted regions
    owner: np.ndarray  # (B, C, C) int64 region ids, unique across the batch (for per-region losses)


def prepare_example(drawing: np.ndarray, *, flats: np.ndarray, truth: np.ndarray) -> Example:
    """Run the region engine on a drawing (H, W, 4) the way colorize does and keep it with its truth."""
    found = find_regions(extract_lines(drawing).mask, gap_px=3, min_area=8)
    ink = np.round(ink_of(drawing) * 255).astype(np.uint8)
    return Example(ink=ink, owner=assign_line_pixels(found), truth=truth.astype(np.int32), flats=flats)


def load_openmoji(
    root: Path = DEFAULT_DATA, *, split: str = "train", limit: int | None = None
) -> list[Example]:
    """Examples from one split of the OpenMoji paired set (train only for training; see its README).

    `limit=0` reads nothing, so a run on generated data alone needs no data set on disk."""
    if limit == 0:
        return []
    items = [it for it in json.loads((root / "index.json").read_text())["items"] if it["split"] == split]
    out = []
    for item in items[:limit]:
        base = root / split / item["name"]
        line = np.asarray(Image.open(f"{base}_line.png").convert("RGBA"))
        flats = np.asarray(Image.open(f"{base}_flat.png").convert("RGB"))
        truth = np.asarray(Image.open(f"{base}_regions.png")).astype(np.int32)
        out.append(prepare_example(line, flats=flats, truth=truth))
    return out


def generated_examples(*, seed: int, count: int, size: int = 256) -> Iterator[Example]:
    """Examples from generated characters with seeds seed * 100003 + i."""
    for i in range(count):
        c = make_character(seed=seed * 100_003 + i, size=size)
        yield prepare_example(c.drawing, flats=c.flats, truth=c.regions)


def sample_hints(rng: np.random.Generator, *, truth: np.ndarray, flats: np.ndarray) -> Hints:
    """Hints as users give them: 0-100% of the true regions, each with 1-3 points or one short stroke."""
    h, w = truth.shape
    ids, areas = np.unique(truth[truth > 0], return_counts=True)
    rgb = np.zeros((h, w, 3), np.uint8)
    mask = np.zeros((h, w), bool)
    if len(ids) == 0:
        return Hints(rgb=rgb, mask=mask)
    share = 0.0 if rng.random() < 0.15 else rng.random()
    chosen = ids[rng.random(len(ids)) < share]
    for rid in chosen:
        ys, xs = np.nonzero(truth == rid)
        if rng.random() < 0.7:
            picks = rng.integers(len(ys), size=int(rng.integers(1, 4)))
            mask[ys[picks], xs[picks]] = True
        else:
            i = int(rng.integers(len(ys)))
            angle, length = rng.uniform(0, np.pi), rng.uniform(3, 25)
            end = (int(xs[i] + np.cos(angle) * length), int(ys[i] + np.sin(angle) * length))
            stroke = np.zeros((h, w), np.uint8)
            cv2.line(stroke, (int(xs[i]), int(ys[i])), end, 1, int(rng.integers(1, 6)))
            inside = (stroke > 0) & (truth == rid)  # users keep strokes inside the region
            inside[ys[i], xs[i]] = True
            mask |= inside
    rgb[mask] = flats[mask]
    return Hints(rgb=rgb, mask=mask)


def _crop(example: Example, rng: np.random.Generator, crop: int) -> tuple[np.ndarray, ...]:
    """A random crop (padded with paper when the drawing is smaller) and a random horizontal flip."""
    arrays = [example.ink, example.owner, example.truth, example.flats]
    h, w = example.ink.shape
    if h < crop or w < crop:
        ph, pw = max(0, crop - h), max(0, crop - w)
        arrays = [np.pad(a, ((0, ph), (0, pw)) + ((0, 0),) * (a.ndim - 2), mode="edge") for a in arrays]
        h, w = arrays[0].shape
    y, x = int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))
    arrays = [a[y : y + crop, x : x + crop] for a in arrays]
    if rng.random() < 0.5:
        arrays = [a[:, ::-1] for a in arrays]
    return tuple(np.ascontiguousarray(a) for a in arrays)


def make_batch(
    rng: np.random.Generator,
    *,
    pools: list[list[Example]],
    shares: list[float],
    batch: int,
    crop: int,
    hinted_weight: float = 0.2,
) -> Batch:
    """One training batch: pick a pool by share, crop, sample hints, encode, weight unhinted pixels fully."""
    xs, targets, weights, owners = [], [], [], []
    offset = 0
    probs = np.asarray(shares, float) / sum(shares)
    for _ in range(batch):
        pool = pools[int(rng.choice(len(pools), p=probs))]
        ink, owner, truth, flats = _crop(pool[int(rng.integers(len(pool)))], rng, crop)
        hinted, _ = resolve_hints(owner=owner, hints=sample_hints(rng, truth=truth, flats=flats))
        xs.append(encode_inputs(ink=ink.astype(np.float32) / 255.0, owner=owner, hinted=hinted))
        targets.append(flats.transpose(2, 0, 1).astype(np.float32) / 255.0)
        is_hinted = np.zeros(int(owner.max()) + 1, bool)
        is_hinted[list(hinted)] = True
        weight = np.where(is_hinted[owner], hinted_weight, 1.0).astype(np.float32) * (truth > 0)
        weights.append(weight[None])
        owners.append(owner.astype(np.int64) + offset)
        offset += int(owner.max()) + 1
    return Batch(x=np.stack(xs), target=np.stack(targets), weight=np.stack(weights), owner=np.stack(owners))
