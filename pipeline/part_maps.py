"""Parts without a model: the part vocabulary, region votes over a part map, and pictures of part maps.

The names are the ones a palette prompt may use, in the part model's class order (index 0 is background).
Its own module, with no torch, so that prompts, the batch report and the character generator share it and
a job that runs no model imports none.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PART_NAMES", "PART_COLORS", "region_parts", "render_part_map", "part_table"]

PART_NAMES: tuple[str, ...] = (
    "background",
    "skin",
    "hair",
    "eyes",
    "eye_whites",
    "mouth",
    "top",
    "bottom",
    "shoes",
    "accessory",
)

PART_COLORS: tuple[tuple[int, int, int], ...] = (
    (255, 255, 255),
    (244, 194, 160),
    (120, 72, 40),
    (40, 150, 60),
    (200, 220, 255),
    (220, 40, 60),
    (50, 90, 200),
    (90, 60, 140),
    (60, 60, 60),
    (240, 190, 20),
)


def region_parts(
    regions: np.ndarray, part_map: np.ndarray, *, parts: int = len(PART_NAMES)
) -> dict[int, int]:
    """Region id -> the part most of its (non-line) pixels are labelled with in part_map (ties: lower id)."""
    regions = np.asarray(regions, np.int64)
    count = int(regions.max(initial=0))
    if count == 0:
        return {}
    sel = regions > 0
    keys = regions[sel] * parts + np.asarray(part_map)[sel].astype(np.int64)
    votes = np.bincount(keys, minlength=(count + 1) * parts).reshape(count + 1, parts)
    best = votes.argmax(axis=1)
    return {rid: int(best[rid]) for rid in range(1, count + 1) if votes[rid].sum() > 0}


def render_part_map(part_map: np.ndarray, *, regions: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8 picture of a part map in PART_COLORS; with regions, each region in its voted part
    and line pixels (0) black, i.e. what a palette will color."""
    table = np.asarray(PART_COLORS, np.uint8)
    if regions is None:
        return table[np.asarray(part_map)]
    parts = region_parts(regions, part_map)
    lut = np.zeros(int(regions.max(initial=0)) + 1, np.int64)
    for rid, k in parts.items():
        lut[rid] = k
    out = table[lut[regions]]
    out[regions == 0] = 0
    return out


def part_table(regions: np.ndarray, part_map: np.ndarray) -> list[dict]:
    """One row per part present: {"part", "regions" (ids), "pixels"}, by voted region part."""
    parts = region_parts(regions, part_map)
    area = np.bincount(np.asarray(regions).ravel())
    rows = []
    for k, name in enumerate(PART_NAMES):
        rids = sorted(rid for rid, p in parts.items() if p == k)
        if rids:
            rows.append({"part": name, "regions": rids, "pixels": int(area[rids].sum())})
    return rows
