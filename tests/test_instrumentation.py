"""Every openai surface becomes a GenAI-semconv span, metrics and a record — with the real client.

Runs against the simulator on 127.0.0.1 with the real ``openai`` client; under openai 3.x in the
main suite and again under openai 2.54 (``-m openai2``).
"""

from __future__ import annotations

import asyncio
import gc
import json

import openai
import pydantic
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from llmwatch import names as n
from tests.conftest import USER

pytestmark = pytest.mark.openai2

DURATION_COUNT = n.OPERATION_DURATION.prom_name + "_count"
TOKENS_SUM = n.TOKEN_USAGE.prom_name + "_sum"


def only(spans, name=None):
    assert len(spans) == 1, [s.name for s in spans]
    if name:
        assert spans[0].name == name
    return spans[0]


def test_chat_create_becomes_a_semconv_span_with_the_providers_usage(observe, client):
    o = observe()
    resp = client.chat.completions.create(model="gpt-4o-mini", messages=USER, temperature=0.3, top_p=0.9,
                                          max_tokens=200, seed=7, stop=["END"])
    span = only(o.spans(), "chat gpt-4o-mini")
    a = span.attributes
    assert span.kind == SpanKind.CLIENT
    assert a[n.GEN_AI_OPERATION_NAME] == "chat"
    assert a[n.GEN_AI_PROVIDER_NAME] == "openai"
    assert a[n.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert a[n.GEN_AI_RESPONSE_MODEL] == resp.model
    assert a[n.GEN_AI_RESPONSE_ID] == resp.id
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == [c.finish_reason for c in resp.choices]
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == resp.usage.prompt_tokens
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == resp.usage.completion_tokens
    assert a[n.GEN_AI_REQUEST_TEMPERATURE] == 0.3
    assert a[n.GEN_AI_REQUEST_TOP_P] == 0.9
    assert a[n.GEN_AI_REQUEST_MAX_TOKENS] == 200
    assert a[n.GEN_AI_REQUEST_SEED] == 7
    assert list(a[n.GEN_AI_REQUEST_STOP_SEQUENCES]) == ["END"]
    assert a[n.SERVER_ADDRESS] == "127.0.0.1" and isinstance(a[n.SERVER_PORT], int)
    assert n.GEN_AI_INPUT_MESSAGES not in a, "content must be off on spans by default"
    assert span.status.status_code != StatusCode.ERROR
    # metrics: one call; billable tokens equal the provider's usage
    assert o.value(DURATION_COUNT, gen_ai_request_model="gpt-4o-mini", error_type="") == 1
    assert o.value(TOKENS_SUM, gen_ai_token_type="input") == resp.usage.prompt_tokens
    assert o.value(TOKENS_SUM, gen_ai_token_type="output") == resp.usage.completion_tokens
    assert o.value(n.COST.prom_name) > 0
    rec = only(o.records())
    assert rec.input_tokens == resp.usage.prompt_tokens and not rec.tokens_estimated
    assert rec.trace_id == format(span.context.trace_id, "032x")
    assert rec.span_id == format(span.context.span_id, "016x")
    assert rec.cost_usd == pytest.approx(span.attributes[n.LLMWATCH_COST_USD])
    assert rec.input_messages == [{"role": "user", "parts": [{"type": "text", "content": USER[0]["content"]}]}]
    assert rec.output_messages[0]["parts"][0]["content"] == resp.choices[0].message.content


def test_cached_and_reasoning_tokens_are_reported_when_the_provider_gives_them(observe, client):
    o = observe()
    resp = client.chat.completions.create(model="o3-mini", messages=USER,
                                          extra_headers={"x-sim-cached-tokens": "4"})
    a = only(o.spans()).attributes
    assert a[n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == resp.usage.prompt_tokens_details.cached_tokens == 4
    reasoning = resp.usage.completion_tokens_details.reasoning_tokens
    assert reasoning and a[n.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == reasoning


def test_content_capture_puts_semconv_json_on_spans_with_a_length_cap(observe, client):
    o = observe(capture_content=True, content_max_length=64)
    long_text = "x" * 500
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "system", "content": "Be brief."},
                                                              {"role": "user", "content": long_text}])
    a = only(o.spans()).attributes
    inputs = json.loads(a[n.GEN_AI_INPUT_MESSAGES])
    assert inputs[0] == {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]}
    assert inputs[1]["parts"][0]["content"].startswith("x" * 64) and len(inputs[1]["parts"][0]["content"]) < 100
    outputs = json.loads(a[n.GEN_AI_OUTPUT_MESSAGES])
    assert outputs[0]["role"] == "assistant" and outputs[0]["finish_reason"] == "stop"


