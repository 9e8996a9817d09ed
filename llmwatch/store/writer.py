"""Writing rows: the idempotent batch insert shared by the writer and the spool replay."""

from __future__ import annotations

from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from llmwatch.store.models import call_tags, calls
from llmwatch.store.rows import tag_rows

_CALL_KEYS = tuple(c.name for c in calls.columns if c.name != "id")


def _insert(dialect: str, table: sa.Table, index_elements: list[str]):
    mod = postgresql if dialect == "postgresql" else sqlite
    return mod.insert(table).on_conflict_do_nothing(index_elements=index_elements)


def insert_rows(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert call rows (and their tags) in one multi-row statement each; a record id already
    present is skipped, so replaying the same rows never duplicates them."""
    if not rows:
        return
    dialect = conn.dialect.name
    # Every dict must carry the same keys for executemany; spooled rows from an older version
    # may lack newer columns.
    full = [{k: r.get(k) for k in _CALL_KEYS} for r in rows]
    conn.execute(_insert(dialect, calls, ["record_id"]), full)
    tags = [t for r in rows for t in tag_rows(r)]
    if tags:
        conn.execute(_insert(dialect, call_tags, ["record_id", "tag"]), tags)
