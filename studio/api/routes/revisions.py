"""Revisions: list, one with its reviews, its chain, its assets, its layered file (PSD or OpenRaster),
its blocks and block labels, the block
diff against another revision, a recolor of chosen blocks, and reviews (verdict or comment)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from starlette.concurrency import run_in_threadpool

from db import api_queries, job_queries, queries
from pipeline.errors import BadInput, NotFound, UnknownBlock
from studio import layered
from studio.api import blocks
from studio.api.assets import asset_response
from studio.api.deps import ContextDep, LeadDep, SessionDep, SubmitterDep, owned_drawing, owned_revision
from studio.api.part_blocks import revision_part_blocks
from studio.api.routes import ERRORS, MAX_ID, IdPath, IdQuery, Limit, Offset
from studio.api.schemas import (
    BlockDiffOut,
    BlocksOut,
    JobOut,
    RecolorIn,
    ReviewIn,
    ReviewOut,
    ReviewStatus,
    RevisionOut,
    RevisionPage,
    job_out,
    review_out,
    revision_out,
)
from workers.submit import submit_recolor

__all__ = ["router"]

router = APIRouter(prefix="/api/revisions", tags=["revisions"], responses=ERRORS)
PNG = {200: {"content": {"image/png": {}}, "description": "A PNG image."}}


@router.get("", response_model=RevisionPage)
def list_revisions(
    session: SessionDep,
    principal: SubmitterDep,
    drawing: IdQuery = None,
    review_status: ReviewStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RevisionPage:
    """Revisions in id order, filtered by drawing and review status."""
    if drawing is not None:
        owned_drawing(session, principal, drawing)
    page = api_queries.page_revisions(
        session,
        owner=principal.owner_filter,
        drawing_id=drawing,
        review_status=review_status,
        limit=limit,
        offset=offset,
    )
    return RevisionPage(
        items=[revision_out(r) for r in page.items], total=page.total, limit=limit, offset=offset
    )


@router.get("/{revision_id}", response_model=RevisionOut)
def get_revision(revision_id: IdPath, session: SessionDep, principal: SubmitterDep) -> RevisionOut:
    """One revision: its prompt id, parent, edits, asset URLs, proof, review status and reviews."""
    return revision_out(owned_revision(session, principal, revision_id))


@router.get("/{revision_id}/chain", response_model=list[RevisionOut])
def revision_chain(revision_id: IdPath, session: SessionDep, principal: SubmitterDep) -> list[RevisionOut]:
    """The revision and its ancestors, root first."""
    owned_revision(session, principal, revision_id)
    return [revision_out(r) for r in queries.revision_chain(session, revision_id)]


@router.get(
    "/{revision_id}/assets/{role}",
    response_class=Response,
    responses={**PNG, 307: {"description": "Presigned S3 URL."}},
)
def revision_asset(
    revision_id: IdPath,
    role: Literal["colored", "flats", "lines", "regions"],
    ctx: ContextDep,
    session: SessionDep,
    principal: SubmitterDep,
) -> Response:
    """One of the revision's images: streamed from local storage, or a redirect to a presigned S3 URL."""
    revision = owned_revision(session, principal, revision_id)
    if role not in revision.assets:
        raise NotFound(f"revision {revision_id} has no {role} image.")
    return asset_response(ctx, session, revision.assets[role], filename=f"r{revision_id}-{role}.png")


LAYERED = {
    200: {
        "content": {media: {} for media in layered.MEDIA_TYPES.values()},
        "description": "A layered file: lines and flats shown, colored and blocks hidden.",
    }
}


@router.get("/{revision_id}/export", response_class=Response, responses=LAYERED)
async def export_layered(
    revision_id: IdPath,
    ctx: ContextDep,
    principal: SubmitterDep,
    format: Literal["psd", "ora"] = "psd",  # noqa: A002
) -> Response:
    """The revision as a layered file a colorist opens (PSD or OpenRaster), as `tint export` writes it."""
    images = await run_in_threadpool(_layered_images, ctx, principal, revision_id)
    data = await run_in_threadpool(layered.layered_file, ctx, images, format)
    headers = {"Content-Disposition": f'attachment; filename="{layered.file_name(images, format)}"'}
    return Response(data, media_type=layered.MEDIA_TYPES[format], headers=headers)


BlocksBy = Annotated[
    Literal["blocks", "parts"],
    Query(description="blocks: one per region (the ids recolor edits use); parts: one per part, named."),
]


@router.get("/{revision_id}/blocks", response_model=BlocksOut)
async def revision_blocks(
    revision_id: IdPath, ctx: ContextDep, principal: SubmitterDep, by: BlocksBy = "blocks"
) -> BlocksOut:
    """The revision's color blocks (block id == region id): color, area, bbox and a point inside; with
    by=parts one block per part (its mean color), each naming its part and the regions it covers."""
    revision = await run_in_threadpool(_readable_revision, ctx, principal, revision_id)
    found = await run_in_threadpool(_blocks_by[by], ctx, revision)
    return BlocksOut(
        revision_id=revision_id,
        width=found.width,
        height=found.height,
        labels_url=f"/api/revisions/{revision_id}/blocks/labels.png" + ("?by=parts" if by == "parts" else ""),
        blocks=found.table,
    )