def test_standard_otel_env_var_turns_content_capture_on(observe, client, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    o = observe()
    client.chat.completions.create(model="gpt-4o", messages=USER)
    assert n.GEN_AI_INPUT_MESSAGES in only(o.spans()).attributes


def test_tool_definitions_and_tool_calls_are_captured(observe, client):
    o = observe(capture_content=True)
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    resp = client.chat.completions.create(model="gpt-4o", tools=tools,
                                          messages=[{"role": "user", "content": "What's the weather in Paris?"}])
    call = resp.choices[0].message.tool_calls[0]
    a = only(o.spans()).attributes
    assert json.loads(a[n.GEN_AI_TOOL_DEFINITIONS])[0]["function"]["name"] == "get_weather"
    out = json.loads(a[n.GEN_AI_OUTPUT_MESSAGES])[0]["parts"]
    assert {"type": "tool_call", "id": call.id, "name": "get_weather",
            "arguments": json.loads(call.function.arguments)} in out


class Answer(pydantic.BaseModel):
    city: str
    population: int


def test_chat_parse_is_observed_although_it_does_not_go_through_create(observe, client):
    o = observe()
    parsed = client.chat.completions.parse(model="gpt-4o", messages=USER, response_format=Answer)
    assert isinstance(parsed.choices[0].message.parsed, Answer)
    a = only(o.spans(), "chat gpt-4o").attributes
    assert a[n.GEN_AI_OUTPUT_TYPE] == "json"
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == parsed.usage.completion_tokens


def test_stream_with_usage_chunk_reports_provider_tokens_and_chunk_timings(observe, client):
    o = observe()
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True,
                                                 stream_options={"include_usage": True},
                                                 extra_headers={"x-sim-chunks": "20"}))
    usage = chunks[-1].usage
    span = only(o.spans())
    a = span.attributes
    assert a[n.GEN_AI_REQUEST_STREAM] is True
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_tokens
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == usage.completion_tokens
    assert a[n.LLMWATCH_STREAM_CHUNKS] == len(chunks)
    assert 0 < a[n.LLMWATCH_TIME_TO_FIRST_CHUNK] <= (span.end_time - span.start_time) / 1e9
    assert o.value(n.TIME_TO_FIRST_CHUNK.prom_name + "_count") == 1
    assert o.value(n.TIME_PER_OUTPUT_CHUNK.prom_name + "_count") == len(chunks) - 1
    rec = only(o.records())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert rec.output_messages[0]["parts"][0]["content"] == text
    assert rec.chunk_count == len(chunks) and not rec.tokens_estimated


def test_stream_without_usage_is_estimated_flagged_and_kept_out_of_billable_tokens(observe, client):
    o = observe()
    for _ in client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True):
        pass
    a = only(o.spans()).attributes
    assert n.GEN_AI_USAGE_INPUT_TOKENS not in a
    rec = only(o.records())
    assert rec.tokens_estimated and rec.input_tokens > 0 and rec.output_tokens > 0
    assert rec.cost_estimated and rec.cost_usd > 0
    assert o.value(TOKENS_SUM) == 0, "estimates never enter gen_ai_client_token_usage"
    assert o.value(n.ESTIMATED_TOKENS.prom_name, gen_ai_token_type="input") == rec.input_tokens
    assert o.value(n.ESTIMATED_TOKENS.prom_name, gen_ai_token_type="output") == rec.output_tokens
    assert o.value(n.COST.prom_name, llmwatch_estimated="true") == pytest.approx(rec.cost_usd)


