"""A revision's color blocks for the review page, computed from its `colored` and `regions` assets.

For a colorize or recolor revision, blocks are its regions (`pipeline.blockify` with the region map), so
block ids here are the ids a recolor edit names. Results are cached in memory by the assets' hashes
(content-addressed, so a cached entry never goes stale).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import pipeline
from db.models import Revision
from pipeline.errors import NotFound, UnknownBlock
from pipeline.images import decode_image, decode_label_map, encode_png
from workers.context import Context

__all__ = [
    "RevisionBlocks",
    "revision_assets",
    "cached_blocks",
    "revision_blocks",
    "labels_png",
    "block_diff",
    "check_recolor",
]

CACHE_SIZE = 32


@dataclass(frozen=True)
class RevisionBlocks:
    """Block labels (H, W) uint16 (every pixel, lines given to a neighbour) and the block table."""

    labels: np.ndarray
    table: list[dict]

    @property
    def width(self) -> int:
        return int(self.labels.shape[1])

    @property
    def height(self) -> int:
        return int(self.labels.shape[0])


_cache: OrderedDict[tuple[str, ...], RevisionBlocks] = OrderedDict()
_lock = threading.Lock()


def revision_assets(revision: Revision) -> tuple[str, str]:
    """The (colored, regions) hashes a revision's blocks come from; NotFound when it has none."""
    colored, regions = revision.assets.get("colored"), revision.assets.get("regions")
    if not colored or not regions:
        raise NotFound(f"revision {revision.id} has no colored image and region map, so it has no blocks.")
    return colored, regions


def cached_blocks(
    ctx: Context, key: tuple[str, ...], make: Callable[[np.ndarray, np.ndarray], RevisionBlocks]
) -> RevisionBlocks:
    """Blocks by content hashes `key` (colored, regions, ...), made once by make(colored RGB, regions)."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    colored = decode_image(ctx.storage.get(key[0]), name="colored", max_pixels=ctx.settings.max_pixels)
    regions = decode_label_map(ctx.storage.get(key[1]), name="regions")
    blocks = make(pipeline.over_white(colored), regions)
    with _lock:
        _cache[key] = blocks
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return blocks


def _region_blocks(colored: np.ndarray, regions: np.ndarray) -> RevisionBlocks:
    result = pipeline.blockify(colored, regions=regions)
    return RevisionBlocks(
        labels=result.labels.astype(np.uint16), table=pipeline.block_table_json(result.table)
    )


def revision_blocks(ctx: Context, revision: Revision) -> RevisionBlocks:
    """The revision's blocks (cached by its colored and regions hashes)."""
    return cached_blocks(ctx, revision_assets(revision), _region_blocks)


def labels_png(blocks: RevisionBlocks) -> bytes:
    """The block labels as an RGB PNG whose pixel (r, g, 0) codes block id r*256+g (readable by a canvas)."""
    labels = blocks.labels
    rgb = np.zeros((*labels.shape, 3), np.uint8)  # (H, W, 3)
    rgb[..., 0] = labels >> 8
    rgb[..., 1] = labels & 0xFF
    return encode_png(rgb)


def block_diff(ctx: Context, revision: Revision, against: Revision) -> list[dict]:
    """Blocks of `revision` whose color differs in `against`, both read over `revision`'s regions."""
    colored, regions = revision_assets(revision)
    other_colored, _ = revision_assets(against)
    mine = cached_blocks(ctx, (colored, regions), _region_blocks)
    theirs = {b["id"]: b["color"] for b in cached_blocks(ctx, (other_colored, regions), _region_blocks).table}
    return [
        {"id": b["id"], "before": theirs[b["id"]], "after": b["color"], "area": b["area"], "bbox": b["bbox"]}
        for b in mine.table
        if b["id"] in theirs and theirs[b["id"]] != b["color"]
    ]


def check_recolor(ctx: Context, revision: Revision, *, edits: dict[str, str], at: list[list]) -> None:
    """Refuse, before a job is made, edits naming blocks the revision lacks or points outside it."""
    blocks = revision_blocks(ctx, revision)
    ids = {b["id"] for b in blocks.table}
    for key in edits:
        if not key.strip().isdigit() or int(key) not in ids:
            raise UnknownBlock(
                f"block {key!r} is not a block of revision {revision.id}; "
                f"GET /api/revisions/{revision.id}/blocks lists its {len(ids)} blocks."
            )
    for x, y, _ in at:
        if not (0 <= x < blocks.width and 0 <= y < blocks.height):
            raise pipeline.HintOutOfBounds(
                f"point ({x}, {y}) is outside revision {revision.id} ({blocks.width}x{blocks.height}); "
                "points use pixel coordinates from the top left."
            )
    for color in [*edits.values(), *(c for _, _, c in at)]:
        pipeline.parse_color(color)
