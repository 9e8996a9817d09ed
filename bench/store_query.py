"""Prompt-log query latency on generated data: SQLite (default 1M rows) and PostgreSQL (10M).

    python bench/store_query.py [--sqlite-rows 1000000] [--pg-rows 10000000] [--runs 40] [--ingest 100000]

Rows span 30 days, 8 models, log-normal latencies, 25-word prompts from a 2,000-word vocabulary
(plus "refund" in ~1% of rows); every tenth row is instead written without spaces, Japanese/Chinese
style: 25 words of 2-3 characters from a 2,000-word vocabulary over 560 Han and kana characters,
with 返金 in a tenth of those (~1% of all rows, like "refund"). Data is generated inside each database (SQLite recursive CTE,
PostgreSQL generate_series) with the migrated schema, then the same three queries run through
``llmwatch.logs`` alternately on both (A B A B), each with a fresh random window. Then
``--ingest`` records are written into each full log through the store's sink (bench/store_ingest.py's
records), and PostgreSQL's retention drops its oldest day and a half (timed).

  filtered   time window (1 h) + model + min latency 2 s, newest 50
  full-text  --text refund within one day, newest 50
  full-text CJK  --text 返金 (a two-character word, the gram index) within one day, newest 50
  stats      aggregate(by=model) over one day (count, error rate, p50/p95/p99, tokens, cost): whole hours
             from the hourly rollup, the two partial edge hours from the calls (--exact-stats: also
             time the exact path, which reads every call of the day)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llmwatch import logs  # noqa: E402
from llmwatch.store import cjk, db, partitions  # noqa: E402
from llmwatch.store.maintenance import prune  # noqa: E402
from llmwatch.store import hourly as rollup  # noqa: E402

DAYS = 30
# CJK text: characters spread over the Han block plus the hiragana, words of 2-3 of them
CJK_CHARS = "".join(chr(0x4E00 + (i * 37) % 20000) for i in range(480)) + "".join(chr(c) for c in range(0x3041, 0x3091))
CJK_WORDS = [CJK_CHARS[(k * 7) % len(CJK_CHARS)] + CJK_CHARS[(k * 13 + 1) % len(CJK_CHARS)]
             + (CJK_CHARS[(k * 29 + 5) % len(CJK_CHARS)] if k % 3 == 0 else "") for k in range(2000)]


def cjk_text(g: int) -> str:
    text = "".join(CJK_WORDS[(g * 7919 + k * 104729) % 2000] for k in range(1, 26))
    return text + "返金" if g % 100 == 3 else text


MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini")


def generate(engine: sa.Engine, n: int, t_end: float) -> None:
    """Fill llmwatch_calls with ``n`` synthetic rows (schema already at head)."""
    span = DAYS * 86400.0
    words = " ".join(f"w{i}" for i in range(2000))
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            idx = c.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename='llmwatch_calls' "
                                    "AND indexname NOT LIKE '%%pkey' AND indexname NOT LIKE 'uq_%%'").fetchall()
            for name, _ in idx:  # bulk load without secondary indexes, then rebuild them
                c.exec_driver_sql(f'DROP INDEX "{name}"')
        with engine.begin() as c:  # the days' partitions (the writer makes them as it goes; a bulk load can't)
            partitions.ensure_for(c, [t_end - k * 86400.0 for k in range(DAYS + 2)], now=t_end)
        models = "ARRAY[" + ",".join(f"'{m}'" for m in MODELS) + "]"
        cjk_words = "ARRAY[" + ",".join(f"'{w}'" for w in CJK_WORDS) + "]"
        step = 1_000_000
        for lo in range(0, n, step):
            with engine.begin() as c:
                c.exec_driver_sql(f"""
                INSERT INTO llmwatch_calls (record_id, trace_id, span_id, start_time, end_time, duration, provider,
                  operation, request_model, response_model, status, error_type, streamed, input_tokens, output_tokens,
                  total_tokens, tokens_estimated, cost_usd, cost_estimated, prompt_hash, prompt_template,
                  user_id, search_text, search_grams)
                SELECT md5(g::text || 'r'), md5(g::text), substr(md5(g::text || 's'), 1, 16), t, t + d, d, 'openai', 'chat',
                  m, m, CASE WHEN g % 50 = 0 THEN 'error' ELSE 'ok' END,
                  CASE WHEN g % 50 = 0 THEN 'RateLimitError' END, false, 100 + g % 900, 10 + g % 400,
                  110 + g % 900 + g % 400, false, (g % 1000) / 100000.0, false, substr(md5((g % 5000)::text), 1, 32),
                  'tpl' || (g % 20), 'u' || (g % 1000),
                  txt, grams
                FROM (SELECT *, CASE WHEN g % 10 = 3 THEN (
                        SELECT string_agg(x, ' ') FROM (SELECT DISTINCT substr(txt, i, w) x
                          FROM generate_series(1, length(txt)) i, (VALUES (1), (2)) v(w)
                          WHERE i + w - 1 <= length(txt)) q) END AS grams
                FROM (SELECT *, CASE WHEN g % 10 = 3 THEN
                  (SELECT string_agg(({cjk_words})[1 + (g * 7919 + k * 104729) % 2000], '') FROM generate_series(1, 25) k)
                    || CASE WHEN g % 100 = 3 THEN '返金' ELSE '' END
                  ELSE
                  (SELECT string_agg('w' || ((g * 7919 + k * 104729) % 2000), ' ') FROM generate_series(1, 25) k)
                    || CASE WHEN g % 100 = 0 THEN ' refund' ELSE '' END END AS txt
                FROM (SELECT g, {t_end} - {span} * ((g * 2654435761::bigint) % {n})::float8 / {n} AS t,
                             exp(ln(0.8) + 0.7 * sqrt(-2 * ln(random())) * cos(2 * pi() * random())) AS d,
                             ({models})[1 + g % {len(MODELS)}] AS m
                      FROM generate_series({lo}::bigint, {min(lo + step, n) - 1}) g) s) s2) s3""".replace("%", "%%"))
            print(f"  postgresql: {min(lo + step, n):,} rows", flush=True)
        with engine.begin() as c:
            for _, ddl in idx:
                c.exec_driver_sql(ddl.replace(" ON ONLY ", " ON ").replace("%", "%%"))  # a partitioned index
            c.exec_driver_sql(rollup.add_sql("postgresql", "llmwatch_calls"))
            c.exec_driver_sql("ANALYZE")
        return
    raw = engine.raw_connection()
    cur = raw.cursor()
    cur.execute("PRAGMA cache_size=-262144")
    words_list = words.split()
    rnd = random.Random(7)
    batch = []
    for g in range(n):
        t = t_end - span * ((g * 2654435761) % n) / n
        d = rnd.lognormvariate(-0.22, 0.7)
        m = MODELS[g % len(MODELS)]
        if g % 10 == 3:
            text = cjk_text(g)
        else:
            text = " ".join(words_list[(g * 7919 + k * 104729) % 2000] for k in range(1, 26))
            if g % 100 == 0:
                text += " refund"
        err = g % 50 == 0
        batch.append((uuid.uuid4().hex, uuid.uuid4().hex, t, t + d, d, m, m, "error" if err else "ok",
                      "RateLimitError" if err else None, 100 + g % 900, 10 + g % 400, 110 + g % 900 + g % 400,
                      (g % 1000) / 100000.0, f"tpl{g % 20}", f"u{g % 1000}", text, cjk.grams(text)))
        if len(batch) == 50_000 or g == n - 1:
            cur.executemany(
                "INSERT INTO llmwatch_calls (record_id, trace_id, start_time, end_time, duration, provider, operation, "
                "request_model, response_model, status, error_type, streamed, input_tokens, output_tokens, "
                "total_tokens, tokens_estimated, cost_usd, cost_estimated, prompt_template, user_id, search_text, "
                "search_grams) VALUES (?, ?, ?, ?, ?, 'openai', 'chat', ?, ?, ?, ?, 0, ?, ?, ?, 0, ?, 0, ?, ?, ?, ?)",
                batch)
            batch = []
    cur.execute("INSERT INTO llmwatch_calls_fts(llmwatch_calls_fts) VALUES ('rebuild')")
    cur.execute("INSERT INTO llmwatch_calls_grams(llmwatch_calls_grams) VALUES ('rebuild')")
    cur.execute(rollup.add_sql("sqlite", "llmwatch_calls"))
    cur.execute("ANALYZE")
    raw.commit()
    raw.close()
    print(f"  sqlite: {n:,} rows", flush=True)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sqlite-rows", type=int, default=1_000_000)
    ap.add_argument("--pg-rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--ingest", type=int, default=100_000, help="records then written into each full log")
    ap.add_argument("--exact-stats", action="store_true", help="also time stats --exact (evicts cached pages)")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    t_end = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="llmwatch-qbench-"))
    sqlite_url = f"sqlite:///{tmp}/bench.db"
    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    name = f"llmwatch_qbench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    pg_url = sa.engine.make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    try:
        targets = {"sqlite": (sqlite_url, args.sqlite_rows), "postgresql": (pg_url, args.pg_rows)}
        for label, (url, n) in targets.items():
            t0 = time.perf_counter()
            generate(db.open_engine(url), n, t_end)
            print(f"generated {n:,} rows in {label} in {time.perf_counter() - t0:.0f}s", flush=True)
        rnd = random.Random(1)
        lat: dict[tuple[str, str], list[float]] = {}
        queries = {
            "filtered": lambda url, t: logs.query(url, since=t, until=t + 3600, model=rnd.choice(MODELS),
                                                  min_duration=2.0, limit=50),
            "full-text": lambda url, t: logs.query(url, since=t, until=t + 86400, text="refund", limit=50),
            "full-text CJK": lambda url, t: logs.query(url, since=t, until=t + 86400, text="返金", limit=50),
            "stats (1 day)": lambda url, t: logs.aggregate(url, since=t, until=t + 86400, by="model"),
        }
        if args.exact_stats:
            queries["stats --exact"] = lambda url, t: logs.aggregate(url, since=t, until=t + 86400, by="model",
                                                                     exact=True)
        for label, (url, _) in targets.items():  # warm-up: caches and connection pools
            for q in queries.values():
                q(url, t_end - 5 * 86400)
        for _ in range(args.runs):
            t = t_end - rnd.uniform(1, DAYS - 1) * 86400
            for qname, q in queries.items():
                for label, (url, _) in targets.items():  # A B A B
                    a = time.perf_counter()
                    q(url, t)
                    lat.setdefault((qname, label), []).append((time.perf_counter() - a) * 1000)
        print(f"\nquery latency, {args.runs} runs each (ms), SQLite {args.sqlite_rows:,} rows, "
              f"PostgreSQL {args.pg_rows:,} rows:")
        print(f"  {'query':14} {'backend':10} {'p50':>8} {'p95':>8}")  # noqa: E501
        for (qname, label), v in lat.items():
            print(f"  {qname:14} {label:10} {pct(v, 0.5):8.1f} {pct(v, 0.95):8.1f}")
        # Ingest into these full logs: the same sink and records as bench/store_ingest.py.
        from bench.store_ingest import records
        from prometheus_client import CollectorRegistry

        from llmwatch.store import open_sink

        print(f"\ningest into the full logs ({args.ingest:,} records, one at a time through the sink):")
        for label, (url, n) in targets.items():
            sink = open_sink(url=url, registry=CollectorRegistry(), spool_dir=tmp / f"spool-{label}", retention="none")
            recs = records(args.ingest)
            a = time.perf_counter()
            for r in recs:
                sink.write((r,))
            sink.flush()
            rate = args.ingest / (time.perf_counter() - a)
            sink.close()
            print(f"  {label:10} holding {n:,} calls: {rate:,.0f} records/s", flush=True)
        # Retention on PostgreSQL: the oldest whole day (and the partial one before it) goes.
        first_day = int((t_end - DAYS * 86400) // 86400)
        cutoff = (first_day + 2) * 86400.0
        a = time.perf_counter()
        removed = prune(db.open_engine(pg_url), older_than=86400.0, now=cutoff + 86400.0)
        print(f"\nretention (PostgreSQL): {removed:,} calls of the oldest 1.5 days removed in "
              f"{(time.perf_counter() - a) * 1000:.0f} ms")
    finally:
        db.close_engine(pg_url)
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
