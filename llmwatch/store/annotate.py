"""Marking calls: flags/annotations, user feedback, and scores (written by the scoring issue)."""

from __future__ import annotations

import math
import time
from typing import Any

import sqlalchemy as sa

from llmwatch.store import db
from llmwatch.store.models import feedback as feedback_table
from llmwatch.store.models import flags, scores
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
    label = _text(label, "flag label", required=True)
    note = _text(note, "note", limit=10_000)
    engine = db.open_engine(url)
    with engine.begin() as conn:
        rid = resolve_id(conn, record_id)
        conn.execute(sa.insert(flags).values(record_id=rid, label=label, note=note,
                                             author=_text(author, "author"), created_at=time.time()))
    return rid


def feedback(record_id: str, score: float, comment: str | None = None, author: str | None = None,
             url: str | None = None) -> str:
    """Record user feedback (any finite number: +1/-1 thumbs, or a 1-5 rating); returns the full id."""
    try:
        value = float(score)
    except (TypeError, ValueError):
        raise QueryError(f"invalid feedback score {score!r}: expected a number, e.g. 1, -1 or 4.5") from None
    if not math.isfinite(value):
        raise QueryError(f"invalid feedback score {score!r}: expected a finite number")
    engine = db.open_engine(url)
    with engine.begin() as conn:
        rid = resolve_id(conn, record_id)
        conn.execute(sa.insert(feedback_table).values(record_id=rid, score=value,
                                                      comment=_text(comment, "comment", limit=10_000),
                                                      author=_text(author, "author"), created_at=time.time()))
    return rid


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
