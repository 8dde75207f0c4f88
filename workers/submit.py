"""Submitting work: manifests and single files become rows first, then one Celery message per job.

The database is the source of truth and the broker only transport: rows are committed before any message
is sent, and `reconcile` re-sends jobs left queued or running past their deadline.
"""

from __future__ import annotations

import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from db import job_queries, queries
from db.models import FINAL_JOB_STATES, Job, Revision
from pipeline.errors import BadInput, NotFound, TintError
from pipeline.images import decode_image
from pipeline.part_edits import parse_part_edits
from workers.celery_app import TASK_QUEUES, app
from workers.context import Context
from workers.jobs import session_scope
from workers.manifest import DrawingSpec, read_manifest
from workers.storage import sha256_hex

__all__ = [
    "retry_job",
    "submit_rerun",
    "submit_manifest",
    "submit_colorize",
    "submit_blockify",
    "submit_recolor",
    "submit_parts",
    "enqueue",
    "reconcile",
    "wait_for_job",
]

log = logging.getLogger("tint.submit")
PUT_THREADS = 8
ENQUEUE_THREADS = 8
ENQUEUE_PARALLEL_FROM = 200
PUBLISH_BATCH = 500


def _put_asset(ctx: Context, session, data: bytes, *, media_type: str) -> str:
    sha = ctx.storage.put(data, media_type=media_type)
    queries.add_asset(session, sha256=sha, key=ctx.storage.key(sha), media_type=media_type, size=len(data))
    return sha


def _media_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def _reference_payload(shas: list[str]) -> dict:
    """A prompt's reference: {"asset": sha} for one picture, {"assets": [...]} for a model sheet."""
    return {"asset": shas[0]} if len(shas) == 1 else {"assets": shas}


def _new_drawing_job(ctx: Context, session, spec: DrawingSpec, *, batch_id: int | None) -> Job:
    line_sha = _put_asset(ctx, session, spec.line, media_type=_media_type(spec.line))
    hint_sha = None
    if spec.hint_image is not None:
        hint_sha = _put_asset(ctx, session, spec.hint_image, media_type=_media_type(spec.hint_image))
    payload = spec.prompt_payload
    pictures = spec.reference_pictures()
    if pictures:
        shas = [_put_asset(ctx, session, data, media_type=_media_type(data)) for data in pictures]
        payload = {**payload, "reference": _reference_payload(shas)}
    drawing = queries.create_drawing(
        session,
        batch_id=batch_id,
        name=spec.name,
        character=spec.character,
        view=spec.view,
        line_sha=line_sha,
    )
    session.flush()
    prompt = queries.create_prompt(
        session, drawing_id=drawing.id, kind=spec.prompt_kind, payload=payload, hint_sha=hint_sha
    )
    session.flush()
    return job_queries.create_job(
        session,
        kind="colorize",
        params={},
        batch_id=batch_id,
        drawing_id=drawing.id,
        prompt_id=prompt.id,
        deadline_s=ctx.settings.job_deadline_s,
    )


def _send(jobs: list[tuple[int, str]]) -> int:
    sent = 0
    try:
        with app.producer_or_acquire() as producer:
            # kombu >= 5.7 pipelines a batch's publishes (one Redis round trip per PUBLISH_BATCH
            # messages instead of one each); other transports and older kombu publish one by one
            batch = getattr(producer, "batch", None)
            for start in range(0, len(jobs), PUBLISH_BATCH):
                chunk = jobs[start : start + PUBLISH_BATCH]
                with batch(max_size=PUBLISH_BATCH) if batch else contextlib.nullcontext():
                    for job_id, kind in chunk:
                        name = f"tint.{kind}"
                        app.send_task(name, args=[job_id], queue=TASK_QUEUES[name], producer=producer)
                sent += len(chunk)  # counted once its batch is flushed
    except Exception as exc:  # the rows are committed; reconcile will send what was not sent
        log.warning(
            "broker refused %d of %d messages (%s); `tint reconcile` re-sends them",
            len(jobs) - sent,
            len(jobs),
            exc,
        )
    return sent


def enqueue(ctx: Context, jobs: list[tuple[int, str]]) -> int:
    """Send one message per (job id, kind); a broker fault is logged, the reconciler re-sends later.

    Large batches go out over several producer connections at once (one round trip per message
    otherwise bounds a 10,000-job batch at about 15 s); the embedded SQLite broker takes one writer.
    """
    if len(jobs) < ENQUEUE_PARALLEL_FROM or ctx.settings.embedded_broker:
        return _send(jobs)
    chunks = [jobs[i::ENQUEUE_THREADS] for i in range(ENQUEUE_THREADS)]
    with ThreadPoolExecutor(max_workers=ENQUEUE_THREADS) as pool:
        return sum(pool.map(_send, chunks))


