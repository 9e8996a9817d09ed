"""Finding calls: filters, sorting, cursor pagination, counting, one call in full.

Every public function takes ``url=`` (default: ``LLMWATCH_STORE_URL`` or the per-user SQLite file)
and keyword filters; see :class:`Filters` for the accepted names and forms.

    from llmwatch import logs
    slow = logs.query(since="1d", model="gpt-4o", text="refund", min_duration=2.0, sort="-duration")
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field, fields
from typing import Any

import sqlalchemy as sa

from llmwatch.store import db
from llmwatch.store.backends import backend_for, text_terms
from llmwatch.store.models import call_tags, calls, feedback, flags, scores
from llmwatch.store.records import Annotation, CallDetail, Page, StoredCall
from llmwatch.store.timeparse import parse_time

SORT_KEYS = ("start_time", "duration", "cost_usd", "total_tokens", "input_tokens", "output_tokens",
             "time_to_first_chunk")
_SCORE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(>=|<=|>|<|=)\s*(-?\d+(?:\.\d+)?)\s*$")
SCORE_FORM = "NAME>VALUE, NAME>=VALUE, NAME<VALUE, NAME<=VALUE or NAME=VALUE, e.g. toxicity>0.8"
_READ_COLUMNS = [c for c in calls.columns if c.name not in ("search_text", "search_grams")]


class QueryError(ValueError):
    """A filter, sort key or cursor that is not accepted; the message names the accepted form."""


@dataclass
class Filters:
    """Filters for :func:`query`, :func:`count`, stats and export. All given filters must match.

    Times accept what :func:`~llmwatch.store.timeparse.parse_time` does (``"1h"`` = an hour ago,
    ISO 8601, epoch seconds, datetimes). ``model`` matches the request model; ``*`` is a wildcard.
    ``text``: words and "quoted phrases", all of which must appear (stemmed, case-insensitive;
    Chinese, Japanese and Korean terms match as substrings, see :mod:`llmwatch.store.cjk`).
    ``flagged``: True for any flag, or a label. ``scores``: ``["toxicity>0.8", ...]``.
    """

    since: Any = None
    until: Any = None
    model: str | None = None
    response_model: str | None = None
    provider: str | None = None
    operation: str | None = None
    status: str | None = None
    error_type: str | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    min_tokens: int | None = None
    max_tokens: int | None = None
    min_cost: float | None = None
    max_cost: float | None = None
    text: str | None = None
    session: str | None = None
    conversation: str | None = None
    user: str | None = None
    template: str | None = None
    template_version: str | None = None
    prompt_hash: str | None = None
    trace_id: str | None = None
    tags: list[str] = field(default_factory=list)
    flagged: bool | str | None = None
    scores: list[str] = field(default_factory=list)
    # Scorer conveniences (llmwatch.scoring): any toxicity score >= value; a scorer's alarm (stored
    # labels starting "flagged"/"fail"); injection=True is flagged_by=["injection"].
    min_toxicity: float | None = None
    flagged_by: list[str] = field(default_factory=list)
    injection: bool | None = None

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> Filters:
        known = {f.name for f in fields(cls)}
        if "tag" in kwargs:
            tag = kwargs.pop("tag")
            kwargs["tags"] = [tag] if isinstance(tag, str) else list(tag or [])
        if "score" in kwargs:
            score = kwargs.pop("score")
            kwargs["scores"] = [score] if isinstance(score, str) else list(score or [])
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise QueryError(f"unknown filter(s) {', '.join(unknown)}; accepted: {', '.join(sorted(known))}")
        return cls(**kwargs)

    def where(self, backend: Any) -> list[Any]:
        """SQLAlchemy conditions for these filters."""
        c = calls.c
        w: list[Any] = []
        if self.since is not None:
            w.append(c.start_time >= _time(self.since, "since"))
        if self.until is not None:
            w.append(c.start_time < _time(self.until, "until"))
        for value, col in ((self.model, c.request_model), (self.response_model, c.response_model)):
            if value:
                w.append(col.like(_glob(value), escape="\\") if "*" in value else col == value)
        for value, col in ((self.provider, c.provider), (self.operation, c.operation), (self.status, c.status),
                           (self.error_type, c.error_type), (self.session, c.session_id),
                           (self.conversation, c.conversation_id), (self.user, c.user_id),
                           (self.template, c.prompt_template), (self.template_version, c.prompt_template_version)):
            if value is not None:
                w.append(col == value)
        for value, name in ((self.prompt_hash, "prompt_hash"), (self.trace_id, "trace_id")):
            if value is not None:
                w.append(backend.keyed(name, value))
        if self.status is not None and self.status != "ok":
            # Implied by status == value, but spelled like the partial index ix_llmwatch_calls_errors's
            # predicate: SQLite only uses a partial index whose WHERE appears in the query.
            w.append(c.status != sa.literal_column("'ok'"))  # a literal: a bound value would not match
        for lo, hi, col, what in ((self.min_duration, self.max_duration, c.duration, "duration (seconds)"),
                                  (self.min_tokens, self.max_tokens, c.total_tokens, "tokens"),
                                  (self.min_cost, self.max_cost, c.cost_usd, "cost (USD)")):
            if lo is not None:
                w.append(col >= _number(lo, f"minimum {what}"))
            if hi is not None:
                w.append(col <= _number(hi, f"maximum {what}"))
        if self.text is not None:
            if not text_terms(self.text):
                raise QueryError("empty --text: expected words and/or \"quoted phrases\" to search for")
            w.append(backend.text_match(self.text))
        for tag in self.tags:
            w.append(sa.exists().where(call_tags.c.record_id == c.record_id, call_tags.c.tag == tag))
        if self.flagged:
            cond = [flags.c.record_id == c.record_id]
            if isinstance(self.flagged, str):
                cond.append(flags.c.label == self.flagged)
            w.append(sa.exists().where(*cond))
        elif self.flagged is False:
            w.append(~sa.exists().where(flags.c.record_id == c.record_id))
        for expr in self.scores:
            name, op, threshold = parse_score(expr)
            w.append(sa.exists().where(scores.c.record_id == c.record_id, scores.c.name == name,
                                       scores.c.value.op(op)(threshold)))
        if self.min_toxicity is not None:
            w.append(sa.exists().where(scores.c.record_id == c.record_id, scores.c.name == "toxicity",
                                       scores.c.value >= _number(self.min_toxicity, "minimum toxicity")))
        flagged_by = [self.flagged_by] if isinstance(self.flagged_by, str) else list(self.flagged_by)
        if self.injection:
            flagged_by.append("injection")
        for name in flagged_by:
            w.append(sa.exists().where(scores.c.record_id == c.record_id, scores.c.name == name,
                                       sa.or_(scores.c.label.like("flagged%"), scores.c.label.like("fail%"))))
        return w


def parse_score(expr: str) -> tuple[str, str, float]:
    """``"toxicity>0.8"`` -> ``("toxicity", ">", 0.8)``; QueryError naming the form otherwise."""
    m = _SCORE.match(expr or "")
    if not m:
        raise QueryError(f"invalid score filter {expr!r}: expected {SCORE_FORM}")
    return m.group(1), m.group(2), float(m.group(3))


def _time(value: Any, what: str) -> float:
    try:
        return parse_time(value, what)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


def _number(value: Any, what: str) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise QueryError(f"invalid {what} {value!r}: expected a number") from None
    if f != f:
        raise QueryError(f"invalid {what} {value!r}: expected a number")
    return f


def _glob(pattern: str) -> str:
    return pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")


def _sort(sort: str) -> tuple[str, bool, Any]:
    desc = sort.startswith("-")
    key = sort.lstrip("-+")
    if key not in SORT_KEYS:
        raise QueryError(f"invalid sort {sort!r}: expected one of {', '.join(SORT_KEYS)}, "
                         f"prefixed with - for descending (e.g. -duration)")
    col = calls.c[key]
    expr = col if not col.nullable else sa.func.coalesce(col, -1.0)
    return key, desc, expr


def _encode_cursor(sort: str, value: Any, row_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([sort, value, row_id]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        s, value, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        # A tampered cursor must be a clear error, never a TypeError or a bad SQL comparison.
        if isinstance(row_id, bool) or not isinstance(row_id, int) or not isinstance(s, str) \
                or not (value is None or isinstance(value, (str, int, float)) and not isinstance(value, bool)):
            raise ValueError
    except Exception:  # noqa: BLE001
        raise QueryError(f"invalid cursor {cursor!r}: pass the next_cursor of a previous page unchanged") from None
    if s != sort:
        raise QueryError(f"cursor was made for --sort {s}, not {sort}: keep the same sort when paging")
    return value, row_id


def query(url: str | None = None, *, sort: str = "-start_time", limit: int = 100, cursor: str | None = None,
          **filters: Any) -> Page:
    """Calls matching ``filters`` (see :class:`Filters`), sorted, ``limit`` per page.

    Returns a :class:`~llmwatch.store.records.Page` of :class:`StoredCall`; pass its
    ``next_cursor`` back as ``cursor=`` (same filters and sort) for the next page.
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise QueryError(f"invalid limit {limit!r}: expected a positive integer")
    engine = db.open_engine(url)
    f = Filters.from_kwargs(dict(filters))
    key, desc, expr = _sort(sort)
    where = f.where(backend_for(engine))
    if cursor:
        value, row_id = _decode_cursor(cursor, sort)
        if desc:
            where.append(sa.or_(expr < value, sa.and_(expr == value, calls.c.id < row_id)))
        else:
            where.append(sa.or_(expr > value, sa.and_(expr == value, calls.c.id > row_id)))
    order = [expr.desc(), calls.c.id.desc()] if desc else [expr.asc(), calls.c.id.asc()]
    stmt = sa.select(*_READ_COLUMNS, expr.label("_sort")).where(*where).order_by(*order).limit(limit + 1)
    with engine.connect() as conn:
        rows = conn.execute(stmt).fetchall()
    page = Page(StoredCall.from_row(r) for r in rows[:limit])
    if len(rows) > limit:
        last = rows[limit - 1]
        page.next_cursor = _encode_cursor(sort, last._mapping["_sort"], last._mapping["id"])
    return page


