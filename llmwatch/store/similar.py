"""More like this: the stored calls whose prompts mean the same as a call's, or as a free text, in any language.

Prompts are compared by their multilingual-e5-small embeddings (``llmwatch_embeddings``, written by
the ``embedding`` scorer or ``llmwatch score --scorer embedding``) through the index of
:mod:`llmwatch.store.vectors`. Filters (the :class:`~llmwatch.store.query.Filters` of ``query``) are
applied after the nearest-neighbour search: ten times ``limit`` candidates are fetched, then more
while too few pass, and a selective filter ends in an exact scan of just the calls it matches.

    from llmwatch import logs

    for m in logs.similar("3f2a9c", limit=5, since="7d"):
        print(f"{m.similarity:.2f}", m.call.prompt_text[:80])
    logs.like("refund for a damaged item", status="error")

Calls without an embedding are not found. In a small log (up to ``EMBED_ON_THE_FLY`` calls) the
missing ones are embedded on the spot when the model is installed; otherwise the result's
``note`` says how many matching calls lack one and which command adds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from llmwatch.store import db
from llmwatch.store.backends import backend_for
from llmwatch.store.models import calls, embeddings
from llmwatch.store.query import _READ_COLUMNS, Filters, QueryError, resolve_id
from llmwatch.store.records import StoredCall

EMBED_ON_THE_FLY = 500  # calls embedded on the spot at most (~40 ms each on one CPU thread)
MAX_CANDIDATES = 10_000  # nearest neighbours fetched at most before falling back to an exact filtered scan
MAX_EXACT = 200_000  # calls a filtered exact scan reads at most
BACKFILL = "llmwatch score --scorer embedding --since 30d"


@dataclass
class Match:
    """One similar call and its cosine similarity (1 = the same meaning, ~0.75 = unrelated for e5)."""

    call: StoredCall
    similarity: float

    def to_json(self) -> dict[str, Any]:
        return {**self.call.to_json(), "similarity": round(self.similarity, 4)}


class Matches(list[Match]):
    """Most similar first; ``path`` is the search path used, ``note`` says what was left out and why."""

    path: str = ""
    note: str | None = None


def model_name() -> str:
    from llmwatch.scoring.e5 import MODEL_NAME

    return MODEL_NAME


def load_model(why: str) -> Any:
    """The shared e5 model; QueryError naming ``why`` it was needed and how to install it."""
    from llmwatch.scoring import e5

    if not e5.available():
        raise QueryError(f"{why} needs the embedding model, which is not installed: {e5.INSTALL_HINT}")
    return e5.shared()


def _limit(limit: Any) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
        raise QueryError(f"invalid limit {limit!r}: expected a whole number from 1 to 1000")
    return limit


def embed_calls(conn: sa.Connection, record_ids: list[str], model: Any) -> int:
    """Embed the stored calls ``record_ids`` now and store the vectors; returns how many calls were read."""
    from llmwatch.scoring.embedding import embed, embedding_text
    from llmwatch.store.annotate import insert_embeddings

    c = calls.c
    rows = conn.execute(sa.select(c.record_id, c.system_instructions, c.input_messages)
                        .where(c.record_id.in_(record_ids))).fetchall()
    texts = [embedding_text(*_prompt(r)) for r in rows]
    todo = [i for i, t in enumerate(texts) if t]
    vectors = embed(model, [texts[i] for i in todo]) if todo else []
    by_row = dict(zip(todo, vectors))
    out = [{"record_id": r.record_id, "model": model_name(), "vector": by_row.get(i, b"")}
           for i, r in enumerate(rows)]
    insert_embeddings(conn, out)
    return len(out)


def _prompt(row: Any) -> tuple[str, str]:
    from llmwatch.scoring.base import texts_from_messages

    prompt, _context, _completion, system = texts_from_messages(row.system_instructions, row.input_messages, None)
    return prompt, system


_MISSING = ~sa.exists().where(embeddings.c.record_id == calls.c.record_id)


def unembedded_count(conn: sa.Connection, where: list[Any]) -> int:
    """Matching calls without an embedding."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(calls).where(*where, _MISSING)).scalar_one())


def unembedded_ids(conn: sa.Connection, where: list[Any], limit: int) -> list[str]:
    return list(conn.execute(sa.select(calls.c.record_id).where(*where, _MISSING).limit(limit)).scalars())


def fill_small_log(engine: Engine) -> None:
    """In a log of at most ``EMBED_ON_THE_FLY`` calls, embed those without a vector (model permitting)."""
    from llmwatch.scoring import e5

    with engine.connect() as conn:
        small = conn.execute(sa.select(sa.func.count()).select_from(
            sa.select(calls.c.id).limit(EMBED_ON_THE_FLY + 1).subquery())).scalar_one() <= EMBED_ON_THE_FLY
        todo = unembedded_ids(conn, [], EMBED_ON_THE_FLY) if small else []
    if todo and e5.available():
        with engine.begin() as conn:
            embed_calls(conn, todo, e5.shared())


def missing_note(n: int) -> str | None:
    if not n:
        return None
    return (f"{n:,} matching call(s) have no embedding (not sampled, or stored before embedding was on); "
            f"add them with `{BACKFILL}`")


def _dim(conn: sa.Connection) -> int | None:
    e = embeddings.c
    found = conn.execute(sa.select(e.dim).where(e.model == model_name(), e.dim > 0).limit(1)).scalar()
    return None if found is None else int(found)


