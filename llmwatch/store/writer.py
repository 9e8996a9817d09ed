"""Writing rows: the idempotent batch insert shared by the writer thread and the spool replay.

A :class:`Batch` holds call rows as tuples in :data:`~llmwatch.store.rows.COLUMNS` order with
JSON pre-encoded (SQLAlchemy's per-value type processing cost about a third of the writer's time
in ``bench/store_ingest.py``), their tags, and, for batches fresh from the converter, what they
add to the hourly rollup, computed in Python where the rows already are.

A record id already present is skipped, so a replay never duplicates a call, and the rollup only
ever counts rows this statement inserted:

* SQLite: a prepared ``executemany ... ON CONFLICT DO NOTHING``. The rows just inserted hold the
  newest ids while the write lock is ours (SQLite gives INTEGER PRIMARY KEY max(id)+1), which is
  how the full-text index and, when some rows were duplicates, the rollup find exactly them.
* PostgreSQL, fresh batches: ``COPY`` straight into the tables inside a savepoint (the fastest way
  into PostgreSQL: no staging, no conflict handling). Fresh rows carry new record ids, so a
  duplicate only arrives when a batch is written twice (its commit was lost in a connection
  failure); the unique index then fails the ``COPY``, the savepoint is rolled back, and the batch
  takes the replay path.
* PostgreSQL, replays: ``COPY`` into per-session temporary staging tables and one
  ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING`` that adds exactly the inserted rows to
  the rollup (2.5x the records/s of a pipelined ``executemany``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from llmwatch.store import hourly as rollup
from llmwatch.store import partitions
from llmwatch.store.cjk import grams as cjk_grams
from llmwatch.store.models import calls
from llmwatch.store.rows import COLUMNS, INDEX, JSON_COLUMNS, encode_json, tag_pairs

if COLUMNS != tuple(c.name for c in calls.columns if c.name != "id"):  # pragma: no cover - caught by any test
    raise RuntimeError("llmwatch.store.rows.COLUMNS does not match the llmwatch_calls model")

_TAGS_AT = INDEX["tags"]
_TEXT_AT = INDEX["search_text"]
_START_AT = INDEX["start_time"]
_GRAMS_AT = INDEX["search_grams"]
_JSON_AT = tuple(i for i, k in enumerate(COLUMNS) if k in JSON_COLUMNS)
_COLS = ", ".join(f'"{k}"' for k in COLUMNS)
_SQLITE_CALLS = (f"INSERT INTO llmwatch_calls ({_COLS}) VALUES ({', '.join('?' * len(COLUMNS))}) "
                 "ON CONFLICT (record_id) DO NOTHING")
_SQLITE_TAGS = "INSERT INTO llmwatch_call_tags (record_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING"
_SQLITE_NEW = "llmwatch_calls WHERE id > (SELECT max(id) FROM llmwatch_calls) - ?"
_SQLITE_FTS = (f"INSERT INTO llmwatch_calls_fts(rowid, search_text) SELECT id, search_text FROM {_SQLITE_NEW} "
               "AND search_text IS NOT NULL")
_SQLITE_GRAMS = (f"INSERT INTO llmwatch_calls_grams(rowid, search_grams) SELECT id, search_grams FROM {_SQLITE_NEW} "
                 "AND search_grams IS NOT NULL")
_SQLITE_ROLLUP_NEW = rollup.add_sql("sqlite", _SQLITE_NEW)
_ROLLUP_UPSERT = {d: rollup.upsert_sql(d) for d in ("sqlite", "postgresql")}
_PG_COPY_DIRECT = f"COPY llmwatch_calls ({_COLS}) FROM STDIN"
_PG_COPY_TAGS_DIRECT = "COPY llmwatch_call_tags (record_id, tag) FROM STDIN"
# Temporary tables live per session and are emptied at commit; "IF NOT EXISTS" makes the first
# batch on each pooled connection create them. Column types are the target's (jsonb included).
_PG_STAGE = [
    f"CREATE TEMP TABLE IF NOT EXISTS llmwatch_calls_stage ON COMMIT DELETE ROWS AS "
    f"SELECT {_COLS} FROM llmwatch_calls WITH NO DATA",
    "CREATE TEMP TABLE IF NOT EXISTS llmwatch_call_tags_stage ON COMMIT DELETE ROWS AS "
    "SELECT record_id, tag FROM llmwatch_call_tags WITH NO DATA",
]
_PG_COPY_STAGE = f"COPY llmwatch_calls_stage ({_COLS}) FROM STDIN"
_PG_COPY_TAGS_STAGE = "COPY llmwatch_call_tags_stage (record_id, tag) FROM STDIN"
# PostgreSQL's call table is partitioned by start_time (revision 0006), so its unique key is
# (record_id, start_time): a replayed row has both the same.
_PG_CALLS = (f"WITH ins AS (INSERT INTO llmwatch_calls ({_COLS}) SELECT {_COLS} FROM llmwatch_calls_stage "
             "ON CONFLICT (record_id, start_time) DO NOTHING RETURNING start_time, request_model, provider, operation, "
             "prompt_template, status, input_tokens, output_tokens, cost_usd, duration) "
             + rollup.add_sql("postgresql", "ins"))
_PG_TAGS = ("INSERT INTO llmwatch_call_tags (record_id, tag) SELECT record_id, tag FROM llmwatch_call_tags_stage "
            "ON CONFLICT DO NOTHING")


@dataclass
class Batch:
    """Call rows on their way into the database (see the module docstring)."""

    rows: list[tuple[Any, ...]]
    tags: list[tuple[str, str]] = field(default_factory=list)
    # Rollup parameter lists for the rows (rollup.contributions); None: computed in SQL instead.
    rollup: list[list[Any]] | None = None

    @classmethod
    def fresh(cls, rows: list[tuple[Any, ...]], tags: list[tuple[str, str]]) -> Batch:
        """A batch the converter just built: its rollup figures are computed here."""
        return cls(rows, tags, rollup.contributions(rows, INDEX))

    @classmethod
    def replayed(cls, stored: Iterable[Any]) -> Batch:
        """A batch from the spool: rows as :func:`spool_form` wrote them, or as dicts of decoded
        values (the spool lines written before row tuples); tags are taken from the rows' tags column."""
        rows = [from_spool_form(r) for r in stored]
        tags = [p for r in rows if r[_TAGS_AT] for p in tag_pairs(r[0], json.loads(r[_TAGS_AT]))]
        return cls(rows, tags, None)

    def __len__(self) -> int:
        return len(self.rows)