def count(url: str | None = None, **filters: Any) -> int:
    """Number of calls matching ``filters``."""
    engine = db.open_engine(url)
    where = Filters.from_kwargs(dict(filters)).where(backend_for(engine))
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(calls).where(*where)).scalar_one())


def resolve_id(conn: sa.Connection, record_id: str) -> str:
    """The full record id for ``record_id``, or for a unique short form of it: the last digits
    that ``llmwatch logs`` prints (at least 6), or a prefix of at least 6 (what it printed for calls
    stored before record ids were time-ordered)."""
    rid = (record_id or "").strip().lower()
    if not re.fullmatch(r"[0-9a-f]{6,32}", rid):
        raise QueryError(f"invalid call id {record_id!r}: expected the record id (32 hex digits) "
                         "or a unique short id of at least 6 (its last digits, as `llmwatch logs` prints)")
    col = calls.c.record_id
    if len(rid) == 32:
        found = conn.execute(sa.select(col).where(col == rid)).scalars().all()
    else:  # the prefix through the record-id index; the suffix reads that index whole (an interactive lookup)
        found = list(dict.fromkeys(
            [*conn.execute(sa.select(col).where(col.like(rid + "%")).limit(2)).scalars(),
             *conn.execute(sa.select(col).where(col.like("%" + rid)).limit(2)).scalars()]))
    if not found:
        raise LookupError(f"no call with id {record_id!r} in the prompt log")
    if len(found) > 1:
        raise QueryError(f"call id {record_id!r} is ambiguous: give more digits")
    full: str = found[0]
    return full


