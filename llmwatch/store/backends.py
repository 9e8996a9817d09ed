"""What differs between SQLite and PostgreSQL, chosen once per engine behind one small seam:
full-text matching and latency percentiles. Query code never branches on the dialect."""

from __future__ import annotations

import re
from typing import Any, Protocol

import sqlalchemy as sa

from llmwatch.store.models import calls

_TERM = re.compile(r'"([^"]*)"|(\S+)')


def text_terms(text: str) -> list[str]:
    """Words and "quoted phrases" in a search string (all must match)."""
    terms = [(m.group(1) if m.group(1) is not None else m.group(2)).strip() for m in _TERM.finditer(text)]
    return [t for t in terms if t]


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (PostgreSQL ``percentile_cont``) of sorted values."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


class Backend(Protocol):
    def text_match(self, text: str) -> sa.ColumnElement[bool]: ...

    def percentiles(self, conn: sa.Connection, key: Any, where: list[Any], qs: tuple[float, ...]
                    ) -> dict[Any, list[Any]]: ...


class SQLiteBackend:
    """FTS5 external-content table ``llmwatch_calls_fts`` (porter stemming); percentiles in Python."""

    fts = sa.table("llmwatch_calls_fts", sa.column("rowid"))

    def text_match(self, text: str) -> sa.ColumnElement[bool]:
        query = " ".join('"' + t.replace('"', '""') + '"' for t in text_terms(text))
        sub = sa.select(self.fts.c.rowid).where(sa.text("llmwatch_calls_fts MATCH :fts_q").bindparams(fts_q=query))
        return calls.c.id.in_(sub)

    def percentiles(self, conn: sa.Connection, key: Any, where: list[Any], qs: tuple[float, ...]
                    ) -> dict[Any, list[Any]]:
        rows = conn.execute(sa.select(key.label("k"), calls.c.duration).where(*where)
                            .order_by(key, calls.c.duration)).fetchall()
        groups: dict[Any, list[float]] = {}
        for k, d in rows:
            groups.setdefault(k, []).append(d)
        return {k: [percentile(v, q) for q in qs] for k, v in groups.items()}


class PostgresBackend:
    """Stored ``search_vector`` (``to_tsvector('english', search_text)``) with a GIN index;
    ``percentile_cont`` for latency percentiles."""

    def text_match(self, text: str) -> sa.ColumnElement[bool]:
        vector: sa.ColumnClause[Any] = sa.literal_column("llmwatch_calls.search_vector")
        query = " ".join('"' + t.replace('"', " ") + '"' if " " in t else t for t in text_terms(text))
        return vector.op("@@")(sa.func.websearch_to_tsquery(sa.literal_column("'english'"), query))

    def percentiles(self, conn: sa.Connection, key: Any, where: list[Any], qs: tuple[float, ...]
                    ) -> dict[Any, list[Any]]:
        cols = [sa.func.percentile_cont(q).within_group(calls.c.duration) for q in qs]
        rows = conn.execute(sa.select(key.label("k"), *cols).where(*where).group_by(key)).fetchall()
        return {r[0]: list(r[1:]) for r in rows}


def backend_for(engine_or_conn: Any) -> Backend:
    """The backend for an engine or connection's dialect."""
    return PostgresBackend() if engine_or_conn.dialect.name == "postgresql" else SQLiteBackend()
