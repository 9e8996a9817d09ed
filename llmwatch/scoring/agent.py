"""Agent-mode scoring: workers pull unscored calls from the prompt log, score them, store scores.

The app then needs no torch at all (it only writes the prompt log); the monitoring agent runs
:func:`run_workers`. Work sharing is a claim inside one transaction per batch:

* PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` on calls with no score from this scorer, so
  several agents (or threads) take disjoint batches. After the lock is held, the "no score yet"
  condition is checked again in a new statement: a row whose lock was released by a worker that
  just committed its scores is then seen as scored and skipped (READ COMMITTED gives each
  statement a fresh snapshot), so each call is scored exactly once.
* SQLite: one writer at a time anyway; the batch is claimed and scored inside ``BEGIN IMMEDIATE``.

Calls are identified as scored by a ``llmwatch_scores`` row whose ``scorer`` column is the
scorer's name; every scorer writes at least one row per call it scores, so a stop anywhere
resumes where it left off. The ``embedding`` scorer's mark is the call's ``llmwatch_embeddings``
row instead (a call without prompt text gets an empty one, ``dim`` 0, so it is not offered again).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from llmwatch.scoring.base import Item, Scorer, texts_from_messages
from llmwatch.scoring.embedding import NAME as EMBEDDING
from llmwatch.scoring.report import Reporter
from llmwatch.store import db
from llmwatch.store.annotate import insert_embeddings
from llmwatch.store.models import calls, embeddings, scores

logger = logging.getLogger("llmwatch")
_COLS = (calls.c.id, calls.c.record_id, calls.c.request_model, calls.c.trace_id, calls.c.span_id,
         calls.c.response_id, calls.c.system_instructions, calls.c.input_messages, calls.c.output_messages,
         calls.c.request_params, calls.c.metadata)


def _unscored(name: str) -> Any:
    if name == EMBEDDING:
        return ~sa.exists().where(embeddings.c.record_id == calls.c.record_id)
    return ~sa.exists().where(scores.c.record_id == calls.c.record_id, scores.c.scorer == name)


def _item(row: Any) -> Item:
    m = row._mapping
    prompt, context, completion, system = texts_from_messages(m["system_instructions"], m["input_messages"],
                                                              m["output_messages"])
    fmt = (m["metadata"] or {}).get("response_format") if isinstance(m["metadata"], dict) else None
    return Item(record_id=m["record_id"], model=m["request_model"] or "", prompt=prompt, completion=completion,
                context=context, system=system, trace_id=m["trace_id"], span_id=m["span_id"],
                response_id=m["response_id"], response_format=fmt if isinstance(fmt, dict) else None)


def pending(url: str | None, scorer: str, since: float | None = None) -> int:
    """Calls (optionally since an epoch time) that ``scorer`` has not scored yet."""
    engine = db.open_engine(url)
    where = [_unscored(scorer)] + ([calls.c.start_time >= since] if since is not None else [])
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(calls).where(*where)).scalar_one())


def score_batch(url: str | None, scorer: Scorer, reporter: Reporter, batch_size: int = 32,
                since: float | None = None, on_error: Callable[[str, BaseException], None] | None = None) -> int:
    """Claim up to ``batch_size`` unscored calls, score them, store the scores; returns how many."""
    engine = db.open_engine(url)
    postgres = engine.dialect.name == "postgresql"
    name = scorer.name
    where = [_unscored(name)] + ([calls.c.start_time >= since] if since is not None else [])
    stmt = sa.select(*_COLS).where(*where).order_by(calls.c.id).limit(batch_size)
    if postgres:
        stmt = stmt.with_for_update(skip_locked=True, of=calls)
    with engine.connect() as conn:
        if not postgres:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.begin()
        try:
            rows = conn.execute(stmt).fetchall()
            if postgres and rows:
                ids = [r.record_id for r in rows]
                done = set(conn.execute(sa.select(calls.c.record_id).where(
                    calls.c.record_id.in_(ids), ~_unscored(name))).scalars())
                rows = [r for r in rows if r.record_id not in done]
            if not rows:
                _commit(conn, postgres)
                return 0
            items = [_item(r) for r in rows]
            results = scorer.score(items)
            out: list[dict[str, Any]] = []
            vectors: list[dict[str, Any]] = []
            for item, evals in zip(items, results):
                try:
                    reporter.emit(item, evals)
                except Exception as exc:  # noqa: BLE001 - metrics/events must not lose the stored scores
                    if on_error:
                        on_error(f"scorer.{name}.report", exc)
                out.extend(reporter.rows(item, name, evals))
                vectors.extend(reporter.embeddings(item, evals))
            if out:
                conn.execute(sa.insert(scores), out)
            if vectors:
                insert_embeddings(conn, vectors)
            _commit(conn, postgres)
            return len(items)
        except BaseException:
            _rollback(conn, postgres)
            raise


def _commit(conn: Any, postgres: bool) -> None:
    if postgres:
        conn.commit()
    else:
        conn.exec_driver_sql("COMMIT")


def _rollback(conn: Any, postgres: bool) -> None:
    try:
        if postgres:
            conn.rollback()
        else:
            conn.exec_driver_sql("ROLLBACK")
    except Exception:  # noqa: BLE001
        pass


def run_workers(store_url: str | None, scorers: Sequence[Scorer] | Iterable[str], stop_event: threading.Event, *,
                config: Any = None, reporter: Reporter | None = None, batch_size: int = 32,
                poll_interval: float = 2.0, threads: int = 1,
                on_error: Callable[[str, BaseException], None] | None = None) -> list[threading.Thread]:
    """Start ``threads`` worker threads per scorer that score the prompt log at ``store_url`` until
    ``stop_event`` is set; returns the threads (join them after setting the event).

    ``scorers``: scorer objects or names (built from ``config``, a :class:`llmwatch.config.Config`).
    ``reporter``: where metrics/events go (default: Prometheus metrics in the global registry, no
    events). ``on_error(component, exc)`` is called for each failure (default: logged); a failing
    scorer backs off and retries, it never stops the others.
    """
    from llmwatch.scoring import build_scorer
    from llmwatch.scoring.report import QualityMetrics

    built = [build_scorer(s, config) if isinstance(s, str) else s for s in scorers]
    reporter = reporter or Reporter(QualityMetrics())
    report_error = on_error or (lambda comp, exc: logger.warning("llmwatch agent: %s failed: %s", comp, exc))
    out = []
    for scorer in built:
        for i in range(threads):
            t = threading.Thread(target=_loop, args=(store_url, scorer, reporter, stop_event, batch_size,
                                                     poll_interval, report_error),
                                 name=f"llmwatch-agent-score-{scorer.name}-{i}", daemon=True)
            t.start()
            out.append(t)
    return out


def _loop(url: str | None, scorer: Scorer, reporter: Reporter, stop: threading.Event, batch_size: int,
          poll: float, on_error: Callable[[str, BaseException], None]) -> None:
    backoff = poll
    while not stop.is_set():
        try:
            n = score_batch(url, scorer, reporter, batch_size, on_error=on_error)
            backoff = poll
        except Exception as exc:  # noqa: BLE001 - counted, retried with backoff
            on_error(f"scorer.{scorer.name}", exc)
            n = 0
            backoff = min(backoff * 2, 60.0)
        if n == 0:
            stop.wait(backoff)


def backfill(url: str | None, scorer: Scorer, reporter: Reporter, since: float | None, batch_size: int = 32,
             progress: Callable[[int], None] | None = None) -> int:
    """Score every unscored call since ``since`` (resumable: scored calls are skipped); returns the count."""
    total = 0
    while True:
        n = score_batch(url, scorer, reporter, batch_size, since)
        if n == 0:
            return total
        total += n
        if progress is not None:
            progress(n)
        time.sleep(0)
