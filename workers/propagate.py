"""Propagating what a lead approved: a character's approved revisions color its other drawings, as jobs.

`submit_propagate` takes, in one batch, the drawings of one character whose latest revision is approved as
the reference (their colored pictures, a model sheet of several views when there are several) and queues a
colorize job for every other drawing of that character: a new prompt that keeps the drawing's own hints
(points, strokes, hint image, palette, trace-line rules; they still win, region by region) and takes the
approved pictures as its reference, and a revision whose parent is the drawing's latest. Approving a
revision queues nothing by itself; only this call does. The same call made again queues nothing new: a
drawing whose latest revision was colored from the same approved revisions, or whose job for them is
queued already (its idempotency key names them and the drawing's latest), is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from db import job_queries, queries
from db.models import Drawing, Revision
from pipeline.errors import BadInput, NotFound
from workers.context import Context
from workers.jobs import session_scope
from workers.submit import enqueue

__all__ = ["Propagation", "submit_propagate"]

OWN_KEYS = ("points", "strokes", "palette", "trace_lines")  # a drawing's own prompt, kept under the reference


@dataclass(frozen=True)
class Propagation:
    """What one propagate call queued: the approved revisions used and one job per recolored drawing."""

    character: str
    references: tuple[int, ...]  # approved revision ids, their colored pictures the reference
    jobs: tuple[int, ...]
    drawings: tuple[int, ...]  # the drawing of each job, in the same order


def _own_prompt(
    session, drawing: Drawing, latest: Revision | None
) -> tuple[dict, str | None, int | None, dict]:
    """(own payload, hint image sha, prompt id, its reference) of the drawing's prompt: its latest
    revision's, else its first."""
    prompt = queries.get_prompt(session, latest.prompt_id) if latest and latest.prompt_id else None
    if prompt is None:
        history = queries.prompt_history(session, drawing.id)
        prompt = history[0] if history else None
    if prompt is None:
        return {}, None, None, {}
    payload = prompt.payload if isinstance(prompt.payload, dict) else {}
    own = {k: v for k, v in payload.items() if k in OWN_KEYS}
    return own, prompt.hint_sha, prompt.id, payload.get("reference") or {}


def submit_propagate(ctx: Context, *, batch_id: int, character: str) -> Propagation:
    """Queue a colorize job for every drawing of `character` in the batch whose latest revision is not
    approved, with the approved drawings' colored pictures as its reference; see the module docstring."""
    with session_scope(ctx) as session:
        if queries.get_batch(session, batch_id, with_manifest=False) is None:
            raise NotFound(f"batch {batch_id} does not exist; `tint status` lists batches.")
        rows = [
            (d, r) for d, r in queries.latest_colored_revisions(session, batch_id) if d.character == character
        ]
        if not rows:
            raise NotFound(f"batch {batch_id} has no drawing of character {character!r}.")
        approved = [r for _, r in rows if r is not None and r.review_status == "approved"]
        if not approved:
            raise BadInput(
                f"no drawing of {character!r} in batch {batch_id} has an approved latest revision; "
                "approve one on the review page first."
            )
        refs = tuple(r.id for r in approved)
        pictures = [r.assets["colored"] for r in approved]
        queued: list[tuple[int, int]] = []
        for drawing, latest in rows:
            if latest is not None and latest.review_status == "approved":
                continue
            own, hint_sha, own_id, given = _own_prompt(session, drawing, latest)
            if given.get("revisions") == list(refs):
                continue  # its latest revision was colored from these very approved revisions
            payload = {**own, "reference": {"assets": pictures, "revisions": list(refs)}}
            kind = "mixed" if own or hint_sha else "reference"
            key = f"propagate:{drawing.id}:{latest.id if latest else 0}:{','.join(map(str, refs))}"
            if job_queries.job_by_key(session, key) is not None:
                continue  # this very propagation was queued already
            prompt = queries.create_prompt(
                session,
                drawing_id=drawing.id,
                kind=kind,
                payload=payload,
                hint_sha=hint_sha,
                parent_prompt_id=own_id,
            )
            job = job_queries.create_job(
                session,
                kind="colorize",
                params={"propagated_from": list(refs)},
                batch_id=batch_id,
                drawing_id=drawing.id,
                prompt_id=prompt.id,
                parent_revision_id=latest.id if latest else None,
                idempotency_key=key,
                deadline_s=ctx.settings.job_deadline_s,
            )
            session.flush()
            queued.append((job.id, drawing.id))
    enqueue(ctx, [(job_id, "colorize") for job_id, _ in queued])
    return Propagation(
        character=character,
        references=refs,
        jobs=tuple(j for j, _ in queued),
        drawings=tuple(d for _, d in queued),
    )
