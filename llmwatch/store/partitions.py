"""PostgreSQL: the call table partitioned by day of ``start_time`` (revision 0006).

Each UTC day is a partition ``llmwatch_calls_pYYYYMMDD`` holding ``[day, day + 86400)`` in epoch
seconds; ``llmwatch_calls_pdefault`` takes rows outside the window the writer creates partitions
for (a clock far in the past or more than :data:`AHEAD_DAYS` in the future), so no row is ever
refused. Why: an index on a month of calls is thirty small indexes, and the day being written is the
only one whose pages are hot, so ingest into a log of 10M calls runs at the rate of a new one; a time
filter reads only its days (partition pruning); and retention drops whole days
(``DROP TABLE`` of a partition, milliseconds) instead of deleting rows one by one.

* The writer calls :func:`ensure_for` before each batch: partitions for the batch's days are
  created if missing, plus today's and the next ones ahead, on a connection of their own (created
  as a table, then attached, under an advisory lock so writers in several processes never race).
  What exists is cached per process, so a batch normally costs one set comparison.
* :func:`drop_before` is what retention does for whole days; the chunked row delete in
  :mod:`llmwatch.store.maintenance` handles the remainder of the day the cut-off falls in.

SQLite is not partitioned: everything here is a no-op there.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Iterable

import sqlalchemy as sa

log = logging.getLogger("llmwatch")

DAY = 86400
AHEAD_DAYS = 3  # partitions created ahead of today (rows up to this far in the future get their own)
BEHIND_DAYS = 3660  # rows older than this go to the default partition instead of creating one
PARENT = "llmwatch_calls"
DEFAULT = "llmwatch_calls_pdefault"
_NAME = re.compile(r"^llmwatch_calls_p(\d{8})$")
_LOCK_KEY = 0x6C6C6D77  # pg_advisory_xact_lock key for partition DDL ("llmw")

# engine url -> days with a partition (or known to live in default); None: not partitioned
_known: dict[str, set[int] | None] = {}
_known_lock = threading.Lock()


def day_of(t: float) -> int:
    return int(t // DAY)


def name_for(day: int) -> str:
    return f"llmwatch_calls_p{dt.datetime.fromtimestamp(day * DAY, dt.timezone.utc):%Y%m%d}"


def day_from_name(name: str) -> int | None:
    m = _NAME.match(name)
    if m is None:
        return None
    d = dt.datetime.strptime(m.group(1), "%Y%m%d").replace(tzinfo=dt.timezone.utc)
    return int(d.timestamp()) // DAY


def is_partitioned(conn: sa.Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return bool(conn.exec_driver_sql(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = %(t)s AND pg_table_is_visible(c.oid)", {"t": PARENT}).first())


def existing_days(conn: sa.Connection) -> set[int]:
    """Days that have a partition."""
    names = conn.exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %(t)s", {"t": PARENT}).scalars()
    return {d for n in names if (d := day_from_name(n)) is not None}


def _create(conn: sa.Connection, day: int) -> bool:
    """Create the partition for ``day`` as a table of its own, then attach it: attaching takes a
    SHARE UPDATE EXCLUSIVE lock on the call table (reads and writes go on; ``CREATE TABLE ...
    PARTITION OF`` would wait for every open transaction on it and block all that come after).
    False when the default partition already holds rows of that day (they stay there: still stored,
    still found)."""
    from psycopg import errors

    name, lo, hi = name_for(day), day * DAY, (day + 1) * DAY
    conn.exec_driver_sql(f'CREATE TABLE IF NOT EXISTS "{name}" (LIKE {PARENT} INCLUDING DEFAULTS '
                         f"INCLUDING GENERATED, CHECK (start_time >= {lo} AND start_time < {hi}))")
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(f'ALTER TABLE {PARENT} ATTACH PARTITION "{name}" FOR VALUES FROM ({lo}) TO ({hi})')
    except sa.exc.DBAPIError as exc:
        if not isinstance(exc.orig, errors.CheckViolation):
            raise
        conn.exec_driver_sql(f'DROP TABLE "{name}"')
        log.warning("llmwatch store: rows of %s are in %s; not creating its partition", name, DEFAULT)
        return False
    return True


def wanted_days(times: Iterable[float], now: float | None = None) -> set[int]:
    """The days ``times`` fall in that get a partition (inside the window), plus today and the days ahead."""
    today = day_of(time.time() if now is None else now)
    lo, hi = today - BEHIND_DAYS, today + AHEAD_DAYS
    days = {d for t in times if lo <= (d := day_of(t)) <= hi}
    return days | set(range(today, hi + 1))


def ensure_for(conn: sa.Connection, times: Iterable[float], now: float | None = None) -> None:
    """Make sure the partitions for ``times`` (and today's and the ones ahead) exist."""
    key = str(conn.engine.url)
    with _known_lock:
        cached = key in _known
        known = _known.get(key)
    if cached and known is None:
        return  # not partitioned
    wanted = wanted_days(times, now)
    if known is not None and wanted <= known:
        return  # the common case: a dict lookup and a set comparison per batch
    if not cached:
        if not is_partitioned(conn):
            with _known_lock:
                _known[key] = None
            return
        known = existing_days(conn)
    assert known is not None
    missing = sorted(wanted - known)
    if missing:
        try:  # DDL on a connection of its own, committed at once: the batch's transaction holds no lock for it
            with conn.engine.connect() as ddl, ddl.begin():
                ddl.exec_driver_sql("SELECT pg_advisory_xact_lock(%(k)s)", {"k": _LOCK_KEY})
                present = existing_days(ddl)
                for day in missing:
                    if day not in present:
                        _create(ddl, day)
        except sa.exc.SQLAlchemyError:
            # e.g. a role without CREATE on the schema: the rows go to the default partition (never refused);
            # tried again by the next process, or after forget()
            log.warning("llmwatch store: could not create partitions for %s; their rows go to %s",
                        ", ".join(name_for(d) for d in missing), DEFAULT, exc_info=True)
    with _known_lock:
        _known[key] = known | wanted


def forget(url: str | None = None) -> None:
    """Drop the cache of existing partitions (after a migration, or for tests)."""
    with _known_lock:
        if url is None:
            _known.clear()
        else:
            _known.pop(url, None)


def drop_before(conn: sa.Connection, cutoff: float, annotation_tables: Iterable[str]) -> int:
    """Drop the partitions whose whole day lies before ``cutoff``, with their calls' annotations and
    hourly-rollup rows; return how many calls went. Nothing on an unpartitioned database."""
    if not is_partitioned(conn):
        return 0
    days = sorted(d for d in existing_days(conn) if (d + 1) * DAY <= cutoff)
    total = 0
    for day in days:
        name = name_for(day)
        n = int(conn.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar_one())
        for table in annotation_tables:
            conn.exec_driver_sql(f'DELETE FROM {table} WHERE record_id IN (SELECT record_id FROM "{name}")')
        conn.exec_driver_sql("DELETE FROM llmwatch_calls_hourly WHERE hour >= %(lo)s AND hour < %(hi)s",
                             {"lo": day * DAY, "hi": (day + 1) * DAY})
        conn.exec_driver_sql(f'DROP TABLE "{name}"')
        total += n
    if days:
        forget(str(conn.engine.url))
    return total
