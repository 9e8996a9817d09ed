"""Writing calls into the prompt log: every record once, content rules, redaction, metrics, fork."""

from __future__ import annotations

import dataclasses
import json
import os
import time

import pytest

from tests.promstack import wait_for
from tests.test_store_support import make_record, metric, rows, store_url, write  # noqa: F401

from llmwatch import logs
from llmwatch.config import Config
from llmwatch.options import ConfigError
from llmwatch.store import open_sink
from llmwatch.store.rows import prompt_hash


def test_every_record_is_stored_once_even_when_written_twice(store_url, tmp_path):
    recs = [make_record(tags=["a", "b"]) for _ in range(250)]
    sink = write(store_url, recs + recs[:100], tmp_path)
    assert rows(store_url) == [(250,)]
    assert rows(store_url, "SELECT count(*) FROM llmwatch_call_tags") == [(500,)]
    assert metric(sink, "llmwatch_store_records_written_total") == 350  # accepted; duplicates skipped
    assert metric(sink, "llmwatch_store_records_spooled_total") == 0


def test_stored_row_holds_every_column(store_url, tmp_path):
    rec = make_record(parent_span_id="00f067aa0ba902b7", time_to_first_chunk=0.12, cached_input_tokens=4,
                      reasoning_tokens=2, tokens_estimated=True, status="error", error_type="RateLimitError",
                      session_id="s1", conversation_id="c1", user_id="u1", prompt_template="greet",
                      prompt_template_version="3", metadata={"tenant": "acme"}, streamed=True, cost_usd=None,
                      system_instructions=[{"type": "text", "content": "Be brief."}])
    write(store_url, [rec], tmp_path)
    call = logs.get(rec.record_id, url=store_url).call
    assert (call.trace_id, call.span_id, call.parent_span_id) == (rec.trace_id, rec.span_id, "00f067aa0ba902b7")
    assert call.start_time == rec.start_time and abs(call.duration - 0.5) < 1e-9
    assert call.time_to_first_chunk == 0.12 and call.streamed is True
    assert (call.input_tokens, call.output_tokens, call.cached_input_tokens, call.reasoning_tokens) == (12, 3, 4, 2)
    assert call.total_tokens == 15 and call.tokens_estimated is True
    assert call.cost_usd is None  # unknown price stays unknown, never 0
    assert (call.status, call.error_type) == ("error", "RateLimitError")
    assert (call.session_id, call.conversation_id, call.user_id) == ("s1", "c1", "u1")
    assert (call.prompt_template, call.prompt_template_version) == ("greet", "3")
    assert call.metadata == {"tenant": "acme"}
    assert call.input_messages == rec.input_messages and call.output_messages == rec.output_messages
    assert call.prompt_hash == prompt_hash(rec.system_instructions, rec.input_messages)
    assert json.loads(json.dumps(call.to_json()))["start_time"].endswith("Z")


def test_content_capture_off_keeps_no_prompt_or_output(store_url, tmp_path):
    rec = make_record(prompt="my secret plan")
    config = Config.resolve({"store_capture_content": False, "store_url": store_url}, environ={})
    sink = open_sink(config, registry=__import__("prometheus_client").CollectorRegistry(),
                     spool_dir=tmp_path / "spool")
    sink.write([rec])
    sink.close()
    call = logs.get(rec.record_id, url=store_url).call
    assert call.input_messages is None and call.output_messages is None
    assert call.prompt_hash is not None  # still groupable for compare, reveals no text
    assert logs.count(store_url, text="secret") == 0


def test_the_sinks_redactor_runs_before_anything_is_stored(store_url, tmp_path):
    def mask(rec):
        msgs = [{"role": m["role"], "parts": [{"type": "text", "content": "[REDACTED]"}]} for m in rec.input_messages]
        return dataclasses.replace(rec, input_messages=msgs)

    rec = make_record(prompt="call me at 555-0100")
    write(store_url, [rec], tmp_path, redactor=mask)
    call = logs.get(rec.record_id, url=store_url).call
    assert "555" not in json.dumps(call.input_messages)
    assert rec.input_messages[0]["parts"][0]["content"] == "call me at 555-0100"  # shared record untouched


def test_prompt_hash_ignores_whitespace_keeps_roles_and_can_mask_literals():
    def msgs(text, role="user"):
        return [{"role": role, "parts": [{"type": "text", "content": text}]}]

    assert prompt_hash(None, msgs("Refund  order\n42")) == prompt_hash(None, msgs(" Refund order 42 "))
    assert prompt_hash(None, msgs("hi")) != prompt_hash(None, msgs("hi", role="assistant"))
    assert prompt_hash(None, msgs("order 42")) != prompt_hash(None, msgs("order 43"))
    assert prompt_hash(None, msgs("order 42"), mask_literals=True) == prompt_hash(None, msgs("order 43"), True)
    uid1, uid2 = "3f2a9c1b-1111-4c1d-9a2b-0123456789ab", "00000000-2222-4c1d-9a2b-ba9876543210"
    assert prompt_hash(None, msgs(f"user {uid1}"), True) == prompt_hash(None, msgs(f"user {uid2}"), True)


