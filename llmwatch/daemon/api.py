"""The read-only query API: ``/api/v1/...`` over the prompt log, on the same engine as ``llmwatch logs``.

Each route is a function ``(store_url, query params, path args, max_page) -> (status, JSON body)``.
Parameters are declared once in :data:`FILTERS` and used both to parse requests and to generate
the OpenAPI document (``llmwatch/daemon/openapi.json``, checked by a test against
:func:`openapi`), so the spec cannot drift from what the server accepts.

Errors: a bad parameter is 400 ``{"error": message}`` naming the accepted form; an unknown call
is 404; an unreachable database is 503.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from llmwatch.store.query import QueryError

# name -> (type, description). Types: string, number, integer, boolean-or-label, array.
FILTERS: dict[str, tuple[str, str]] = {
    "since": ("string", "Start of the window: 1h, 7d (ago), today, yesterday, ISO 8601 or epoch seconds."),
    "until": ("string", "End of the window (same forms as since)."),
    "model": ("string", "Request model; * is a wildcard (gpt-4o*)."),
    "response_model": ("string", "Response model."),
    "provider": ("string", "gen_ai.provider.name, e.g. openai."),
    "operation": ("string", "chat, embeddings, text_completion, ..."),
    "status": ("string", "ok or error."),
    "error_type": ("string", "e.g. RateLimitError, timeout."),
    "min_duration": ("number", "Minimum latency, seconds."),
    "max_duration": ("number", "Maximum latency, seconds."),
    "min_tokens": ("number", "Minimum input + output tokens."),
    "max_tokens": ("number", "Maximum input + output tokens."),
    "min_cost": ("number", "Minimum cost, USD."),
    "max_cost": ("number", "Maximum cost, USD."),
    "text": ("string", "Full-text search: words and \"quoted phrases\", all must appear."),
    "session": ("string", "session.id."),
    "conversation": ("string", "gen_ai.conversation.id."),
    "user": ("string", "user.id."),
    "template": ("string", "Prompt template name."),
    "template_version": ("string", "Prompt template version."),
    "prompt_hash": ("string", "Hash of the prompt (same prompt, same hash)."),
    "trace_id": ("string", "Trace id (32 hex digits)."),
    "tag": ("array", "Tag; repeat for several (all must match)."),
    "flagged": ("string", "true: only flagged calls; false: only unflagged; any other value: that flag label."),
    "score": ("array", "Score threshold NAME>VALUE (also >=, <, <=, =), e.g. toxicity>0.8; repeatable."),
}
_STATUS = ("ok", "error")
_ID = re.compile(r"^[0-9a-fA-F]{6,32}$")


class BadRequest(ValueError):
    pass


@dataclass
class Params:
    """Query parameters of one request: ``{name: [values]}`` as ``urllib.parse.parse_qs`` gives."""

    raw: dict[str, list[str]]

    def check_known(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.raw) - allowed)
        if unknown:
            raise BadRequest(f"unknown parameter(s) {', '.join(unknown)}; accepted: {', '.join(sorted(allowed))}")
        for name, values in self.raw.items():
            for v in values:
                if "\x00" in v:
                    raise BadRequest(f"parameter {name!r} contains a NUL character")

    def one(self, name: str) -> str | None:
        values = self.raw.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise BadRequest(f"parameter {name!r} given {len(values)} times; give it once")
        return values[0]

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        v = self.one(name)
        if v is None:
            return default
        if not re.fullmatch(r"\s*\d+\s*", v) or not lo <= int(v) <= hi:
            raise BadRequest(f"invalid {name} {v!r}: expected a whole number from {lo} to {hi}")
        return int(v)


def _filters(p: Params) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (kind, _doc) in FILTERS.items():
        if kind == "array":
            values = p.raw.get(name) or []
            if values:
                out["tags" if name == "tag" else "scores"] = list(values)
            continue
        v = p.one(name)
        if v is None:
            continue
        if kind == "number":
            try:
                f = float(v)
            except ValueError:
                raise BadRequest(f"invalid {name} {v!r}: expected a number") from None
            if f != f or f in (float("inf"), float("-inf")):
                raise BadRequest(f"invalid {name} {v!r}: expected a finite number")
            out[name] = f
        elif name == "flagged":
            low = v.strip().lower()
            out[name] = True if low == "true" else False if low == "false" else v
        elif name == "status" and v not in _STATUS:
            raise BadRequest(f"invalid status {v!r}: expected ok or error")
        else:
            out[name] = v
    return out


def _time_params_are_sane(filters: dict[str, Any]) -> None:
    from llmwatch.store.timeparse import parse_time

    for name in ("since", "until"):
        if name in filters:
            try:
                t = parse_time(filters[name], name)
            except (ValueError, OverflowError) as exc:
                raise BadRequest(str(exc)) from None
            if not -1e11 < t < 1e11:
                raise BadRequest(f"invalid {name} {filters[name]!r}: out of range")


def _record_id(value: str) -> str:
    if not _ID.fullmatch(value or ""):
        raise BadRequest(f"invalid call id {value!r}: expected the record id (32 hex digits)"
                         " or a unique prefix of at least 6")
    return value.lower()


def _check_cursor(cursor: str, sort: str) -> None:
    # Decoded here too so a tampered cursor is a 400, never a 500 from the SQL layer.
    from llmwatch.store.query import _decode_cursor

    try:
        value, row_id = _decode_cursor(cursor, sort)
    except (QueryError, TypeError, ValueError) as exc:
        raise BadRequest(str(exc) if isinstance(exc, QueryError) else f"invalid cursor {cursor!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or not -(2**62) < row_id < 2**62:
        raise BadRequest(f"invalid cursor {cursor!r}: pass the next_cursor of a previous page unchanged")
    if isinstance(value, float) and value != value:
        raise BadRequest(f"invalid cursor {cursor!r}: pass the next_cursor of a previous page unchanged")


# ------------------------------------------------------------------------------------------ routes
Result = tuple[int, Any]


def list_calls(url: str, p: Params, _args: dict[str, str], max_page: int) -> Result:
    from llmwatch.store.query import SORT_KEYS, query

    p.check_known(set(FILTERS) | {"sort", "limit", "cursor"})
    filters = _filters(p)
    _time_params_are_sane(filters)
    sort = p.one("sort")
    sort = "-start_time" if sort is None else sort
    if sort.lstrip("-+") not in SORT_KEYS or sort.count("-") + sort.count("+") > 1:
        raise BadRequest(f"invalid sort {sort!r}: expected one of {', '.join(SORT_KEYS)},"
                         " prefixed with - for descending")
    limit = p.integer("limit", 50, 1, max_page)
    cursor = p.one("cursor")
    if cursor is not None:
        _check_cursor(cursor, sort)
    page = query(url, sort=sort, limit=limit, cursor=cursor, **filters)
    return 200, {"items": [c.to_json() for c in page], "next_cursor": page.next_cursor}


def get_call(url: str, p: Params, args: dict[str, str], _max_page: int) -> Result:
    from llmwatch.store.query import get

    p.check_known(set())
    return 200, get(_record_id(args["id"]), url=url).to_json()


def get_trace(url: str, p: Params, args: dict[str, str], _max_page: int) -> Result:
    """Every call of one trace as a tree (children by parent span id), roots oldest first."""
    from llmwatch.store.query import query

    p.check_known(set())
    trace_id = args["trace_id"]
    if not re.fullmatch(r"[0-9a-fA-F]{32}", trace_id):
        raise BadRequest(f"invalid trace id {trace_id!r}: expected 32 hex digits")
    calls = list(query(url, sort="start_time", limit=10_000, trace_id=trace_id.lower()))
    if not calls:
        raise LookupError(f"no calls with trace id {trace_id!r} in the prompt log")
    nodes = {c.span_id: {**_brief(c), "children": []} for c in calls if c.span_id}
    roots: list[Any] = []
    for c in calls:
        node = nodes.get(c.span_id) if c.span_id else {**_brief(c), "children": []}
        parent = nodes.get(c.parent_span_id) if c.parent_span_id else None
        (parent["children"] if parent is not None and parent is not node else roots).append(node)
    return 200, {"trace_id": trace_id.lower(), "count": len(calls), "roots": roots}


def _brief(c: Any) -> dict[str, Any]:
    j = c.to_json()
    keep = ("record_id", "span_id", "parent_span_id", "operation", "provider", "request_model", "response_model",
            "status", "error_type", "start_time", "duration", "input_tokens", "output_tokens", "cost_usd")
    return {k: j[k] for k in keep}


def stats(url: str, p: Params, _args: dict[str, str], _max_page: int) -> Result:
    from llmwatch.store.analysis import GROUP_KEYS, aggregate

    p.check_known(set(FILTERS) | {"by"})
    by = p.one("by")
    by = "model" if by is None else by
    if by not in GROUP_KEYS:
        raise BadRequest(f"invalid by {by!r}: expected one of {', '.join(GROUP_KEYS)}")
    filters = _filters(p)
    _time_params_are_sane(filters)
    return 200, {"by": by, "groups": aggregate(url, by=by, **filters)}


def compare(url: str, p: Params, _args: dict[str, str], _max_page: int) -> Result:
    from llmwatch.store.analysis import compare as compare_calls

    p.check_known({"record_id", "prompt_hash", "template", "template_version", "since", "limit"})
    rid = p.one("record_id")
    since = p.one("since")
    if since is not None:
        _time_params_are_sane({"since": since})
    groups = compare_calls(url, record_id=_record_id(rid) if rid is not None else None,
                           prompt_hash=p.one("prompt_hash"), template=p.one("template"),
                           template_version=p.one("template_version"), since=since,
                           limit=p.integer("limit", 5, 1, 100))
    return 200, {"groups": [{**g, "answers": {m: c.to_json() for m, c in g["answers"].items()}} for g in groups]}


def similar_calls(url: str, p: Params, args: dict[str, str], max_page: int) -> Result:
    """Calls whose prompts mean the same as this call's (any language), most similar first."""
    from llmwatch.store.similar import similar

    p.check_known(set(FILTERS) | {"limit"})
    filters = _filters(p)
    _time_params_are_sane(filters)
    found = similar(_record_id(args["id"]), url, limit=p.integer("limit", 10, 1, min(max_page, 1000)), **filters)
    return 200, {"items": [m.to_json() for m in found], "path": found.path, "note": found.note}


