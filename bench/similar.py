"""``similar`` latency and ``clusters`` time on a large generated prompt log (SQLite).

    python bench/similar.py [--rows 1000000] [--queries 100] [--cluster-rows 100000]

The vectors are synthetic, not the model's: embedding 1M prompts with the CPU model (~40 ms each on
one thread) would take half a day. They are a mixture of 2,000 Gaussian clusters in 384 dimensions
(the e5-small size), normalised and stored as int8 exactly as the embedding scorer stores them,
each with a matching ``llmwatch_calls`` row (2% errors, 5% without a price, spread over 10 days,
so one day is ~``rows / 10`` calls). Then:

  first use  the first ``similar`` builds the usearch HNSW index from the table and saves it
  reload     a new process loads the saved index (the sidecar says which rows it holds)
  similar    ``logs.similar(id, limit=10)`` for random calls: p50 / p95 (ANN + the SQL that fetches
             the calls); the same with a one-day window (filters applied after the ANN search)
  recall     share of the exact top 10 (a numpy scan of all vectors) among the index's best 10 of the
             101 candidates ``similar`` asks it for, 20 queries
  clusters   ``logs.clusters(since=...)`` over the newest ``--cluster-rows`` calls (default k: 50)

``--dir D --reuse`` runs the measurements again on the log (and saved index) a previous run left in D.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llmwatch import logs  # noqa: E402
from llmwatch.store import db, similar, vectors  # noqa: E402

DIM = 384
CENTRES = 2000
DAYS = 10
MODEL = "multilingual-e5-small"


def generate(url: str, n: int, t_end: float, seed: int = 7) -> list[str]:
    """Fill the store with ``n`` calls and their int8 embeddings; returns the record ids."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CENTRES, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    raw = db.open_engine(url).raw_connection()
    cur = raw.cursor()
    cur.execute("PRAGMA cache_size=-262144")
    ids: list[str] = []
    step = 50_000
    for lo in range(0, n, step):
        m = min(step, n - lo)
        g = np.arange(lo, lo + m)
        label = rng.integers(0, CENTRES, m)
        x = centres[label] + 0.06 * rng.standard_normal((m, DIM)).astype(np.float32)  # cos to centre ~0.75
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        q = np.clip(np.rint(x * 127.0), -127, 127).astype(np.int8)
        start = t_end - DAYS * 86400.0 * ((g * 2654435761) % n) / n
        rids = [f"{int(i):016x}{int(v):016x}" for i, v in zip(g, rng.integers(0, 2**62, m))]
        ids += rids
        calls = [(rid, float(t), float(t) + 0.5, 0.5, "openai", "chat", "gpt-4o-mini", "gpt-4o-mini",
                  "error" if i % 50 == 0 else "ok", "RateLimitError" if i % 50 == 0 else None, 0, 100, 20, 120, 0,
                  None if i % 20 == 0 else 0.0001, 0,
                  json.dumps([{"role": "user", "parts": [{"type": "text", "content": f"prompt of topic {c} #{i}"}]}]))
                 for rid, t, i, c in zip(rids, start, g.tolist(), label.tolist())]
        cur.executemany(
            "INSERT INTO llmwatch_calls (record_id, start_time, end_time, duration, provider, operation, "
            "request_model, response_model, status, error_type, streamed, input_tokens, output_tokens, total_tokens, "
            "tokens_estimated, cost_usd, cost_estimated, input_messages) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", calls)
        now = time.time()
        cur.executemany("INSERT INTO llmwatch_embeddings (record_id, model, dim, vector, created_at) "
                        "VALUES (?, ?, ?, ?, ?)", [(rid, MODEL, DIM, v.tobytes(), now) for rid, v in zip(rids, q)])
        raw.commit()
        print(f"\r  generated {lo + m:,}/{n:,} calls", end="", flush=True)
    print()
    cur.execute("ANALYZE")
    raw.commit()
    raw.close()
    return ids


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed(fn: object, runs: list[str], **kw: object) -> tuple[float, float]:
    times = []
    for rid in runs:
        t = time.perf_counter()
        found = fn(rid, **kw)  # type: ignore[operator]
        times.append(time.perf_counter() - t)
        assert found, "every query finds similar calls"
    return pct(times, 0.5) * 1000, pct(times, 0.95) * 1000


