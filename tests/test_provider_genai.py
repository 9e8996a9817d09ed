"""Google Gen AI (``google-genai``) calls become GenAI-semconv spans, metrics and records — with the real client.

The real ``google.genai.Client`` (sync and ``client.aio``) talks to the simulator's Gemini API wire
format (``llmwatch/testing/sim_genai.py``) on 127.0.0.1 through ``HttpOptions(base_url=sim.url)``.
"""

from __future__ import annotations

import asyncio
import gc
import json

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import llmwatch
from llmwatch import names as n
from llmwatch.usage.pricing import PriceTable

genai = pytest.importorskip("google.genai")
types = genai.types
errors = genai.errors

TOKENS_SUM = n.TOKEN_USAGE.prom_name + "_sum"
DURATION_COUNT = n.OPERATION_DURATION.prom_name + "_count"
MODEL = "gemini-2.0-flash"
THINKING = "gemini-2.5-flash"
PROMPT = "Tell me about observability."
WEATHER_TOOL = types.Tool(function_declarations=[types.FunctionDeclaration(
    name="get_weather", description="Weather for a city",
    parameters=types.Schema(type="OBJECT", properties={"city": types.Schema(type="STRING")}, required=["city"]))])


def _options(sim, vertex=False):
    if vertex:
        return types.HttpOptions(base_url=sim.url, api_version="v1beta1")
    return types.HttpOptions(base_url=sim.url, api_version="v1beta")


@pytest.fixture
def gclient(sim):
    return genai.Client(api_key="test", http_options=_options(sim))


def headers(**values):
    return types.HttpOptions(headers={f"x-sim-{k.replace('_', '-')}": str(v) for k, v in values.items()})


def only(spans, name=None):
    assert len(spans) == 1, [s.name for s in spans]
    if name:
        assert spans[0].name == name
    return spans[0]


def assert_cost(span, rec, model, input_tokens, output_tokens, cached=0):
    """Cost is the price table's, or unknown (never $0) for a model the table lacks."""
    expected = PriceTable.load().cost(model, input_tokens, output_tokens, cached)
    if expected is None:
        assert span.attributes[n.LLMWATCH_COST_UNKNOWN] is True
        assert rec.cost_usd is None
    else:
        assert span.attributes[n.LLMWATCH_COST_USD] == pytest.approx(expected)
        assert rec.cost_usd == pytest.approx(expected)


