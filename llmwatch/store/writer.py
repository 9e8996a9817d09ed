"""Writing rows: the idempotent batch insert shared by the writer thread and the spool replay.

Rows go to the driver as tuples with JSON pre-encoded (SQLAlchemy's per-value type processing
cost about a third of the writer's time in ``bench/store_ingest.py``). A record id already present
is skipped (``ON CONFLICT DO NOTHING``), so a replay never duplicates a call.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import sqlalchemy as sa

from llmwatch.store.models import calls
from llmwatch.store.rows import tag_rows

_CALL_KEYS = tuple(c.name for c in calls.columns if c.name != "id")
_JSON_KEYS = frozenset(c.name for c in calls.columns if isinstance(c.type, sa.JSON))
_COLS = ", ".join(f'"{k}"' for k in _CALL_KEYS)
_SQLITE_CALLS = (f"INSERT INTO llmwatch_calls ({_COLS}) VALUES ({', '.join('?' * len(_CALL_KEYS))}) "
                 "ON CONFLICT (record_id) DO NOTHING")
_PG_CALLS = (f"INSERT INTO llmwatch_calls ({_COLS}) VALUES "
             f"({', '.join('%s::jsonb' if k in _JSON_KEYS else '%s' for k in _CALL_KEYS)}) "
             "ON CONFLICT (record_id) DO NOTHING")
_TAGS = {"sqlite": "INSERT INTO llmwatch_call_tags (record_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING",
         "postgresql": "INSERT INTO llmwatch_call_tags (record_id, tag) VALUES (%s, %s) ON CONFLICT DO NOTHING"}
# Index exactly the rows this statement inserted: they hold the newest ids while the write lock is
# ours (SQLite gives INTEGER PRIMARY KEY max(id)+1), and conflicting replays inserted nothing.
_SQLITE_FTS = ("INSERT INTO llmwatch_calls_fts(rowid, search_text) SELECT id, search_text FROM llmwatch_calls "
               "WHERE id > (SELECT max(id) FROM llmwatch_calls) - ? AND search_text IS NOT NULL")


def _tuple(row: dict[str, Any]) -> tuple:
    return tuple(json.dumps(v, default=str) if k in _JSON_KEYS and v is not None else v
                 for k in _CALL_KEYS for v in (row.get(k),))


def insert_rows(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert call rows and their tags, skipping record ids already stored (call in a transaction)."""
    if not rows:
        return
    dialect = conn.dialect.name
    params = [_tuple(r) for r in rows]
    cursor = conn.connection.driver_connection.cursor()
    try:
        if dialect == "sqlite":
            cursor.executemany(_SQLITE_CALLS, params)
            inserted = cursor.rowcount
            if inserted > 0:
                cursor.execute(_SQLITE_FTS, (inserted,))
        else:  # psycopg 3 pipelines executemany (measured faster here than multi-row VALUES)
            cursor.executemany(_PG_CALLS, params)
        tags = [(t["record_id"], t["tag"]) for r in rows for t in tag_rows(r)]
        if tags:
            cursor.executemany(_TAGS[dialect], tags)
    finally:
        cursor.close()