def _store_blobs(ctx: Context, blobs: dict[str, bytes]) -> list[dict]:
    """Write every blob (sha → bytes) to storage, several at a time; returns their asset rows."""

    def put(item: tuple[str, bytes]) -> dict:
        sha, data = item
        media_type = _media_type(data)
        stored = ctx.storage.put(data, media_type=media_type)
        assert stored == sha
        return {"sha256": sha, "key": ctx.storage.key(sha), "media_type": media_type, "size": len(data)}

    with ThreadPoolExecutor(max_workers=PUT_THREADS) as pool:
        return list(pool.map(put, blobs.items()))


def _check_images(ctx: Context, specs: list[DrawingSpec]) -> None:
    """Decode every image up front (a front door that must refuse broken uploads before any row exists)."""
    for spec in specs:
        decode_image(spec.line, name=spec.name, max_pixels=ctx.settings.max_pixels)
        pictures = [("reference picture", data) for data in spec.reference_pictures()]
        for what, data in [("hint image", spec.hint_image), *pictures]:
            if data is not None:
                decode_image(data, name=f"{what} of {spec.name}", max_pixels=ctx.settings.max_pixels)


def submit_manifest(
    ctx: Context,
    path: Path,
    *,
    submitted_by: str = "",
    owner_token_id: int | None = None,
    check_images: bool = False,
) -> int:
    """Record a batch and its jobs in one transaction, then enqueue them; returns the batch id.

    Files are stored first (deduplicated, several at a time), then the rows go in with batched INSERTs,
    then one message per job is sent: rows are committed before any message exists. `check_images`
    refuses the whole batch when an image does not decode (the API does; the CLI lets such a drawing
    fail its own job).
    """
    doc, specs = read_manifest(path)
    if check_images:
        _check_images(ctx, specs)
    blobs: dict[str, bytes] = {}
    entries = []
    for spec in specs:
        line_sha = sha256_hex(spec.line)
        blobs[line_sha] = spec.line
        hint_sha = None
        if spec.hint_image is not None:
            hint_sha = sha256_hex(spec.hint_image)
            blobs[hint_sha] = spec.hint_image
        payload = spec.prompt_payload
        pictures = spec.reference_pictures()
        if pictures:
            shas = [sha256_hex(data) for data in pictures]
            blobs.update(zip(shas, pictures, strict=True))
            payload = {**payload, "reference": _reference_payload(shas)}
        entries.append(
            {
                "name": spec.name,
                "character": spec.character,
                "view": spec.view,
                "line_sha": line_sha,
                "prompt_kind": spec.prompt_kind,
                "payload": payload,
                "hint_sha": hint_sha,
                "params": {},
            }
        )
    rows = _store_blobs(ctx, blobs)
    with session_scope(ctx) as session:
        queries.add_assets(session, rows)
        batch = queries.create_batch(
            session, name=str(doc.get("name") or Path(path).stem), submitted_by=submitted_by, manifest=doc
        )
        batch.owner_token_id = owner_token_id
        batch_id = batch.id
        job_ids = job_queries.create_drawing_jobs(
            session, batch_id=batch_id, drawings=entries, deadline_s=ctx.settings.job_deadline_s
        )
    enqueue(ctx, [(job_id, "colorize") for job_id in job_ids])
    return batch_id


def submit_colorize(ctx: Context, spec: DrawingSpec) -> int:
    """Record and enqueue one colorize job for a single drawing; returns the job id."""
    with session_scope(ctx) as session:
        job = _new_drawing_job(ctx, session, spec, batch_id=None)
        session.flush()
        job_id = job.id
    enqueue(ctx, [(job_id, "colorize")])
    return job_id


def submit_blockify(
    ctx: Context,
    *,
    image: bytes | None = None,
    name: str = "image",
    revision_id: int | None = None,
    by: str = "blocks",
) -> int:
    """Record and enqueue one blockify job, of an image or of a revision; returns the job id.

    `by="parts"` (a revision only): one block per part of its line drawing instead of one per region."""
    if by not in ("blocks", "parts"):
        raise BadInput(f"blockify by {by!r}: choose blocks (one per region) or parts (one per part).")
    if by == "parts" and revision_id is None:
        raise BadInput("blocks by part need a revision (--revision ID): its line drawing gives the parts.")
    with session_scope(ctx) as session:
        if revision_id is not None:
            if session.get(Revision, revision_id) is None:
                raise NotFound(
                    f"revision {revision_id} does not exist; `tint history DRAWING` lists revisions."
                )
            params = {"revision_id": revision_id, **({"by": by} if by == "parts" else {})}
        else:
            params = {
                "image_sha": _put_asset(ctx, session, image, media_type=_media_type(image)),
                "name": name,
            }
        job = job_queries.create_job(
            session, kind="blockify", params=params, deadline_s=ctx.settings.job_deadline_s
        )
        session.flush()
        job_id = job.id
    enqueue(ctx, [(job_id, "blockify")])
    return job_id


