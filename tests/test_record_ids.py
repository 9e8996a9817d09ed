"""Record ids are time-ordered UUIDv7s; `llmwatch logs` prints and accepts their random tail, and
the prefixes it printed for older (uuid4) calls still resolve."""

from __future__ import annotations

import time
import uuid

import pytest
from tests.test_store_support import make_record, store_url, write  # noqa: F401

from llmwatch import logs
from llmwatch.cli import main as cli
from llmwatch.record import new_record_id, short_id
from llmwatch.scoring.worker import sampled
from llmwatch.store.query import QueryError


def test_ids_are_version_7_uuids_carrying_the_time_in_order():
    before = time.time_ns() // 1_000_000
    ids = [new_record_id() for _ in range(2000)]
    after = time.time_ns() // 1_000_000
    for rid in ids[:50]:
        u = uuid.UUID(rid)
        assert (u.version, u.variant) == (7, uuid.RFC_4122) and len(rid) == 32
        assert before <= int(rid[:12], 16) <= after
    assert [i[:12] for i in ids] == sorted(i[:12] for i in ids)  # the clock part never goes back
    assert len(set(ids)) == len(ids) and len({short_id(i) for i in ids}) == len(ids)  # tails are random


def test_sampling_reads_the_random_tail_not_the_clock():
    ids = [new_record_id() for _ in range(4000)]  # all within a few milliseconds: same leading digits
    share = sum(sampled(i, 0.25) for i in ids) / len(ids)
    assert 0.2 < share < 0.3


def test_short_ids_and_old_prefixes_resolve(store_url, tmp_path, capsys):
    new = make_record()
    new.record_id = new_record_id()
    old = make_record()
    old.record_id = uuid.uuid4().hex  # a call stored before ids were time-ordered
    write(store_url, [new, old], tmp_path)
    assert logs.get(short_id(new.record_id), url=store_url).call.record_id == new.record_id
    assert logs.get(old.record_id[:8], url=store_url).call.record_id == old.record_id
    assert logs.get(new.record_id, url=store_url).call.record_id == new.record_id
    assert cli(["logs", "--url", store_url, "query", "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert short_id(new.record_id) in table and new.record_id[:12] not in table
    assert cli(["logs", "--url", store_url, "show", short_id(new.record_id)]) == 0
    assert new.record_id in capsys.readouterr().out


def test_a_short_id_two_calls_share_is_ambiguous(store_url, tmp_path):
    a, b = make_record(), make_record()
    a.record_id = "0" * 24 + "deadbeef"
    b.record_id = "1" * 24 + "deadbeef"
    write(store_url, [a, b], tmp_path)
    with pytest.raises(QueryError, match="ambiguous"):
        logs.get("deadbeef", url=store_url)
    with pytest.raises(QueryError, match="last digits"):
        logs.get("xyz", url=store_url)