def spool_form(row: tuple[Any, ...]) -> dict[str, Any]:
    """A row as the spool keeps it: a dict by column name (so a later version with more columns can
    still read it), JSON columns as the encoded text, marked ``"_v": 2``."""
    out = dict(zip(COLUMNS, row))
    out["_v"] = 2
    return out


def from_spool_form(stored: dict[str, Any]) -> tuple[Any, ...]:
    get = stored.get
    values = [get(k) for k in COLUMNS]
    if get("_v") != 2:  # an older spool line holds decoded JSON values
        for i in _JSON_AT:
            if values[i] is not None:
                values[i] = encode_json(values[i])
    if "search_grams" not in stored:  # spooled before the gram column existed
        values[_GRAMS_AT] = cjk_grams(values[_TEXT_AT])
    return tuple(values)


def insert_batch(conn: sa.Connection, batch: Batch) -> None:
    """Insert a batch's call rows and their tags, skipping record ids already stored, and add the
    inserted rows to the hourly rollup (call inside a transaction)."""
    if not batch.rows:
        return
    driver: Any = conn.connection.driver_connection  # the DB-API connection (sqlite3 / psycopg)
    cursor = driver.cursor()
    try:
        if conn.dialect.name == "sqlite":
            _sqlite(cursor, batch)
        else:
            partitions.ensure_for(conn, {r[_START_AT] // partitions.DAY * partitions.DAY for r in batch.rows})
            if batch.rollup is None or not _pg_direct(cursor, batch):
                _pg_staged(cursor, batch)
    finally:
        cursor.close()


def _sqlite(cursor: Any, batch: Batch) -> None:
    cursor.executemany(_SQLITE_CALLS, batch.rows)
    inserted = cursor.rowcount
    if inserted > 0:
        cursor.execute(_SQLITE_FTS, (inserted,))
        cursor.execute(_SQLITE_GRAMS, (inserted,))
        if batch.rollup is not None and inserted == len(batch.rows):
            cursor.executemany(_ROLLUP_UPSERT["sqlite"], batch.rollup)
        else:  # some were already stored: roll up exactly the new ones
            cursor.execute(_SQLITE_ROLLUP_NEW, (inserted,))
    if batch.tags:
        cursor.executemany(_SQLITE_TAGS, batch.tags)


def _pg_direct(cursor: Any, batch: Batch) -> bool:
    """COPY straight into the tables; False (nothing written) when a record id was already there."""
    from psycopg import errors

    cursor.execute("SAVEPOINT llmwatch_direct")
    try:
        _copy(cursor, _PG_COPY_DIRECT, batch.rows)
        if batch.tags:
            _copy(cursor, _PG_COPY_TAGS_DIRECT, batch.tags)
    except errors.UniqueViolation:
        cursor.execute("ROLLBACK TO SAVEPOINT llmwatch_direct")
        return False
    cursor.execute("RELEASE SAVEPOINT llmwatch_direct")
    cursor.executemany(_ROLLUP_UPSERT["postgresql"], batch.rollup)
    return True


def _pg_staged(cursor: Any, batch: Batch) -> None:
    for stmt in _PG_STAGE:
        cursor.execute(stmt)
    _copy(cursor, _PG_COPY_STAGE, batch.rows)
    cursor.execute(_PG_CALLS)
    if batch.tags:
        _copy(cursor, _PG_COPY_TAGS_STAGE, batch.tags)
        cursor.execute(_PG_TAGS)


def _copy(cursor: Any, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    with cursor.copy(statement) as copy:
        write = copy.write_row
        for row in rows:
            write(row)