def submit_recolor(
    ctx: Context,
    *,
    revision_id: int,
    edits: dict[str, str],
    at: list[list],
    edit_image: bytes | None = None,
    parts: dict[str, str] | None = None,
) -> int:
    """Record and enqueue a recolor of `revision_id`; an unknown revision records nothing.

    `edit_image`: the block image painted over; its changed pixels pick the blocks and their colors.
    `parts`: {"hair": "#5a3825"}, every region of the part (checked here: an unknown name records nothing).
    """
    if parts:
        parse_part_edits(parts)
    with session_scope(ctx) as session:
        revision = session.get(Revision, revision_id)
        if revision is None:
            raise NotFound(f"revision {revision_id} does not exist; `tint history DRAWING` lists revisions.")
        params: dict = {"edits": edits, "at": at, **({"parts": parts} if parts else {})}
        if edit_image is not None:
            params["edit_image_sha"] = _put_asset(
                ctx, session, edit_image, media_type=_media_type(edit_image)
            )
        job = job_queries.create_job(
            session,
            kind="recolor",
            params=params,
            drawing_id=revision.drawing_id,
            parent_revision_id=revision_id,
            deadline_s=ctx.settings.job_deadline_s,
        )
        session.flush()
        job_id = job.id
    enqueue(ctx, [(job_id, "recolor")])
    return job_id


def submit_parts(
    ctx: Context, *, image: bytes | None = None, name: str = "", line_sha: str | None = None
) -> int:
    """Queue the part segmentation of a line drawing (its bytes, or an asset already stored); returns the
    job id. One job per drawing's content: asking again returns the same job, and one that failed is
    queued again."""
    with session_scope(ctx) as session:
        if line_sha is None:
            line_sha = _put_asset(ctx, session, image, media_type=_media_type(image))
        job = job_queries.create_job(
            session,
            kind="parts",
            params={"line_sha": line_sha, "name": name},
            idempotency_key=f"parts:{line_sha}",
            deadline_s=ctx.settings.job_deadline_s,
        )
        again = job.state in ("failed", "cancelled")
        if again:
            job_queries.requeue_job(session, job.id, deadline_s=ctx.settings.job_deadline_s)
        job_id, queued = job.id, again or job.attempts == 0
    if queued:
        enqueue(ctx, [(job_id, "parts")])
    return job_id


def submit_rerun(ctx: Context, revision_id: int) -> int:
    """Queue the job that made `revision_id` again, with the same inputs; returns the new job id."""
    with session_scope(ctx) as session:
        revision = session.get(Revision, revision_id)
        if revision is None or revision.job_id is None:
            raise NotFound(f"revision {revision_id} does not exist or was not made by a job.")
        source = session.get(Job, revision.job_id)
        job = job_queries.create_job(
            session,
            kind=source.kind,
            params=dict(source.params or {}),
            drawing_id=source.drawing_id,
            prompt_id=source.prompt_id,
            parent_revision_id=source.parent_revision_id,
            deadline_s=ctx.settings.job_deadline_s,
        )
        session.flush()
        job_id, kind = job.id, job.kind
    enqueue(ctx, [(job_id, kind)])
    return job_id


def retry_job(ctx: Context, job_id: int) -> None:
    """Queue a failed or cancelled job again (`tint retry`)."""
    with session_scope(ctx) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id} does not exist.")
        if job.state not in ("failed", "cancelled"):
            raise BadInput(f"job {job_id} is {job.state}; only failed or cancelled jobs can be retried.")
        job_queries.requeue_job(session, job_id, deadline_s=ctx.settings.job_deadline_s)
        kind = job.kind
    enqueue(ctx, [(job_id, kind)])


def reconcile(ctx: Context) -> int:
    """Re-enqueue every job left queued or running past its deadline; returns how many."""
    with session_scope(ctx) as session:
        todo = [
            (job.id, job.kind)
            for job in job_queries.stranded_jobs(session)
            if job_queries.requeue_job(
                session, job.id, deadline_s=ctx.settings.job_deadline_s, only_stranded=True
            )
        ]
    if todo:
        log.info("reconcile: re-enqueued %d stranded jobs", len(todo))
    return enqueue(ctx, todo) if todo else 0


def wait_for_job(ctx: Context, job_id: int, *, timeout_s: float) -> Job:
    """Poll the database until the job is done, failed or cancelled; TintError on timeout."""
    deadline = time.monotonic() + timeout_s
    delay = 0.02
    while True:
        with session_scope(ctx) as session:
            job = session.get(Job, job_id)
            if job is None:
                raise NotFound(f"job {job_id} does not exist")
            if job.state in FINAL_JOB_STATES:
                session.expunge(job)
                return job
        if time.monotonic() > deadline:
            raise TintError(
                f"job {job_id} is still {job.state} after {timeout_s:.0f}s; is a worker running? "
                "(start one with `tint worker`)"
            )
        time.sleep(delay)
        delay = min(0.25, delay * 1.5)
