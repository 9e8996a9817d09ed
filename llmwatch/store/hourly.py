"""The hourly rollup: per (hour, model, provider, operation, template) counts, errors, token and
cost sums and a fixed-bucket latency histogram, kept by the writer in the insert's transaction.

``stats`` reads whole hours from here and scans only the partial hours at the window's edges, so a
day's stats read ~24 rows per group instead of every call (and no longer evict the full-text pages
from the cache). Percentiles from the rollup are *bucket-interpolated*: the rank is located in
its histogram bucket and interpolated linearly inside it (bucket edges clamped to the group's
min/max latency). Buckets grow by 10^(1/8) (~1.33x), so a percentile is off by at most one
bucket's width; ``stats --exact`` / ``aggregate(exact=True)`` computes exact ones from the rows.

The same ``add`` statement serves the writer (rows just inserted), prune (rows about to be
deleted, subtracted) and migration 0003 (backfill of existing rows).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from typing import Any

HOURLY = "llmwatch_calls_hourly"
# Upper bounds (seconds) of the latency buckets; one more bucket holds everything above the last.
# Migration 0003 holds a frozen copy: changing these needs a new migration that rebuilds the table.
LATENCY_BOUNDS: tuple[float, ...] = tuple(round(10 ** (k / 8), 6) for k in range(-20, 21))
BUCKETS = len(LATENCY_BOUNDS) + 1
BUCKET_COLUMNS = tuple(f"h{i:02d}" for i in range(BUCKETS))
KEY_COLUMNS = ("hour", "request_model", "provider", "operation", "prompt_template")
# Sums added on conflict; min/max merged.
SUM_COLUMNS = ("calls", "errors", "input_tokens", "output_tokens", "cost_usd", "unknown_cost",
               "duration_sum") + BUCKET_COLUMNS


def add_sql(dialect: str, source: str, sign: int = 1) -> str:
    """``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` adding (sign=-1: subtracting) the calls that
    ``source`` yields (a FROM item with the llmwatch_calls columns) to the rollup."""
    if dialect == "postgresql":
        hour, collate = "(floor(start_time / 3600) * 3600)::bigint", ' COLLATE "C"'
    else:
        hour, collate = "CAST(start_time / 3600 AS INTEGER) * 3600", ""  # BINARY: code point order
    bucket = ("CASE " + " ".join(f"WHEN duration <= {b!r} THEN {i}" for i, b in enumerate(LATENCY_BOUNDS))
              + f" ELSE {BUCKETS - 1} END")
    s = "-" if sign < 0 else ""
    sums = [f"{s}count(*)", f"{s}sum(CASE WHEN status <> 'ok' THEN 1 ELSE 0 END)",
            f"{s}coalesce(sum(input_tokens), 0)", f"{s}coalesce(sum(output_tokens), 0)",
            f"{s}coalesce(sum(cost_usd), 0)", f"{s}sum(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END)",
            f"{s}sum(duration)"] + [f"{s}sum(CASE WHEN bk = {i} THEN 1 ELSE 0 END)" for i in range(BUCKETS)]
    return (f"INSERT INTO {HOURLY} ({_COLS}) "
            f"SELECT hour, m, p, o, t, {', '.join(sums)}, min(duration), max(duration) "
            f"FROM (SELECT {hour} AS hour, coalesce(request_model, '') AS m, provider AS p, operation AS o, "
            f"coalesce(prompt_template, '') AS t, status, input_tokens, output_tokens, cost_usd, duration, "
            f"{bucket} AS bk FROM {source}) AS x WHERE 1 = 1 GROUP BY hour, m, p, o, t "
            # Rows are locked in key order, the (code point) order contributions() uses: two
            # writers upserting the same hours cannot deadlock.
            f"ORDER BY hour, {', '.join(c + collate for c in 'mpot')}" + _on_conflict(dialect))


_COLS = ", ".join(KEY_COLUMNS + SUM_COLUMNS + ("duration_min", "duration_max"))


def _on_conflict(dialect: str) -> str:
    lo, hi = ("LEAST", "GREATEST") if dialect == "postgresql" else ("min", "max")
    update = ", ".join([f"{c} = {HOURLY}.{c} + excluded.{c}" for c in SUM_COLUMNS] + [
        f"duration_min = {lo}({HOURLY}.duration_min, excluded.duration_min)",
        f"duration_max = {hi}({HOURLY}.duration_max, excluded.duration_max)"])
    return f" ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET {update}"


def upsert_sql(dialect: str) -> str:
    """``INSERT ... VALUES ... ON CONFLICT DO UPDATE`` adding one group's figures, as computed by
    :func:`contributions` (qmark placeholders for SQLite, ``%s`` for psycopg)."""
    mark = "%s" if dialect == "postgresql" else "?"
    n = len(KEY_COLUMNS) + len(SUM_COLUMNS) + 2
    return f"INSERT INTO {HOURLY} ({_COLS}) VALUES ({', '.join([mark] * n)})" + _on_conflict(dialect)


def contributions(rows: Iterable[tuple[Any, ...]], index: dict[str, int]) -> list[list[Any]]:
    """What ``rows`` (call-row tuples; ``index`` maps column name to position) add to the rollup:
    one parameter list per group for :func:`upsert_sql`. The same figures :func:`add_sql` computes
    in SQL, computed where the rows already are (it cost the writer ~17 us a row in SQLite)."""
    st, dur, model, prov, op, tmpl, status, tin, tout, cost = (index[c] for c in (
        "start_time", "duration", "request_model", "provider", "operation", "prompt_template", "status",
        "input_tokens", "output_tokens", "cost_usd"))
    groups: dict[tuple[Any, ...], list[Any]] = {}
    bounds = LATENCY_BOUNDS
    for r in rows:
        d = r[dur]
        key = (math.floor(r[st] / 3600) * 3600, r[model] or "", r[prov], r[op], r[tmpl] or "")
        g = groups.get(key)
        if g is None:
            g = groups[key] = [0, 0, 0, 0, 0.0, 0, 0.0] + [0] * BUCKETS + [d, d]
        g[0] += 1
        if r[status] != "ok":
            g[1] += 1
        if r[tin] is not None:
            g[2] += r[tin]
        if r[tout] is not None:
            g[3] += r[tout]
        if r[cost] is None:
            g[5] += 1
        else:
            g[4] += r[cost]
        g[6] += d
        g[7 + bisect.bisect_left(bounds, d)] += 1  # first bound >= d, as the SQL CASE
        if d < g[-2]:
            g[-2] = d
        elif d > g[-1]:
            g[-1] = d
    return [[*key, *groups[key]] for key in sorted(groups)]  # key order: see add_sql


DELETE_EMPTY = f"DELETE FROM {HOURLY} WHERE calls <= 0"


def bucket_of(duration: float) -> int:
    """The histogram bucket of one latency (same rule as the SQL: first bound >= duration)."""
    for i, b in enumerate(LATENCY_BOUNDS):
        if duration <= b:
            return i
    return BUCKETS - 1


class Group:
    """One group's figures being summed from rollup rows and edge-hour calls."""

    __slots__ = ("calls", "errors", "input_tokens", "output_tokens", "cost_usd", "unknown_cost", "dmin", "dmax",
                 "hist")

    def __init__(self) -> None:
        self.calls = self.errors = self.input_tokens = self.output_tokens = self.unknown_cost = 0
        self.cost_usd = 0.0
        self.dmin = float("inf")
        self.dmax = float("-inf")
        self.hist = [0] * BUCKETS

    def add_rollup(self, calls: int, errors: int, tin: int, tout: int, cost: float, unknown: int,
                   dmin: float, dmax: float, hist: Iterable[int]) -> None:
        self.calls += int(calls)
        self.errors += int(errors)
        self.input_tokens += int(tin)
        self.output_tokens += int(tout)
        self.cost_usd += float(cost)
        self.unknown_cost += int(unknown)
        self.dmin = min(self.dmin, dmin)
        self.dmax = max(self.dmax, dmax)
        for i, n in enumerate(hist):
            self.hist[i] += int(n)

    def add_call(self, status: str, tin: int | None, tout: int | None, cost: float | None, duration: float) -> None:
        self.add_rollup(1, status != "ok", tin or 0, tout or 0, cost or 0.0, cost is None, duration, duration, ())
        self.hist[bucket_of(duration)] += 1

    def percentile(self, q: float) -> float | None:
        """Bucket-interpolated percentile: the calls in a bucket are taken as evenly spread across
        it, and the rank is interpolated between neighbouring calls as ``percentile_cont`` does."""
        n = sum(self.hist)
        if n <= 0:
            return None
        rank = q * (n - 1)
        below = int(rank)
        a = self._value_at(below)
        return a if below + 1 >= n else a + (self._value_at(below + 1) - a) * (rank - below)

    def _value_at(self, j: int) -> float:
        """Estimated latency of the call with 0-based rank ``j``."""
        seen = 0
        for i, count in enumerate(self.hist):
            if j < seen + count:
                lower = LATENCY_BOUNDS[i - 1] if i > 0 else self.dmin
                upper = LATENCY_BOUNDS[i] if i < len(LATENCY_BOUNDS) else self.dmax
                lower, upper = max(lower, self.dmin), min(upper, self.dmax)
                return lower + (upper - lower) * (j - seen + 0.5) / count
            seen += count
        return self.dmax

    def as_dict(self, group: Any, qs: tuple[float, ...]) -> dict[str, Any]:
        p = [self.percentile(q) for q in qs]
        known = self.calls - self.unknown_cost
        return {"group": group, "count": self.calls, "errors": self.errors,
                "error_rate": self.errors / self.calls if self.calls else 0.0,
                "p50": p[0], "p95": p[1], "p99": p[2], "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost_usd": self.cost_usd if known > 0 else None,
                "unknown_cost": self.unknown_cost}
