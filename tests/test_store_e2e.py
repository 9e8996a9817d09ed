"""End to end: the real SDK patches the real openai client, calls a local OpenAI-compatible server,
and every call lands in the prompt log, queryable through llmwatch.logs and the CLI."""

from __future__ import annotations

import json

import openai
from prometheus_client import CollectorRegistry

import llmwatch
from llmwatch import logs
from llmwatch.cli import main as cli
from llmwatch.testing.simulator import Simulator
from llmwatch.store import db


def test_calls_made_through_the_sdk_are_stored_and_queryable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LLMWATCH_STORE_SPOOL_DIR", str(tmp_path / "spool"))
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    llmwatch.init(store_url=url, prometheus=False, registry=CollectorRegistry())
    try:
        with Simulator() as sim:
            client = openai.OpenAI(base_url=sim.base_url, api_key="x")
            client.chat.completions.create(model="gpt-4o-mini",
                                           messages=[{"role": "user", "content": "Where is my refund?"}])
            stream = client.chat.completions.create(model="gpt-4o", stream=True,
                                                    messages=[{"role": "user", "content": "Tell me a joke"}])
            for _ in stream:
                pass
    finally:
        llmwatch.shutdown()
    try:
        calls = {c.request_model: c for c in logs.query(url)}
        assert set(calls) == {"gpt-4o-mini", "gpt-4o"}
        chat = calls["gpt-4o-mini"]
        assert chat.status == "ok" and chat.trace_id and chat.span_id and chat.duration > 0
        assert "refund" in chat.prompt_text and chat.output_text
        assert calls["gpt-4o"].streamed and calls["gpt-4o"].output_text
        assert [c.record_id for c in logs.query(url, text="refund")] == [chat.record_id]
        assert cli(["logs", "--url", url, "query", "--format", "json"]) == 0
        assert len(json.loads(capsys.readouterr().out)) == 2
    finally:
        db.close_engine(url)
