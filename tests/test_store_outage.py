"""Nothing lost when the database goes away: a real PostgreSQL stopped and restarted mid-workload,
a SQLite file locked by another writer, a full spool (counted), a torn spool line (counted)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
from prometheus_client import CollectorRegistry
from tests.test_store_support import make_record, metric, rows

from llmwatch.store import db, open_sink
from llmwatch.store.spool import Spool

PG_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def wait_for(predicate, timeout=60.0, what="condition"):
    """Poll until ``predicate()`` is true (not a timing assertion: the bound only stops a hang)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A private PostgreSQL cluster in a temporary folder, run as the postgres user."""

    def __init__(self) -> None:
        self.bin = PG_BINS[-1]
        self.dir = tempfile.mkdtemp(prefix="llmwatch-pg-")
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self._pg("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(self.bin, tool), *args],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> None:
        self._pg("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "start",
                 "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    if not PG_BINS:
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin): apt-get install postgresql")
    c = Cluster()
    c.start()
    yield c
    db.close_engine(c.url)
    c.destroy()


def sink_for(url, spool_dir, **kw):
    kw.setdefault("retention", "none")  # test records may be older than the default 30 days
    return open_sink(url=url, registry=CollectorRegistry(), spool_dir=spool_dir, retry_min=0.05, retry_max=0.5, **kw)


def batches(n, size=50, **kw):
    recs = [make_record(**kw) for _ in range(n)]
    return [recs[i:i + size] for i in range(0, n, size)], {r.record_id for r in recs}


def test_postgres_stopped_and_restarted_mid_workload_every_record_arrives_exactly_once(cluster, tmp_path):
    spool = tmp_path / "spool"
    sink = sink_for(cluster.url, spool)
    phase1, ids1 = batches(1000)
    for b in phase1:
        sink.write(b)
    cluster.stop()  # while phase 1 is still being written
    phase2, ids2 = batches(1000)
    for b in phase2:
        sink.write(b)
    assert sink.flush(60)
    assert metric(sink, "llmwatch_store_records_spooled_total") > 0
    cluster.start()
    phase3, ids3 = batches(1000)
    for b in phase3:
        sink.write(b)
    sink.close()
    db.close_engine(cluster.url)
    wanted = ids1 | ids2 | ids3
    assert rows(cluster.url) == [(3000,)]
    assert rows(cluster.url, "SELECT count(DISTINCT record_id) FROM llmwatch_calls") == [(3000,)]
    stored = {r[0] for r in rows(cluster.url, "SELECT record_id FROM llmwatch_calls")}
    assert stored == wanted
    assert metric(sink, "llmwatch_store_records_replayed_total") > 0
    assert metric(sink, "llmwatch_store_write_errors_total") > 0
    assert metric(sink, "llmwatch_store_records_dropped_total", llmwatch_reason="spool_full") == 0
    assert not list(spool.glob("seg-*.jsonl"))

    # A process that exits during an outage leaves its spool; the next one replays it at start.
    cluster.stop()
    db.close_engine(cluster.url)
    sink = sink_for(cluster.url, spool)
    later, later_ids = batches(300)
    for b in later:
        sink.write(b)
    sink.close()
    assert list(spool.glob("seg-*.jsonl"))
    cluster.start()
    sink = sink_for(cluster.url, spool)
    sink.write([make_record()])
    sink.close()
    assert rows(cluster.url) == [(3301,)]
    assert rows(cluster.url, "SELECT count(DISTINCT record_id) FROM llmwatch_calls") == [(3301,)]


def test_sqlite_locked_by_another_writer_spools_then_replays(tmp_path):
    import sqlite3

    url = f"sqlite:///{tmp_path / 'calls.db'}"
    db.open_engine(url)  # create the schema
    locker = sqlite3.connect(tmp_path / "calls.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    sink = sink_for(url, tmp_path / "spool")
    recs = [make_record() for _ in range(500)]
    sink.write(recs)
    assert sink.flush(60)
    wait_for(lambda: metric(sink, "llmwatch_store_records_spooled_total") == 500, what="records spooled")
    locker.execute("COMMIT")
    locker.close()
    sink.write(recs[:50])  # a duplicate of a spooled record is still stored once
    sink.close()
    assert rows(url) == [(500,)]
    assert metric(sink, "llmwatch_store_write_errors_total") > 0
    assert metric(sink, "llmwatch_store_records_replayed_total") >= 500


def test_records_beyond_a_full_spool_are_dropped_and_counted(tmp_path):
    sink = sink_for("postgresql+psycopg://postgres@127.0.0.1:1/none", tmp_path / "spool", spool_max_bytes=20_000)
    for _ in range(20):
        sink.write([make_record() for _ in range(10)])
    sink.close()
    spooled = metric(sink, "llmwatch_store_records_spooled_total")
    dropped = metric(sink, "llmwatch_store_records_dropped_total", llmwatch_reason="spool_full")
    assert dropped > 0 and spooled > 0 and spooled + dropped == 200
    assert metric(sink, "llmwatch_store_spool_size_bytes") <= 20_000


def test_a_torn_spool_line_is_skipped_and_counted(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append([{"record_id": "a" * 32}])
    spool.close()
    seg = next((tmp_path / "spool").glob("seg-*.jsonl"))
    with open(seg, "ab") as fh:
        fh.write(b'{"record_id": "bbb')  # the process died mid-line
    got = []
    assert spool.replay(got.extend) == (1, 1)
    assert [r["record_id"] for r in got] == ["a" * 32]
    assert not list((tmp_path / "spool").glob("seg-*.jsonl"))
