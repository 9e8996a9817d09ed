"""Prompt embeddings: one int8 vector per call, for "more like this" and clusters.

Adds ``llmwatch_embeddings`` (``record_id`` unique, the embedding ``model`` and ``dim``, ``vector``
as ``dim`` signed bytes: the L2-normalised vector times 127, rounded). Rows are keyed by the call's
record id like scores and flags, so an embedding may be written before its call is stored. The
nearest-neighbour index over them lives outside the database (llmwatch.store.vectors).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

T = "llmwatch_embeddings"
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        T,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float(precision=53), nullable=False),
        sa.UniqueConstraint("record_id", name="uq_llmwatch_embeddings_record_id"),
    )


def downgrade() -> None:
    op.drop_table(T)
