"""Initial schema: asset, batch, drawing, prompt, job, revision, review, worker_heartbeat.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

job.parent_revision_id / job.revision_id and revision.job_id reference each other, so job is created
first and its two foreign keys to revision are added once revision exists (batch mode on SQLite).
Types are spelled out here rather than imported from db.models, so this file stays as it was shipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def _created_at() -> sa.Column:
    return sa.Column("created_at", _utc(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "asset",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("media_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_asset")),
    )
    op.create_table(
        "batch",
        _id(),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("submitted_by", sa.String(), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch")),
    )
    op.create_table(
        "worker_heartbeat",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("queues", sa.String(), nullable=False),
        sa.Column("last_seen", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeat")),
    )
    op.create_table(
        "drawing",
        _id(),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("character", sa.String(), nullable=False),
        sa.Column("view", sa.String(), nullable=False),
        sa.Column("line_sha", sa.String(length=64), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_drawing_batch_id_batch")),
        sa.ForeignKeyConstraint(["line_sha"], ["asset.sha256"], name=op.f("fk_drawing_line_sha_asset")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drawing")),
    )
    op.create_index(op.f("ix_drawing_batch_id"), "drawing", ["batch_id"])
    op.create_table(
        "prompt",
        _id(),
        sa.Column("drawing_id", sa.Integer(), nullable=False),
        sa.Column("parent_prompt_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("hint_sha", sa.String(length=64), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(["drawing_id"], ["drawing.id"], name=op.f("fk_prompt_drawing_id_drawing")),
        sa.ForeignKeyConstraint(["hint_sha"], ["asset.sha256"], name=op.f("fk_prompt_hint_sha_asset")),
        sa.ForeignKeyConstraint(
            ["parent_prompt_id"], ["prompt.id"], name=op.f("fk_prompt_parent_prompt_id_prompt")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt")),
    )
    op.create_index(op.f("ix_prompt_drawing_id"), "prompt", ["drawing_id"])
    op.create_table(
        "job",
        _id(),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("drawing_id", sa.Integer(), nullable=True),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.Column("parent_revision_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("revision_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(), nullable=True),
        sa.Column("idempotency_key", sa.String(), nullable=True),
        _created_at(),
        sa.Column("queued_at", _utc(), nullable=False),
        sa.Column("started_at", _utc(), nullable=True),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("deadline_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_job_batch_id_batch")),
        sa.ForeignKeyConstraint(["drawing_id"], ["drawing.id"], name=op.f("fk_job_drawing_id_drawing")),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompt.id"], name=op.f("fk_job_prompt_id_prompt")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_job_idempotency_key")),
    )
    op.create_index("ix_job_state", "job", ["state"])
    op.create_index("ix_job_batch_id", "job", ["batch_id"])
    op.create_table(
        "revision",
        _id(),
        sa.Column("drawing_id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.Column("parent_revision_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("edits", sa.JSON(), nullable=True),
        sa.Column("assets", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("model_versions", sa.JSON(), nullable=False),
        sa.Column("proof", sa.JSON(), nullable=False),
        sa.Column("review_status", sa.String(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(["drawing_id"], ["drawing.id"], name=op.f("fk_revision_drawing_id_drawing")),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_revision_job_id_job")),
        sa.ForeignKeyConstraint(
            ["parent_revision_id"], ["revision.id"], name=op.f("fk_revision_parent_revision_id_revision")
        ),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompt.id"], name=op.f("fk_revision_prompt_id_prompt")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revision")),
        sa.UniqueConstraint("job_id", name=op.f("uq_revision_job_id")),
    )
    op.create_index(op.f("ix_revision_drawing_id"), "revision", ["drawing_id"])
    with op.batch_alter_table("job") as batch:
        batch.create_foreign_key(
            op.f("fk_job_parent_revision_id_revision"), "revision", ["parent_revision_id"], ["id"]
        )
        batch.create_foreign_key(op.f("fk_job_revision_id_revision"), "revision", ["revision_id"], ["id"])
    op.create_table(
        "review",
        _id(),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["revision.id"], name=op.f("fk_review_revision_id_revision")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
    )
    op.create_index(op.f("ix_review_revision_id"), "review", ["revision_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_review_revision_id"), table_name="review")
    op.drop_table("review")
    with op.batch_alter_table("job") as batch:
        batch.drop_constraint(op.f("fk_job_revision_id_revision"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_job_parent_revision_id_revision"), type_="foreignkey")
    op.drop_index(op.f("ix_revision_drawing_id"), table_name="revision")
    op.drop_table("revision")
    op.drop_index("ix_job_batch_id", table_name="job")
    op.drop_index("ix_job_state", table_name="job")
    op.drop_table("job")
    op.drop_index(op.f("ix_prompt_drawing_id"), table_name="prompt")
    op.drop_table("prompt")
    op.drop_index(op.f("ix_drawing_batch_id"), table_name="drawing")
    op.drop_table("drawing")
    op.drop_table("worker_heartbeat")
    op.drop_table("batch")
    op.drop_table("asset")