@router.get("/{revision_id}/blocks/labels.png", response_class=Response, responses=PNG)
async def block_labels(
    revision_id: IdPath, ctx: ContextDep, principal: SubmitterDep, by: BlocksBy = "blocks"
) -> Response:
    """The block label map as RGB: pixel (r, g, 0) is block r*256+g (for the page's hover overlay)."""
    revision = await run_in_threadpool(_readable_revision, ctx, principal, revision_id)
    found = await run_in_threadpool(_blocks_by[by], ctx, revision)
    data = await run_in_threadpool(blocks.labels_png, found)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{revision_id}/diff", response_model=BlockDiffOut)
def block_diff(
    revision_id: IdPath,
    against: Annotated[int, Query(ge=1, le=MAX_ID)],
    ctx: ContextDep,
    session: SessionDep,
    principal: SubmitterDep,
) -> BlockDiffOut:
    """Blocks whose color differs between this revision and `against` (before = against, after = this)."""
    revision = owned_revision(session, principal, revision_id)
    other = owned_revision(session, principal, against)
    if other.drawing_id != revision.drawing_id:
        raise BadInput(
            f"revisions {revision_id} and {against} are of different drawings; compare revisions of one "
            "drawing."
        )
    return BlockDiffOut(
        revision_id=revision_id, against=against, changed=blocks.block_diff(ctx, revision, other)
    )


@router.post("/{revision_id}/recolor", status_code=status.HTTP_202_ACCEPTED, response_model=JobOut)
def recolor(
    revision_id: IdPath, body: RecolorIn, ctx: ContextDep, session: SessionDep, principal: LeadDep
) -> JobOut:
    """Recolor chosen blocks or parts: queues a recolor job whose revision will have this one as parent.
    `parts` {"hair": "#5a3825"} recolors every region of the part; a part this drawing has no region of
    fails the job with the parts it has."""
    revision = owned_revision(session, principal, revision_id)
    at = [[p.x, p.y, p.color.lower()] for p in body.at]
    edits = {k.strip(): v.lower() for k, v in body.edits.items()}
    parts = {k.strip(): v.lower() for k, v in body.parts.items()}
    if not edits and not at and not parts:
        raise BadInput(
            'recolor needs at least one edit: {"edits": {"BLOCK_ID": "#rrggbb"}}, "at" or '
            '{"parts": {"hair": "#rrggbb"}}.'
        )
    blocks.check_recolor(ctx, revision, edits=edits, at=at)
    job_id = submit_recolor(ctx, revision_id=revision_id, edits=edits, at=at, parts=parts)
    session.rollback()  # end the read transaction, so the new job is visible
    return job_out(job_queries.get_job(session, job_id))


@router.get("/{revision_id}/reviews", response_model=list[ReviewOut])
def list_reviews(revision_id: IdPath, session: SessionDep, principal: SubmitterDep) -> list[ReviewOut]:
    """The revision's verdicts and comments, oldest first."""
    return [review_out(r) for r in owned_revision(session, principal, revision_id).reviews]


@router.post("/{revision_id}/reviews", status_code=status.HTTP_201_CREATED, response_model=ReviewOut)
def add_review(
    revision_id: IdPath, body: ReviewIn, ctx: ContextDep, session: SessionDep, principal: LeadDep
) -> ReviewOut:
    """Approve, request changes, or comment (optionally pinned to blocks); a verdict sets the status."""
    revision = owned_revision(session, principal, revision_id)
    if body.blocks:
        ids = {b["id"] for b in blocks.revision_blocks(ctx, revision).table}
        unknown = sorted(set(body.blocks) - ids)
        if unknown:
            raise UnknownBlock(f"block(s) {unknown} are not blocks of revision {revision_id}.")
    if body.verdict is None and not body.comment.strip():
        raise BadInput("a review needs a verdict or a comment.")
    review = queries.add_review(
        session,
        revision_id=revision_id,
        verdict=body.verdict,
        comment=body.comment,
        blocks=body.blocks,
        author=principal.name,
    )
    session.commit()
    return review_out(review)


_blocks_by = {"blocks": blocks.revision_blocks, "parts": revision_part_blocks}


def _layered_images(ctx, principal, revision_id: IdPath) -> layered.RevisionImages:
    with ctx.sessions() as session:
        return layered.images_of(owned_revision(session, principal, revision_id))


def _readable_revision(ctx, principal, revision_id: IdPath):
    with ctx.sessions() as session:
        revision = owned_revision(session, principal, revision_id)
        session.expunge(revision)
        return revision
