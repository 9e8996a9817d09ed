"""A user's existing prompt log upgrades in place: from the first revision to the newest."""

from __future__ import annotations

import time

import sqlalchemy as sa
from tests.test_store_support import make_record, store_url, write  # noqa: F401

from llmwatch import logs
from llmwatch.store import db
from llmwatch.store.rows import to_row


def test_database_created_at_revision_0001_upgrades_in_place_and_keeps_its_rows(store_url, tmp_path):
    engine = db.create_engine(store_url)
    db.migrate(engine, "0001")
    old = make_record(prompt="legacy row about a refund", request_model="gpt-4o")
    row = to_row(old)
    del row["search_text"]  # revision 0001 had no full-text column
    table = sa.Table("llmwatch_calls", sa.MetaData(), autoload_with=engine)
    assert "search_text" not in table.c
    with engine.begin() as conn:
        conn.execute(table.insert(), [row])
        assert db.current_revision(conn) == "0001"
    engine.dispose()

    new = make_record(prompt="fresh row about a refund")
    write(store_url, [new], tmp_path)  # opening the store upgrades it to head first
    with db.open_engine(store_url).connect() as conn:
        assert db.current_revision(conn) == db.head_revision()
    assert logs.get(old.record_id, url=store_url).call.input_messages == old.input_messages
    assert {c.record_id for c in logs.query(store_url, text="refund")} == {old.record_id, new.record_id}
    assert logs.count(store_url, text="legacy") == 1  # old rows were back-filled into the index
    # ... and into the hourly rollup (0003), which stats read: same figures as the exact path.
    rolled, exact = (logs.aggregate(store_url, by="model", exact=e) for e in (False, True))
    assert rolled[0]["source"] == "hourly rollup"
    assert [(s["group"], s["count"], s["input_tokens"]) for s in rolled] == \
        [(s["group"], s["count"], s["input_tokens"]) for s in exact]


def test_revision_0003_indexes_serve_the_filters(store_url):
    engine = db.open_engine(store_url)
    with engine.connect() as conn:
        parents: list[tuple[str, str]] = []
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: ask which index is usable
            # the table is partitioned (0006): a plan names each partition's index; map it to the parent's
            parents = conn.exec_driver_sql(
                "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind = 'i'").fetchall()

        def plan(sql: str) -> str:
            text = " ".join(str(r) for r in conn.exec_driver_sql(
                ("EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ") + sql).fetchall())
            for child, parent in sorted(parents, key=lambda p: -len(p[0])):  # "_idx1" before "_idx"
                text = text.replace(child, parent)
            return text

        assert "ix_llmwatch_calls_errors" in plan(
            "SELECT id FROM llmwatch_calls WHERE status = 'error' AND status <> 'ok' AND start_time > 0 "
            "ORDER BY start_time DESC LIMIT 50")
        assert "ix_llmwatch_calls_user" in plan("SELECT id FROM llmwatch_calls WHERE user_id = 'alice'")
        assert "ix_llmwatch_calls_model_time" in plan(
            "SELECT id FROM llmwatch_calls WHERE request_model = 'gpt-4o' AND start_time > 0")


def test_opening_an_up_to_date_store_twice_changes_nothing(store_url):
    db.open_engine(store_url)
    db.close_engine(store_url)
    with db.open_engine(store_url).connect() as conn:
        assert db.current_revision(conn) == db.head_revision()


def test_trace_and_prompt_hash_lookups_use_their_day_keyed_indexes(store_url, tmp_path):
    """SQLite keys both indexes by (day, key) (0007); PostgreSQL by partition. Lookups still find
    every call, across days, through the index."""
    from llmwatch.store.backends import backend_for
    from llmwatch.store.models import calls

    day = 86400.0
    base = time.time() - 5 * day
    trace = "ab" * 16
    recs = [make_record(start_time=base + k * day, trace_id=trace, prompt="same prompt") for k in range(4)]
    other = make_record(start_time=base + day, prompt="another prompt")
    write(store_url, [*recs, other], tmp_path)
    assert {c.record_id for c in logs.query(store_url, trace_id=trace)} == {r.record_id for r in recs}
    detail = logs.get(recs[0].record_id, url=store_url)
    assert {c.record_id for c in detail.trace} == {r.record_id for r in recs[1:]}
    phash = logs.get(recs[0].record_id, url=store_url).call.prompt_hash
    assert logs.count(store_url, prompt_hash=phash) == 4
    engine = db.open_engine(store_url)
    if engine.dialect.name == "sqlite":
        backend = backend_for(engine)
        with engine.connect() as conn:
            for col, value, index in (("trace_id", trace, "ix_llmwatch_calls_trace"),
                                      ("prompt_hash", phash, "ix_llmwatch_calls_prompt_hash")):
                sql = str(sa.select(calls.c.id).where(backend.keyed(col, value)).compile(
                    engine, compile_kwargs={"literal_binds": True}))
                plan = " ".join(str(r) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
                assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan
