"""Leaner indexes and the hourly rollup that ``stats`` reads.

Indexes (each checked with EXPLAIN against the queries in query.py / analysis.py / the agent API):

* dropped ``(provider, start_time)``: a handful of providers, so a provider filter is no more
  selective than the time window; ``(start_time)`` serves it (stats by provider use the rollup).
* ``(status, start_time)`` became ``(start_time) WHERE status <> 'ok'``: only error rows are worth
  an index (``--status ok`` is most rows); the query adds the same predicate for ``--status error``.
* session, conversation, user, prompt hash and template indexes are partial (``IS NOT NULL``):
  calls without them (most, in many apps) cost no index upkeep; equality filters imply the
  predicate on both SQLite and PostgreSQL.
* kept: ``(start_time)``, ``(request_model, start_time)``, ``(trace_id)``, record-id uniqueness,
  full-text, tags ``(tag, record_id)``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

T = "llmwatch_calls"
HOURLY = "llmwatch_calls_hourly"
# Frozen copy of llmwatch.store.hourly (migrations must not follow later code changes).
BOUNDS = tuple(round(10 ** (k / 8), 6) for k in range(-20, 21))
BUCKETS = len(BOUNDS) + 1
BUCKET_COLUMNS = tuple(f"h{i:02d}" for i in range(BUCKETS))
PARTIAL = {
    "ix_llmwatch_calls_session": ["session_id"],
    "ix_llmwatch_calls_conversation": ["conversation_id"],
    "ix_llmwatch_calls_user": ["user_id"],
    "ix_llmwatch_calls_prompt_hash": ["prompt_hash"],
    "ix_llmwatch_calls_template": ["prompt_template", "prompt_template_version"],
}
ERRORS_WHERE = "status <> 'ok'"


def _where(text: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(text), "postgresql_where": sa.text(text)}


def _backfill(bind: sa.Connection) -> None:
    dialect = bind.dialect.name
    hour = ("(floor(start_time / 3600) * 3600)::bigint" if dialect == "postgresql"
            else "CAST(start_time / 3600 AS INTEGER) * 3600")
    bucket = ("CASE " + " ".join(f"WHEN duration <= {b!r} THEN {i}" for i, b in enumerate(BOUNDS))
              + f" ELSE {BUCKETS - 1} END")
    hist = ", ".join(f"sum(CASE WHEN bk = {i} THEN 1 ELSE 0 END)" for i in range(BUCKETS))
    bind.exec_driver_sql(
        f"INSERT INTO {HOURLY} (hour, request_model, provider, operation, prompt_template, calls, errors, "
        f"input_tokens, output_tokens, cost_usd, unknown_cost, duration_sum, {', '.join(BUCKET_COLUMNS)}, "
        f"duration_min, duration_max) "
        f"SELECT hour, m, p, o, t, count(*), sum(CASE WHEN status <> 'ok' THEN 1 ELSE 0 END), "
        f"coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cost_usd), 0), "
        f"sum(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END), sum(duration), {hist}, min(duration), max(duration) "
        f"FROM (SELECT {hour} AS hour, coalesce(request_model, '') AS m, provider AS p, operation AS o, "
        f"coalesce(prompt_template, '') AS t, status, input_tokens, output_tokens, cost_usd, duration, "
        f"{bucket} AS bk FROM {T}) AS x GROUP BY hour, m, p, o, t")


def upgrade() -> None:
    op.drop_index("ix_llmwatch_calls_provider_time", table_name=T)
    op.drop_index("ix_llmwatch_calls_status_time", table_name=T)
    op.create_index("ix_llmwatch_calls_errors", T, ["start_time"], **_where(ERRORS_WHERE))
    for name, cols in PARTIAL.items():
        op.drop_index(name, table_name=T)
        op.create_index(name, T, cols, **_where(f"{cols[0]} IS NOT NULL"))
    op.create_table(
        HOURLY,
        sa.Column("hour", sa.BigInteger, nullable=False),
        sa.Column("request_model", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("prompt_template", sa.String(200), nullable=False),
        sa.Column("calls", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("input_tokens", sa.BigInteger, nullable=False),
        sa.Column("output_tokens", sa.BigInteger, nullable=False),
        sa.Column("cost_usd", sa.Float(precision=53), nullable=False),
        sa.Column("unknown_cost", sa.BigInteger, nullable=False),
        sa.Column("duration_sum", sa.Float(precision=53), nullable=False),
        sa.Column("duration_min", sa.Float(precision=53), nullable=False),
        sa.Column("duration_max", sa.Float(precision=53), nullable=False),
        *(sa.Column(c, sa.BigInteger, nullable=False) for c in BUCKET_COLUMNS),
        sa.PrimaryKeyConstraint("hour", "request_model", "provider", "operation", "prompt_template",
                                name="pk_llmwatch_calls_hourly"),
    )
    _backfill(op.get_bind())


def downgrade() -> None:
    op.drop_table(HOURLY)
    for name, cols in PARTIAL.items():
        op.drop_index(name, table_name=T)
        op.create_index(name, T, cols)
    op.drop_index("ix_llmwatch_calls_errors", table_name=T)
    op.create_index("ix_llmwatch_calls_status_time", T, ["status", "start_time"])
    op.create_index("ix_llmwatch_calls_provider_time", T, ["provider", "start_time"])
