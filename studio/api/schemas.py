"""Request and response bodies of the HTTP API (pydantic), and the functions that build them from rows.

Colors are "#rrggbb"; asset fields are URLs on this API (they redirect to presigned URLs on S3).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from db.api_queries import BatchFront
from db.models import JOB_KINDS, JOB_STATES, Batch, Job, Prompt, Review, Revision

__all__ = [
    "out_of",
    "COLOR_PATTERN",
    "ErrorOut",
    "TokenCreate",
    "TokenOut",
    "TokenCreated",
    "SessionIn",
    "Me",
    "BatchOut",
    "BatchPage",
    "JobOut",
    "JobPage",
    "PromptOut",
    "ReviewIn",
    "ReviewOut",
    "RevisionOut",
    "RevisionPage",
    "DrawingOut",
    "DrawingPage",
    "DrawingDetail",
    "BlockOut",
    "CharacterRecolorIn",
    "BlocksOut",
    "BlockChange",
    "BlockDiffOut",
    "PointEdit",
    "RecolorIn",
    "ReportRowOut",
    "UncoloredOut",
    "BatchReportOut",
    "batch_out",
    "job_out",
    "prompt_out",
    "review_out",
    "revision_out",
]

COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
Role = Literal["submitter", "lead", "admin"]
Verdict = Literal["approved", "changes_requested"]
ReviewStatus = Literal["pending_review", "approved", "changes_requested"]
JobState = Literal[JOB_STATES]
JobKind = Literal[JOB_KINDS]

M = TypeVar("M", bound=BaseModel)


class ErrorOut(BaseModel):
    """What every error answers: one sentence saying what is wrong and what to do."""

    detail: str


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    role: Role


class TokenOut(BaseModel):
    id: int
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown this once, stored only as a hash.")


class SessionIn(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    id: int
    name: str
    role: str


class BatchOut(BaseModel):
    id: int
    name: str
    submitted_by: str
    owner_token_id: int | None
    created_at: datetime
    progress: dict[str, int] = Field(description="Colorize jobs per state.")
    drawing_count: int = Field(0, description="Drawings in the batch.")
    characters: list[str] = Field(default_factory=list, description="The batch's named characters, sorted.")
    thumbnails: list[str] = Field(
        default_factory=list,
        description="Image URLs of the first drawings: the latest revision's colored image, or the line.",
    )


class JobOut(BaseModel):
    id: int
    kind: str
    state: str
    batch_id: int | None
    drawing_id: int | None
    parent_revision_id: int | None
    revision_id: int | None
    attempts: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class PromptOut(BaseModel):
    id: int
    drawing_id: int
    parent_prompt_id: int | None
    kind: str
    payload: Any
    hint_sha: str | None
    created_at: datetime


class ReviewIn(BaseModel):
    verdict: Verdict | None = Field(None, description="None makes a comment only.")
    comment: str = Field("", max_length=5000)
    blocks: list[int] = Field(default_factory=list, max_length=1000, description="Block ids pointed at.")


class ReviewOut(BaseModel):
    id: int
    revision_id: int
    verdict: str | None
    comment: str
    blocks: list[int]
    author: str
    created_at: datetime


class RevisionOut(BaseModel):
    id: int
    drawing_id: int
    prompt_id: int | None
    parent_revision_id: int | None
    job_id: int | None
    kind: str
    edits: dict[str, str] | None
    assets: dict[str, str] = Field(description="Role -> URL of the asset on this API.")
    proof: dict[str, Any]
    model_versions: dict[str, Any]
    review_status: str
    flagged: bool
    created_at: datetime
    reviews: list[ReviewOut]


class _Page(BaseModel):
    total: int
    limit: int
    offset: int


class BatchPage(_Page):
    items: list[BatchOut]


class JobPage(_Page):
    items: list[JobOut]


class RevisionPage(_Page):
    items: list[RevisionOut]


class DrawingOut(BaseModel):
    id: int
    batch_id: int | None
    name: str
    character: str
    view: str
    created_at: datetime
    line_url: str
    thumbnail_url: str = Field(description="The latest revision's colored image, or the line drawing.")
    review_status: str | None = Field(description="The latest revision's; None before the first one.")
    latest_revision_id: int | None
    latest_job: JobOut | None
    retakes: int = Field(description="'changes_requested' verdicts over all the drawing's revisions.")
    revision_count: int
    flags: list[str] = Field(
        default_factory=list,
        description="Why the latest revision needs review (adherence under 100%, low-confidence matches).",
    )


class DrawingPage(_Page):
    items: list[DrawingOut]


class DrawingDetail(DrawingOut):
    revisions: list[RevisionOut]
    prompts: list[PromptOut]
    jobs: list[JobOut]


class BlockOut(BaseModel):
    id: int
    color: str
    area: int
    bbox: list[int] = Field(description="[x0, y0, x1, y1], inclusive.")
    point: list[int] = Field(description="[x, y] inside the block.")
    part: str | None = Field(None, description="With by=parts: the part this block is (hair, skin…).")
    regions: list[int] | None = Field(None, description="With by=parts: the region (block) ids it covers.")


class BlocksOut(BaseModel):
    revision_id: int
    width: int
    height: int
    labels_url: str = Field(description="PNG whose pixel (r, g) codes the block id r*256+g.")
    blocks: list[BlockOut]


class BlockChange(BaseModel):
    id: int
    before: str
    after: str
    area: int
    bbox: list[int]


class BlockDiffOut(BaseModel):
    revision_id: int
    against: int
    changed: list[BlockChange]


class PointEdit(BaseModel):
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    color: str = Field(pattern=COLOR_PATTERN)


class RecolorIn(BaseModel):
    edits: dict[str, str] = Field(
        default_factory=dict, description='Block id -> "#rrggbb", for example {"4": "#aa3300"}.'
    )
    at: list[PointEdit] = Field(default_factory=list, max_length=1000)
    parts: dict[str, str] = Field(
        default_factory=dict,
        description='Part name -> "#rrggbb", for example {"hair": "#5a3825"}: every region of that part.',
    )


class CharacterRecolorIn(BaseModel):
    character: str = Field(min_length=1, max_length=200, description="The character, as in the manifest.")
    parts: dict[str, str] = Field(
        min_length=1, description='Part name -> "#rrggbb", for example {"hair": "#5a3825"}.'
    )


class PropagateIn(BaseModel):
    character: str = Field(min_length=1, max_length=200, description="The character, as in the manifest.")


class PropagateOut(BaseModel):
    character: str
    references: list[int] = Field(
        description="The approved revisions whose colored pictures are the reference."
    )
    jobs: list[JobOut] = Field(description="One colorize job per drawing of the character not approved yet.")


class ReportRowOut(BaseModel):
    character: str = Field(description='The drawing\'s character; "(no character)" when it has none.')
    part: str
    drawing_id: int
    drawing: str
    revision_id: int = Field(description="The colorize or recolor revision the color was read from.")
    color: str = Field(description="The part's most common flat color in the drawing.")
    median: str = Field(description="The character's median color of this part over the batch.")
    delta_e: float = Field(description="CIEDE2000 of color to median.")
    flagged: bool = Field(description="delta_e is over the report's threshold.")
    pixels: int


class UncoloredOut(BaseModel):
    drawing_id: int
    drawing: str
    character: str


class BatchReportOut(BaseModel):
    batch_id: int
    batch: str
    threshold: float
    flagged: int = Field(description="How many rows are flagged.")
    rows: list[ReportRowOut] = Field(description="By character, part, then drawing.")
    uncolored: list[UncoloredOut] = Field(description="Drawings with no colored revision yet.")


def out_of(row: object, schema: type[M], **computed: Any) -> M:
    """`schema` filled from the row's attributes of the same names, and from `computed` for the rest."""
    fields = {name: getattr(row, name) for name in schema.model_fields if name not in computed}
    return schema.model_validate({**fields, **computed})