def test_stream_include_usage_option_injects_stream_options(observe, client):
    o = observe(stream_include_usage=True)
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True))
    assert chunks[-1].usage is not None
    assert only(o.spans()).attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens


def test_stream_helper_is_observed(observe, client):
    o = observe()
    with client.chat.completions.stream(model="gpt-4o", messages=USER,
                                        stream_options={"include_usage": True}) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    a = only(o.spans(), "chat gpt-4o").attributes
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == final.usage.completion_tokens


def test_stream_abandoned_midway_still_ends_span(observe, client):
    o = observe()
    stream = client.chat.completions.create(model="gpt-4o", messages=USER, stream=True,
                                            extra_headers={"x-sim-chunks": "10"})
    next(iter(stream))
    del stream
    gc.collect()
    a = only(o.spans()).attributes
    assert a[n.LLMWATCH_STREAM_ABANDONED] is True


def test_stream_closed_or_left_in_a_with_block_ends_span(observe, client):
    o = observe()
    stream = client.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    next(iter(stream))
    stream.close()
    with client.chat.completions.create(model="gpt-4o", messages=USER, stream=True) as stream2:
        next(iter(stream2))
    spans = o.spans()
    assert len(spans) == 2 and all(s.attributes[n.LLMWATCH_STREAM_ABANDONED] for s in spans)


def test_stream_broken_by_the_server_records_error_and_reraises(observe, client):
    o = observe()
    with pytest.raises(Exception) as info:
        for _ in client.chat.completions.create(model="gpt-4o", messages=USER, stream=True,
                                                extra_headers={"x-sim-disconnect": "1"}):
            pass
    span = only(o.spans())
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes[n.ERROR_TYPE] == type(info.value).__qualname__


def test_responses_create_parse_and_stream(observe, client):
    o = observe(capture_content=True)
    r = client.responses.create(model="gpt-4o", input="Say hi", instructions="Be terse.")
    p = client.responses.parse(model="gpt-4o", input="A city?", text_format=Answer)
    assert isinstance(p.output_parsed, Answer)
    events = list(client.responses.create(model="gpt-4o-mini", input="Stream please", stream=True))
    completed = [e for e in events if e.type == "response.completed"][0].response
    spans = o.spans()
    assert [s.name for s in spans] == ["chat gpt-4o", "chat gpt-4o", "chat gpt-4o-mini"]
    assert spans[0].attributes[n.GEN_AI_USAGE_INPUT_TOKENS] == r.usage.input_tokens
    assert json.loads(spans[0].attributes[n.GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be terse."}]
    assert spans[1].attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == p.usage.output_tokens
    assert spans[2].attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == completed.usage.output_tokens
    assert spans[2].attributes[n.GEN_AI_RESPONSE_ID] == completed.id
    rec = o.records()[2]
    assert rec.output_messages[0]["parts"][0]["content"] == completed.output_text


def test_beta_responses_is_observed_when_the_client_has_it(observe, client):
    beta = getattr(client.beta, "responses", None)
    if beta is None:
        pytest.skip(f"openai {openai.__version__} has no client.beta.responses")
    o = observe()
    beta.create(model="gpt-4o", input="hi")
    only(o.spans(), "chat gpt-4o")


def test_embeddings_moderations_and_legacy_completions(observe, client):
    o = observe()
    e = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], dimensions=64)
    m = client.moderations.create(model="omni-moderation-latest", input="I will hurt you")
    c = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon", max_tokens=5)
    emb, mod, comp = o.spans()
    assert emb.name == "embeddings text-embedding-3-small"
    assert emb.attributes[n.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == len(e.data[0].embedding) == 64
    assert emb.attributes[n.GEN_AI_USAGE_INPUT_TOKENS] == e.usage.prompt_tokens
    assert mod.attributes[n.GEN_AI_OPERATION_NAME] == "moderation"
    assert mod.attributes[n.LLMWATCH_MODERATION_FLAGGED] == m.results[0].flagged
    assert comp.name == "text_completion gpt-3.5-turbo-instruct"
    assert comp.attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == c.usage.completion_tokens
    assert list(comp.attributes[n.GEN_AI_RESPONSE_FINISH_REASONS]) == [c.choices[0].finish_reason]


def test_raw_and_streaming_response_variants(observe, client):
    o = observe()
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=USER)
    assert raw.http_response.status_code == 200
    completion = raw.parse()
    with client.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=USER) as resp:
        streamed = resp.parse()
    raw_stream = client.chat.completions.with_raw_response.create(
        model="gpt-4.1", messages=USER, stream=True, stream_options={"include_usage": True})
    chunks = list(raw_stream.parse())
    spans = o.spans()
    assert [s.name for s in spans] == ["chat gpt-4o", "chat gpt-4o-mini", "chat gpt-4.1"]
    assert spans[0].attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens
    assert spans[1].attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == streamed.usage.completion_tokens
    assert spans[2].attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens


