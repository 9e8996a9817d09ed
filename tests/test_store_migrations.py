"""A user's existing prompt log upgrades in place: from the first revision to the newest."""

from __future__ import annotations

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
        assert db.current_revision(conn) == db.head_revision() == "0002"
    assert logs.get(old.record_id, url=store_url).call.input_messages == old.input_messages
    assert {c.record_id for c in logs.query(store_url, text="refund")} == {old.record_id, new.record_id}
    assert logs.count(store_url, text="legacy") == 1  # old rows were back-filled into the index


def test_opening_an_up_to_date_store_twice_changes_nothing(store_url):
    db.open_engine(store_url)
    db.close_engine(store_url)
    with db.open_engine(store_url).connect() as conn:
        assert db.current_revision(conn) == db.head_revision()
