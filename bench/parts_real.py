"""Benchmark the shipped parts model on real drawings: OpenMoji's own skin and hair groups (issue 18, item 6).

Labels: `python -m pipeline.train.openmoji_parts --out ~/.cache/tint/openmoji-parts --limit 60` (0 other,
1 skin, 2 hair). On each labelled `test` drawing, on its true non-line pixels (`_regions.png` > 0):

- IoU of skin and of hair, summed over the drawings: per pixel (the model's part map) and per region (each
  region of `find_lines_and_regions` takes its voted part, `region_parts`, as a palette job does; line
  pixels follow the region colorize gives them), and the region-level ceiling with the true part map.
- Palette prompts: {"skin": true skin color, "hair": true hair color} (the most common `_flat.png` color
  under each mask; a part with fewer than MIN_PART_PX pixels is left out), through `prompt_to_hints` and
  `colorize` as the worker runs them (region colorizer for the unhinted regions). Accuracy = share of the
  true skin and hair pixels within CIEDE2000 < 5 of their true color, per drawing then averaged, for the
  parts model and for the oracle (each region takes its majority true part), and their ratio (goal >= 0.9).

    .venv/bin/python bench/parts_real.py [--labels ~/.cache/tint/openmoji-parts] [--limit N] [--weights PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.openmoji import DATA  # noqa: E402
from bench.prompts import flat_accuracy, true_palette  # noqa: E402
from pipeline.colorize import colorize, find_lines_and_regions  # noqa: E402
from pipeline.models import parts as parts_model  # noqa: E402
from pipeline.models import regionfill as regionfill_model  # noqa: E402
from pipeline.part_maps import region_parts  # noqa: E402
from pipeline.prompt_hints import prompt_to_hints  # noqa: E402
from pipeline.regions import assign_line_pixels  # noqa: E402
from pipeline.train.openmoji_parts import DEFAULT_OUT  # noqa: E402
from pipeline.train.parts import part_iou  # noqa: E402

__all__ = ["MIN_PART_PX", "region_labels", "main"]

MIN_PART_PX = 50  # a few pixels of skin at a line's edge are no part an artist would name
SKIN, HAIR = 1, 2


def region_labels(regions: np.ndarray, part_map: np.ndarray) -> np.ndarray:
    """(H, W) the voted part of the region each pixel is painted with (line pixels: their owner region)."""
    lut = np.zeros(int(regions.max(initial=0)) + 1, np.int64)
    for rid, k in region_parts(regions, part_map).items():
        lut[rid] = k
    return lut[assign_line_pixels(regions)]


def _palette_accuracy(line: np.ndarray, palette: dict, part_map: np.ndarray, *, flat, scored, fill) -> float:
    resolved = prompt_to_hints(line, {"palette": palette}, part_map=lambda _: part_map)
    result = colorize(
        line, resolved.hints, found=resolved.found, regions=resolved.regions, fill_unhinted=fill
    )
    return flat_accuracy(result.flats, flat, scored)


def _iou(counts: np.ndarray, k: int) -> float:
    return counts[k, 0] / max(counts[k, 1], 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--labels", type=Path, default=DEFAULT_OUT, help="openmoji_parts output folder")
    parser.add_argument("--limit", type=int, default=None, help="at most N labelled drawings")
    parser.add_argument("--weights", default=None, help="parts safetensors (default: shipped)")
    args = parser.parse_args()
    labels = args.labels.expanduser()
    rows = [r for r in json.loads((labels / "index.json").read_text())["items"] if r["split"] == "test"]
    rows = rows[: args.limit]
    import torch

    torch.set_num_threads(2)
    parts = parts_model.load(args.weights, device="cpu")
    fill = regionfill_model.load(None, device="cpu").fill_unhinted
    pixel, region, oracle_region = (np.zeros((10, 2), np.int64) for _ in range(3))
    acc, ceiling, t_parts = [], [], []
    for row in rows:
        stem = DATA / "test" / row["name"]
        line = np.asarray(Image.open(f"{stem}_line.png").convert("RGBA"))
        flat = np.asarray(Image.open(f"{stem}_flat.png").convert("RGB"))
        valid = np.asarray(Image.open(f"{stem}_regions.png")).astype(np.int32) > 0
        truth = np.asarray(Image.open(labels / "test" / f"{row['name']}_parts.png"))
        t0 = time.perf_counter()
        part_map = parts.part_map(line)
        t_parts.append(time.perf_counter() - t0)
        regions = find_lines_and_regions(line).regions
        pixel += part_iou(part_map[valid], truth[valid])
        region += part_iou(region_labels(regions, part_map)[valid], truth[valid])
        oracle_region += part_iou(region_labels(regions, truth)[valid], truth[valid])
        named = {k for k in (SKIN, HAIR) if ((truth == k) & valid).sum() >= MIN_PART_PX}
        if not named:
            continue
        scored = np.isin(truth, list(named)) & valid
        palette = {k: v for k, v in true_palette(flat, truth, valid).items() if k in {"skin", "hair"}}
        palette = {k: v for k, v in palette.items() if {"skin": SKIN, "hair": HAIR}[k] in named}
        common = {"flat": flat, "scored": scored, "fill": fill}
        acc.append(_palette_accuracy(line, palette, part_map, **common))
        ceiling.append(_palette_accuracy(line, palette, truth, **common))
    mean_acc, mean_ceiling = float(np.mean(acc)), float(np.mean(ceiling))
    print(f"\nparts {parts.version} on real part labels | openmoji test, {len(rows)} drawings | dE2000<5")
    print("| measure | skin | hair |\n|---|---:|---:|")
    print(f"| IoU per pixel (part map) | {_iou(pixel, SKIN):.3f} | {_iou(pixel, HAIR):.3f} |")
    print(f"| IoU per region (as palette jobs vote) | {_iou(region, SKIN):.3f} | {_iou(region, HAIR):.3f} |")
    print(
        f"| IoU per region, true parts (ceiling) | {_iou(oracle_region, SKIN):.3f} "
        f"| {_iou(oracle_region, HAIR):.3f} |"
    )
    print(
        "\n| drawings | skin IoU | hair IoU | palette accuracy | oracle-parts ceiling | ratio (goal >= 0.9) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(acc)} | {_iou(region, SKIN):.3f} | {_iou(region, HAIR):.3f} | {mean_acc:.1%} "
        f"| {mean_ceiling:.1%} | {mean_acc / max(mean_ceiling, 1e-9):.2f} |"
    )
    print(f"parts model forward at 512 px, median: {np.median(t_parts) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
