"""Writing rows: the idempotent batch insert shared by the writer thread and the spool replay.

Rows go to the driver as tuples with JSON pre-encoded (SQLAlchemy's per-value type processing
cost about a third of the writer's time in ``bench/store_ingest.py``). A record id already present
is skipped (``ON CONFLICT DO NOTHING``), so a replay never duplicates a call.

SQLite takes a prepared ``executemany``; PostgreSQL takes ``COPY`` into per-session temporary
staging tables and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` from them (measured 2.5x
the records/s of a pipelined ``executemany``, whose per-row statements kept the server busy).
"""

from __future__ import annotations

import json
import operator
from typing import Any, Sequence

import sqlalchemy as sa

from llmwatch.store import rollup
from llmwatch.store.models import calls
from llmwatch.store.rows import tag_rows

_CALL_KEYS = tuple(c.name for c in calls.columns if c.name != "id")
_JSON_KEYS = frozenset(c.name for c in calls.columns if isinstance(c.type, sa.JSON))
_JSON_AT = tuple(i for i, k in enumerate(_CALL_KEYS) if k in _JSON_KEYS)
_values = operator.itemgetter(*_CALL_KEYS)
# One encoder, built once: json.dumps(v, default=...) builds a new JSONEncoder on every call.
_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode
_COLS = ", ".join(f'"{k}"' for k in _CALL_KEYS)
_SQLITE_CALLS = (f"INSERT INTO llmwatch_calls ({_COLS}) VALUES ({', '.join('?' * len(_CALL_KEYS))}) "
                 "ON CONFLICT (record_id) DO NOTHING")
_SQLITE_TAGS = "INSERT INTO llmwatch_call_tags (record_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING"
# Index exactly the rows this statement inserted: they hold the newest ids while the write lock is
# ours (SQLite gives INTEGER PRIMARY KEY max(id)+1), and conflicting replays inserted nothing.
_SQLITE_NEW = "llmwatch_calls WHERE id > (SELECT max(id) FROM llmwatch_calls) - ?"
_SQLITE_FTS = (f"INSERT INTO llmwatch_calls_fts(rowid, search_text) SELECT id, search_text FROM {_SQLITE_NEW} "
               "AND search_text IS NOT NULL")
# The same rows, added to the hourly rollup in the same transaction (see rollup.py).
_SQLITE_ROLLUP = rollup.add_sql("sqlite", _SQLITE_NEW)
# Temporary tables live per session and are emptied at commit; "IF NOT EXISTS" makes the first
# batch on each pooled connection create them. Column types are the target's (jsonb included).
_PG_STAGE = [
    f"CREATE TEMP TABLE IF NOT EXISTS llmwatch_calls_stage ON COMMIT DELETE ROWS AS "
    f"SELECT {_COLS} FROM llmwatch_calls WITH NO DATA",
    "CREATE TEMP TABLE IF NOT EXISTS llmwatch_call_tags_stage ON COMMIT DELETE ROWS AS "
    "SELECT record_id, tag FROM llmwatch_call_tags WITH NO DATA",
]
_PG_COPY_CALLS = f"COPY llmwatch_calls_stage ({_COLS}) FROM STDIN"
_PG_COPY_TAGS = "COPY llmwatch_call_tags_stage (record_id, tag) FROM STDIN"
# One statement inserts the calls and adds exactly the inserted ones (RETURNING) to the rollup.
_PG_CALLS = (f"WITH ins AS (INSERT INTO llmwatch_calls ({_COLS}) SELECT {_COLS} FROM llmwatch_calls_stage "
             "ON CONFLICT (record_id) DO NOTHING RETURNING start_time, request_model, provider, operation, "
             "prompt_template, status, input_tokens, output_tokens, cost_usd, duration) "
             + rollup.add_sql("postgresql", "ins"))
_PG_TAGS = ("INSERT INTO llmwatch_call_tags (record_id, tag) SELECT record_id, tag FROM llmwatch_call_tags_stage "
            "ON CONFLICT DO NOTHING")


def _tuple(row: dict[str, Any]) -> list:
    try:
        values = list(_values(row))
    except KeyError:  # a spooled row from an older version lacks a later column
        values = [row.get(k) for k in _CALL_KEYS]
    for i in _JSON_AT:
        if values[i] is not None:
            values[i] = _encode(values[i])
    return values


def insert_rows(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert call rows and their tags, skipping record ids already stored (call in a transaction)."""
    if not rows:
        return
    params = [_tuple(r) for r in rows]
    tags = [(t["record_id"], t["tag"]) for r in rows for t in tag_rows(r)]
    cursor = conn.connection.driver_connection.cursor()
    try:
        if conn.dialect.name == "sqlite":
            cursor.executemany(_SQLITE_CALLS, params)
            inserted = cursor.rowcount
            if inserted > 0:
                cursor.execute(_SQLITE_FTS, (inserted,))
                cursor.execute(_SQLITE_ROLLUP, (inserted,))
            if tags:
                cursor.executemany(_SQLITE_TAGS, tags)
        else:
            _pg_copy(cursor, params, tags)
    finally:
        cursor.close()


def _pg_copy(cursor: Any, params: list[list], tags: list[tuple[str, str]]) -> None:
    for stmt in _PG_STAGE:
        cursor.execute(stmt)
    with cursor.copy(_PG_COPY_CALLS) as copy:
        for p in params:
            copy.write_row(p)
    cursor.execute(_PG_CALLS)
    if tags:
        with cursor.copy(_PG_COPY_TAGS) as copy:
            for t in tags:
                copy.write_row(t)
        cursor.execute(_PG_TAGS)
