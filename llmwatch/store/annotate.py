"""Marking calls: flags/annotations, user feedback, scores and prompt embeddings (written by the scorers)."""

from __future__ import annotations

import math
import time
from typing import Any

import sqlalchemy as sa

from llmwatch.store import db
from llmwatch.store.models import calls, embeddings, flags, scores
from llmwatch.store.models import feedback as feedback_table
from llmwatch.store.query import QueryError, resolve_id


def _text(value: Any, what: str, required: bool = False, limit: int = 200) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise QueryError(f"missing {what}: expected a non-empty string")
        return None
    if not isinstance(value, str):
        raise QueryError(f"invalid {what} {value!r}: expected a string")
    if len(value) > limit:
        raise QueryError(f"{what} is {len(value)} characters long: at most {limit} are accepted")
    return value.strip()


def flag(record_id: str, label: str, note: str | None = None, author: str | None = None,
         url: str | None = None) -> str:
    """Attach a flag ``label`` (e.g. ``weak-prompt``) with an optional note; returns the full id.

    >>> flag("3f2a9c", label="weak-prompt", note="asks two questions at once")  # doctest: +SKIP
    """
    checked_label = _text(label, "flag label", required=True)
    note = _text(note, "note", limit=10_000)
    engine = db.open_engine(url)
    with engine.begin() as conn:
        rid = resolve_id(conn, record_id)
        conn.execute(sa.insert(flags).values(record_id=rid, label=checked_label, note=note,
                                             author=_text(author, "author"), created_at=time.time()))
    return rid


def feedback(record_id: str, score: float, comment: str | None = None, author: str | None = None,
             url: str | None = None, kind: str | None = None) -> str:
    """Record user feedback (any finite number: +1/-1 thumbs, or a 1-5 rating); returns the full id.

    In a process where ``llmwatch.init()`` ran, the score is also observed, normalised to [0, 1],
    in ``llmwatch_feedback_score`` for the call's model (``kind``: see :func:`normalise_feedback`).

    >>> feedback("3f2a9c", score=-1, comment="wrong policy")  # doctest: +SKIP
    """
    try:
        value = float(score)
    except (TypeError, ValueError):
        raise QueryError(f"invalid feedback score {score!r}: expected a number, e.g. 1, -1 or 4.5") from None
    if not math.isfinite(value):
        raise QueryError(f"invalid feedback score {score!r}: expected a finite number")
    kind, normalised = normalise_feedback(value, kind)
    engine = db.open_engine(url)
    with engine.begin() as conn:
        rid = resolve_id(conn, record_id)
        conn.execute(sa.insert(feedback_table).values(record_id=rid, score=value,
                                                      comment=_text(comment, "comment", limit=10_000),
                                                      author=_text(author, "author"), created_at=time.time()))
        model = conn.execute(sa.select(calls.c.request_model).where(calls.c.record_id == rid)).scalar()
    _observe_feedback(model or "", kind, normalised)
    return rid


FEEDBACK_KINDS = ("thumbs", "rating")


def normalise_feedback(score: float, kind: str | None = None) -> tuple[str, float]:
    """``(kind, score in [0, 1])``: thumbs down (-1 or 0) = 0, thumbs up (1) = 1; a 1-5 rating scaled
    to (rating - 1) / 4, clamped. Without ``kind``, -1, 0 and 1 are thumbs and any other score a
    rating, so a rating of 1 needs ``kind="rating"``."""
    if kind is None:
        kind = "thumbs" if score in (-1.0, 0.0, 1.0) else "rating"
    if kind not in FEEDBACK_KINDS:
        raise QueryError(f"invalid feedback kind {kind!r}: expected one of {', '.join(FEEDBACK_KINDS)}")
    if kind == "thumbs":
        return kind, 1.0 if score > 0 else 0.0
    return kind, min(1.0, max(0.0, (score - 1.0) / 4.0))


def _observe_feedback(model: str, kind: str, score: float) -> None:
    # The store is also used without the SDK (CLI, agent): no running llmwatch, no metric.
    from llmwatch import _runtime

    rt = _runtime.current()
    if rt is None:
        return
    try:
        rt.instruments.feedback(model, kind, score)
    except Exception as exc:  # noqa: BLE001 - the feedback is stored; a metric failure is counted
        rt.instruments.internal_error("feedback.metric", exc)


def add_scores(rows: list[dict[str, Any]], url: str | None = None) -> None:
    """Store scores: dicts with ``record_id``, ``name``, ``value`` and optional ``label``/``scorer``.

    For the scoring issue: the call need not be stored yet (scores are keyed by record id).
    """
    now = time.time()
    clean = [{"record_id": r["record_id"], "name": r["name"], "value": float(r["value"]),
              "label": r.get("label"), "scorer": r.get("scorer"), "created_at": r.get("created_at", now)}
             for r in rows]
    if clean:
        with db.open_engine(url).begin() as conn:
            conn.execute(sa.insert(scores), clean)


def add_embeddings(rows: list[dict[str, Any]], url: str | None = None) -> None:
    """Store prompt embeddings: dicts with ``record_id``, ``model`` and ``vector`` (floats, or the
    int8 bytes of :func:`llmwatch.store.vectors.encode`). A call that already has one keeps it. Like
    scores, the call need not be stored yet."""
    if rows:
        with db.open_engine(url).begin() as conn:
            insert_embeddings(conn, rows)


def insert_embeddings(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """:func:`add_embeddings` inside the caller's transaction (the agent's scoring batch)."""
    from llmwatch.store.vectors import encode

    now = time.time()
    clean = []
    for r in rows:
        blob = r["vector"] if isinstance(r["vector"], bytes) else encode(r["vector"])
        clean.append({"record_id": r["record_id"], "model": r["model"], "dim": len(blob), "vector": blob,
                      "created_at": r.get("created_at", now)})
    if not clean:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(embeddings).on_conflict_do_nothing(index_elements=["record_id"])
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(embeddings).on_conflict_do_nothing(index_elements=["record_id"])
    conn.execute(stmt, clean)
