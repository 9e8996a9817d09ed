"""Retention: deleting calls (and their tags, scores, flags, feedback, embeddings) older than a cut-off."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from llmwatch.store import hourly as rollup
from llmwatch.store import partitions
from llmwatch.store.models import call_tags, calls, embeddings, feedback, flags, scores


def prune(engine: Engine, older_than: float, now: float | None = None, chunk: int = 5000) -> int:
    """Delete calls that started more than ``older_than`` seconds before ``now``; return how many.

    Works in chunks of ``chunk`` calls so a large prune never holds a long write lock (the writer
    keeps writing in between). Annotations of the deleted calls go with them. On PostgreSQL, whole
    days before the cut-off go first, as partitions dropped (:func:`llmwatch.store.partitions.drop_before`);
    the chunks then only read the day the cut-off falls in.
    """
    if older_than <= 0:
        raise ValueError("older_than must be a positive number of seconds")
    cutoff = (time.time() if now is None else now) - older_than
    annotation_tables = (call_tags, scores, flags, feedback, embeddings)
    with engine.begin() as conn:
        total = partitions.drop_before(conn, cutoff, [t.name for t in annotation_tables])
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                sa.select(calls.c.id, calls.c.record_id).where(calls.c.start_time < cutoff).limit(chunk)
            ).fetchall()
            if not rows:
                return total
            ids = [r[0] for r in rows]
            rids = [r[1] for r in rows]
            for table in annotation_tables:
                conn.execute(sa.delete(table).where(table.c.record_id.in_(rids)))
            # Take the calls out of the hourly rollup in the same transaction (ids are integers).
            source = f"llmwatch_calls WHERE id IN ({', '.join(str(int(i)) for i in ids)})"
            conn.exec_driver_sql(rollup.add_sql(conn.dialect.name, source, sign=-1))
            conn.exec_driver_sql(rollup.DELETE_EMPTY)
            conn.execute(sa.delete(calls).where(calls.c.id.in_(ids)))
        total += len(rows)
