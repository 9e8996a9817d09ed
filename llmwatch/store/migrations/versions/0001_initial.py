"""Prompt log, first revision: calls, tags, scores, flags, feedback.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "llmwatch_calls",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("trace_id", sa.String(32)),
        sa.Column("span_id", sa.String(16)),
        sa.Column("parent_span_id", sa.String(16)),
        sa.Column("start_time", Time, nullable=False),
        sa.Column("end_time", Time, nullable=False),
        sa.Column("duration", Time, nullable=False),
        sa.Column("time_to_first_chunk", Time),
        sa.Column("service_name", sa.String(200)),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("request_model", sa.String(200)),
        sa.Column("response_model", sa.String(200)),
        sa.Column("response_id", sa.String(200)),
        sa.Column("server_address", sa.String(255)),
        sa.Column("server_port", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_type", sa.String(200)),
        sa.Column("error_message", sa.Text),
        sa.Column("streamed", sa.Boolean, nullable=False),
        sa.Column("chunk_count", sa.Integer),
        sa.Column("finish_reasons", JSON),
        sa.Column("input_tokens", sa.Integer),
        sa.Column("output_tokens", sa.Integer),
        sa.Column("cached_input_tokens", sa.Integer),
        sa.Column("reasoning_tokens", sa.Integer),
        sa.Column("total_tokens", sa.Integer),
        sa.Column("tokens_estimated", sa.Boolean, nullable=False),
        sa.Column("cost_usd", Time),
        sa.Column("cost_estimated", sa.Boolean, nullable=False),
        sa.Column("request_params", JSON),
        sa.Column("system_instructions", JSON),
        sa.Column("input_messages", JSON),
        sa.Column("output_messages", JSON),
        sa.Column("embedding_dimensions", sa.Integer),
        sa.Column("prompt_hash", sa.String(32)),
        sa.Column("prompt_template", sa.String(200)),
        sa.Column("prompt_template_version", sa.String(100)),
        sa.Column("session_id", sa.String(200)),
        sa.Column("conversation_id", sa.String(200)),
        sa.Column("user_id", sa.String(200)),
        sa.Column("tags", JSON),
        sa.Column("metadata", JSON),
        sa.UniqueConstraint("record_id", name="uq_llmwatch_calls_record_id"),
    )
    # Every query filters on a time window, usually with one more equality: lead with it.
    op.create_index("ix_llmwatch_calls_start_time", "llmwatch_calls", ["start_time"])
    op.create_index("ix_llmwatch_calls_model_time", "llmwatch_calls", ["request_model", "start_time"])
    op.create_index("ix_llmwatch_calls_provider_time", "llmwatch_calls", ["provider", "start_time"])
    op.create_index("ix_llmwatch_calls_status_time", "llmwatch_calls", ["status", "start_time"])
    op.create_index("ix_llmwatch_calls_trace", "llmwatch_calls", ["trace_id"])
    op.create_index("ix_llmwatch_calls_session", "llmwatch_calls", ["session_id"])
    op.create_index("ix_llmwatch_calls_conversation", "llmwatch_calls", ["conversation_id"])
    op.create_index("ix_llmwatch_calls_user", "llmwatch_calls", ["user_id"])
    op.create_index("ix_llmwatch_calls_prompt_hash", "llmwatch_calls", ["prompt_hash"])
    op.create_index("ix_llmwatch_calls_template", "llmwatch_calls", ["prompt_template", "prompt_template_version"])

    op.create_table(
        "llmwatch_call_tags",
        sa.Column("record_id", sa.String(32), primary_key=True),
        sa.Column("tag", sa.String(200), primary_key=True),
    )
    op.create_index("ix_llmwatch_call_tags_tag", "llmwatch_call_tags", ["tag", "record_id"])

    op.create_table(
        "llmwatch_scores",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", Time, nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("scorer", sa.String(200)),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_index("ix_llmwatch_scores_record", "llmwatch_scores", ["record_id"])
    op.create_index("ix_llmwatch_scores_name_value", "llmwatch_scores", ["name", "value"])

    op.create_table(
        "llmwatch_flags",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("author", sa.String(200)),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_index("ix_llmwatch_flags_record", "llmwatch_flags", ["record_id"])
    op.create_index("ix_llmwatch_flags_label", "llmwatch_flags", ["label"])

    op.create_table(
        "llmwatch_feedback",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("score", Time, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("author", sa.String(200)),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_index("ix_llmwatch_feedback_record", "llmwatch_feedback", ["record_id"])


def downgrade() -> None:
    for table in ("llmwatch_feedback", "llmwatch_flags", "llmwatch_scores", "llmwatch_call_tags", "llmwatch_calls"):
        op.drop_table(table)
