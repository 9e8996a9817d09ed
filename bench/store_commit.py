"""The prompt log's CPU per stored call against calls per transaction: why the store waits
``store_commit_delay`` for calls to share a transaction.

    python bench/store_commit.py [--sizes 1,5,20,100,1000] [--rows 4000] [--rounds 3]
                                 [--backends sqlite,postgresql] [--pg URL]

Each size is one transaction per ``write(size records)`` + ``flush()`` through a real sink (the
public API: the writer thread converts, inserts and commits, the SQLite checkpoint thread copies
the WAL back). Reported per stored row: the CPU of the store's own threads, read from their
per-thread clocks (no subtraction of anything else, so it is steady on a shared machine), median
over rounds; sizes are interleaved within a round and each round writes into a new database.

A quiet app (a few calls a second) used to commit about once per record worker drain (every
0.2 s): one or two rows a transaction. With the default ``store_commit_delay`` of 2 s the same
app commits its calls in groups of a few to a few dozen.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_ingest import records  # noqa: E402

from llmwatch.store import db, open_sink  # noqa: E402


def _cpu_ns(thread: Any) -> int:
    try:
        return time.clock_gettime_ns(time.pthread_getcpuclockid(thread.ident))
    except (OSError, AttributeError, TypeError):  # thread gone, or no per-thread clocks here
        return 0


def one(url: str, size: int, rows: int, spool: Path) -> dict[str, float]:
    sink = open_sink(url=url, registry=CollectorRegistry(), spool_dir=spool, retention="none")
    try:
        recs = records(rows + size)
        sink.write(recs[:size])  # schema, connection, first pages: not timed
        sink.flush(60)
        threads = list(sink._threads)
        if sink._checkpointer is not None:
            threads.append(sink._checkpointer._thread)
        before = {t.name: _cpu_ns(t) for t in threads}
        done = 0
        while done < rows:
            sink.write(recs[size + done:size + done + size])
            sink.flush(60)
            done += size
        time.sleep(0.5)  # the checkpoint thread's last pass (it runs at most every 0.25 s)
        used = {t.name: (_cpu_ns(t) - before[t.name]) / 1000 / done for t in threads}
    finally:
        sink.close()
        db.close_engine(url)
    return {"store_us": sum(used.values()),
            "checkpoint_us": sum(v for k, v in used.items() if "checkpoint" in k)}


@contextlib.contextmanager
def _pg_database(admin_url: str) -> Iterator[str]:
    """A new database on the server (dropped afterwards)."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"llmwatch_commit_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,5,20,100,1000")
    ap.add_argument("--rows", type=int, default=4000,
                    help="rows per size and round (rounded up to a whole transaction)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--backends", default="sqlite")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                    help="PostgreSQL server (an admin URL: each run creates and drops a database)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    backends = [b for b in args.backends.split(",") if b]
    got: dict[tuple[str, int], list[dict[str, float]]] = {}
    for r in range(args.rounds):
        order = sizes if r % 2 == 0 else sizes[::-1]
        for backend in backends:
            for size in order:
                with tempfile.TemporaryDirectory(prefix="llmwatch-commit-") as tmp:
                    if backend == "sqlite":
                        url = f"sqlite:///{tmp}/calls.db"
                        got.setdefault((backend, size), []).append(one(url, size, args.rows, Path(tmp) / "spool"))
                    else:
                        with _pg_database(args.pg) as url:
                            got.setdefault((backend, size), []).append(one(url, size, args.rows, Path(tmp) / "spool"))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    print(f"prompt log: CPU of the store's threads per stored call (µs), by calls per transaction; "
          f"median of {args.rounds} rounds (range)")
    print(f"  {'backend':<12}{'calls/txn':>10}{'store threads':>26}{'of which checkpoint':>24}")
    for backend in backends:
        for size in sizes:
            runs = got[(backend, size)]
            store = [x["store_us"] for x in runs]
            ck = [x["checkpoint_us"] for x in runs]
            print(f"  {backend:<12}{size:>10}{statistics.median(store):>12.0f} ({min(store):.0f}–{max(store):.0f})"
                  f"{statistics.median(ck):>16.0f} ({min(ck):.0f}–{max(ck):.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
