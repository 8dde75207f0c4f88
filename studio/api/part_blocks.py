"""A revision's blocks by part for the API and the review page's part picker (`?by=parts`).

The part map of the revision's line drawing comes from its `parts` job (one per drawing's content, made
when missing and reused after, as the batch report gets it); the blocks are `pipeline.part_blocks`'. Results
are cached in memory by the content hashes they come from, so a cached entry never goes stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

import pipeline
from db.models import Drawing, Revision
from pipeline.errors import NotFound
from pipeline.images import decode_image, decode_label_map
from pipeline.part_blocks import blockify_by_parts, part_block_table_json
from studio.api.blocks import RevisionBlocks
from studio.runner import raise_if_failed
from workers.context import Context

__all__ = ["part_map_of", "revision_part_blocks"]

CACHE_SIZE = 32
_cache: OrderedDict[tuple[str, str, str], RevisionBlocks] = OrderedDict()
_lock = threading.Lock()


def part_map_of(ctx: Context, *, line_sha: str, name: str) -> tuple[str, np.ndarray]:
    """(part map sha, part map (H, W)) of a line drawing, from its `parts` job (queued when missing)."""
    from workers.runs import see_jobs_through
    from workers.submit import submit_parts

    job_id = submit_parts(ctx, line_sha=line_sha, name=name)
    (job,) = see_jobs_through(ctx, [job_id], timeout_s=ctx.settings.result_timeout_s)
    raise_if_failed(job, what=f"the part map of {name!r}")
    sha = job.result["assets"]["part_map"]
    return sha, decode_label_map(ctx.storage.get(sha), name=f"parts of {name}")


def revision_part_blocks(ctx: Context, revision: Revision) -> RevisionBlocks:
    """One block per part of the revision, each row naming its part and regions (cached)."""
    colored_sha, regions_sha = revision.assets.get("colored"), revision.assets.get("regions")
    if not colored_sha or not regions_sha:
        raise NotFound(f"revision {revision.id} has no colored image and region map, so it has no blocks.")
    with ctx.sessions() as session:
        drawing = session.get(Drawing, revision.drawing_id)
        line_sha, name = drawing.line_sha, drawing.name
    part_sha, part_map = part_map_of(ctx, line_sha=line_sha, name=name)
    key = (colored_sha, regions_sha, part_sha)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    colored = decode_image(ctx.storage.get(colored_sha), name="colored", max_pixels=ctx.settings.max_pixels)
    regions = decode_label_map(ctx.storage.get(regions_sha), name="regions")
    found = blockify_by_parts(pipeline.over_white(colored), regions=regions, part_map=part_map)
    blocks = RevisionBlocks(labels=found.result.labels.astype(np.uint16), table=part_block_table_json(found))
    with _lock:
        _cache[key] = blocks
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return blocks
