"""Aggregates over the prompt log: ``stats`` per model/provider/template, and ``compare``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from llmwatch.store import db
from llmwatch.store import hourly as rollup
from llmwatch.store.backends import backend_for
from llmwatch.store.models import calls, calls_hourly
from llmwatch.store.query import _READ_COLUMNS, Filters, QueryError, _glob, _time, resolve_id
from llmwatch.store.records import StoredCall

GROUP_KEYS = {
    "model": calls.c.request_model, "response_model": calls.c.response_model, "provider": calls.c.provider,
    "operation": calls.c.operation, "template": calls.c.prompt_template, "status": calls.c.status,
    "user": calls.c.user_id, "service": calls.c.service_name,
}
_QS = (0.5, 0.95, 0.99)
HOUR = 3600
# Groups and filters the hourly rollup can answer (its key columns).
_ROLLUP_KEYS = {"model": "request_model", "provider": "provider", "operation": "operation",
                "template": "prompt_template"}
_ROLLUP_FILTERS = {"since", "until", "model", "provider", "operation", "template"}
SOURCE_EXACT = "exact"
SOURCE_ROLLUP = "hourly rollup"


def aggregate(url: str | None = None, *, by: str = "model", exact: bool = False,
              **filters: Any) -> list[dict[str, Any]]:
    """Per-group figures for calls matching ``filters``, busiest group first.

    Each dict: ``group``, ``count``, ``errors``, ``error_rate``, ``p50``/``p95``/``p99`` latency
    (seconds), ``input_tokens``, ``output_tokens``, ``cost_usd`` (sum of known costs; None if no
    call had a known price), ``unknown_cost`` (calls without a price) and ``source``.

    ``source`` is ``"hourly rollup"`` when grouping by model/provider/operation/template with only
    time/model/provider/operation/template filters and a window of at least one whole hour: whole
    hours come from the rollup, the partial hours at the edges from the calls; counts, tokens and
    costs are exact, percentiles bucket-interpolated (see :mod:`llmwatch.store.hourly`).
    Otherwise, or with ``exact=True``, everything is computed from the calls (``"exact"``).

    >>> aggregate(since="1d", by="model")  # doctest: +SKIP
    """
    if by not in GROUP_KEYS:
        raise QueryError(f"invalid group {by!r}: expected one of {', '.join(GROUP_KEYS)}")
    key = GROUP_KEYS[by]
    engine = db.open_engine(url)
    backend = backend_for(engine)
    f = Filters.from_kwargs(dict(filters))
    where = f.where(backend)
    if not exact and by in _ROLLUP_KEYS and set(filters) <= _ROLLUP_FILTERS:
        out = _from_rollup(engine, backend, f, by, key)
        if out is not None:
            return out
    errors = sa.func.sum(sa.case((calls.c.status != "ok", 1), else_=0))
    stmt = (sa.select(key.label("k"), sa.func.count().label("n"), errors.label("errors"),
                      sa.func.sum(calls.c.input_tokens), sa.func.sum(calls.c.output_tokens),
                      sa.func.sum(calls.c.cost_usd),
                      sa.func.sum(sa.case((calls.c.cost_usd.is_(None), 1), else_=0)))
            .where(*where).group_by(key))
    with engine.connect() as conn:
        rows = conn.execute(stmt).fetchall()
        pct = backend.percentiles(conn, key, where, _QS)
    out = []
    for k, n, errs, tin, tout, cost, unknown in rows:
        p = pct.get(k, [None, None, None])
        out.append({"group": k, "count": int(n), "errors": int(errs or 0), "error_rate": (errs or 0) / n,
                    "p50": p[0], "p95": p[1], "p99": p[2], "input_tokens": int(tin or 0),
                    "output_tokens": int(tout or 0), "cost_usd": cost, "unknown_cost": int(unknown or 0),
                    "source": SOURCE_EXACT})
    out.sort(key=lambda d: (-d["count"], str(d["group"])))
    return out


def _from_rollup(engine: sa.Engine, backend: Any, f: Filters, by: str, key: Any) -> list[dict[str, Any]] | None:
    """Whole hours from the rollup plus exact edge hours; None when no whole hour is covered."""
    since = None if f.since is None else _time(f.since, "since")
    until = None if f.until is None else _time(f.until, "until")
    lo = None if since is None else -(-since // HOUR) * HOUR  # first whole hour
    hi = None if until is None else until // HOUR * HOUR  # end of the last whole hour
    if lo is not None and hi is not None and lo >= hi:
        return None
    h = calls_hourly.c
    cond = []
    if lo is not None:
        cond.append(h.hour >= int(lo))
    if hi is not None:
        cond.append(h.hour < int(hi))
    if f.model:
        cond.append(h.request_model.like(_glob(f.model), escape="\\") if "*" in f.model else h.request_model == f.model)
    for value, col in ((f.provider, h.provider), (f.operation, h.operation), (f.template, h.prompt_template)):
        if value is not None:
            cond.append(col == value)
    hkey = h[_ROLLUP_KEYS[by]]
    cols: list[Any] = [sa.func.sum(h[c]) for c in ("calls", "errors", "input_tokens", "output_tokens", "cost_usd",
                                                   "unknown_cost")]
    cols += [sa.func.min(h.duration_min), sa.func.max(h.duration_max)]
    cols += [sa.func.sum(h[c]) for c in rollup.BUCKET_COLUMNS]
    groups: dict[Any, rollup.Group] = {}
    row: Any  # a Row of width 1 + len(cols)
    with engine.connect() as conn:
        for row in conn.execute(sa.select(hkey, *cols).where(*cond).group_by(hkey)):
            g = groups.setdefault(row[0] if row[0] != "" else None, rollup.Group())
            calls_, errors, tin, tout, cost, unknown, dmin, dmax = row[1:9]
            g.add_rollup(calls_, errors, tin, tout, cost, unknown, dmin, dmax, hist=row[9:])
        edges = []  # the partial hours at either end, read from the calls themselves
        if lo is not None and since is not None and since < lo:
            edges.append(sa.and_(calls.c.start_time >= since, calls.c.start_time < lo))
        if hi is not None and until is not None and hi < until:
            edges.append(sa.and_(calls.c.start_time >= hi, calls.c.start_time < until))
        if edges:
            base = Filters(**{**f.__dict__, "since": None, "until": None}).where(backend)
            stmt = sa.select(key, calls.c.status, calls.c.input_tokens, calls.c.output_tokens, calls.c.cost_usd,
                             calls.c.duration).where(*base, sa.or_(*edges))
            for k, *rest in conn.execute(stmt):
                groups.setdefault(k, rollup.Group()).add_call(*rest)
    out = [dict(g.as_dict(k, _QS), source=SOURCE_ROLLUP) for k, g in groups.items() if g.calls > 0]
    out.sort(key=lambda d: (-d["count"], str(d["group"])))
    return out


def compare(url: str | None = None, *, record_id: str | None = None, prompt_hash: str | None = None,
            template: str | None = None, template_version: str | None = None, since: Any = None,
            limit: int = 20) -> list[dict[str, Any]]:
    """What different models answered to the same prompt.

    Select the prompt by ``record_id`` (its prompt hash), ``prompt_hash``, or ``template`` (+
    ``template_version``). Returns up to ``limit`` prompt groups, newest first, each
    ``{"prompt_hash", "prompt", "template", "template_version", "answers": {model: StoredCall}}``
    holding the latest call per model.
    """
    engine = db.open_engine(url)
    with engine.connect() as conn:
        if record_id:
            rid = resolve_id(conn, record_id)
            prompt_hash = conn.execute(sa.select(calls.c.prompt_hash).where(calls.c.record_id == rid)).scalar_one()
            if prompt_hash is None:
                raise QueryError(f"call {record_id} has no stored prompt to compare (content capture was off)")
        if not (prompt_hash or template):
            raise QueryError("compare needs a call id, --prompt-hash or --template (with optional --version)")
        f = Filters(prompt_hash=prompt_hash, template=template, template_version=template_version, since=since)
        where = f.where(backend_for(engine)) + [calls.c.prompt_hash.is_not(None)]
        rows = conn.execute(sa.select(*_READ_COLUMNS).where(*where)
                            .order_by(calls.c.start_time.desc()).limit(max(limit, 1) * 50)).fetchall()
    groups: dict[str | None, dict[str, Any]] = {}  # the query keeps prompt_hash IS NOT NULL
    for row in rows:
        call = StoredCall.from_row(row)
        g = groups.get(call.prompt_hash)
        if g is None:
            if len(groups) >= limit:
                continue
            g = groups[call.prompt_hash] = {
                "prompt_hash": call.prompt_hash, "prompt": call.prompt_text, "template": call.prompt_template,
                "template_version": call.prompt_template_version, "answers": {}}
        g["answers"].setdefault(call.model or "?", call)  # rows are newest first: keep the latest
    return list(groups.values())