def test_a_forked_child_writes_its_own_records_and_the_parent_keeps_writing(tmp_path):
    url = f"sqlite:///{tmp_path / 'fork.db'}"
    sink = open_sink(url=url, registry=__import__("prometheus_client").CollectorRegistry(),
                     spool_dir=tmp_path / "spool")
    sink.write([make_record() for _ in range(10)])
    assert sink.flush(30)
    pid = os.fork()
    if pid == 0:  # child: inherited sink must work without the parent's thread or connections
        code = 1
        try:
            sink.write([make_record(user_id="child") for _ in range(20)])
            sink.close()
            code = 0
        finally:
            os._exit(code)
    sink.write([make_record(user_id="parent") for _ in range(30)])
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    sink.close()
    assert rows(url) == [(60,)]
    assert logs.count(url, user="child") == 20 and logs.count(url, user="parent") == 30


def _delayed_sink(url, tmp_path, **options):
    return open_sink(url=url, registry=__import__("prometheus_client").CollectorRegistry(),
                     spool_dir=tmp_path / "spool", retention="none", **options)


def _transactions(sink) -> float:
    return metric(sink, "llmwatch_store_batch_duration_seconds_count")


def test_writes_within_the_commit_delay_share_one_transaction(store_url, tmp_path):
    """Records wait up to ``commit_delay`` for others: five writes (as the SDK's worker makes one
    every 0.2 s on a quiet app) are committed together when flush() asks, not one by one."""
    sink = _delayed_sink(store_url, tmp_path, commit_delay=60.0)
    try:
        recs = [make_record() for _ in range(15)]
        for i in range(5):
            sink.write(recs[3 * i:3 * i + 3])
            time.sleep(0.05)
        time.sleep(0.2)  # room for a writer that (wrongly) did not wait
        assert _transactions(sink) == 0 and rows(store_url) == [(0,)]
        assert sink.flush(30)
        assert rows(store_url) == [(15,)]
        assert _transactions(sink) == 1
        assert metric(sink, "llmwatch_store_records_written_total") == 15
    finally:
        sink.close()


def test_a_full_batch_and_close_do_not_wait_for_the_commit_delay(store_url, tmp_path):
    sink = _delayed_sink(store_url, tmp_path, commit_delay=60.0, batch_size=10)
    sink.write([make_record() for _ in range(25)])
    wait_for(lambda: rows(store_url)[0][0] >= 20, 30, "two full batches, no flush", 0.02)
    sink.close()  # the last five: written by close, not left behind
    assert rows(store_url) == [(25,)]


def test_a_thousand_waiting_calls_commit_without_waiting_for_the_delay(store_url, tmp_path):
    """GROUP_ROWS: more calls per transaction no longer save CPU, they only wait in memory."""
    from llmwatch.store.sink import GROUP_ROWS

    sink = _delayed_sink(store_url, tmp_path, commit_delay=60.0)
    try:
        sink.write([make_record() for _ in range(GROUP_ROWS + 5)])
        wait_for(lambda: rows(store_url)[0][0] >= GROUP_ROWS, 30, "a full group, no flush", 0.02)
    finally:
        sink.close()
    assert rows(store_url) == [(GROUP_ROWS + 5,)]


def test_no_commit_delay_writes_as_records_arrive(store_url, tmp_path):
    sink = _delayed_sink(store_url, tmp_path, commit_delay=0)
    try:
        sink.write([make_record() for _ in range(4)])
        wait_for(lambda: rows(store_url) == [(4,)], 30, "4 rows", 0.02)
        sink.write([make_record() for _ in range(2)])
        wait_for(lambda: rows(store_url) == [(6,)], 30, "6 rows", 0.02)
    finally:
        sink.close()


def test_the_commit_delay_option_is_validated():
    assert Config.resolve({}, environ={}).store_commit_delay == 2.0
    assert Config.resolve({}, environ={"LLMWATCH_STORE_COMMIT_DELAY": "500ms"}).store_commit_delay == 0.5
    for zero in (0, "0", "0.0", "0ms"):
        assert Config.resolve({"store_commit_delay": zero}, environ={}).store_commit_delay == 0.0
    for bad in ("-1", "61s", "2 parsecs", True):
        with pytest.raises(ConfigError, match=r"store_commit_delay.*at most 60s"):
            Config.resolve({"store_commit_delay": bad}, environ={})
