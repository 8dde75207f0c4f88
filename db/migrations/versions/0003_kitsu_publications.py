"""What was published to Kitsu: the kitsu_publication table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Types are spelled out here rather than imported from db.models, so this file stays as it was shipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kitsu_publication",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("drawing_id", sa.Integer(), nullable=False),
        sa.Column("kitsu_url", sa.String(), nullable=False),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("review_status", sa.String(), nullable=False),
        sa.Column("task_status", sa.String(), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("comment_id", sa.String(length=36), nullable=False),
        sa.Column("preview_id", sa.String(length=36), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drawing_id"], ["drawing.id"], name=op.f("fk_kitsu_publication_drawing_id_drawing")
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["revision.id"], name=op.f("fk_kitsu_publication_revision_id_revision")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kitsu_publication")),
        sa.UniqueConstraint(
            "drawing_id", "kitsu_url", "project", name=op.f("uq_kitsu_publication_drawing_id")
        ),
    )
    op.create_index(op.f("ix_kitsu_publication_drawing_id"), "kitsu_publication", ["drawing_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_kitsu_publication_drawing_id"), table_name="kitsu_publication")
    op.drop_table("kitsu_publication")