def index(engine: Engine, url: str | None) -> Any:
    """The synced :class:`~llmwatch.store.vectors.VectorIndex` of this store (None: no vectors yet)."""
    from llmwatch.store import vectors

    with engine.connect() as conn:
        dim = _dim(conn)
        if dim is None:
            return None
        ix = vectors.index_for(db.resolve_url(url), model_name(), dim)
        ix.sync(conn)
    return ix


def describe(url: str | None = None) -> str:
    """The nearest-neighbour path serving this store: ``"usearch hnsw (N vectors)"``, ``"exact scan (N vectors)"``."""
    from llmwatch.store import vectors

    with db.open_engine(url).connect() as conn:
        return vectors.describe(db.resolve_url(url), conn, model_name())


def similar(record_id: str, url: str | None = None, *, limit: int = 10, **filters: Any) -> Matches:
    """Calls whose prompts mean what the call ``record_id``'s (id or unique prefix) does, most similar first.

    ``filters`` are those of :func:`llmwatch.logs.query`. An unknown id raises LookupError.

    >>> logs.similar("3f2a9c", limit=5, status="error")  # doctest: +SKIP
    """
    limit = _limit(limit)
    f = Filters.from_kwargs(dict(filters))
    engine = db.open_engine(url)
    fill_small_log(engine)
    e = embeddings.c
    with engine.connect() as conn:
        rid = resolve_id(conn, record_id)
        row = conn.execute(sa.select(e.vector, e.dim).where(e.record_id == rid, e.model == model_name())).first()
    if row is None:
        model = load_model(f"call {rid} has no embedding yet; embedding it")
        with engine.begin() as conn:
            embed_calls(conn, [rid], model)
            row = conn.execute(sa.select(e.vector, e.dim).where(e.record_id == rid)).one()
    if row.dim == 0:
        raise QueryError(f"call {rid} has no prompt text to compare (no user or system message)")
    from llmwatch.store.vectors import decode

    return nearest(engine, url, decode([row.vector], row.dim)[0], limit, f, exclude=rid)


def like(text: str, url: str | None = None, *, limit: int = 10, **filters: Any) -> Matches:
    """Calls whose prompts mean what ``text`` says (any language), most similar first.

    >>> logs.like("refund for a damaged item", since="7d")  # doctest: +SKIP
    """
    from llmwatch.scoring.embedding import embed, embedding_text

    if not isinstance(text, str) or not text.strip():
        raise QueryError("empty --like text: expected a sentence describing the prompts to find, "
                         "e.g. --like \"refund for a damaged item\"")
    limit = _limit(limit)
    f = Filters.from_kwargs(dict(filters))
    model = load_model("--like")
    engine = db.open_engine(url)
    fill_small_log(engine)
    return nearest(engine, url, embed(model, [embedding_text(text)])[0], limit, f)


def nearest(engine: Engine, url: str | None, vector: Any, limit: int, f: Filters, exclude: str | None = None
            ) -> Matches:
    """The ``limit`` stored calls matching ``f`` nearest to ``vector`` (see the module docstring)."""
    out = Matches()
    ix = index(engine, url)
    if ix is None:
        with engine.connect() as conn:
            out.note = missing_note(unembedded_count(conn, f.where(backend_for(engine))))
        out.path = "exact scan (0 vectors)"
        return out
    out.path = ix.describe()
    where = f.where(backend_for(engine))
    k = limit * 10 + 1
    with engine.connect() as conn:
        while True:
            hits = ix.search(vector, k)
            found = _fetch(conn, hits, where, exclude)
            if len(found) >= limit or len(hits) < k:
                break
            if k >= MAX_CANDIDATES:  # a selective filter: scan exactly the calls it matches
                found = _exact(conn, vector, where, limit, exclude)
                out.path += "; exact scan of the filtered calls"
                break
            k = min(k * 10, MAX_CANDIDATES)
        out.extend(found[:limit])
        if len(out) < limit:
            out.note = missing_note(unembedded_count(conn, where))
    return out


def _fetch(conn: sa.Connection, hits: list[tuple[int, float]], where: list[Any], exclude: str | None) -> list[Match]:
    sims = dict(hits)
    e = embeddings.c
    found: list[Match] = []
    ids = list(sims)
    for lo in range(0, len(ids), 1000):
        stmt = (sa.select(*_READ_COLUMNS, e.id.label("_eid"))
                .select_from(embeddings.join(calls, calls.c.record_id == e.record_id))
                .where(e.id.in_(ids[lo:lo + 1000]), *where))
        for r in conn.execute(stmt):
            if r.record_id != exclude:
                found.append(Match(StoredCall.from_row(r), sims[r._mapping["_eid"]]))
    found.sort(key=lambda m: -m.similarity)
    return found


def _exact(conn: sa.Connection, vector: Any, where: list[Any], limit: int, exclude: str | None) -> list[Match]:
    from llmwatch.store.vectors import ExactIndex, decode

    e = embeddings.c
    rows = conn.execute(sa.select(e.id, e.vector).select_from(embeddings.join(calls, calls.c.record_id == e.record_id))
                        .where(*where, e.model == model_name(), e.dim == len(vector))
                        .limit(MAX_EXACT)).fetchall()
    exact = ExactIndex(len(vector))
    if rows:
        exact.add([r[0] for r in rows], decode([r[1] for r in rows], len(vector)))
    return _fetch(conn, exact.search(vector, limit + 1), where, exclude)
