"""The writer's paths, on real SQLite and PostgreSQL: fresh batches (rollup figures computed in
Python; PostgreSQL COPY straight into the tables), a fresh batch written twice (its commit was
lost), and spool replays, including spool lines in the format of the previous version."""

from __future__ import annotations

import random

from prometheus_client import CollectorRegistry
from tests.test_store_support import create_pg_database, make_record, metric, rows, store_url, write  # noqa: F401

from llmwatch.record import new_record_id
from llmwatch.store import db, open_sink
from llmwatch.store import hourly as rollup
from llmwatch.store.query import Follower
from llmwatch.store.rows import build_row, to_row
from llmwatch.store.writer import Batch, insert_batch
from llmwatch.store.spool import Spool

HOURLY = "SELECT * FROM llmwatch_calls_hourly ORDER BY hour, request_model, provider, operation, prompt_template"


def _varied(n: int, seed: int = 7) -> list:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        out.append(make_record(
            record_id=new_record_id(), start_time=1_790_000_000 + rnd.uniform(0, 4 * 3600),
            # bucket edges exactly, zero, and long calls
            duration=rnd.choice([0.0, 0.01, rollup.LATENCY_BOUNDS[20], rollup.LATENCY_BOUNDS[-1], 250.0,
                                 rnd.uniform(0, 30)]),
            request_model=rnd.choice(["gpt-4o", "gpt-4o-mini", None]),
            prompt_template=rnd.choice(["greet", None]), status=rnd.choice(["ok", "ok", "error"]),
            input_tokens=rnd.choice([None, rnd.randint(0, 900)]), output_tokens=rnd.choice([None, rnd.randint(0, 90)]),
            cost_usd=rnd.choice([None, rnd.uniform(0, 0.01)]), tags=rnd.choice([[], ["a"], ["a", "b", "a"]])))
    return out


def _write_via(spool_dir, url: str, records: list) -> None:
    sink = open_sink(url=url, registry=CollectorRegistry(), spool_dir=spool_dir, retention="none")  # 2026-09 rows
    sink.write(records)
    sink.close(timeout=2.0)


def _sql_rollup(url: str) -> list[tuple]:
    """The rollup recomputed by the SQL statement (the reference) from the stored calls."""
    engine = db.open_engine(url)
    with engine.connect() as conn:
        trans = conn.begin()
        conn.exec_driver_sql("DELETE FROM llmwatch_calls_hourly")
        conn.exec_driver_sql(rollup.add_sql(conn.dialect.name, "llmwatch_calls"))
        got = conn.exec_driver_sql(HOURLY).fetchall()
        trans.rollback()
    return got


def _same(a: list[tuple], b: list[tuple]) -> bool:
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        for x, y in zip(ra, rb):
            if isinstance(x, float) or isinstance(y, float):
                if abs(x - y) > 1e-9 * max(1.0, abs(x)):
                    return False
            elif x != y:
                return False
    return True


def test_rollup_from_fresh_batches_equals_the_sql_rollup_even_when_a_batch_is_written_twice(store_url, tmp_path):
    recs = _varied(600)
    write(store_url, recs[:400], tmp_path)
    # The same 150 records again as a fresh batch (a commit whose acknowledgement was lost), mixed
    # with 200 new ones: only the new ones may be added, to the calls and to the rollup.
    sink = write(store_url, recs[250:600], tmp_path)
    assert metric(sink, "llmwatch_store_write_errors_total") == 0  # handled in the transaction, not spooled
    assert metric(sink, "llmwatch_store_records_spooled_total") == 0
    assert rows(store_url) == [(600,)]
    stored = rows(store_url, HOURLY)
    assert sum(r[5] for r in stored) == 600  # calls column
    assert _same(stored, _sql_rollup(store_url))
    assert rows(store_url, "SELECT count(*) FROM llmwatch_call_tags") == \
        [(sum(len(set(r.tags)) for r in recs),)]


