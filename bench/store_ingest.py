"""Prompt-log ingest benchmark: records/s into SQLite and PostgreSQL from one process, and the
cost of ``StoreSink.write`` (the enqueue) on the caller's thread.

    python bench/store_ingest.py [--records 100000] [--rounds 2] [--prefill 0] [--pg URL]
                                 [--ids v7|uuid4|both] [--backends sqlite,postgresql]

Rounds alternate SQLite and PostgreSQL (A B A B) so both see the same machine state. Each round
writes into a new database (a new SQLite file; a new database on the PostgreSQL server at
127.0.0.1:5432, dropped afterwards). ``--prefill N`` first writes N records into it, untimed, to
measure ingest into a log that already holds calls (bigger indexes, fewer cache hits).
``--ids both`` alternates time-ordered (UUIDv7, what llmwatch writes) and random (uuid4, what it
wrote before) record ids in one run, rounds interleaved.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llmwatch.record import CallRecord, new_record_id  # noqa: E402
from llmwatch.store import db, open_sink  # noqa: E402

MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3-mini")


ID_KINDS = {"v7": new_record_id, "uuid4": lambda: uuid.uuid4().hex}


def records(n: int, ids: str = "v7") -> list[CallRecord]:
    new_id = ID_KINDS[ids]
    now = time.time()
    out = []
    for i in range(n):
        t = now - (n - i) * 0.01
        out.append(CallRecord(
            operation="chat", provider="openai", request_model=MODELS[i % 4], response_model=MODELS[i % 4],
            start_time=t, end_time=t + 0.3 + (i % 17) / 10, record_id=new_id(),
            trace_id=uuid.uuid4().hex, span_id=uuid.uuid4().hex[:16], input_tokens=40 + i % 50,
            output_tokens=10 + i % 90, cost_usd=0.0001 * (i % 7), session_id=f"s{i % 500}",
            user_id=f"u{i % 100}", prompt_template="support-reply", prompt_template_version=str(i % 3),
            tags=["bench"],
            input_messages=[{"role": "user", "parts": [{"type": "text", "content":
                             f"Customer {i} asks about the refund for order {i * 7} placed last week"}]}],
            output_messages=[{"role": "assistant", "parts": [{"type": "text", "content":
                              "The refund was issued and should arrive within five business days."}],
                              "finish_reason": "stop"}]))
    return out


def run(url: str, n: int, spool: Path, prefill: int = 0, ids: str = "v7") -> tuple[float, list[int]]:
    sink = open_sink(url=url, registry=CollectorRegistry(), spool_dir=spool, retention="none")  # ingest only
    for i in range(0, prefill, 10_000):
        sink.write(records(min(10_000, prefill - i), ids))
        sink.flush()
    recs = records(n, ids)
    lat = []
    t0 = time.perf_counter()
    for r in recs:  # one record per write: the worst case for the enqueue
        a = time.perf_counter_ns()
        sink.write((r,))
        lat.append(time.perf_counter_ns() - a)
    sink.flush()
    elapsed = time.perf_counter() - t0
    sink.close()
    with db.open_engine(url).connect() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM llmwatch_calls").scalar_one()
    assert stored == n + prefill, f"{stored} records stored, expected {n + prefill}"
    return n / elapsed, lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--prefill", type=int, default=0, help="records written (untimed) before each round")
    ap.add_argument("--ids", choices=("v7", "uuid4", "both"), default="v7", help="record id kind(s)")
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    args = ap.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - {"sqlite", "postgresql"}:
        ap.error(f"--backends: expected sqlite and/or postgresql, got {args.backends!r}")
    kinds = ["v7", "uuid4"] if args.ids == "both" else [args.ids]
    tmp = Path(tempfile.mkdtemp(prefix="llmwatch-bench-"))
    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    results: dict[tuple[str, str], list[float]] = {}
    lats: list[int] = []
    for i in range(args.rounds):
        for kind in kinds:
            for label in backends:
                if label == "sqlite":
                    url, drop = f"sqlite:///{tmp}/bench{i}-{kind}.db", None
                else:
                    name = f"llmwatch_bench_{uuid.uuid4().hex[:8]}"
                    with admin.connect() as c:
                        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
                    url = sa.engine.make_url(args.pg).set(database=name).render_as_string(hide_password=False)
                    drop = name
                try:
                    rate, lat = run(url, args.records, tmp / f"spool-{label}-{kind}-{i}", args.prefill, kind)
                finally:
                    db.close_engine(url)
                    if drop:
                        with admin.connect() as c:
                            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')
                results.setdefault((label, kind), []).append(rate)
                lats += lat
                print(f"round {i + 1} {label:10} ids {kind:5} {rate:10,.0f} records/s", flush=True)
    lats.sort()
    p50, p99 = lats[len(lats) // 2] / 1000, lats[int(len(lats) * 0.99)] / 1000
    into = f"a log already holding {args.prefill:,} calls" if args.prefill else "a new database"
    print(f"\ningest into {into} (median of {args.rounds} rounds, {args.records:,} records each, one process):")
    for (label, kind), rates in results.items():
        print(f"  {label:10} ids {kind:5} {statistics.median(rates):10,.0f} records/s  "
              f"(range {min(rates):,.0f}-{max(rates):,.0f})")
    print(f"  enqueue (StoreSink.write of one record, caller's thread): p50 {p50:.2f} us, p99 {p99:.2f} us")


if __name__ == "__main__":
    main()
