"""Clusters: the stored calls grouped by what their prompts mean, with each group's size, errors, cost and flags.

Spherical k-means (cosine) with k-means++ seeding and a fixed seed, so the same calls give the same
groups, over the calls' prompt embeddings (``llmwatch_embeddings``). Without ``k``, k is
``round(sqrt(n / 2))`` clamped to 1..50. Each :class:`Cluster` reports its size, error count and
rate, the known cost and how many calls had no price (never counted as 0), a representative prompt
(the member nearest the centroid), its flag labels and scorer alarms with counts, and the ids of
up to ``sample`` members, nearest first.

    from llmwatch import logs

    report = logs.clusters(since="7d", flagged_by="injection")
    for c in report.clusters:
        print(c.size, f"{c.error_rate:.0%}", c.representative[:60], c.flags)

Calls without an embedding: up to ``embed_missing`` of them are embedded on the spot (when the model
is installed); beyond that the report's ``note`` says how many were left out and how to add them.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from llmwatch.store import db
from llmwatch.store.backends import backend_for
from llmwatch.store.models import calls, embeddings, flags, scores
from llmwatch.store.query import Filters, QueryError
from llmwatch.store.similar import (
    BACKFILL,
    _prompt,
    embed_calls,
    missing_note,
    model_name,
    unembedded_count,
    unembedded_ids,
)

MAX_K = 50
MAX_CALLS = 500_000  # calls clustered at most (the newest), ~1 GB of float32 vectors


@dataclass
class Cluster:
    size: int
    errors: int
    error_rate: float
    cost_usd: float  # sum of the known costs
    unknown_cost: int  # members without a price
    cohesion: float  # mean cosine similarity of the members to the centroid
    representative_id: str
    representative: str  # that member's prompt, cut to 200 characters
    flags: dict[str, int] = field(default_factory=dict)  # flag labels and scorer alarms, with counts
    record_ids: list[str] = field(default_factory=list)  # up to ``sample`` members, nearest the centroid first


@dataclass
class ClusterReport:
    clusters: list[Cluster]  # largest first
    calls: int  # calls clustered
    k: int
    unembedded: int  # matching calls left out for want of an embedding
    seconds: float
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def default_k(n: int) -> int:
    return max(1, min(MAX_K, round(math.sqrt(n / 2))))


def spherical_kmeans(x: Any, k: int, seed: int = 0, iterations: int = 30) -> tuple[Any, Any, Any]:
    """``(labels, unit centroids, each row's cosine to its centroid)`` for unit rows ``x``.

    k-means++ seeding on cosine distance; fewer than ``k`` groups come back when ``x`` has fewer
    distinct rows. An emptied group is re-seeded with the row furthest from its centroid.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    n = x.shape[0]
    centers = [int(rng.integers(n))]
    dist = np.maximum(1.0 - x @ x[centers[0]], 0.0)
    while len(centers) < min(k, n):
        weights = dist ** 2
        total = float(weights.sum())
        if total <= 1e-12:
            break
        pick = int(rng.choice(n, p=weights / total))
        centers.append(pick)
        dist = np.minimum(dist, np.maximum(1.0 - x @ x[pick], 0.0))
    c = x[centers].copy()
    labels = np.full(n, -1)
    best = np.zeros(n, dtype=np.float32)
    for _ in range(iterations):
        new, best = _assign(x, c)
        if np.array_equal(new, labels):
            break
        labels = new
        counts = np.bincount(labels, minlength=len(c))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        sums = np.zeros_like(c)
        sums[counts > 0] = np.add.reduceat(x[np.argsort(labels, kind="stable")], starts[counts > 0], axis=0)
        for j in np.flatnonzero(counts == 0):
            far = int(np.argmin(best))
            sums[j], best[far] = x[far], 1.0
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        c = sums / np.where(norms > 0, norms, 1.0)
    labels, best = _assign(x, c)
    return labels, c, best


def _assign(x: Any, c: Any, chunk: int = 65_536) -> tuple[Any, Any]:
    import numpy as np

    labels = np.empty(x.shape[0], dtype=np.int64)
    best = np.empty(x.shape[0], dtype=np.float32)
    for lo in range(0, x.shape[0], chunk):
        sims = x[lo:lo + chunk] @ c.T
        labels[lo:lo + chunk] = np.argmax(sims, axis=1)
        best[lo:lo + chunk] = sims[np.arange(sims.shape[0]), labels[lo:lo + chunk]]
    return labels, best


def clusters(url: str | None = None, *, since: Any = "7d", k: int | None = None, sample: int = 5,
             embed_missing: int = 500, **filters: Any) -> ClusterReport:
    """Group the calls matching ``filters`` (those of ``query``; default the last 7 days) by meaning."""
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 1000):
        raise QueryError(f"invalid k {k!r}: expected a whole number of clusters from 1 to 1000 (or none: "
                         "round(sqrt(calls / 2)), at most 50)")
    started = time.monotonic()
    f = Filters.from_kwargs({"since": since, **filters})
    engine = db.open_engine(url)
    where = f.where(backend_for(engine))
    with engine.connect() as conn:
        missing = unembedded_count(conn, where)
    if 0 < missing <= embed_missing:
        from llmwatch.scoring import e5

        if e5.available():
            with engine.begin() as conn:
                embed_calls(conn, unembedded_ids(conn, where, embed_missing), e5.shared())
            missing = 0
    with engine.connect() as conn:
        rows = _vectors(conn, where)
        if not rows:
            if missing:
                raise QueryError(f"none of the {missing:,} matching calls has an embedding, and the model to embed "
                                 f"them here is not installed or they are too many: run `{BACKFILL}` "
                                 "(pip install 'llmwatch[similarity]' first)")
            return ClusterReport([], 0, 0, 0, time.monotonic() - started, "no calls match")
        report = _cluster(conn, rows, where, k, sample)
    report.unembedded = missing
    report.note = missing_note(missing)
    if len(rows) >= MAX_CALLS:
        report.note = ((report.note + "; ") if report.note else "") + f"clustered the newest {MAX_CALLS:,} calls"
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _vectors(conn: sa.Connection, where: list[Any]) -> list[Any]:
    e, c = embeddings.c, calls.c
    return list(conn.execute(sa.select(c.record_id, c.status, c.cost_usd, e.dim, e.vector)
                        .select_from(embeddings.join(calls, c.record_id == e.record_id))
                        .where(*where, e.model == model_name(), e.dim > 0)
                        .order_by(c.start_time.desc()).limit(MAX_CALLS)).fetchall())