def test_spooled_rows_of_this_and_the_previous_format_replay_with_tags_and_rollup(store_url, tmp_path):
    old, new = _varied(30, seed=1), _varied(30, seed=2)
    spool_dir = tmp_path / "spool"
    spool = Spool(spool_dir)
    spool.append([to_row(r) for r in old])  # the earlier spool lines: dicts of decoded values
    spool.close()
    # This version's lines: the sink spools while the database is unreachable.
    _write_via(spool_dir, "postgresql+psycopg://postgres@127.0.0.1:1/none", new)
    assert len(list(spool_dir.glob("seg-*.jsonl"))) == 2
    _write_via(spool_dir, store_url, [])  # a sink that finds a spool replays it
    assert rows(store_url) == [(60,)]
    assert not list(spool_dir.glob("seg-*.jsonl"))
    assert _same(rows(store_url, HOURLY), _sql_rollup(store_url))
    assert rows(store_url, "SELECT count(*) FROM llmwatch_call_tags") == \
        [(sum(len(set(r.tags)) for r in old + new),)]
    with db.open_engine(store_url).connect() as conn:
        got = dict(conn.exec_driver_sql("SELECT record_id, input_messages FROM llmwatch_calls").fetchall())
    assert {r.record_id for r in old + new} == set(got)


def test_sqlite_wal_is_checkpointed_off_the_writer_thread(tmp_path):
    """The writer's connection only checkpoints past a large backstop; the checkpointer thread moves
    committed pages into the database file (without it the file would stay at its empty size)."""
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    sink = open_sink(url=url, registry=CollectorRegistry(), spool_dir=tmp_path / "spool", retention="none")
    sink.write([make_record(record_id=new_record_id()) for _ in range(3000)])
    assert sink.flush(30)
    checkpointer = sink._checkpointer
    for _ in range(100):  # the checkpoint follows the commit on another thread
        if checkpointer.checkpoints:
            break
        checkpointer._stop.wait(0.1)
    sink.close()
    assert checkpointer.checkpoints >= 1 and not checkpointer._thread.is_alive()
    assert (tmp_path / "calls.db").stat().st_size > 1_000_000  # 3,000 calls left the WAL
    assert rows(url) == [(3000,)]


def test_tail_shows_a_call_whose_smaller_id_commits_after_a_larger_one():
    """Two writers: row ids are taken at insert, so id 1 can commit after id 2 (PostgreSQL)."""
    url, drop = create_pg_database()
    try:
        engine = db.open_engine(url)
        early = make_record(record_id=new_record_id(), start_time=1_790_000_000)
        late = make_record(record_id=new_record_id(), start_time=1_790_010_000)  # another rollup hour
        follower = Follower(url)
        with engine.connect() as slow:
            trans = slow.begin()
            insert_batch(slow, Batch.fresh([build_row(early)], []))  # takes id 1, not committed yet
            with engine.begin() as fast:
                insert_batch(fast, Batch.fresh([build_row(late)], []))  # id 2, committed
            assert [c.record_id for c in follower.poll()] == [late.record_id]
            trans.commit()
        assert [c.record_id for c in follower.poll()] == [early.record_id]
        assert follower.poll() == [] and not follower.holes
    finally:
        drop()


def test_bursts_with_pauses_between_them_are_all_written(store_url, tmp_path):
    """Found by the benchmark: a PostgreSQL writer waking up cleared the converter's idle flag, so
    the next burst never woke the converter and flush() waited forever."""
    sink = open_sink(url=store_url, registry=CollectorRegistry(), spool_dir=tmp_path / "spool", retention="none")
    for _ in range(4):
        sink.write([make_record(record_id=new_record_id()) for _ in range(200)])
        assert sink.flush(timeout=20)
    sink.close()
    assert rows(store_url) == [(800,)]


def test_a_record_the_python_rollup_cannot_sum_is_still_stored_and_rolled_up(store_url, tmp_path):
    odd = make_record(record_id=new_record_id(), cost_usd="0.25")  # a str from some integration
    write(store_url, [odd, make_record(record_id=new_record_id())], tmp_path)
    assert rows(store_url) == [(2,)]
    assert sum(r[5] for r in rows(store_url, HOURLY)) == 2