def list_clusters(url: str, p: Params, _args: dict[str, str], _max_page: int) -> Result:
    """Calls grouped by meaning: size, error rate, cost, a representative prompt and flags per group."""
    from llmwatch.store.clusters import clusters

    p.check_known(set(FILTERS) | {"k", "sample"})
    filters = _filters(p)
    filters.setdefault("since", "7d")
    _time_params_are_sane(filters)
    k = p.integer("k", 0, 0, 1000)
    report = clusters(url, k=k or None, sample=p.integer("sample", 5, 0, 100), **filters)
    return 200, report.to_json()


# (method, path pattern, handler, operation id, summary)
ROUTES: list[tuple[str, str, Callable[..., Result], str, str]] = [
    ("GET", "/api/v1/calls", list_calls, "listCalls", "Calls matching the filters, newest first, cursor-paginated."),
    ("GET", "/api/v1/calls/{id}", get_call, "getCall", "One call in full, with annotations and its trace."),
    ("GET", "/api/v1/calls/{id}/similar", similar_calls, "similarCalls",
     "Calls whose prompts mean the same as this call's, in any language, most similar first."),
    ("GET", "/api/v1/traces/{trace_id}", get_trace, "getTrace", "Every call of a trace, as a tree."),
    ("GET", "/api/v1/stats", stats, "getStats", "Count, error rate, p50/p95/p99 latency, tokens, cost per group."),
    ("GET", "/api/v1/compare", compare, "compareModels", "What different models answered to the same prompt."),
    ("GET", "/api/v1/clusters", list_clusters, "listClusters",
     "Calls grouped by meaning: size, error rate, cost, a representative prompt and flags per group."),
]


def match(path: str) -> tuple[Callable[..., Result], dict[str, str], str] | None:
    """The handler, path arguments and route template for ``path`` (None: no API route)."""
    parts = path.rstrip("/").split("/") if path != "/" else [""]
    for _method, pattern, handler, _op, _summary in ROUTES:
        pp = pattern.split("/")
        if len(pp) != len(parts):
            continue
        args: dict[str, str] = {}
        for want, got in zip(pp, parts):
            if want.startswith("{"):
                if not got:
                    break
                args[want[1:-1]] = got
            elif want != got:
                break
        else:
            return handler, args, pattern
    return None