def test_generate_content_becomes_a_semconv_span_with_geminis_usage(observe, gclient):
    o = observe()
    config = types.GenerateContentConfig(temperature=0.3, top_p=0.9, top_k=20, max_output_tokens=300, seed=7,
                                         stop_sequences=["END"], candidate_count=2)
    resp = gclient.models.generate_content(model=MODEL, contents=PROMPT, config=config)
    span = only(o.spans(), f"generate_content {MODEL}")
    a = span.attributes
    usage = resp.usage_metadata
    assert span.kind == SpanKind.CLIENT and span.status.status_code != StatusCode.ERROR
    assert a[n.GEN_AI_OPERATION_NAME] == "generate_content"
    assert a[n.GEN_AI_PROVIDER_NAME] == "gcp.gen_ai"
    assert a[n.GEN_AI_REQUEST_MODEL] == MODEL
    assert a[n.GEN_AI_RESPONSE_MODEL] == resp.model_version
    assert a[n.GEN_AI_RESPONSE_ID] == resp.response_id
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["stop", "stop"]
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_token_count
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == usage.candidates_token_count
    assert (a[n.GEN_AI_REQUEST_TEMPERATURE], a[n.GEN_AI_REQUEST_TOP_P], a[n.GEN_AI_REQUEST_TOP_K]) == (0.3, 0.9, 20)
    assert (a[n.GEN_AI_REQUEST_MAX_TOKENS], a[n.GEN_AI_REQUEST_SEED], a[n.GEN_AI_REQUEST_CHOICE_COUNT]) == (300, 7, 2)
    assert list(a[n.GEN_AI_REQUEST_STOP_SEQUENCES]) == ["END"]
    assert a[n.SERVER_ADDRESS] == "127.0.0.1" and isinstance(a[n.SERVER_PORT], int)
    assert n.GEN_AI_INPUT_MESSAGES not in a, "content must be off on spans by default"
    assert o.value(DURATION_COUNT, gen_ai_provider_name="gcp.gen_ai", error_type="") == 1
    assert o.value(TOKENS_SUM, gen_ai_token_type="input") == usage.prompt_token_count
    assert o.value(TOKENS_SUM, gen_ai_token_type="output") == usage.candidates_token_count
    rec = only(o.records())
    assert (rec.input_tokens, rec.output_tokens) == (usage.prompt_token_count, usage.candidates_token_count)
    assert not rec.tokens_estimated and rec.finish_reasons == ["stop", "stop"]
    assert rec.request_params["api"] == "gcp.gen_ai.generate_content"
    assert rec.request_params["top_k"] == 20 and rec.request_params["candidate_count"] == 2
    assert_cost(span, rec, MODEL, usage.prompt_token_count, usage.candidates_token_count)
    assert rec.input_messages == [{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
    assert [m["parts"][0]["content"] for m in rec.output_messages] == [c.content.parts[0].text
                                                                       for c in resp.candidates]


def test_thinking_tokens_count_as_output_and_reasoning_and_cached_tokens_as_input(observe, gclient):
    o = observe()
    resp = gclient.models.generate_content(model=THINKING, contents=PROMPT,
                                           config=types.GenerateContentConfig(http_options=headers(cached_tokens=4)))
    usage = resp.usage_metadata
    assert usage.thoughts_token_count and usage.cached_content_token_count == 4
    span = only(o.spans())
    a = span.attributes
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_token_count  # Gemini's prompt count includes the cache
    assert a[n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 4
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == usage.candidates_token_count + usage.thoughts_token_count
    assert a[n.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == usage.thoughts_token_count
    rec = only(o.records())
    assert rec.reasoning_tokens == usage.thoughts_token_count and rec.cached_input_tokens == 4
    assert_cost(span, rec, THINKING, usage.prompt_token_count,
                usage.candidates_token_count + usage.thoughts_token_count, 4)


def test_system_instruction_and_history_are_semconv_content_when_capture_is_on(observe, gclient):
    o = observe(capture_content=True)
    history = [types.Content(role="user", parts=[types.Part.from_text(text="Hi")]),
               {"role": "model", "parts": [{"text": "Hello!"}]},
               types.Content(role="user", parts=[types.Part.from_text(text=PROMPT)])]
    resp = gclient.models.generate_content(model=MODEL, contents=history,
                                           config={"system_instruction": "Be brief."})
    a = only(o.spans()).attributes
    assert json.loads(a[n.GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(a[n.GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello!"}]},
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
    assert json.loads(a[n.GEN_AI_OUTPUT_MESSAGES]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": resp.text}], "finish_reason": "stop"}]
    rec = only(o.records())
    assert rec.system_instructions == [{"type": "text", "content": "Be brief."}]


def test_stream_takes_text_and_final_usage_from_the_chunks(observe, gclient):
    o = observe()
    chunks = list(gclient.models.generate_content_stream(
        model=MODEL, contents=PROMPT, config=types.GenerateContentConfig(http_options=headers(chunks=12))))
    usage = chunks[-1].usage_metadata
    span = only(o.spans(), f"generate_content {MODEL}")
    a = span.attributes
    assert a[n.GEN_AI_REQUEST_STREAM] is True and a[n.LLMWATCH_STREAM_CHUNKS] == len(chunks) == 12
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_token_count
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == usage.candidates_token_count
    assert a[n.GEN_AI_RESPONSE_ID] == chunks[-1].response_id
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["stop"]
    rec = only(o.records())
    assert rec.streamed and rec.stream_text == "".join(c.text for c in chunks)
    assert rec.time_to_first_chunk is not None and rec.chunk_count == 12
    assert_cost(span, rec, MODEL, usage.prompt_token_count, usage.candidates_token_count)


def test_async_generate_plain_stream_and_embed_are_observed(observe, gclient):
    o = observe()

    async def main():
        resp = await gclient.aio.models.generate_content(model=MODEL, contents=PROMPT)
        chunks = [c async for c in await gclient.aio.models.generate_content_stream(model=MODEL, contents=PROMPT)]
        emb = await gclient.aio.models.embed_content(model="gemini-embedding-001", contents="hello world")
        return resp, chunks, emb

    resp, chunks, emb = asyncio.run(main())
    spans = o.spans()
    assert len(spans) == 3
    streamed = [s for s in spans if s.attributes.get(n.GEN_AI_REQUEST_STREAM)]
    plain = next(s for s in spans if s.name == f"generate_content {MODEL}" and s not in streamed)
    assert plain.attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == resp.usage_metadata.candidates_token_count
    assert only(streamed).attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage_metadata.candidates_token_count
    embed = next(s for s in spans if s.name == "embeddings gemini-embedding-001")
    assert embed.attributes[n.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == len(emb.embeddings[0].values)
    assert len(o.records()) == 3


def test_max_output_tokens_limit_reports_the_length_finish_reason(observe, gclient):
    o = observe()
    resp = gclient.models.generate_content(model=MODEL, contents=PROMPT, config={"max_output_tokens": 5})
    assert resp.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert list(only(o.spans()).attributes[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["length"]


def test_function_calls_are_tool_call_parts_plain_and_streamed(observe, gclient):
    o = observe(capture_content=True)
    config = types.GenerateContentConfig(tools=[WEATHER_TOOL])
    resp = gclient.models.generate_content(model=MODEL, contents="What's the weather in Paris?", config=config)
    call = resp.function_calls[0]
    list(gclient.models.generate_content_stream(model=MODEL, contents="What's the weather in Paris?", config=config))
    plain, streamed = o.spans()
    assert json.loads(plain.attributes[n.GEN_AI_TOOL_DEFINITIONS])[0]["name"] == "get_weather"
    out = json.loads(plain.attributes[n.GEN_AI_OUTPUT_MESSAGES])[0]["parts"]
    assert out == [{"type": "tool_call", "id": None, "name": "get_weather", "arguments": call.args}]
    out = json.loads(streamed.attributes[n.GEN_AI_OUTPUT_MESSAGES])[0]["parts"]
    assert out == [{"type": "tool_call", "id": None, "name": "get_weather", "arguments": call.args}]
    assert o.records()[1].metadata["tool_calls"][0]["name"] == "get_weather"


def test_function_responses_in_the_history_become_tool_messages(observe, gclient):
    o = observe(capture_content=True)
    history = [types.Content(role="user", parts=[types.Part.from_text(text="Weather in Paris?")]),
               types.Content(role="model", parts=[types.Part.from_function_call(name="get_weather",
                                                                                args={"city": "Paris"})]),
               types.Content(role="user", parts=[types.Part.from_function_response(
                   name="get_weather", response={"temp_c": 21})])]
    gclient.models.generate_content(model=MODEL, contents=history, config={"tools": [WEATHER_TOOL]})
    inputs = json.loads(only(o.spans()).attributes[n.GEN_AI_INPUT_MESSAGES])
    assert inputs[1] == {"role": "assistant", "parts": [
        {"type": "tool_call", "id": None, "name": "get_weather", "arguments": {"city": "Paris"}}]}
    assert inputs[2] == {"role": "tool", "parts": [
        {"type": "tool_call_response", "id": None, "response": {"temp_c": 21}}]}


def test_automatic_function_calling_makes_one_span_per_request(observe, gclient):
    o = observe()

    def get_weather(city: str) -> str:
        """Weather for a city."""
        return "sunny"

    resp = gclient.models.generate_content(model=MODEL, contents="What's the weather in Paris?",
                                           config={"tools": [get_weather]})
    spans = o.spans()
    assert len(spans) == 2, "the call that asked for the function and the one that answered"
    assert resp.automatic_function_calling_history
    assert all(s.attributes[n.GEN_AI_OPERATION_NAME] == "generate_content" for s in spans)


def test_embed_content_bills_input_tokens_and_reports_dimensions(observe, gclient):
    o = observe()
    model = "gemini-embedding-001"
    resp = gclient.models.embed_content(model=model, contents=["alpha beta", "gamma delta epsilon"],
                                        config={"output_dimensionality": 16})
    span = only(o.spans(), f"embeddings {model}")
    a = span.attributes
    assert a[n.GEN_AI_OPERATION_NAME] == "embeddings" and a[n.GEN_AI_PROVIDER_NAME] == "gcp.gen_ai"
    assert a[n.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == len(resp.embeddings[0].values) == 16
    rec = only(o.records())
    assert [m["parts"][0]["content"] for m in rec.input_messages] == ["alpha beta", "gamma delta epsilon"]
    usage = getattr(resp, "usage_metadata", None)  # read by google-genai 3.x; 2.x drops it
    if usage is not None:
        assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == rec.input_tokens == usage.prompt_token_count
        assert_cost(span, rec, model, usage.prompt_token_count, None)
    else:
        assert n.GEN_AI_USAGE_INPUT_TOKENS not in a


def test_errors_reach_the_app_unchanged_and_mark_the_span(observe, gclient):
    o = observe()
    with pytest.raises(errors.ClientError) as caught:
        gclient.models.generate_content(model=MODEL, contents=PROMPT,
                                        config=types.GenerateContentConfig(http_options=headers(error=429)))
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
    span = only(o.spans())
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes[n.ERROR_TYPE] == "ClientError"
    rec = only(o.records())
    assert rec.status == "error" and rec.error_type == "ClientError" and rec.error_message == str(caught.value)
    assert o.value(DURATION_COUNT, error_type="ClientError") == 1


def test_stream_errors_mark_the_span_whether_refused_or_async(observe, gclient):
    o = observe()
    config = types.GenerateContentConfig(http_options=headers(error=503))
    with pytest.raises(errors.ServerError):
        list(gclient.models.generate_content_stream(model=MODEL, contents=PROMPT, config=config))

    async def main():
        async for _ in await gclient.aio.models.generate_content_stream(model=MODEL, contents=PROMPT, config=config):
            pass

    with pytest.raises(errors.ServerError):
        asyncio.run(main())
    spans = o.spans()
    assert len(spans) == 2 and all(s.attributes[n.ERROR_TYPE] == "ServerError" for s in spans)


def test_stream_abandoned_midway_still_ends_the_span(observe, gclient):
    o = observe()
    config = types.GenerateContentConfig(http_options=headers(chunks=10))
    stream = gclient.models.generate_content_stream(model=MODEL, contents=PROMPT, config=config)
    next(stream)
    stream.close()
    del stream
    gc.collect()

    async def main():
        stream = await gclient.aio.models.generate_content_stream(model=MODEL, contents=PROMPT, config=config)
        async for _ in stream:
            break
        await stream.aclose()

    asyncio.run(main())
    gc.collect()
    spans = o.spans()
    assert len(spans) == 2
    assert all(s.attributes[n.LLMWATCH_STREAM_ABANDONED] is True for s in spans)
    assert all(r.metadata.get("stream_abandoned") for r in o.records())


def test_vertex_ai_clients_report_the_vertex_provider(observe, sim):
    o = observe()
    client = genai.Client(vertexai=True, api_key="test", http_options=_options(sim, vertex=True))
    resp = client.models.generate_content(model=MODEL, contents=PROMPT)
    a = only(o.spans()).attributes
    assert a[n.GEN_AI_PROVIDER_NAME] == "gcp.vertex_ai"
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == resp.usage_metadata.prompt_token_count


def test_missing_usage_leaves_tokens_unknown_never_zero(observe, gclient):
    o = observe()
    gclient.models.generate_content(model=MODEL, contents=PROMPT,
                                    config=types.GenerateContentConfig(http_options=headers(omit_usage=1)))
    a = only(o.spans()).attributes
    assert n.GEN_AI_USAGE_INPUT_TOKENS not in a
    assert a.get(n.LLMWATCH_COST_USD) != 0


def test_request_context_and_workflow_parent_apply_unchanged(observe, gclient):
    o = observe()

    @llmwatch.workflow("answer")
    def answer():
        with llmwatch.context(user_id="u-1", session_id="s-1"):
            return gclient.models.generate_content(model=MODEL, contents=PROMPT)

    answer()
    spans = {s.name: s for s in o.spans()}
    child, parent = spans[f"generate_content {MODEL}"], spans["invoke_workflow answer"]
    assert child.parent.span_id == parent.context.span_id
    assert child.attributes[n.USER_ID] == "u-1" and child.attributes[n.SESSION_ID] == "s-1"
    rec = only([r for r in o.records() if r.operation == "generate_content"])
    assert rec.user_id == "u-1" and rec.session_id == "s-1"


def test_shutdown_restores_the_original_methods_exactly():
    from google.genai import models

    from llmwatch.instrumentation import google_genai

    names = ("_generate_content", "_generate_content_stream", "_embed_content")
    before = {(cls, a): cls.__dict__[a] for cls in (models.Models, models.AsyncModels) for a in names}
    llmwatch.init(store=False, sinks=[])
    try:
        assert google_genai.is_instrumented()
        assert all(cls.__dict__[a] is not fn for (cls, a), fn in before.items())
    finally:
        llmwatch.shutdown()
    assert not google_genai.is_instrumented()
    assert all(cls.__dict__[a] is fn for (cls, a), fn in before.items())