def get(record_id: str, url: str | None = None) -> CallDetail:
    """One call in full (id or unique prefix), with its annotations and the rest of its trace."""
    engine = db.open_engine(url)
    with engine.connect() as conn:
        rid = resolve_id(conn, record_id)
        call = StoredCall.from_row(conn.execute(sa.select(*_READ_COLUMNS).where(calls.c.record_id == rid)).one())
        notes: list[Annotation] = []
        for r in conn.execute(sa.select(flags).where(flags.c.record_id == rid)):
            notes.append(Annotation("flag", rid, r.created_at, label=r.label, note=r.note, author=r.author))
        for r in conn.execute(sa.select(feedback).where(feedback.c.record_id == rid)):
            notes.append(Annotation("feedback", rid, r.created_at, value=r.score, note=r.comment, author=r.author))
        for r in conn.execute(sa.select(scores).where(scores.c.record_id == rid)):
            notes.append(Annotation("score", rid, r.created_at, label=r.name, value=r.value, note=r.label,
                                    author=r.scorer))
        notes.sort(key=lambda a: a.created_at)
        trace: list[StoredCall] = []
        if call.trace_id:
            trace = [StoredCall.from_row(r) for r in conn.execute(
                sa.select(*_READ_COLUMNS).where(backend_for(conn).keyed("trace_id", call.trace_id),
                                                calls.c.record_id != rid)
                .order_by(calls.c.start_time).limit(1000))]
    return CallDetail(call, notes, trace)


class Follower:
    """What ``logs tail -f`` polls: calls stored since the last :meth:`poll`, oldest id first.

    Row ids are handed out when a row is inserted, not when it commits, so with several writers
    (PostgreSQL writer threads, several processes) a smaller id can become visible after a larger
    one. The follower remembers the ids it skipped ("holes") for ``lookback`` ids and picks
    them up when they commit; holes left by rolled-back inserts age out.
    """

    def __init__(self, url: str | None = None, after: int = 0, lookback: int = 100_000, **filters: Any) -> None:
        self.url, self.last, self.lookback = url, after, lookback
        self.where = Filters.from_kwargs(dict(filters)).where(backend_for(db.open_engine(url)))
        self.holes: set[int] = set()

    def poll(self, limit: int = 10_000) -> list[StoredCall]:
        engine = db.open_engine(self.url)
        with engine.connect() as conn:
            ids = conn.execute(sa.select(calls.c.id).where(calls.c.id > self.last).order_by(calls.c.id)
                               .limit(limit)).scalars().all()
            arrived = conn.execute(sa.select(calls.c.id).where(calls.c.id.in_(sorted(self.holes)))).scalars().all() \
                if self.holes else []
            wanted = [calls.c.id.in_(arrived)] if arrived else []
            if ids:
                wanted.append(calls.c.id.between(ids[0], ids[-1]))
            rows = conn.execute(sa.select(*_READ_COLUMNS).where(sa.or_(*wanted), *self.where)
                                .order_by(calls.c.id)).fetchall() if wanted else []
        self.holes.difference_update(arrived)
        if ids:
            self.holes.update(set(range(self.last + 1, ids[-1])).difference(ids))
            self.last = ids[-1]
            self.holes = {i for i in self.holes if i > self.last - self.lookback}
        return [StoredCall.from_row(r) for r in rows]
