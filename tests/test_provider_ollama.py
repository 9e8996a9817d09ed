"""Ollama's native API becomes GenAI-semconv spans, metrics and records — with the real client.

The real ``ollama`` client (``Client`` / ``AsyncClient``, and the module-level ``ollama.chat``)
talks to the simulator's Ollama wire format (``llmwatch/testing/sim_ollama.py``) on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import json

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import llmwatch
from llmwatch import names as n
from llmwatch.usage.pricing import PriceTable

ollama = pytest.importorskip("ollama")

TOKENS_SUM = n.TOKEN_USAGE.prom_name + "_sum"
DURATION_COUNT = n.OPERATION_DURATION.prom_name + "_count"
MODEL = "llama3.2"
USER = [{"role": "user", "content": "Tell me about observability."}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                           "required": ["city"]}}}]
WEATHER = [{"role": "user", "content": "What's the weather in Paris?"}]


@contextlib.contextmanager
def sync_client(sim, **options):
    client = ollama.Client(host=sim.url, **options)
    try:
        yield client
    finally:  # Client.close() and `with` came in 0.6; every version holds its httpx client here
        client._client.close()


@pytest.fixture
def oclient(sim):
    with sync_client(sim) as client:
        yield client


def run_async(sim, use, **client_options):
    """Run ``use(client)`` with an ``AsyncClient`` made (and closed) inside its own event loop."""

    async def main():
        client = ollama.AsyncClient(host=sim.url, **client_options)
        try:
            return await use(client)
        finally:
            await client._client.aclose()

    return asyncio.run(main())


def only(spans, name=None):
    assert len(spans) == 1, [s.name for s in spans]
    if name:
        assert spans[0].name == name
    return spans[0]


def assert_cost(o, span, rec, model, input_tokens, output_tokens):
    """Cost is the price table's, or unknown (never $0) for a model the table lacks."""
    expected = PriceTable.load().cost(model, input_tokens, output_tokens)
    if expected is None:
        assert span.attributes[n.LLMWATCH_COST_UNKNOWN] is True
        assert rec.cost_usd is None
    else:
        assert span.attributes[n.LLMWATCH_COST_USD] == pytest.approx(expected)
        assert rec.cost_usd == pytest.approx(expected)