def test_raw_response_accessor_fetched_before_init_is_still_observed(observe, client):
    raw_create = client.chat.completions.with_raw_response.create  # bound before patching
    o = observe()
    raw_create(model="gpt-4o", messages=USER).parse()
    only(o.spans(), "chat gpt-4o")


def test_async_create_stream_parse_and_embeddings(observe, aclient):
    o = observe()

    async def main():
        r = await aclient.chat.completions.create(model="gpt-4o", messages=USER)
        chunks = [c async for c in await aclient.chat.completions.create(
            model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True})]
        p = await aclient.chat.completions.parse(model="gpt-4o", messages=USER, response_format=Answer)
        await aclient.embeddings.create(model="text-embedding-3-small", input="x")
        rr = await aclient.responses.create(model="gpt-4o", input="hi")
        async with aclient.chat.completions.stream(model="gpt-4.1", messages=USER) as s:
            async for _ in s:
                pass
        raw = await aclient.chat.completions.with_raw_response.create(model="gpt-4o", messages=USER)
        raw.parse()
        return r, chunks, p, rr

    r, chunks, p, rr = asyncio.run(main())
    spans = o.spans()
    assert [s.name for s in spans] == ["chat gpt-4o", "chat gpt-4o-mini", "chat gpt-4o",
                                       "embeddings text-embedding-3-small", "chat gpt-4o", "chat gpt-4.1",
                                       "chat gpt-4o"]
    assert spans[0].attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == r.usage.completion_tokens
    assert spans[1].attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens
    assert spans[2].attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == p.usage.completion_tokens
    assert spans[4].attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == rr.usage.output_tokens


def test_async_stream_abandoned_is_ended(observe, aclient):
    o = observe()

    async def main():
        stream = await aclient.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
        async for _ in stream:
            break
        await stream.close()

    asyncio.run(main())
    assert only(o.spans()).attributes[n.LLMWATCH_STREAM_ABANDONED] is True


def test_azure_client_is_observed_with_the_azure_provider_name(observe, sim):
    o = observe()
    az = openai.AzureOpenAI(azure_endpoint=sim.url, api_key="k", api_version="2024-10-21", max_retries=0)
    az.chat.completions.create(model="my-gpt4o-deployment", messages=USER)
    a = only(o.spans()).attributes
    assert a[n.GEN_AI_PROVIDER_NAME] == "azure.ai.openai"
    assert a[n.GEN_AI_REQUEST_MODEL] == "my-gpt4o-deployment"


def test_client_created_before_init_is_observed(sim):
    import llmwatch
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from prometheus_client import CollectorRegistry

    early = openai.OpenAI(base_url=sim.base_url, api_key="x", max_retries=0)
    exporter = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    llmwatch.init(tracer_provider=tp, registry=CollectorRegistry(), store=False)
    try:
        early.chat.completions.create(model="gpt-4o", messages=USER)
        llmwatch.flush()
        assert len(exporter.get_finished_spans()) == 1
    finally:
        llmwatch.shutdown()
