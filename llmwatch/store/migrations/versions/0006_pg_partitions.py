"""PostgreSQL: partition the call table by day of ``start_time`` (see llmwatch.store.partitions).

In place: the table is renamed, a partitioned table with the same columns (defaults, the id
sequence, the generated ``search_vector``) takes its name, a partition is created for every day
that has calls (plus today and three days ahead; a default partition for the rest), the rows are
moved in id ranges of 200,000 (progress on stderr), the old table is dropped and its indexes are
re-created on the new one. Keys gain the partition column: the primary key is ``(id, start_time)``
and record ids are unique per ``(record_id, start_time)`` (a replay of a call has both the same).
SQLite is unchanged.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
import datetime as dt
import sys
import time

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

T = "llmwatch_calls"
OLD = "llmwatch_calls_unpartitioned"
DAY = 86400
AHEAD_DAYS = 3
BEHIND_DAYS = 3660
STEP = 200_000
KEYS = {"llmwatch_calls_pkey", "uq_llmwatch_calls_record_id"}


def _name(day: int) -> str:  # frozen copy of llmwatch.store.partitions.name_for
    return f"llmwatch_calls_p{dt.datetime.fromtimestamp(day * DAY, dt.timezone.utc):%Y%m%d}"


def _indexes(bind: sa.Connection, table: str) -> list[str]:
    rows = bind.exec_driver_sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %(t)s",
        {"t": table}).fetchall()
    return [d.replace(" ON ONLY ", " ON ") for n, d in rows if n not in KEYS]


def _columns(bind: sa.Connection, table: str) -> str:
    cols = bind.exec_driver_sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %(t)s AND is_generated = 'NEVER' ORDER BY ordinal_position", {"t": table}).scalars()
    return ", ".join(f'"{c}"' for c in cols)


def _move(bind: sa.Connection, source: str, target: str) -> None:
    cols = _columns(bind, source)
    lo, hi = bind.exec_driver_sql(f"SELECT min(id), max(id) FROM {source}").one()
    if lo is None:
        return
    total = int(bind.exec_driver_sql(f"SELECT count(*) FROM {source}").scalar_one())
    done, started, shown = 0, time.monotonic(), 0.0
    for start in range(int(lo), int(hi) + 1, STEP):
        result = bind.exec_driver_sql(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {source} "
                                      f"WHERE id >= {start} AND id < {start + STEP}")
        done += max(0, result.rowcount)
        now = time.monotonic()
        if now - shown >= 1.0 or start + STEP > hi:
            shown = now
            print(f"\rllmwatch: moving calls {done:,}/{total:,} ({100 * done // max(1, total)}%, "
                  f"{done / max(now - started, 1e-9):,.0f}/s)", end="" if start + STEP <= hi else "\n",
                  file=sys.stderr, flush=True)


def _sequence(bind: sa.Connection, table: str) -> str:
    seq = bind.exec_driver_sql(f"SELECT pg_get_serial_sequence('{table}', 'id')").scalar_one()
    return str(seq)


def _rebuild(bind: sa.Connection, partitioned: bool) -> None:
    """Re-create the call table (partitioned by day or plain) with its rows, sequence and indexes."""
    indexes = _indexes(bind, T)
    seq = _sequence(bind, T)
    bind.exec_driver_sql(f"ALTER TABLE {T} RENAME TO {OLD}")
    bind.exec_driver_sql(f"ALTER SEQUENCE {seq} OWNED BY NONE")  # it outlives the old table
    bind.exec_driver_sql(f"CREATE TABLE {T} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING GENERATED)"
                         + (" PARTITION BY RANGE (start_time)" if partitioned else ""))
    if partitioned:
        bind.exec_driver_sql(f"CREATE TABLE llmwatch_calls_pdefault PARTITION OF {T} DEFAULT")
        today = int(time.time() // DAY)
        days = set(bind.exec_driver_sql(f"SELECT DISTINCT floor(start_time / {DAY})::bigint FROM {OLD}").scalars())
        days |= set(range(today, today + AHEAD_DAYS + 1))
        for day in sorted(d for d in days if today - BEHIND_DAYS <= d <= today + AHEAD_DAYS):
            bind.exec_driver_sql(f'CREATE TABLE "{_name(day)}" PARTITION OF {T} '
                                 f"FOR VALUES FROM ({day * DAY}) TO ({(day + 1) * DAY})")
    _move(bind, OLD, T)
    bind.exec_driver_sql(f"DROP TABLE {OLD}")  # (and its partitions, going back)
    bind.exec_driver_sql(f"ALTER SEQUENCE {seq} OWNED BY {T}.id")
    key = ", start_time" if partitioned else ""
    bind.exec_driver_sql(f"ALTER TABLE {T} ADD CONSTRAINT llmwatch_calls_pkey PRIMARY KEY (id{key})")
    bind.exec_driver_sql(f"ALTER TABLE {T} ADD CONSTRAINT uq_llmwatch_calls_record_id UNIQUE (record_id{key})")
    for ddl in indexes:
        bind.exec_driver_sql(ddl)
    bind.exec_driver_sql(f"ANALYZE {T}")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _rebuild(bind, partitioned=True)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _rebuild(bind, partitioned=False)
