"""Tint's tables: assets, batches, drawings, prompts, jobs, revisions, reviews, worker heartbeats, API
tokens and what was published to Kitsu.

States and kinds are plain strings checked in `db.queries`, not database enums, so adding one needs no
migration. JSON columns use `sa.JSON` (json on PostgreSQL, text on SQLite) and are not mutation-tracked:
assign a new dict/list to change one. Every timestamp is a timezone-aware UTC datetime on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "JOB_KINDS",
    "JOB_STATES",
    "ACTIVE_JOB_STATES",
    "FINAL_JOB_STATES",
    "PROMPT_KINDS",
    "REVISION_KINDS",
    "REVIEW_STATUSES",
    "REVIEW_VERDICTS",
    "ASSET_ROLES",
    "NAMING_CONVENTION",
    "UTCDateTime",
    "utcnow",
    "Base",
    "Asset",
    "Batch",
    "Drawing",
    "Prompt",
    "Job",
    "Revision",
    "Review",
    "WorkerHeartbeat",
    "TOKEN_ROLES",
    "ApiToken",
    "KitsuPublication",
]

JOB_KINDS = ("colorize", "blockify", "recolor", "parts")
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE_JOB_STATES = ("queued", "running")
FINAL_JOB_STATES = ("done", "failed", "cancelled")
PROMPT_KINDS = ("none", "points", "image", "palette", "reference", "target", "mixed")
REVISION_KINDS = ("colorize", "blockify", "recolor")
REVIEW_STATUSES = ("pending_review", "approved", "changes_requested")
REVIEW_VERDICTS = ("approved", "changes_requested")  # a review with verdict None is a comment
ASSET_ROLES = ("colored", "flats", "lines", "regions", "result")

# Deterministic constraint names, so migrations can drop and alter them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on PostgreSQL (timestamptz) and SQLite (UTC text).

    SQLite stores no offset and compares timestamps as text, so values are converted to UTC before they
    are stored and marked UTC when read. Naive datetimes are refused rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} given to a UTC column; pass an aware one, "
                "e.g. datetime.now(UTC)."
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base; all of Tint's tables hang off its metadata."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: sa.JSON(), str: sa.String()}


def _created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class Asset(Base):
    """A content-addressed blob in storage: sha256 of its bytes, storage key and image size."""

    __tablename__ = "asset"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    key: Mapped[str]
    media_type: Mapped[str]
    size: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_at: Mapped[datetime] = _created_at()


class Batch(Base):
    """One studio submission, with its manifest exactly as given."""

    __tablename__ = "batch"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str]
    submitted_by: Mapped[str] = mapped_column(default="")
    manifest: Mapped[Any] = mapped_column(sa.JSON())
    created_at: Mapped[datetime] = _created_at()
    # The API token that submitted the batch (None for CLI submissions); submitters read only their own.
    owner_token_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_token.id"), index=True)

    drawings: Mapped[list[Drawing]] = relationship(back_populates="batch", order_by="Drawing.id")


class Drawing(Base):
    """One character line drawing (its line asset), usually part of a batch."""

    __tablename__ = "drawing"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batch.id"), index=True)
    name: Mapped[str]
    character: Mapped[str] = mapped_column(default="")
    view: Mapped[str] = mapped_column(default="")
    line_sha: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("asset.sha256"))
    created_at: Mapped[datetime] = _created_at()

    batch: Mapped[Batch | None] = relationship(back_populates="drawings")
    line: Mapped[Asset] = relationship()


class Prompt(Base):
    """A color prompt as the user gave it; `parent_prompt_id` points at the prompt it was derived from."""

    __tablename__ = "prompt"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    drawing_id: Mapped[int] = mapped_column(sa.ForeignKey("drawing.id"), index=True)
    parent_prompt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prompt.id"))
    kind: Mapped[str]
    payload: Mapped[Any] = mapped_column(sa.JSON())
    hint_sha: Mapped[str | None] = mapped_column(sa.String(64), sa.ForeignKey("asset.sha256"))
    created_at: Mapped[datetime] = _created_at()

    drawing: Mapped[Drawing] = relationship()
    parent: Mapped[Prompt | None] = relationship(remote_side=[id])


class Job(Base):
    """One unit of queued work; the database row is the source of truth, the broker only carries its id."""

    __tablename__ = "job"
    __table_args__ = (
        sa.Index("ix_job_state", "state"),
        sa.Index("ix_job_batch_id", "batch_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str]
    state: Mapped[str] = mapped_column(default="queued")
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batch.id"))
    drawing_id: Mapped[int | None] = mapped_column(sa.ForeignKey("drawing.id"))
    prompt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prompt.id"))
    # job -> revision closes a cycle with revision.job_id; use_alter creates these FKs after both tables.
    parent_revision_id: Mapped[int | None] = mapped_column(sa.ForeignKey("revision.id", use_alter=True))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    revision_id: Mapped[int | None] = mapped_column(sa.ForeignKey("revision.id", use_alter=True))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text())
    worker: Mapped[str | None]
    idempotency_key: Mapped[str | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = _created_at()
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None]

    batch: Mapped[Batch | None] = relationship()
    drawing: Mapped[Drawing | None] = relationship()
    prompt: Mapped[Prompt | None] = relationship()
    parent_revision: Mapped[Revision | None] = relationship(foreign_keys=[parent_revision_id])
    revision: Mapped[Revision | None] = relationship(foreign_keys=[revision_id], post_update=True)


class Revision(Base):
    """One result for a drawing; `parent_revision_id` links the revision chain, `job_id` names its job."""

    __tablename__ = "revision"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    drawing_id: Mapped[int] = mapped_column(sa.ForeignKey("drawing.id"), index=True)
    prompt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prompt.id"))
    parent_revision_id: Mapped[int | None] = mapped_column(sa.ForeignKey("revision.id"))
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("job.id"), unique=True)
    kind: Mapped[str]
    edits: Mapped[Any | None] = mapped_column(sa.JSON(none_as_null=True))
    assets: Mapped[dict[str, Any]] = mapped_column(default=dict)  # role -> sha256
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)  # input name -> content hash
    model_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    proof: Mapped[dict[str, Any]] = mapped_column(default=dict)
    review_status: Mapped[str] = mapped_column(default="pending_review")
    flagged: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = _created_at()

    drawing: Mapped[Drawing] = relationship()
    prompt: Mapped[Prompt | None] = relationship()
    parent: Mapped[Revision | None] = relationship(remote_side=[id], foreign_keys=[parent_revision_id])
    job: Mapped[Job | None] = relationship(foreign_keys=[job_id])
    reviews: Mapped[list[Review]] = relationship(back_populates="revision", order_by="Review.id")


class Review(Base):
    """An art lead's verdict or comment on a revision, optionally pointing at blocks."""

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    revision_id: Mapped[int] = mapped_column(sa.ForeignKey("revision.id"), index=True)
    verdict: Mapped[str | None]
    comment: Mapped[str] = mapped_column(sa.Text(), default="")
    blocks: Mapped[list[Any]] = mapped_column(sa.JSON(), default=list)
    author: Mapped[str] = mapped_column(default="")
    created_at: Mapped[datetime] = _created_at()

    revision: Mapped[Revision] = relationship(back_populates="reviews")