def batch_out(batch: Batch, progress: dict[str, int], front: BatchFront | None = None) -> BatchOut:
    """The batch with its job counts and, when given, what the batch list shows of it (`batch_fronts`)."""
    front = front or BatchFront()
    thumbnails = [
        f"/api/revisions/{revision_id}/assets/colored" if revision_id else f"/api/drawings/{drawing_id}/line"
        for drawing_id, revision_id in front.thumbnails
    ]
    return out_of(
        batch,
        BatchOut,
        progress=progress,
        drawing_count=front.drawing_count,
        characters=front.characters,
        thumbnails=thumbnails,
    )


def job_out(job: Job) -> JobOut:
    return JobOut.model_validate(job, from_attributes=True)


def prompt_out(prompt: Prompt) -> PromptOut:
    return PromptOut.model_validate(prompt, from_attributes=True)


def review_out(review: Review) -> ReviewOut:
    return ReviewOut.model_validate(review, from_attributes=True)


def revision_out(revision: Revision) -> RevisionOut:
    images = ("colored", "flats", "lines", "regions")
    return out_of(
        revision,
        RevisionOut,
        assets={
            role: f"/api/revisions/{revision.id}/assets/{role}" for role in revision.assets if role in images
        },
        proof=revision.proof or {},
        model_versions=revision.model_versions or {},
        reviews=[review_out(r) for r in revision.reviews],
    )
