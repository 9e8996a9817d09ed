"""The prompt-log schema: SQLAlchemy Core tables, the shape the Alembic migrations create.

One row per call in ``llmwatch_calls``; tags, scores, flags and feedback live in their own tables
keyed by the call's ``record_id`` (32 hex digits: a UUIDv7, uuid4 for older calls), so annotations
can be written before or after a call is stored and replays stay idempotent.

Times are stored as Unix epoch seconds (double precision, UTC) so that the same comparisons and
percentiles work on SQLite and PostgreSQL; the Python API and the CLI turn them into datetimes.
The migrations in ``llmwatch/store/migrations`` are the authority for the physical schema; these
tables mirror the head revision for queries.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from llmwatch.store.hourly import BUCKET_COLUMNS

metadata = sa.MetaData()

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
# INTEGER PRIMARY KEY is SQLite's rowid alias (needed for the FTS5 external-content table).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

CALLS = "llmwatch_calls"

calls = sa.Table(
    CALLS, metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(32), nullable=False, unique=True),
    sa.Column("trace_id", sa.String(32)),
    sa.Column("span_id", sa.String(16)),
    sa.Column("parent_span_id", sa.String(16)),
    sa.Column("start_time", sa.Float(precision=53), nullable=False),
    sa.Column("end_time", sa.Float(precision=53), nullable=False),
    sa.Column("duration", sa.Float(precision=53), nullable=False),
    sa.Column("time_to_first_chunk", sa.Float(precision=53)),
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
    sa.Column("streamed", sa.Boolean, nullable=False, default=False),
    sa.Column("chunk_count", sa.Integer),
    sa.Column("finish_reasons", JSONType),
    sa.Column("input_tokens", sa.Integer),
    sa.Column("output_tokens", sa.Integer),
    sa.Column("cached_input_tokens", sa.Integer),
    sa.Column("reasoning_tokens", sa.Integer),
    sa.Column("total_tokens", sa.Integer),
    sa.Column("tokens_estimated", sa.Boolean, nullable=False, default=False),
    sa.Column("cost_usd", sa.Float(precision=53)),  # NULL = unknown price, never 0
    sa.Column("cost_estimated", sa.Boolean, nullable=False, default=False),
    sa.Column("request_params", JSONType),
    sa.Column("system_instructions", JSONType),
    sa.Column("input_messages", JSONType),
    sa.Column("output_messages", JSONType),
    sa.Column("embedding_dimensions", sa.Integer),
    sa.Column("prompt_hash", sa.String(32)),
    sa.Column("prompt_template", sa.String(200)),
    sa.Column("prompt_template_version", sa.String(100)),
    sa.Column("session_id", sa.String(200)),
    sa.Column("conversation_id", sa.String(200)),
    sa.Column("user_id", sa.String(200)),
    sa.Column("tags", JSONType),
    sa.Column("metadata", JSONType),
    # Added by revision 0002: the plain text of instructions, prompt and output, for full-text search.
    sa.Column("search_text", sa.Text),
    # Added by revision 0004: CJK unigrams and bigrams of search_text (llmwatch.store.cjk).
    sa.Column("search_grams", sa.Text),
)

call_tags = sa.Table(
    "llmwatch_call_tags", metadata,
    sa.Column("record_id", sa.String(32), primary_key=True),
    sa.Column("tag", sa.String(200), primary_key=True),
)

scores = sa.Table(
    "llmwatch_scores", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(32), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),  # toxicity, moderation, injection, ...
    sa.Column("value", sa.Float(precision=53), nullable=False),
    sa.Column("label", sa.String(200)),
    sa.Column("scorer", sa.String(200)),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
)

flags = sa.Table(
    "llmwatch_flags", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(32), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("author", sa.String(200)),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
)

feedback = sa.Table(
    "llmwatch_feedback", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(32), nullable=False),
    sa.Column("score", sa.Float(precision=53), nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("author", sa.String(200)),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
)

# Added by revision 0003: the hourly rollup that ``stats`` reads (see llmwatch.store.hourly).
# Key columns hold '' for a missing model/template (NULLs would never conflict in the upsert).
calls_hourly = sa.Table(
    "llmwatch_calls_hourly", metadata,
    sa.Column("hour", sa.BigInteger, primary_key=True),  # epoch seconds at the start of the hour
    sa.Column("request_model", sa.String(200), primary_key=True),
    sa.Column("provider", sa.String(64), primary_key=True),
    sa.Column("operation", sa.String(64), primary_key=True),
    sa.Column("prompt_template", sa.String(200), primary_key=True),
    sa.Column("calls", sa.BigInteger, nullable=False),
    sa.Column("errors", sa.BigInteger, nullable=False),
    sa.Column("input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Column("cost_usd", sa.Float(precision=53), nullable=False),  # sum of known costs
    sa.Column("unknown_cost", sa.BigInteger, nullable=False),  # calls without a price
    sa.Column("duration_sum", sa.Float(precision=53), nullable=False),
    sa.Column("duration_min", sa.Float(precision=53), nullable=False),
    sa.Column("duration_max", sa.Float(precision=53), nullable=False),
    *(sa.Column(c, sa.BigInteger, nullable=False) for c in BUCKET_COLUMNS),
)

# Columns a client may select/sort/print, in output order (JSON objects use these names).
CALL_COLUMNS: tuple[str, ...] = tuple(c.name for c in calls.columns
                                      if c.name not in ("id", "search_text", "search_grams"))

# Added by revision 0005: one prompt embedding per call (llmwatch.store.vectors), for ``similar``,
# ``like`` and ``clusters``. ``vector`` holds ``dim`` int8 values: the unit vector times 127, rounded.
embeddings = sa.Table(
    "llmwatch_embeddings", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(32), nullable=False, unique=True),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
)