def recall(engine: sa.Engine, ix: vectors.VectorIndex, runs: list[str]) -> float:
    exact = vectors.ExactIndex(DIM)
    with engine.connect() as conn:
        last = 0
        while True:
            rows = conn.execute(sa.text("SELECT id, vector FROM llmwatch_embeddings WHERE id > :a "
                                        "ORDER BY id LIMIT 100000"), {"a": last}).fetchall()
            if not rows:
                break
            exact.add([r[0] for r in rows], vectors.decode([r[1] for r in rows], DIM))
            last = rows[-1][0]
        queries = conn.execute(sa.text("SELECT vector FROM llmwatch_embeddings WHERE record_id IN :ids")
                               .bindparams(sa.bindparam("ids", expanding=True)), {"ids": runs}).scalars().all()
    hits = 0
    for blob in queries:
        q = vectors.decode([blob], DIM)[0]
        # as ``similar`` asks: 10 x limit + 1 candidates, the best 10 kept
        hits += len({i for i, _ in exact.search(q, 10)} & {i for i, _ in ix.search(q, 101)[:10]})
    return hits / (10 * len(queries))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--cluster-rows", type=int, default=100_000)
    ap.add_argument("--dir", help="work folder (default: a new temporary one)")
    ap.add_argument("--reuse", action="store_true", help="measure the log already in --dir")
    args = ap.parse_args()
    tmp = Path(args.dir or tempfile.mkdtemp(prefix="llmwatch-simbench-"))
    os.environ["XDG_DATA_HOME"] = str(tmp / "data")  # the index file goes here, not into the user's data dir
    url = f"sqlite:///{tmp}/bench.db"
    t_end = time.time()
    print(f"store {url}; {os.cpu_count()} CPU(s)")
    t = time.perf_counter()
    if args.reuse:
        with db.open_engine(url).connect() as conn:
            ids = list(conn.execute(sa.text("SELECT record_id FROM llmwatch_calls ORDER BY id")).scalars())
            t_end = float(conn.execute(sa.text("SELECT max(start_time) FROM llmwatch_calls")).scalar_one())
        args.rows = len(ids)
    else:
        ids = generate(url, args.rows, t_end)
    print(f"generate   {args.rows:,} calls + embeddings in {time.perf_counter() - t:.0f}s")

    engine = db.open_engine(url)
    t = time.perf_counter()
    ix = similar.index(engine, url)
    how = "loaded the saved index" if args.reuse else "read the table, built the index, saved it"
    print(f"first use  {ix.describe()} in {time.perf_counter() - t:.1f}s ({how})")
    vectors.forget_indexes()
    t = time.perf_counter()
    ix = similar.index(engine, url)
    print(f"reload     {ix.describe()} in {time.perf_counter() - t:.2f}s")

    rng = np.random.default_rng(1)
    runs = [ids[i] for i in rng.integers(0, len(ids), args.queries)]
    logs.similar(runs[0], url=url)  # warm the page cache once
    p50, p95 = timed(logs.similar, runs, url=url, limit=10)
    print(f"similar    p50 {p50:.1f} ms  p95 {p95:.1f} ms  ({args.queries} queries, limit 10, {ix.describe()})")
    p50, p95 = timed(logs.similar, runs, url=url, limit=10, since="1d")
    print(f"similar    p50 {p50:.1f} ms  p95 {p95:.1f} ms  "
          f"(same, filtered to the last day: ~{args.rows // DAYS:,} calls)")

    print(f"recall@10  {recall(engine, ix, runs[:20]):.3f} (index's best 10 of 101 vs exact scan, 20 queries)")

    window = t_end - DAYS * 86400.0 * min(1.0, args.cluster_rows / args.rows)
    t = time.perf_counter()
    report = logs.clusters(url=url, since=window)
    took = time.perf_counter() - t
    biggest = report.clusters[0]
    print(f"clusters   {report.calls:,} calls into {report.k} clusters in {took:.1f}s "
          f"(largest {biggest.size:,}, cohesion {biggest.cohesion:.3f})")


if __name__ == "__main__":
    main()
