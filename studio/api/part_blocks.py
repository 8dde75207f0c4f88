"""A revision's blocks by part for the API and the review page's part picker (`?by=parts`).

The part map of the revision's line drawing comes from its `parts` job (one per drawing's content, made
when missing and reused after, as the batch report gets it); the blocks are `pipeline.part_blocks`'. Results
are cached in memory by the content hashes they come from, so a cached entry never goes stale.
"""

from __future__ import annotations

import numpy as np

from db.models import Drawing, Revision
from pipeline.images import decode_label_map
from pipeline.part_blocks import blockify_by_parts, part_block_table_json
from studio.api.blocks import RevisionBlocks, cached_blocks, revision_assets
from studio.runner import raise_if_failed
from workers.context import Context

__all__ = ["part_map_of", "revision_part_blocks"]


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
    colored_sha, regions_sha = revision_assets(revision)
    with ctx.sessions() as session:
        drawing = session.get(Drawing, revision.drawing_id)
        line_sha, name = drawing.line_sha, drawing.name
    part_sha, part_map = part_map_of(ctx, line_sha=line_sha, name=name)

    def make(colored: np.ndarray, regions: np.ndarray) -> RevisionBlocks:
        found = blockify_by_parts(colored, regions=regions, part_map=part_map)
        return RevisionBlocks(
            labels=found.result.labels.astype(np.uint16), table=part_block_table_json(found)
        )

    return cached_blocks(ctx, (colored_sha, regions_sha, part_sha), make)