def test_chat_becomes_a_semconv_span_with_ollamas_token_counts(observe, oclient, sim):
    o = observe()
    resp = oclient.chat(model=MODEL, messages=USER,
                        options={"temperature": 0.2, "top_p": 0.9, "top_k": 40, "seed": 7, "num_predict": 300,
                                 "stop": ["END"]})
    span = only(o.spans(), f"chat {MODEL}")
    a = span.attributes
    assert span.kind == SpanKind.CLIENT
    assert a[n.GEN_AI_OPERATION_NAME] == "chat"
    assert a[n.GEN_AI_PROVIDER_NAME] == "ollama"
    assert a[n.GEN_AI_REQUEST_MODEL] == MODEL
    assert a[n.GEN_AI_RESPONSE_MODEL] == resp.model
    assert n.GEN_AI_RESPONSE_ID not in a, "Ollama has no response id"
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == [resp.done_reason] == ["stop"]
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == resp.prompt_eval_count > 0
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == resp.eval_count > 0
    assert a[n.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert a[n.GEN_AI_REQUEST_TOP_P] == 0.9
    assert a[n.GEN_AI_REQUEST_TOP_K] == 40
    assert a[n.GEN_AI_REQUEST_SEED] == 7
    assert a[n.GEN_AI_REQUEST_MAX_TOKENS] == 300
    assert list(a[n.GEN_AI_REQUEST_STOP_SEQUENCES]) == ["END"]
    assert n.GEN_AI_REQUEST_STREAM not in a
    assert a[n.SERVER_ADDRESS] == "127.0.0.1" and a[n.SERVER_PORT] == sim.port
    assert n.GEN_AI_INPUT_MESSAGES not in a, "content must be off on spans by default"
    assert span.status.status_code != StatusCode.ERROR
    assert o.value(DURATION_COUNT, gen_ai_provider_name="ollama", gen_ai_request_model=MODEL, error_type="") == 1
    assert o.value(TOKENS_SUM, gen_ai_token_type="input") == resp.prompt_eval_count
    assert o.value(TOKENS_SUM, gen_ai_token_type="output") == resp.eval_count
    rec = only(o.records())
    assert (rec.provider, rec.operation, rec.response_id) == ("ollama", "chat", None)
    assert (rec.input_tokens, rec.output_tokens) == (resp.prompt_eval_count, resp.eval_count)
    assert not rec.tokens_estimated
    assert rec.request_params["api"] == "ollama.chat" and rec.request_params["top_k"] == 40
    assert rec.server_port == sim.port
    assert rec.input_messages == [{"role": "user", "parts": [{"type": "text", "content": USER[0]["content"]}]}]
    assert rec.output_messages[0]["parts"] == [{"type": "text", "content": resp.message.content}]
    assert_cost(o, span, rec, MODEL, resp.prompt_eval_count, resp.eval_count)


def test_streamed_chat_reports_usage_from_the_final_done_chunk(observe, sim):
    o = observe()
    with sync_client(sim, headers={"x-sim-chunks": "12"}) as client:
        chunks = list(client.chat(model=MODEL, messages=USER, stream=True))
    final = chunks[-1]
    assert final.done and len(chunks) == 13
    span = only(o.spans(), f"chat {MODEL}")
    a = span.attributes
    assert a[n.GEN_AI_REQUEST_STREAM] is True
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == final.prompt_eval_count
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == final.eval_count
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["stop"]
    assert a[n.GEN_AI_RESPONSE_MODEL] == MODEL
    assert a[n.LLMWATCH_STREAM_CHUNKS] == len(chunks)
    assert 0 < a[n.LLMWATCH_TIME_TO_FIRST_CHUNK] <= (span.end_time - span.start_time) / 1e9
    assert n.LLMWATCH_STREAM_ABANDONED not in a
    rec = only(o.records())
    text = "".join(c.message.content or "" for c in chunks)
    assert rec.stream_text == text
    assert rec.output_messages[0]["parts"][0]["content"] == text
    assert rec.chunk_count == len(chunks) and not rec.tokens_estimated
    assert (rec.input_tokens, rec.output_tokens) == (final.prompt_eval_count, final.eval_count)


def test_async_chat_plain_and_streamed_are_observed(observe, sim):
    o = observe()

    async def use(client):
        plain = await client.chat(model=MODEL, messages=USER)
        chunks = [c async for c in await client.chat(model="qwen3", messages=USER, stream=True)]
        return plain, chunks

    plain, chunks = run_async(sim, use)
    first, second = o.spans()
    assert first.name == f"chat {MODEL}" and second.name == "chat qwen3"
    assert first.attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == plain.eval_count
    assert second.attributes[n.GEN_AI_USAGE_INPUT_TOKENS] == chunks[-1].prompt_eval_count
    assert second.attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].eval_count
    assert second.attributes[n.LLMWATCH_STREAM_CHUNKS] == len(chunks)
    assert o.records()[1].stream_text == "".join(c.message.content for c in chunks)


