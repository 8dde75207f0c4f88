"""Recolor a part across a whole character: one recolor job per drawing of the character in a batch.

Each job's parent is the drawing's latest colorize or recolor revision (the one `tint report` reads), and
every job goes through the one recolor task with the same part edits, so after the jobs the report reads
the part as exactly the requested color in every drawing. Rows are committed before any message is sent,
as for every submission.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from db import job_queries, queries
from pipeline.errors import BadInput, NotFound
from pipeline.part_edits import parse_part_edits
from workers.context import Context
from workers.jobs import session_scope
from workers.submit import enqueue

__all__ = ["CharacterRecolor", "submit_character_recolor"]


@dataclass
class CharacterRecolor:
    """What a character-wide recolor queued: per drawing (id, name, parent revision id, job id), and the
    drawings of the character skipped because they have no colored revision yet."""

    batch_id: int
    character: str
    jobs: list[tuple[int, str, int, int]] = field(default_factory=list)
    uncolored: list[tuple[int, str]] = field(default_factory=list)


def submit_character_recolor(
    ctx: Context, *, batch_id: int, character: str, parts: dict[str, str]
) -> CharacterRecolor:
    """Queue one recolor by part of each colored drawing of `character` in batch `batch_id`.

    Unknown part names, an unknown batch, or a character with no drawing there (or none colored yet)
    record nothing and raise BadInput saying which.
    """
    parse_part_edits(parts)
    out = CharacterRecolor(batch_id=batch_id, character=character)
    with session_scope(ctx) as session:
        if queries.get_batch(session, batch_id, with_manifest=False) is None:
            raise NotFound(f"batch {batch_id} does not exist; `tint status` lists batches.")
        rows = queries.latest_colored_revisions(session, batch_id)
        mine = [(d, r) for d, r in rows if d.character == character]
        if not mine:
            names = sorted({d.character for d, _ in rows if d.character})
            raise BadInput(
                f"batch {batch_id} has no drawing of character {character!r}; its characters: "
                f"{', '.join(names) or 'none'}."
            )
        for drawing, revision in mine:
            if revision is None:
                out.uncolored.append((drawing.id, drawing.name))
                continue
            job = job_queries.create_job(
                session,
                kind="recolor",
                params={"edits": {}, "at": [], "parts": dict(parts)},
                drawing_id=drawing.id,
                parent_revision_id=revision.id,
                deadline_s=ctx.settings.job_deadline_s,
            )
            out.jobs.append((drawing.id, drawing.name, revision.id, job.id))
        if not out.jobs:
            raise BadInput(
                f"no drawing of {character!r} in batch {batch_id} has a colored revision yet; "
                f"`tint status {batch_id}` shows its jobs."
            )
    enqueue(ctx, [(job_id, "recolor") for *_, job_id in out.jobs])
    return out
