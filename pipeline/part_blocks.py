"""Blocks by part: one block per part of a revision (all its hair regions one block), filled with the
part's mean color, for a lead who thinks in parts rather than in regions.

A region belongs to the part most of its pixels are predicted as (`region_parts`, the vote palettes, part
recolors and the batch report use). The part-level map goes through `pipeline.blockify.blockify` as a
region map, so lines, means, bboxes and points follow the one blockify rule. Block ids are 1..K in
PART_NAMES order of the parts present; each row also names its part and the region ids it covers (the
ids a recolor's block edits use).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.blockify import BlockifyResult, block_table_json, blockify
from pipeline.part_maps import PART_NAMES, region_parts

__all__ = ["PartBlocks", "blockify_by_parts", "part_block_table_json"]


@dataclass
class PartBlocks:
    """Blocks by part: the blockify result (ids 1..K), and per block id its part name and region ids."""

    result: BlockifyResult
    parts: dict[int, str]
    regions: dict[int, list[int]]


def blockify_by_parts(colored: np.ndarray, *, regions: np.ndarray, part_map: np.ndarray) -> PartBlocks:
    """One block per part present: colored (H, W, 3) uint8 a revision's colored image, regions (H, W) its
    region map (0 = line), part_map (H, W) indices into PART_NAMES for its line drawing."""
    regions = np.asarray(regions, np.int32)
    voted = region_parts(regions, part_map)
    present = sorted(set(voted.values()))
    block_of = {k: i + 1 for i, k in enumerate(present)}
    lut = np.zeros(int(regions.max(initial=0)) + 1, np.int32)
    for rid, k in voted.items():
        lut[rid] = block_of[k]
    result = blockify(colored, regions=lut[regions])  # line pixels stay 0, so they go to the nearest part
    members: dict[int, list[int]] = {block_of[k]: [] for k in present}
    for rid, k in sorted(voted.items()):
        members[block_of[k]].append(rid)
    return PartBlocks(result=result, parts={block_of[k]: PART_NAMES[k] for k in present}, regions=members)


def part_block_table_json(blocks: PartBlocks) -> list[dict]:
    """The block table as JSON-able dicts (as `block_table_json`), each with its "part" and "regions"."""
    rows = block_table_json(blocks.result.table)
    # a drawing with no region at all is one block of background
    return [
        {
            **row,
            "part": blocks.parts.get(row["id"], PART_NAMES[0]),
            "regions": blocks.regions.get(row["id"], []),
        }
        for row in rows
    ]
