"""PostgreSQL's call table is partitioned by day (revision 0006): partitions appear for the days
written, outliers land in the default partition and are still found, replays stay idempotent,
time filters read only their days, and retention drops whole days with their annotations."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from tests.test_store_support import create_pg_database, make_record, write

from llmwatch import logs
from llmwatch.store import db, partitions
from llmwatch.store.maintenance import prune

DAY = partitions.DAY
NOW = time.time()
TODAY = int(NOW // DAY)


@pytest.fixture
def pg_url():
    url, drop = create_pg_database()
    partitions.forget()
    yield url
    partitions.forget()
    drop()


def tables(url: str) -> set[str]:
    with db.open_engine(url).connect() as conn:
        return set(conn.exec_driver_sql(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'llmwatch_calls'").scalars())


def where_rows_are(url: str) -> dict[str, int]:
    with db.open_engine(url).connect() as conn:
        return dict(conn.exec_driver_sql(
            "SELECT tableoid::regclass::text, count(*) FROM llmwatch_calls GROUP BY 1").fetchall())


def test_a_new_database_has_today_the_days_ahead_and_a_default(pg_url):
    db.open_engine(pg_url)
    names = tables(pg_url)
    assert partitions.DEFAULT in names
    assert {partitions.name_for(TODAY + k) for k in range(partitions.AHEAD_DAYS + 1)} <= names


def test_days_written_get_partitions_and_outliers_go_to_default(pg_url, tmp_path):
    recs = [make_record(start_time=NOW - k * DAY) for k in (0, 1, 5, 40)]
    ancient = make_record(start_time=86400 * 3.5)  # 1970: a broken clock
    future = make_record(start_time=NOW + 30 * DAY)
    write(pg_url, [*recs, ancient, future], tmp_path)
    placed = where_rows_are(pg_url)
    for k in (0, 1, 5, 40):
        assert placed[partitions.name_for(TODAY - k)] == 1
    assert placed[partitions.DEFAULT] == 2
    assert logs.count(pg_url) == 6 and logs.get(ancient.record_id, url=pg_url).call.record_id == ancient.record_id
    write(pg_url, [*recs, ancient, future], tmp_path)  # a replay of the same calls: nothing doubles
    assert logs.count(pg_url) == 6


def test_a_time_filter_reads_only_its_days(pg_url, tmp_path):
    write(pg_url, [make_record(start_time=NOW - k * DAY) for k in range(6)], tmp_path)
    lo = (TODAY - 3) * DAY + 10
    with db.open_engine(pg_url).connect() as conn:
        plan = " ".join(conn.exec_driver_sql(
            f"EXPLAIN SELECT id FROM llmwatch_calls WHERE start_time >= {lo} AND start_time < {lo + 3600}").scalars())
    assert partitions.name_for(TODAY - 3) in plan
    assert partitions.name_for(TODAY - 2) not in plan and partitions.name_for(TODAY - 4) not in plan


def test_retention_drops_whole_days_with_their_annotations_and_rollup(pg_url, tmp_path):
    old = [make_record(start_time=(TODAY - 10) * DAY + 3600 * h) for h in range(3)]
    edge = make_record(start_time=NOW - 2 * DAY - 600)  # in the day the cut-off falls in, before it
    kept = make_record(start_time=NOW - 2 * DAY + 600)
    write(pg_url, [*old, edge, kept], tmp_path)
    logs.flag(old[0].record_id, label="weak-prompt", url=pg_url)
    logs.flag(kept.record_id, label="weak-prompt", url=pg_url)
    assert partitions.name_for(TODAY - 10) in tables(pg_url)
    removed = prune(db.open_engine(pg_url), older_than=2 * DAY, now=NOW)
    assert removed == 4
    assert partitions.name_for(TODAY - 10) not in tables(pg_url)  # dropped, not emptied row by row
    assert {c.record_id for c in logs.query(pg_url)} == {kept.record_id}
    assert [c.record_id for c in logs.query(pg_url, flagged=True)] == [kept.record_id]
    with db.open_engine(pg_url).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM llmwatch_flags").scalar_one() == 1
        hours = conn.exec_driver_sql("SELECT sum(calls) FROM llmwatch_calls_hourly").scalar_one()
    assert hours == 1  # the rollup lost the dropped days and the deleted edge call


def test_a_day_whose_rows_already_sit_in_default_keeps_them_there(pg_url, tmp_path):
    later = NOW + 20 * DAY
    rec = make_record(start_time=later)
    write(pg_url, [rec], tmp_path)  # beyond the days ahead: default partition
    engine = db.open_engine(pg_url)
    partitions.forget()
    with engine.begin() as conn:  # twenty days on: the writer wants that day's partition now
        partitions.ensure_for(conn, [later], now=later)
    assert partitions.name_for(int(later // DAY)) not in tables(pg_url)
    assert where_rows_are(pg_url) == {partitions.DEFAULT: 1}
    assert logs.get(rec.record_id, url=pg_url).call.record_id == rec.record_id


def test_migration_keeps_rows_and_the_id_sequence(pg_url, tmp_path):
    engine = db.create_engine(pg_url)
    db.migrate(engine, "0005")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_partitioned_table").scalar_one() == 0
    engine.dispose()
    first = [make_record(start_time=NOW - k * DAY) for k in range(3)]
    from llmwatch.store.rows import to_row

    table = sa.Table("llmwatch_calls", sa.MetaData(), autoload_with=db.create_engine(pg_url))
    with db.create_engine(pg_url).begin() as conn:
        conn.execute(table.insert(), [{k: v for k, v in to_row(r).items()} for r in first])
    later = make_record()
    write(pg_url, [later], tmp_path)  # opening the store migrates to head
    with db.open_engine(pg_url).connect() as conn:
        ids = dict(conn.exec_driver_sql("SELECT record_id, id FROM llmwatch_calls").fetchall())
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_partitioned_table").scalar_one() == 1
    assert len(ids) == 4 and ids[later.record_id] > max(ids[r.record_id] for r in first)
    assert logs.count(pg_url, text="capital") == 4  # full-text index re-created on the partitions


def test_downgrade_to_0005_gives_back_a_plain_table_with_every_row(pg_url, tmp_path):
    from alembic import command

    recs = [make_record(start_time=NOW - k * DAY) for k in range(3)]
    write(pg_url, recs, tmp_path)
    db.close_engine(pg_url)
    engine = db.create_engine(pg_url)
    with engine.connect() as conn:
        command.downgrade(db._alembic_config(conn), "0005")
        conn.commit()
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_partitioned_table").scalar_one() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM llmwatch_calls").scalar_one() == 3
    engine.dispose()
    partitions.forget()
    assert logs.count(pg_url, text="capital") == 3  # and upgraded again on open


def test_a_writer_that_may_not_create_tables_still_stores_every_call(pg_url, tmp_path):
    """A role with rights on the tables but not CREATE on the schema: new days go to the default partition."""
    db.open_engine(pg_url)
    db.close_engine(pg_url)
    role = "llmwatch_dml_" + pg_url.rsplit("_", 1)[-1]
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        conn.exec_driver_sql(f'REVOKE CREATE ON SCHEMA public FROM PUBLIC, "{role}"')
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        conn.exec_driver_sql(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"')
        conn.exec_driver_sql(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    url = sa.engine.make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    try:
        rec = make_record(start_time=NOW - 20 * DAY)  # a day with no partition yet
        write(url, [rec], tmp_path)
        assert logs.get(rec.record_id, url=pg_url).call.record_id == rec.record_id
        assert where_rows_are(pg_url) == {partitions.DEFAULT: 1}
    finally:
        db.close_engine(url)
        partitions.forget()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()
