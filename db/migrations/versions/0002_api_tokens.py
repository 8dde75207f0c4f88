"""API tokens and batch ownership: the api_token table and batch.owner_token_id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Types are spelled out here rather than imported from db.models, so this file stays as it was shipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("batch") as batch:
        batch.add_column(sa.Column("owner_token_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_batch_owner_token_id_api_token"), "api_token", ["owner_token_id"], ["id"]
        )
        batch.create_index(op.f("ix_batch_owner_token_id"), ["owner_token_id"])


def downgrade() -> None:
    with op.batch_alter_table("batch") as batch:
        batch.drop_index(op.f("ix_batch_owner_token_id"))
        batch.drop_constraint(op.f("fk_batch_owner_token_id_api_token"), type_="foreignkey")
        batch.drop_column("owner_token_id")
    op.drop_table("api_token")
