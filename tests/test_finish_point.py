"""One finish point per call: every call the app made is stored once, priced by one rule.

Real parts: the real ``openai`` client against the bundled simulator (which can answer with a body
of the wrong shape, like a server that is only nearly OpenAI-compatible), the real OTel SDK and a
real SQLite prompt log.
"""

from __future__ import annotations

import openai
import pytest

from llmwatch import logs
from llmwatch import names as n
from llmwatch.usage.pricing import PriceTable, price

USER = [{"role": "user", "content": "hello there"}]


@pytest.mark.parametrize("shape", ["wrong-types", "text-usage"])
def test_a_200_of_the_wrong_shape_is_still_stored_once_with_usage_unknown(observe, sim, tmp_path, shape):
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    o = observe(store=True, store_url=url, store_spool_dir=str(tmp_path / "spool"))
    client = openai.OpenAI(base_url=sim.base_url, api_key="k", max_retries=0)
    got = client.chat.completions.create(model="gpt-4o-mini", messages=USER, extra_headers={"x-sim-shape": shape})
    assert got is not None  # the app gets the SDK's object, whatever its shape
    o.flush()
    import llmwatch

    llmwatch.flush()
    assert len(o.records()) == 1
    rec = o.records()[0]
    assert rec.input_tokens is None and rec.output_tokens is None and rec.cost_usd is None
    assert not rec.tokens_estimated  # nothing readable to estimate from: unknown, not a guess
    assert rec.request_model == "gpt-4o-mini" and rec.response_model  # what could be read is kept
    assert "response_anomaly" in rec.metadata
    (span,) = o.spans()
    assert n.LLMWATCH_RESPONSE_ANOMALY in span.attributes
    assert n.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes
    assert o.value("llmwatch_internal_errors_total", llmwatch_component="response_shape") == 1
    assert o.value("llmwatch_internal_errors_total", llmwatch_component="span_end") == 0
    llmwatch.shutdown()
    stored = logs.query(url=url, limit=10)
    assert len(stored) == 1 and stored[0].record_id == rec.record_id


def test_a_good_response_has_no_anomaly(observe, client):
    o = observe()
    client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    o.flush()
    (rec,) = o.records()
    assert "response_anomaly" not in rec.metadata and rec.input_tokens and rec.cost_usd is not None
    assert o.value("llmwatch_internal_errors_total") == 0


def test_price_falls_back_to_the_request_model_and_unknown_is_never_zero():
    table = PriceTable.load()
    served = price(table, "gpt-4o-mini-2099-12-31-preview", "gpt-4o-mini", 1000, 100)
    assert served.billable and served.usd == table.cost("gpt-4o-mini", 1000, 100)
    unknown = price(table, "my-own-model", "my-own-model", 1000, 100)
    assert unknown.billable and unknown.usd is None and unknown.unknown
    assert not price(table, "gpt-4o-mini", None, None, 100).billable  # no usage: nothing to price
    assert not price(table, "gpt-4o-mini", None, 10, 10, failed=True).billable
    assert not price(table, "gpt-4o-mini", None, "ten", 10).billable  # type: ignore[arg-type]


def test_a_framework_llm_run_is_priced_by_the_same_rule_as_an_sdk_call(observe):
    """An LLM run reported by an integration (LangChain / LlamaIndex) whose response model has no
    price falls back to the request model, exactly as an instrumented SDK call does (the copies
    used to disagree: this one priced the response model only, so the run was "unknown")."""
    import llmwatch
    from llmwatch.tracing.decorators import current_state
    from llmwatch.tracing.parent_spans import LLMUsage, Node

    o = observe()
    usage = LLMUsage("chat", "openai", "gpt-4o-mini", "ChatOpenAI")
    node = Node(current_state(), "llm", None, source="langchain", llm=usage)
    usage.response_model, usage.input_tokens, usage.output_tokens = "gpt-4o-mini-2099-12-31-preview", 1000, 100
    node.end()
    llmwatch.flush()
    (rec,) = o.records()
    assert rec.cost_usd == PriceTable.load().cost("gpt-4o-mini", 1000, 100)
    (span,) = o.spans()
    assert span.attributes[n.LLMWATCH_COST_USD] == rec.cost_usd


def test_a_provider_stream_without_usage_is_estimated_in_and_out_and_priced_as_generative(observe):
    """Another provider's chat (Bedrock Converse here) with no usage: both counts are estimated from
    the normalised content and the estimate is priced with the output (not as if input-only)."""
    from prometheus_client import CollectorRegistry

    from llmwatch.metrics.instruments import Instruments
    from llmwatch.record import CallRecord
    from llmwatch.usage.estimates import Estimator

    rec = CallRecord(operation="chat", provider="aws.bedrock", request_model="anthropic.claude-sonnet-4-5-20250929-v1:0",
                     start_time=0.0, end_time=1.0, request_params={"api": "aws.bedrock.converse"})
    rec.raw_request = {"modelId": rec.request_model, "messages": []}
    rec.input_messages = [{"role": "user", "parts": [{"type": "text", "content": "How tall is Mount Fuji?"}]}]
    rec.stream_text = "Mount Fuji is 3,776 metres tall."
    Estimator(Instruments(registry=CollectorRegistry()), PriceTable.load())(rec)
    assert rec.tokens_estimated and rec.input_tokens and rec.output_tokens
    expected = PriceTable.load().cost(rec.request_model, rec.input_tokens, rec.output_tokens)
    assert expected is not None and expected > PriceTable.load().cost(rec.request_model, rec.input_tokens, 0)
    assert rec.cost_usd == expected and rec.cost_estimated  # output priced too, not input-only


def test_with_content_on_spans_the_messages_are_redacted_once_and_counted_once(observe, client):
    """The span's content and the record's messages come from one normalise-and-redact pass: both
    are masked, and the redaction counter counts the secret once, not once per path."""
    import json

    from llmwatch import names

    o = observe(capture_content=True)
    client.chat.completions.create(model="gpt-4o-mini", messages=[
        {"role": "user", "content": "mail jane.doe@example.com about the refund"}])
    o.flush()
    (rec,) = o.records()
    (span,) = o.spans()
    assert "jane.doe" not in json.dumps(rec.input_messages) and "[REDACTED:email]" in json.dumps(rec.input_messages)
    assert "jane.doe" not in span.attributes[names.GEN_AI_INPUT_MESSAGES]
    assert rec.messages_redacted is None and rec.metadata.get("redacted") is True
    assert o.value("llmwatch_redactions_total", llmwatch_redaction_kind="email") == 1


def test_counters_summed_over_a_batch_equal_the_per_call_totals():
    from prometheus_client import CollectorRegistry

    from llmwatch.metrics.instruments import Instruments

    registry = CollectorRegistry()
    ins = Instruments(registry=registry)
    with ins.batch():
        for _ in range(3):
            ins.priced("openai", "m", "m", 0.25, False)
            ins.priced("openai", "x", "x", None, False)
        assert registry.get_sample_value(n.COST.prom_name, {"gen_ai_provider_name": "openai"}) is None
    labels = {"gen_ai_provider_name": "openai", "gen_ai_request_model": "m", "gen_ai_response_model": "m",
              "llmwatch_estimated": "false"}
    assert registry.get_sample_value(n.COST.prom_name, labels) == 0.75
    unknown = {"gen_ai_provider_name": "openai", "gen_ai_request_model": "x", "gen_ai_response_model": "x"}
    assert registry.get_sample_value(n.UNKNOWN_PRICE_CALLS.prom_name, unknown) == 3
