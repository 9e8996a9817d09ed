"""Anthropic's Messages API becomes GenAI-semconv spans, metrics and records — with the real client.

The real ``anthropic`` client talks to the bundled simulator's Anthropic wire format on 127.0.0.1
(``base_url=sim.url``: the SDK's paths already start with ``/v1``).
"""

from __future__ import annotations

import asyncio
import gc
import json

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import StatusCode

import llmwatch
from llmwatch import names as n
from llmwatch.usage.pricing import PriceTable, price

anthropic = pytest.importorskip("anthropic")

MODEL = "claude-haiku-4-5"
USER = [{"role": "user", "content": "Tell me about observability."}]
WEATHER = {"name": "get_weather", "description": "Current weather in a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
ASK_WEATHER = [{"role": "user", "content": "What is the weather in Paris?"}]
TOKENS_SUM = n.TOKEN_USAGE.prom_name + "_sum"
DURATION_COUNT = n.OPERATION_DURATION.prom_name + "_count"


@pytest.fixture
def client(sim):
    return anthropic.Anthropic(base_url=sim.url, api_key="sk-ant-test", max_retries=0)


@pytest.fixture
def aclient(sim):
    return anthropic.AsyncAnthropic(base_url=sim.url, api_key="sk-ant-test", max_retries=0)


def only(spans, name=None):
    ours = [s for s in spans if s.instrumentation_scope.name.startswith("llmwatch")]
    assert len(ours) == 1, [s.name for s in spans]
    if name:
        assert ours[0].name == name
    return ours[0]


def ours(spans):
    return [s for s in spans if s.instrumentation_scope.name.startswith("llmwatch")]


def total_input(usage):
    return usage.input_tokens + (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)


def expected_cost(usage):
    return price(PriceTable.load(), MODEL, MODEL, total_input(usage), usage.output_tokens,
                 usage.cache_read_input_tokens or 0).usd


# ------------------------------------------------------------------------------------ plain calls
def test_messages_create_becomes_a_chat_span_with_anthropics_usage(observe, client):
    o = observe()
    msg = client.messages.create(model=MODEL, max_tokens=300, messages=USER, stop_sequences=["END"],
                                 extra_body={"temperature": 0.3, "top_p": 0.9, "top_k": 40})
    span = only(o.spans(), f"chat {MODEL}")
    a = span.attributes
    assert a[n.GEN_AI_OPERATION_NAME] == "chat"
    assert a[n.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert a[n.GEN_AI_REQUEST_MODEL] == MODEL and a[n.GEN_AI_RESPONSE_MODEL] == msg.model
    assert a[n.GEN_AI_RESPONSE_ID] == msg.id
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["stop"] and msg.stop_reason == "end_turn"
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == msg.usage.input_tokens
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == msg.usage.output_tokens
    assert (a[n.GEN_AI_REQUEST_TEMPERATURE], a[n.GEN_AI_REQUEST_TOP_P], a[n.GEN_AI_REQUEST_TOP_K]) == (0.3, 0.9, 40)
    assert a[n.GEN_AI_REQUEST_MAX_TOKENS] == 300
    assert list(a[n.GEN_AI_REQUEST_STOP_SEQUENCES]) == ["END"]
    assert a[n.SERVER_ADDRESS] == "127.0.0.1" and isinstance(a[n.SERVER_PORT], int)
    assert n.GEN_AI_INPUT_MESSAGES not in a and n.GEN_AI_SYSTEM_INSTRUCTIONS not in a, "content is off by default"
    assert span.status.status_code != StatusCode.ERROR
    assert o.value(DURATION_COUNT, gen_ai_provider_name="anthropic", gen_ai_request_model=MODEL, error_type="") == 1
    assert o.value(TOKENS_SUM, gen_ai_token_type="input") == msg.usage.input_tokens
    assert o.value(TOKENS_SUM, gen_ai_token_type="output") == msg.usage.output_tokens
    rec = only_record(o)
    assert (rec.provider, rec.operation, rec.response_id) == ("anthropic", "chat", msg.id)
    assert (rec.input_tokens, rec.output_tokens) == (msg.usage.input_tokens, msg.usage.output_tokens)
    assert rec.finish_reasons == ["stop"]
    assert rec.request_params["api"] == "anthropic.messages" and rec.request_params["top_k"] == 40
    assert rec.input_messages == [{"role": "user", "parts": [{"type": "text", "content": USER[0]["content"]}]}]
    assert rec.output_messages[0]["parts"] == [{"type": "text", "content": msg.content[0].text}]
    cost = expected_cost(msg.usage)
    assert rec.cost_usd == cost
    if cost is None:  # the price table has no entry for the model: unknown, never $0
        assert a[n.LLMWATCH_COST_UNKNOWN] is True and n.LLMWATCH_COST_USD not in a
    else:
        assert a[n.LLMWATCH_COST_USD] == pytest.approx(cost) and cost > 0


def only_record(o):
    records = o.records()
    assert len(records) == 1, records
    return records[0]


def test_cache_read_and_write_tokens_count_as_input_as_semconv_asks(observe, client):
    o = observe()
    msg = client.messages.create(model=MODEL, max_tokens=100, messages=USER,
                                 extra_headers={"x-sim-cached-tokens": "5", "x-sim-cache-write-tokens": "3"})
    assert (msg.usage.cache_read_input_tokens, msg.usage.cache_creation_input_tokens) == (5, 3)
    a = only(o.spans()).attributes
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == total_input(msg.usage) == msg.usage.input_tokens + 8
    assert a[n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 5
    assert a[n.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] == 3
    assert o.value(TOKENS_SUM, gen_ai_token_type="input") == total_input(msg.usage)
    rec = only_record(o)
    assert rec.input_tokens == total_input(msg.usage) and rec.cached_input_tokens == 5


def test_stop_reasons_map_to_the_semconv_finish_reasons(observe, client):
    o = observe()
    short = client.messages.create(model=MODEL, max_tokens=3, messages=USER)
    cut = client.messages.create(model=MODEL, max_tokens=300, messages=USER, stop_sequences=["the", "a"])
    tool = client.messages.create(model=MODEL, max_tokens=300, messages=ASK_WEATHER, tools=[WEATHER])
    assert (short.stop_reason, cut.stop_reason, tool.stop_reason) == ("max_tokens", "stop_sequence", "tool_use")
    reasons = [list(s.attributes[n.GEN_AI_RESPONSE_FINISH_REASONS]) for s in ours(o.spans())]
    assert reasons == [["length"], ["stop"], ["tool_calls"]]


def test_system_prompt_and_content_are_on_spans_only_with_content_capture(observe, client):
    o = observe(capture_content=True)
    system = [{"type": "text", "text": "You are terse."}, {"type": "text", "text": "Answer in English."}]
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    msg = client.messages.create(model=MODEL, max_tokens=100, system=system, messages=[
        {"role": "user", "content": [{"type": "text", "text": "What is in the picture?"}, image]}])
    client.messages.create(model=MODEL, max_tokens=100, system="Plain string system.", messages=USER)
    first, second = ours(o.spans())
    assert json.loads(first.attributes[n.GEN_AI_SYSTEM_INSTRUCTIONS]) == [
        {"type": "text", "content": "You are terse."}, {"type": "text", "content": "Answer in English."}]
    assert json.loads(first.attributes[n.GEN_AI_INPUT_MESSAGES]) == [{"role": "user", "parts": [
        {"type": "text", "content": "What is in the picture?"},
        {"type": "blob", "modality": "image", "mime_type": "image/png"}]}]
    out = json.loads(first.attributes[n.GEN_AI_OUTPUT_MESSAGES])
    assert out == [{"role": "assistant", "parts": [{"type": "text", "content": msg.content[0].text}],
                    "finish_reason": "stop"}]
    assert json.loads(second.attributes[n.GEN_AI_SYSTEM_INSTRUCTIONS]) == [
        {"type": "text", "content": "Plain string system."}]
    rec = o.records()[1]
    assert rec.system_instructions == [{"type": "text", "content": "Plain string system."}]


def test_stored_content_is_redacted_by_default(observe, client):
    o = observe(store_capture_content=True)
    client.messages.create(model=MODEL, max_tokens=50, system="Escalate to alice@example.com",
                           messages=[{"role": "user", "content": "My email is bob@example.com"}])
    rec = only_record(o)
    stored = json.dumps([rec.system_instructions, rec.input_messages])
    assert "bob@example.com" not in stored and "alice@example.com" not in stored


# ------------------------------------------------------------------------------------ tools
def test_tool_use_and_tool_definitions_are_captured(observe, client):
    o = observe(capture_content=True)
    msg = client.messages.create(model=MODEL, max_tokens=300, messages=ASK_WEATHER, tools=[WEATHER])
    block = msg.content[0]
    assert block.type == "tool_use"
    a = only(o.spans()).attributes
    assert json.loads(a[n.GEN_AI_TOOL_DEFINITIONS]) == [WEATHER]
    assert json.loads(a[n.GEN_AI_OUTPUT_MESSAGES])[0]["parts"] == [
        {"type": "tool_call", "id": block.id, "name": "get_weather", "arguments": block.input}]
    assert only_record(o).output_messages[0]["finish_reason"] == "tool_calls"


def test_tool_results_in_the_history_become_tool_call_responses(observe, client):
    o = observe()
    history = ASK_WEATHER + [
        {"role": "assistant", "content": [{"type": "text", "text": "Let me check."},
                                          {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                                           "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                      "content": [{"type": "text", "text": "18C and sunny"}]}]},
    ]
    msg = client.messages.create(model=MODEL, max_tokens=200, messages=history, tools=[WEATHER])
    assert msg.content[0].type == "text", "a tool result is answered, not called again"
    rec = only_record(o)
    assert rec.input_messages[1:] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Let me check."},
                                        {"type": "tool_call", "id": "toolu_1", "name": "get_weather",
                                         "arguments": {"city": "Paris"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "toolu_1", "response": "18C and sunny"}]},
    ]


def test_streamed_tool_use_assembles_its_arguments_from_input_json_deltas(observe, client):
    o = observe()
    events = list(client.messages.create(model=MODEL, max_tokens=300, messages=ASK_WEATHER, tools=[WEATHER],
                                         stream=True))
    start = next(e for e in events if e.type == "content_block_start")
    args = "".join(e.delta.partial_json for e in events if e.type == "content_block_delta")
    span = only(o.spans())
    assert list(span.attributes[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["tool_calls"]
    rec = only_record(o)
    assert rec.metadata["tool_calls"] == [{"id": start.content_block.id, "name": "get_weather", "arguments": args}]
    assert rec.output_messages[0]["parts"] == [
        {"type": "tool_call", "id": start.content_block.id, "name": "get_weather", "arguments": json.loads(args)}]


# ------------------------------------------------------------------------------------ streams
def test_streamed_create_reports_the_usage_text_and_stop_reason_of_its_events(observe, client):
    o = observe()
    events = list(client.messages.create(model=MODEL, max_tokens=300, messages=USER, stream=True,
                                         extra_headers={"x-sim-chunks": "6", "x-sim-cached-tokens": "2"}))
    start = events[0].message
    final = next(e for e in events if e.type == "message_delta")
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    a = only(o.spans()).attributes
    assert a[n.GEN_AI_RESPONSE_ID] == start.id and a[n.GEN_AI_RESPONSE_MODEL] == start.model
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == total_input(start.usage)
    assert a[n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 2
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == final.usage.output_tokens
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["stop"]
    assert a[n.GEN_AI_REQUEST_STREAM] is True
    assert a[n.LLMWATCH_STREAM_CHUNKS] == len(events) and a[n.LLMWATCH_TIME_TO_FIRST_CHUNK] > 0
    rec = only_record(o)
    assert rec.streamed and rec.stream_text == text and rec.output_tokens == final.usage.output_tokens
    assert rec.output_messages == [{"role": "assistant", "parts": [{"type": "text", "content": text}],
                                    "finish_reason": "stop"}]


def test_stream_helper_is_observed_once_with_the_final_message(observe, client):
    o = observe()
    with client.messages.stream(model=MODEL, max_tokens=300, messages=USER) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    a = only(o.spans(), f"chat {MODEL}").attributes
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == total_input(final.usage)
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == final.usage.output_tokens
    assert n.LLMWATCH_STREAM_ABANDONED not in a
    assert only_record(o).stream_text == text == final.content[0].text


def test_stream_abandoned_midway_still_ends_the_span(observe, client):
    o = observe()
    stream = client.messages.create(model=MODEL, max_tokens=300, messages=USER, stream=True,
                                    extra_headers={"x-sim-chunks": "10"})
    it = iter(stream)
    next(it), next(it), next(it)
    del stream, it
    gc.collect()
    a = only(o.spans()).attributes
    assert a[n.LLMWATCH_STREAM_ABANDONED] is True
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] > 0, "message_start's usage is kept"


def test_stream_helper_left_early_ends_the_span_as_abandoned(observe, client):
    o = observe()
    with client.messages.stream(model=MODEL, max_tokens=300, messages=USER) as stream:
        next(iter(stream.text_stream))
    assert only(o.spans()).attributes[n.LLMWATCH_STREAM_ABANDONED] is True


def test_stream_broken_by_the_server_records_the_error_and_reraises_it(observe, client):
    o = observe()
    with pytest.raises(Exception) as info:
        for _ in client.messages.create(model=MODEL, max_tokens=300, messages=USER, stream=True,
                                        extra_headers={"x-sim-disconnect": "1"}):
            pass
    span = only(o.spans())
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes[n.ERROR_TYPE] == type(info.value).__qualname__


# ------------------------------------------------------------------------------------ errors
def test_api_error_reaches_the_app_unchanged_and_marks_span_and_record(observe, client):
    headers = {"x-sim-error": "529"}
    with pytest.raises(anthropic.APIStatusError) as bare:
        client.messages.create(model=MODEL, max_tokens=10, messages=USER, extra_headers=headers)
    o = observe()
    with pytest.raises(anthropic.APIStatusError) as seen:
        client.messages.create(model=MODEL, max_tokens=10, messages=USER, extra_headers=headers)
    overloaded = type(bare.value)  # OverloadedError (InternalServerError in SDKs before it existed)
    assert type(seen.value) is overloaded and seen.value.status_code == 529
    assert str(seen.value) == str(bare.value)
    assert seen.value.body == {"type": "error", "error": {"type": "overloaded_error",
                                                          "message": bare.value.body["error"]["message"]}}
    span = only(o.spans())
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes[n.ERROR_TYPE] == overloaded.__qualname__
    rec = only_record(o)
    assert rec.status == "error" and rec.error_type == overloaded.__qualname__ and rec.cost_usd is None
    assert o.value(DURATION_COUNT, error_type=overloaded.__qualname__) == 1


def test_usage_missing_from_the_reply_leaves_tokens_and_cost_unknown(observe, client):
    o = observe(estimate_tokens=False)
    client.messages.create(model=MODEL, max_tokens=50, messages=USER, extra_headers={"x-sim-omit-usage": "1"})
    a = only(o.spans()).attributes
    assert n.GEN_AI_USAGE_INPUT_TOKENS not in a and n.LLMWATCH_COST_USD not in a
    assert only_record(o).cost_usd is None


# ------------------------------------------------------------------------------------ surfaces
def test_beta_messages_and_raw_responses_are_observed(observe, client):
    o = observe()
    beta = client.beta.messages.create(model=MODEL, max_tokens=50, messages=USER)
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=50, messages=USER)
    parsed = raw.parse()
    with client.messages.with_streaming_response.create(model=MODEL, max_tokens=50, messages=USER) as resp:
        streamed = resp.parse()
    spans = ours(o.spans())
    assert len(spans) == 3
    assert [s.attributes[n.GEN_AI_RESPONSE_ID] for s in spans] == [beta.id, parsed.id, streamed.id]
    assert spans[0].attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == beta.usage.output_tokens


def test_count_tokens_passes_through_unobserved(observe, client):
    o = observe()
    counted = client.messages.count_tokens(model=MODEL, messages=USER)
    assert counted.input_tokens > 0
    assert ours(o.spans()) == [] and o.records() == []


def test_async_create_stream_and_stream_helper_are_observed(observe, aclient):
    o = observe()

    async def main():
        msg = await aclient.messages.create(model=MODEL, max_tokens=100, messages=USER)
        events = [e async for e in await aclient.messages.create(model=MODEL, max_tokens=100, messages=USER,
                                                                 stream=True)]
        async with aclient.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
            final = await stream.get_final_message()
        beta = await aclient.beta.messages.create(model=MODEL, max_tokens=100, messages=USER)
        return msg, events, final, beta

    msg, events, final, beta = asyncio.run(main())
    spans = ours(o.spans())
    assert len(spans) == 4
    outputs = [s.attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] for s in spans]
    delta = next(e for e in events if e.type == "message_delta")
    assert outputs == [msg.usage.output_tokens, delta.usage.output_tokens, final.usage.output_tokens,
                       beta.usage.output_tokens]
    assert spans[1].attributes[n.GEN_AI_USAGE_INPUT_TOKENS] == total_input(events[0].message.usage)


def test_async_stream_closed_early_is_ended_as_abandoned(observe, aclient):
    o = observe()

    async def main():
        stream = await aclient.messages.create(model=MODEL, max_tokens=100, messages=USER, stream=True)
        async for _ in stream:
            break
        await stream.close()

    asyncio.run(main())
    assert only(o.spans()).attributes[n.LLMWATCH_STREAM_ABANDONED] is True


def test_async_api_error_reaches_the_app_unchanged(observe, aclient):
    o = observe()

    async def main():
        await aclient.messages.create(model=MODEL, max_tokens=10, messages=USER, extra_headers={"x-sim-error": "429"})

    with pytest.raises(anthropic.RateLimitError):
        asyncio.run(main())
    assert only(o.spans()).attributes[n.ERROR_TYPE] == "RateLimitError"


def test_request_context_and_workflow_parent_apply_unchanged(observe, client):
    o = observe()
    with llmwatch.context(session_id="s-a", user_id="u-a"), llmwatch.workflow("answer"):
        client.messages.create(model=MODEL, max_tokens=50, messages=USER)
    spans = o.spans()
    wf = next(s for s in spans if s.name == "invoke_workflow answer")
    chat = next(s for s in spans if s.name == f"chat {MODEL}")
    assert chat.parent is not None and chat.parent.span_id == wf.context.span_id
    assert chat.context.trace_id == wf.context.trace_id
    assert chat.attributes["session.id"] == "s-a"
    rec = next(r for r in o.records() if r.operation == "chat")
    assert (rec.session_id, rec.user_id) == ("s-a", "u-a")


def test_shutdown_restores_the_exact_original_methods(observe, client):
    from anthropic import _base_client

    before = (_base_client.SyncAPIClient.__dict__["request"], _base_client.AsyncAPIClient.__dict__["request"])
    o = observe()
    assert _base_client.SyncAPIClient.__dict__["request"] is not before[0]
    client.messages.create(model=MODEL, max_tokens=10, messages=USER)
    assert len(ours(o.spans())) == 1
    llmwatch.shutdown()
    after = (_base_client.SyncAPIClient.__dict__["request"], _base_client.AsyncAPIClient.__dict__["request"])
    assert after[0] is before[0] and after[1] is before[1]
    client.messages.create(model=MODEL, max_tokens=10, messages=USER)
    assert len(ours(o.exporter.get_finished_spans())) == 1, "no span once shut down"


def test_provider_name_is_the_one_the_client_class_declares(observe, sim):
    class BedrockLike(anthropic.Anthropic):  # what AnthropicBedrock declares, without needing AWS credentials
        _gen_ai_provider_name = n.PROVIDER_AWS_BEDROCK

    o = observe()
    BedrockLike(base_url=sim.url, api_key="k", max_retries=0).messages.create(model=MODEL, max_tokens=10,
                                                                                messages=USER)
    assert only(o.spans()).attributes[n.GEN_AI_PROVIDER_NAME] == "aws.bedrock"
    assert only_record(o).provider == "aws.bedrock"


def test_the_sdks_own_call_span_is_off_by_default_so_usage_is_not_on_two_spans(observe, sim):
    """anthropic SDKs with built-in tracing start their own GenAI span inside ``request``; while
    llmwatch observes the call that second span (with the same usage) is off unless sdk_spans=True."""
    o = observe()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(o.exporter))
    try:
        traced = anthropic.Anthropic(base_url=sim.url, api_key="k", max_retries=0,
                                     open_telemetry={"tracer_provider": provider})
    except TypeError:
        pytest.skip("this anthropic SDK has no built-in tracing")
    traced.messages.create(model=MODEL, max_tokens=10, messages=USER)
    assert len(o.spans()) == 1 and only(o.spans()).attributes[n.GEN_AI_USAGE_INPUT_TOKENS]


def test_with_sdk_spans_the_sdks_own_call_span_nests_beneath_the_llmwatch_span(observe, sim):
    """sdk_spans=True keeps the SDK's own span; it is a child of llmwatch's."""
    o = observe(sdk_spans=True)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(o.exporter))
    try:
        traced = anthropic.Anthropic(base_url=sim.url, api_key="k", max_retries=0,
                                     open_telemetry={"tracer_provider": provider})
    except TypeError:
        pytest.skip("this anthropic SDK has no built-in tracing")
    traced.messages.create(model=MODEL, max_tokens=10, messages=USER)
    spans = o.spans()
    ours_span = only(spans)
    sdk = [s for s in spans if s is not ours_span]
    assert len(sdk) == 1 and sdk[0].parent.span_id == ours_span.context.span_id


def test_usage_missing_from_a_stream_is_estimated_from_the_anthropic_content(observe, client):
    o = observe(estimate_tokens=True)
    for _ in client.messages.create(model=MODEL, max_tokens=50, messages=USER, stream=True, system="Be brief.",
                                    extra_headers={"x-sim-omit-usage": "1"}):
        pass
    assert n.GEN_AI_USAGE_INPUT_TOKENS not in only(o.spans()).attributes
    rec = only_record(o)
    assert rec.tokens_estimated and rec.input_tokens > 0 and rec.output_tokens > 0
    assert o.value(TOKENS_SUM) == 0, "estimates never enter gen_ai_client_token_usage"
