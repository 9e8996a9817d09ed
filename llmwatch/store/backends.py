"""What differs between SQLite and PostgreSQL, chosen once per engine behind one small seam:
full-text matching and latency percentiles. Query code never branches on the dialect.

A search term with Chinese, Japanese or Korean characters goes to the gram index
(:mod:`llmwatch.store.cjk`) and is then checked as a substring; other terms go to the stemmed
word index."""

from __future__ import annotations

import re
from typing import Any, Protocol

import sqlalchemy as sa

from llmwatch.store import cjk
from llmwatch.store.models import calls

_TERM = re.compile(r'"([^"]*)"|(\S+)')


def text_terms(text: str) -> list[str]:
    """Words and "quoted phrases" in a search string (all must match)."""
    terms = [(m.group(1) if m.group(1) is not None else m.group(2)).strip() for m in _TERM.finditer(text)]
    return [t for t in terms if t]


def split_terms(text: str) -> tuple[list[str], list[str]]:
    """``(word_terms, cjk_terms)``: the terms for the stemmed word index and those for the gram index."""
    words: list[str] = []
    grams: list[str] = []
    for term in text_terms(text):
        (grams if cjk.has_cjk(term) else words).append(term)
    return words, grams


def _substring(term: str, postgres: bool = False) -> sa.ColumnElement[bool]:
    """The term as a case-insensitive substring of the search text (SQLite's LIKE already ignores ASCII case)."""
    pattern = cjk.like_pattern(term)
    column = calls.c.search_text
    return column.ilike(pattern, escape="\\") if postgres else column.like(pattern, escape="\\")


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

    def keyed(self, column: str, value: Any) -> sa.ColumnElement[bool]:
        """``column = value`` for ``trace_id`` and ``prompt_hash``, spelled so their index serves it."""
        ...

    def percentiles(self, conn: sa.Connection, key: Any, where: list[Any], qs: tuple[float, ...]
                    ) -> dict[Any, list[Any]]: ...


# SQLite indexes trace ids and prompt hashes by (day, key) (revision 0007): random keys alone put every
# batch's index writes all over the index. A lookup by key probes each day the log spans, listed by a
# recursive CTE from min/max(start_time) (two index seeks), so it needs nothing but the call table.
_DAYS = ("WITH RECURSIVE llmwatch_days(d) AS (SELECT CAST(min(start_time) / 86400 AS INTEGER) FROM llmwatch_calls "
         "UNION ALL SELECT d + 1 FROM llmwatch_days WHERE d < (SELECT CAST(max(start_time) / 86400 AS INTEGER) "
         "FROM llmwatch_calls)) SELECT d FROM llmwatch_days")
KEYED = ("trace_id", "prompt_hash")


class SQLiteBackend:
    """FTS5 external-content tables: ``llmwatch_calls_fts`` (words, porter stemming) and
    ``llmwatch_calls_grams`` (CJK unigrams and bigrams); trace-id and prompt-hash lookups through
    their (day, key) indexes; percentiles in Python."""

    def keyed(self, column: str, value: Any) -> sa.ColumnElement[bool]:
        if column not in KEYED:
            raise ValueError(f"keyed lookups are for {', '.join(KEYED)}, not {column!r}")
        # text, not a typed column: SQLite has no boolean type, and "x IN (...) = 1" would hide the index
        days = sa.text(f"CAST(llmwatch_calls.start_time / 86400 AS INTEGER) IN ({_DAYS})")
        return sa.and_(days, calls.c[column] == value)

    fts = sa.table("llmwatch_calls_fts", sa.column("rowid"))
    grams = sa.table("llmwatch_calls_grams", sa.column("rowid"))

    def text_match(self, text: str) -> sa.ColumnElement[bool]:
        words, cjk_terms = split_terms(text)
        where: list[sa.ColumnElement[bool]] = []
        if words:
            query = " ".join('"' + t.replace('"', '""') + '"' for t in words)
            sub = sa.select(self.fts.c.rowid).where(
                sa.text("llmwatch_calls_fts MATCH :fts_q").bindparams(fts_q=query))
            where.append(calls.c.id.in_(sub))
        if cjk_terms:
            need = dict.fromkeys(g for t in cjk_terms for g in cjk.term_grams(t))
            sub = sa.select(self.grams.c.rowid).where(
                sa.text("llmwatch_calls_grams MATCH :grams_q").bindparams(grams_q=" ".join(f'"{g}"' for g in need)))
            where.append(calls.c.id.in_(sub))
            where += [_substring(t) for t in cjk_terms]
        return sa.and_(*where)

    def percentiles(self, conn: sa.Connection, key: Any, where: list[Any], qs: tuple[float, ...]
                    ) -> dict[Any, list[Any]]:
        rows = conn.execute(sa.select(key.label("k"), calls.c.duration).where(*where)
                            .order_by(key, calls.c.duration)).fetchall()
        groups: dict[Any, list[float]] = {}
        for k, d in rows:
            groups.setdefault(k, []).append(d)
        return {k: [percentile(v, q) for q in qs] for k, v in groups.items()}


class PostgresBackend:
    """Stored ``search_vector`` (``to_tsvector('english', search_text)``) with a GIN index, and a
    GIN index over ``string_to_array(search_grams, ' ')`` for CJK terms; ``percentile_cont`` for
    latency percentiles. Trace-id and prompt-hash lookups are plain equalities: each day's partition
    has its own small index."""

    def keyed(self, column: str, value: Any) -> sa.ColumnElement[bool]:
        equal: sa.ColumnElement[bool] = calls.c[column] == value
        return equal

    def text_match(self, text: str) -> sa.ColumnElement[bool]:
        from sqlalchemy.dialects.postgresql import ARRAY, array

        words, cjk_terms = split_terms(text)
        where: list[sa.ColumnElement[bool]] = []
        if words:
            vector: sa.ColumnClause[Any] = sa.literal_column("llmwatch_calls.search_vector")
            query = " ".join('"' + t.replace('"', " ") + '"' if " " in t else t for t in words)
            where.append(vector.op("@@")(sa.func.websearch_to_tsquery(sa.literal_column("'english'"), query)))
        if cjk_terms:
            need = list(dict.fromkeys(g for t in cjk_terms for g in cjk.term_grams(t)))
            # the indexed expression, spelled exactly as the index has it (a literal, not a parameter)
            indexed = sa.func.string_to_array(calls.c.search_grams, sa.literal_column("' '"))
            where.append(indexed.op("@>")(sa.cast(array(need), ARRAY(sa.Text))))
            where += [_substring(t, postgres=True) for t in cjk_terms]
        return sa.and_(*where)

    def percentiles(self, conn: sa.Connection, key: Any, where: list[Any], qs: tuple[float, ...]
                    ) -> dict[Any, list[Any]]:
        cols = [sa.func.percentile_cont(q).within_group(calls.c.duration) for q in qs]
        rows = conn.execute(sa.select(key.label("k"), *cols).where(*where).group_by(key)).fetchall()
        return {r[0]: list(r[1:]) for r in rows}


def backend_for(engine_or_conn: Any) -> Backend:
    """The backend for an engine or connection's dialect."""
    return PostgresBackend() if engine_or_conn.dialect.name == "postgresql" else SQLiteBackend()