class WorkerHeartbeat(Base):
    """Last sign of life of a worker, so a file command can tell whether any worker is running."""

    __tablename__ = "worker_heartbeat"

    name: Mapped[str] = mapped_column(primary_key=True)
    queues: Mapped[str]
    last_seen: Mapped[datetime]


TOKEN_ROLES = ("submitter", "lead", "admin")  # each role can do what the ones before it can


class ApiToken(Base):
    """An HTTP API token: only the sha256 of the secret is kept; a revoked token stays for the record."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str]
    role: Mapped[str]
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = _created_at()
    revoked_at: Mapped[datetime | None]


class KitsuPublication(Base):
    """What `tint publish --kitsu` last sent for one drawing to one Kitsu project, with the Kitsu ids, so
    publishing again updates that task instead of making another."""

    __tablename__ = "kitsu_publication"
    __table_args__ = (sa.UniqueConstraint("drawing_id", "kitsu_url", "project"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    drawing_id: Mapped[int] = mapped_column(sa.ForeignKey("drawing.id"), index=True)
    kitsu_url: Mapped[str]
    project: Mapped[str]  # the Kitsu project's name, as given to `tint publish`
    revision_id: Mapped[int] = mapped_column(sa.ForeignKey("revision.id"))  # the revision last sent
    review_status: Mapped[str]  # the revision's review status when it was sent
    task_status: Mapped[str]  # the Kitsu task status set (short name, e.g. wfa)
    project_id: Mapped[str] = mapped_column(sa.String(36))
    entity_id: Mapped[str] = mapped_column(sa.String(36))  # the asset or shot
    task_id: Mapped[str] = mapped_column(sa.String(36))
    comment_id: Mapped[str] = mapped_column(sa.String(36))
    preview_id: Mapped[str | None] = mapped_column(sa.String(36))
    published_at: Mapped[datetime]
    created_at: Mapped[datetime] = _created_at()
