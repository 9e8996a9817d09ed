"""Aggregates over the prompt log: ``stats`` per model/provider/template, and ``compare``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from llmwatch.store import db
from llmwatch.store.backends import backend_for
from llmwatch.store.models import calls
from llmwatch.store.query import Filters, QueryError, _READ_COLUMNS, resolve_id
from llmwatch.store.records import StoredCall

GROUP_KEYS = {
    "model": calls.c.request_model, "response_model": calls.c.response_model, "provider": calls.c.provider,
    "operation": calls.c.operation, "template": calls.c.prompt_template, "status": calls.c.status,
    "user": calls.c.user_id, "service": calls.c.service_name,
}
_QS = (0.5, 0.95, 0.99)


def aggregate(url: str | None = None, *, by: str = "model", **filters: Any) -> list[dict[str, Any]]:
    """Per-group figures for calls matching ``filters``, busiest group first.

    Each dict: ``group``, ``count``, ``errors``, ``error_rate``, ``p50``/``p95``/``p99`` latency
    (seconds), ``input_tokens``, ``output_tokens``, ``cost_usd`` (sum of known costs; None if no
    call had a known price) and ``unknown_cost`` (calls without a price).

    >>> aggregate(since="1d", by="model")  # doctest: +SKIP
    """
    if by not in GROUP_KEYS:
        raise QueryError(f"invalid group {by!r}: expected one of {', '.join(GROUP_KEYS)}")
    key = GROUP_KEYS[by]
    engine = db.open_engine(url)
    backend = backend_for(engine)
    where = Filters.from_kwargs(dict(filters)).where(backend)
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
                    "output_tokens": int(tout or 0), "cost_usd": cost, "unknown_cost": int(unknown or 0)})
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
    groups: dict[str, dict[str, Any]] = {}
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