def test_generate_is_a_text_completion_with_its_system_prompt_as_instructions(observe, oclient):
    o = observe(capture_content=True)
    resp = oclient.generate(model=MODEL, prompt="Why is the sky blue?", system="Answer in one line.",
                            options={"temperature": 0})
    span = only(o.spans(), f"text_completion {MODEL}")
    a = span.attributes
    assert a[n.GEN_AI_OPERATION_NAME] == "text_completion"
    assert a[n.GEN_AI_REQUEST_TEMPERATURE] == 0
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == resp.prompt_eval_count
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == resp.eval_count
    assert json.loads(a[n.GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Answer in one line."}]
    assert json.loads(a[n.GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Why is the sky blue?"}]}]
    out = json.loads(a[n.GEN_AI_OUTPUT_MESSAGES])
    assert out == [{"role": "assistant", "parts": [{"type": "text", "content": resp.response}],
                    "finish_reason": "stop"}]
    rec = only(o.records())
    assert rec.system_instructions == [{"type": "text", "content": "Answer in one line."}]
    assert rec.output_messages[0]["parts"][0]["content"] == resp.response


def test_streamed_generate_sync_and_async_take_text_and_usage_from_the_chunks(observe, oclient, sim):
    o = observe()
    chunks = list(oclient.generate(model=MODEL, prompt="Why is the sky blue?", stream=True))

    async def use(client):
        return [c async for c in await client.generate(model=MODEL, prompt="And the sea?", stream=True)]

    achunks = run_async(sim, use)
    spans = o.spans()
    records = o.records()
    assert [s.name for s in spans] == [f"text_completion {MODEL}"] * 2
    for span, rec, got in zip(spans, records, (chunks, achunks)):
        assert span.attributes[n.GEN_AI_USAGE_INPUT_TOKENS] == got[-1].prompt_eval_count
        assert span.attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == got[-1].eval_count
        assert rec.stream_text == "".join(c.response for c in got)


def test_num_predict_limit_reports_the_length_finish_reason(observe, oclient):
    o = observe()
    resp = oclient.chat(model=MODEL, messages=USER, options={"num_predict": 5})
    chunks = list(oclient.generate(model=MODEL, prompt="Tell me more.", options={"num_predict": 5}, stream=True))
    assert resp.done_reason == chunks[-1].done_reason == "length"
    for span in o.spans():
        assert list(span.attributes[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["length"]
        assert span.attributes[n.GEN_AI_REQUEST_MAX_TOKENS] == 5
        assert span.attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] <= 5


def test_tool_calls_are_captured_plain_and_streamed(observe, oclient):
    o = observe(capture_content=True)
    resp = oclient.chat(model=MODEL, messages=WEATHER, tools=TOOLS)
    chunks = list(oclient.chat(model=MODEL, messages=WEATHER, tools=TOOLS, stream=True))
    call = resp.message.tool_calls[0]
    assert call.function.name == "get_weather"
    streamed_call = next(c for c in chunks if c.message.tool_calls).message.tool_calls[0]
    plain, streamed = o.spans()
    expected = {"type": "tool_call", "id": None, "name": "get_weather", "arguments": dict(call.function.arguments)}
    for span in (plain, streamed):
        a = span.attributes
        assert json.loads(a[n.GEN_AI_TOOL_DEFINITIONS])[0]["function"]["name"] == "get_weather"
        assert expected in json.loads(a[n.GEN_AI_OUTPUT_MESSAGES])[0]["parts"]
    assert dict(streamed_call.function.arguments) == expected["arguments"]
    rec = o.records()[1]
    assert rec.metadata["tool_calls"] == [{"id": None, "name": "get_weather",
                                           "arguments": json.dumps(expected["arguments"])}]


def test_tool_results_and_images_in_the_history_keep_their_shape(observe, oclient):
    o = observe(capture_content=True)
    history = [{"role": "system", "content": "Be brief."},
               {"role": "user", "content": "What is in this picture?", "images": [b"\x89PNG fake"]},
               {"role": "assistant", "content": "", "tool_calls": [
                   {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
               {"role": "tool", "content": "18C and sunny", "tool_name": "get_weather"}]
    oclient.chat(model="llava", messages=history)
    inputs = json.loads(only(o.spans()).attributes[n.GEN_AI_INPUT_MESSAGES])
    assert inputs[0] == {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]}
    assert inputs[1]["parts"] == [{"type": "text", "content": "What is in this picture?"},
                                  {"type": "blob", "modality": "image"}]
    assert {"type": "tool_call", "id": None, "name": "get_weather", "arguments": {"city": "Paris"}} \
        in inputs[2]["parts"]
    assert inputs[3]["role"] == "tool"
    if "tool_name" in ollama.Message.model_fields:  # older clients do not send it
        assert inputs[3]["name"] == "get_weather"
    assert inputs[3]["parts"][0]["type"] == "tool_call_response"
    assert inputs[3]["parts"][0]["response"] == "18C and sunny"


def test_embed_bills_input_tokens_and_reports_dimensions(observe, oclient):
    o = observe()
    resp = oclient.embed(model="nomic-embed-text", input=["first text", "second text here"])
    legacy = oclient.embeddings(model="nomic-embed-text", prompt="one text")
    embed_span, legacy_span = o.spans()
    a = embed_span.attributes
    assert embed_span.name == "embeddings nomic-embed-text"
    assert a[n.GEN_AI_OPERATION_NAME] == "embeddings"
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == resp.prompt_eval_count > 0
    assert n.GEN_AI_USAGE_OUTPUT_TOKENS not in a
    assert a[n.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == len(resp.embeddings[0])
    rec_embed, rec_legacy = o.records()
    assert rec_embed.embedding_dimensions == len(resp.embeddings[0])
    assert rec_embed.input_messages == [{"role": "user", "parts": [{"type": "text", "content": "first text"}]},
                                        {"role": "user", "parts": [{"type": "text", "content": "second text here"}]}]
    assert_cost(o, embed_span, rec_embed, "nomic-embed-text", resp.prompt_eval_count, None)
    # the legacy endpoint reports no token count: the call is not billable (no cost, and never $0)
    la = legacy_span.attributes
    assert la[n.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == len(legacy.embedding)
    assert n.GEN_AI_USAGE_INPUT_TOKENS not in la and n.LLMWATCH_COST_USD not in la
    assert rec_legacy.input_messages == [{"role": "user", "parts": [{"type": "text", "content": "one text"}]}]


def test_errors_reach_the_app_unchanged_and_mark_the_span(observe, sim):
    with sync_client(sim, headers={"x-sim-error": "404"}) as failing:
        with pytest.raises(ollama.ResponseError) as bare:
            failing.chat(model=MODEL, messages=USER)
        o = observe()
        with pytest.raises(ollama.ResponseError) as observed:
            failing.chat(model=MODEL, messages=USER)
    assert type(observed.value) is type(bare.value)
    assert str(observed.value) == str(bare.value) and observed.value.status_code == 404
    span = only(o.spans())
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes[n.ERROR_TYPE] == "ResponseError"
    rec = only(o.records())
    assert rec.status == "error" and rec.error_type == "ResponseError"
    assert o.value(DURATION_COUNT, error_type="ResponseError") == 1


def test_stream_errors_mark_the_span_whether_refused_or_broken_midway(observe, sim):
    o = observe()
    with sync_client(sim, headers={"x-sim-error": "503"}) as refusing:
        with pytest.raises(ollama.ResponseError):
            list(refusing.chat(model=MODEL, messages=USER, stream=True))

    async def use(client):
        async for _ in await client.chat(model=MODEL, messages=USER, stream=True):
            pass

    with pytest.raises(Exception) as broken:
        run_async(sim, use, headers={"x-sim-disconnect": "1"})
    refused, cut = o.spans()
    assert refused.status.status_code == cut.status.status_code == StatusCode.ERROR
    assert refused.attributes[n.ERROR_TYPE] == "ResponseError"
    assert cut.attributes[n.ERROR_TYPE] == type(broken.value).__qualname__
    assert [r.status for r in o.records()] == ["error", "error"]


def test_stream_abandoned_midway_still_ends_the_span(observe, oclient, sim):
    o = observe()
    stream = oclient.chat(model=MODEL, messages=USER, stream=True)
    next(stream)
    del stream
    gc.collect()
    closed = oclient.generate(model=MODEL, prompt="hi", stream=True)
    next(closed)
    closed.close()

    async def use(client):
        stream = await client.chat(model=MODEL, messages=USER, stream=True)
        async for _ in stream:
            break
        await stream.aclose()

    run_async(sim, use)
    spans = o.spans()
    assert len(spans) == 3
    assert all(s.attributes[n.LLMWATCH_STREAM_ABANDONED] is True for s in spans)
    assert all(r.metadata.get("stream_abandoned") for r in o.records())


def test_module_level_functions_use_the_patched_default_client(observe, sim, monkeypatch):
    import httpx

    # ``ollama.chat`` is bound to a Client made at import for OLLAMA_HOST; point its HTTP client at
    # the simulator (the SDK's own transport, only the address differs).
    default = ollama.chat.__self__
    with httpx.Client(base_url=sim.url, headers=default._client.headers) as http:
        monkeypatch.setattr(default, "_client", http)
        o = observe()
        resp = ollama.chat(model=MODEL, messages=USER)
    a = only(o.spans(), f"chat {MODEL}").attributes
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == resp.eval_count


def test_other_endpoints_pass_through_untouched(observe, oclient):
    o = observe()
    with pytest.raises(ollama.ResponseError):
        oclient.show(MODEL)  # POST /api/show: the simulator does not serve it
    with pytest.raises(ollama.ResponseError):
        oclient.list()
    assert o.spans() == [] and o.records() == []


def test_request_context_and_workflow_parent_apply_unchanged(observe, oclient):
    o = observe()

    @llmwatch.workflow
    def answer():
        return oclient.chat(model=MODEL, messages=USER)

    with llmwatch.context(session_id="s-ollama", user_id="u-1"):
        answer()
    spans = o.spans()
    chat = next(s for s in spans if s.name == f"chat {MODEL}")
    workflow = next(s for s in spans if s.name.startswith("invoke_workflow"))
    assert chat.parent is not None and chat.parent.span_id == workflow.context.span_id
    assert chat.context.trace_id == workflow.context.trace_id
    assert chat.attributes["session.id"] == "s-ollama"
    rec = next(r for r in o.records() if r.operation == "chat")
    assert (rec.session_id, rec.user_id) == ("s-ollama", "u-1")


def test_missing_usage_leaves_tokens_unknown_never_zero(observe, sim):
    o = observe(estimate_tokens=False)
    with sync_client(sim, headers={"x-sim-omit-usage": "1"}) as client:
        resp = client.chat(model=MODEL, messages=USER)
    assert resp.eval_count is None
    a = only(o.spans()).attributes
    assert n.GEN_AI_USAGE_INPUT_TOKENS not in a and n.GEN_AI_USAGE_OUTPUT_TOKENS not in a
    assert n.LLMWATCH_COST_USD not in a
    assert only(o.records()).cost_usd is None


def test_a_local_model_priced_at_zero_costs_a_known_zero_and_an_unpriced_one_stays_unknown(observe, oclient,
                                                                                            tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"models": {MODEL: {"input": 0, "output": 0}}}))
    o = observe(price_file=str(prices))
    oclient.chat(model=MODEL, messages=USER)
    oclient.chat(model="my-own-finetune", messages=USER)
    free, unpriced = o.spans()
    assert free.attributes[n.LLMWATCH_COST_USD] == 0.0 and n.LLMWATCH_COST_UNKNOWN not in free.attributes
    assert unpriced.attributes[n.LLMWATCH_COST_UNKNOWN] is True and n.LLMWATCH_COST_USD not in unpriced.attributes
    assert [r.cost_usd for r in o.records()] == [0.0, None]


def test_shutdown_restores_the_original_methods_exactly():
    from llmwatch.instrumentation import ollama as adapter

    originals = {cls: cls.__dict__["_request"] for cls in (ollama.Client, ollama.AsyncClient)}
    llmwatch.init(store=False)
    try:
        assert adapter.is_instrumented()
        assert all(cls.__dict__["_request"] is not fn for cls, fn in originals.items())
    finally:
        llmwatch.shutdown()
    assert not adapter.is_instrumented()
    assert all(cls.__dict__["_request"] is fn for cls, fn in originals.items())


# ---------------------------------------------------------------- the simulated wire format
FINAL_FIELDS = {"done_reason", "total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration",
                "eval_count", "eval_duration"}


def test_simulated_stream_is_ndjson_ending_in_one_done_object_with_ollamas_statistics(sim):
    import httpx

    # No "stream" in the body: Ollama streams by default.
    r = httpx.post(sim.url + "/api/generate", json={"model": MODEL, "prompt": "Why is the sky blue?"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert all(obj["done"] is False and obj["response"] for obj in lines[:-1])
    final = lines[-1]
    assert final["done"] is True and final["response"] == "" and FINAL_FIELDS <= final.keys()
    assert final["total_duration"] >= final["prompt_eval_duration"] + final["eval_duration"]


def test_simulated_plain_and_streamed_replies_say_the_same(oclient):
    body = {"model": MODEL, "messages": USER, "options": {"seed": 3}}
    plain = oclient.chat(**body)
    chunks = list(oclient.chat(**body, stream=True))
    assert "".join(c.message.content for c in chunks) == plain.message.content
    assert (chunks[-1].prompt_eval_count, chunks[-1].eval_count) == (plain.prompt_eval_count, plain.eval_count)


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503])
def test_simulated_errors_use_ollamas_error_body(sim, status):
    import httpx

    r = httpx.post(sim.url + "/api/chat", json={"model": MODEL, "messages": USER, "stream": False},
                   headers={"x-sim-error": str(status)})
    assert r.status_code == status
    assert set(r.json()) == {"error"} and isinstance(r.json()["error"], str)


@pytest.mark.skipif("think" not in inspect.signature(ollama.Client.chat).parameters,
                    reason="this ollama client has no think= (added in 0.5)")
def test_thinking_is_a_reasoning_part_and_stays_out_of_the_streamed_answer(observe, oclient):
    o = observe(capture_content=True)
    plain = oclient.chat(model="qwen3", messages=USER, think=True)
    chunks = list(oclient.chat(model="qwen3", messages=USER, think=True, stream=True))
    gen = oclient.generate(model="qwen3", prompt="Why is the sky blue?", think=True)
    assert plain.message.thinking and gen.thinking
    chat_span, stream_span, gen_span = o.spans()
    out = json.loads(chat_span.attributes[n.GEN_AI_OUTPUT_MESSAGES])[0]["parts"]
    assert out == [{"type": "reasoning", "content": plain.message.thinking},
                   {"type": "text", "content": plain.message.content}]
    assert json.loads(gen_span.attributes[n.GEN_AI_OUTPUT_MESSAGES])[0]["parts"][0] == {
        "type": "reasoning", "content": gen.thinking}
    # eval_count covers thinking and answer alike; the streamed text is the answer only
    assert stream_span.attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].eval_count
    assert stream_span.attributes[n.LLMWATCH_STREAM_CHUNKS] == len(chunks)
    assert o.records()[1].stream_text == "".join(c.message.content for c in chunks) == plain.message.content