def _cluster(conn: sa.Connection, rows: list[Any], where: list[Any], k: int | None, sample: int) -> ClusterReport:
    import numpy as np

    from llmwatch.store.vectors import decode, unit

    dim = int(rows[0].dim)
    rows = [r for r in rows if r.dim == dim]
    x = unit(decode([r.vector for r in rows], dim))
    want = default_k(len(rows)) if k is None else min(k, len(rows))
    labels, _centroids, best = spherical_kmeans(x, want)
    errors = np.array([r.status != "ok" for r in rows])
    cost = np.array([np.nan if r.cost_usd is None else float(r.cost_usd) for r in rows])
    ids = [r.record_id for r in rows]
    found = int(labels.max()) + 1
    member_flags = _flags(conn, where, dict(zip(ids, labels.tolist())), found)
    out = []
    for j in range(found):
        members = np.flatnonzero(labels == j)
        if not len(members):
            continue
        order = members[np.argsort(-best[members], kind="stable")]
        known = cost[members][~np.isnan(cost[members])]
        out.append(Cluster(size=len(members), errors=int(errors[members].sum()),
                           error_rate=round(float(errors[members].mean()), 4), cost_usd=float(known.sum()),
                           unknown_cost=int(len(members) - len(known)),
                           cohesion=round(float(best[members].mean()), 4), representative_id=ids[order[0]],
                           representative="", flags=member_flags[j], record_ids=[ids[i] for i in order[:sample]]))
    texts = _prompts(conn, [c.representative_id for c in out])
    for c in out:
        c.representative = texts.get(c.representative_id, "")
    out.sort(key=lambda c: (-c.size, c.representative_id))
    return ClusterReport(out, len(rows), found, 0, 0.0)


def _flags(conn: sa.Connection, where: list[Any], label_of: dict[str, int], k: int) -> list[dict[str, int]]:
    """Per cluster: manual flag labels and the names of scorers that flagged members, with counts."""
    out: list[dict[str, int]] = [{} for _ in range(k)]
    c = calls.c
    fl, sc = flags.alias("member_flags"), scores.alias("member_scores")  # the filters' EXISTS use the tables
    alarm = sa.or_(sc.c.label.like("flagged%"), sc.c.label.like("fail%"))
    for stmt in (sa.select(fl.c.record_id, fl.c.label).join(calls, c.record_id == fl.c.record_id)
                 .where(*where).distinct(),
                 sa.select(sc.c.record_id, sc.c.name).join(calls, c.record_id == sc.c.record_id)
                 .where(*where, alarm).distinct()):
        for rid, label in conn.execute(stmt):
            j = label_of.get(rid)
            if j is not None:
                out[j][label] = out[j].get(label, 0) + 1
    return [dict(sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))) for d in out]


def _prompts(conn: sa.Connection, record_ids: list[str]) -> dict[str, str]:
    from llmwatch.scoring.embedding import embedding_text

    c = calls.c
    rows = conn.execute(sa.select(c.record_id, c.system_instructions, c.input_messages)
                        .where(c.record_id.in_(record_ids))).fetchall()
    return {r.record_id: embedding_text(*_prompt(r), max_chars=200) for r in rows}
