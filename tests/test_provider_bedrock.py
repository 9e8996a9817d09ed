"""Amazon Bedrock Runtime (Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream)
becomes GenAI-semconv spans, metrics and records — with the real ``boto3`` client.

boto3 talks to the bundled simulator's Bedrock wire format on 127.0.0.1 (``endpoint_url=sim.url``),
including the binary AWS event-stream framing its ``EventStream`` parses. boto3 has no async client
(aioboto3 / aiobotocore are separate packages, not instrumented), so there are no async tests here.
Per-request simulator headers are added through botocore's own ``before-sign`` event.
"""

from __future__ import annotations

import gc
import json

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import llmwatch
from llmwatch import names as n
from llmwatch.usage.pricing import PriceTable, price

boto3 = pytest.importorskip("boto3")
from botocore.client import BaseClient  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
TITAN = "amazon.titan-text-express-v1"
TITAN_EMBED = "amazon.titan-embed-text-v2:0"
USER = [{"role": "user", "content": [{"text": "Tell me about observability."}]}]
WEATHER = {"toolSpec": {"name": "get_weather", "description": "Current weather in a city", "inputSchema": {
    "json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}}
ASK_WEATHER = [{"role": "user", "content": [{"text": "What is the weather in Paris?"}]}]
TOKENS_SUM = n.TOKEN_USAGE.prom_name + "_sum"
DURATION_COUNT = n.OPERATION_DURATION.prom_name + "_count"


@pytest.fixture
def client(sim):
    return boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=sim.url,
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"total_max_attempts": 1}))


def sim_headers(client, **headers):
    """Send ``x-sim-*`` headers on every request of ``client`` (botocore has no extra_headers)."""
    def add(request, **_):
        for key, value in headers.items():
            request.headers["x-sim-" + key.replace("_", "-")] = value

    client.meta.events.register("before-sign.bedrock-runtime.*", add)
    return client


def ours(spans):
    return [s for s in spans if s.instrumentation_scope.name.startswith("llmwatch")]


def only(spans, name=None):
    mine = ours(spans)
    assert len(mine) == 1, [s.name for s in spans]
    if name:
        assert mine[0].name == name
    return mine[0]


def only_record(o):
    records = o.records()
    assert len(records) == 1, records
    return records[0]


def total_input(usage):
    return usage["inputTokens"] + usage.get("cacheReadInputTokens", 0) + usage.get("cacheWriteInputTokens", 0)


def expected_cost(model, input_tokens, output_tokens, cached=0, needs_output=True):
    return price(PriceTable.load(), None, model, input_tokens, output_tokens, cached, needs_output=needs_output).usd


def assert_cost(span, rec, expected):
    """The price table's cost, or — for a model the table lacks — unknown, never $0."""
    if expected is None:
        assert span.attributes[n.LLMWATCH_COST_UNKNOWN] is True and rec.cost_usd is None
    else:
        assert span.attributes[n.LLMWATCH_COST_USD] == pytest.approx(expected)
        assert rec.cost_usd == pytest.approx(expected)


# ------------------------------------------------------------------------------------ Converse
def test_converse_becomes_a_chat_span_with_bedrocks_usage(observe, client):
    o = observe()
    resp = client.converse(modelId=MODEL, messages=USER, system=[{"text": "Be brief."}], inferenceConfig={
        "temperature": 0.3, "topP": 0.9, "maxTokens": 300, "stopSequences": ["END"]})
    usage = resp["usage"]
    span = only(o.spans(), f"chat {MODEL}")
    a = span.attributes
    assert span.kind == SpanKind.CLIENT and span.status.status_code != StatusCode.ERROR
    assert a[n.GEN_AI_OPERATION_NAME] == "chat"
    assert a[n.GEN_AI_PROVIDER_NAME] == "aws.bedrock"
    assert a[n.GEN_AI_REQUEST_MODEL] == MODEL
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["stop"] and resp["stopReason"] == "end_turn"
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == usage["inputTokens"]
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == usage["outputTokens"]
    assert a[n.GEN_AI_REQUEST_TEMPERATURE] == 0.3 and a[n.GEN_AI_REQUEST_TOP_P] == 0.9
    assert a[n.GEN_AI_REQUEST_MAX_TOKENS] == 300 and list(a[n.GEN_AI_REQUEST_STOP_SEQUENCES]) == ["END"]
    assert a[n.SERVER_ADDRESS] == "127.0.0.1" and isinstance(a[n.SERVER_PORT], int)
    assert n.GEN_AI_INPUT_MESSAGES not in a and n.GEN_AI_SYSTEM_INSTRUCTIONS not in a, "content is off by default"
    assert o.value(DURATION_COUNT, gen_ai_provider_name="aws.bedrock", gen_ai_request_model=MODEL, error_type="") == 1
    assert o.value(TOKENS_SUM, gen_ai_token_type="input") == usage["inputTokens"]
    assert o.value(TOKENS_SUM, gen_ai_token_type="output") == usage["outputTokens"]
    rec = only_record(o)
    assert (rec.provider, rec.operation, rec.request_model) == ("aws.bedrock", "chat", MODEL)
    assert (rec.input_tokens, rec.output_tokens) == (usage["inputTokens"], usage["outputTokens"])
    assert rec.finish_reasons == ["stop"] and rec.span_id == format(span.context.span_id, "016x")
    assert rec.request_params["api"] == "aws.bedrock.converse" and rec.request_params["temperature"] == 0.3
    assert_cost(span, rec, expected_cost(MODEL, usage["inputTokens"], usage["outputTokens"]))


def test_cache_read_tokens_count_as_input_as_semconv_asks(observe, client):
    o = observe()
    usage = sim_headers(client, cached_tokens="4").converse(modelId=MODEL, messages=USER)["usage"]
    assert usage["cacheReadInputTokens"] == 4
    a = only(o.spans()).attributes
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == total_input(usage) == usage["inputTokens"] + 4
    assert a[n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 4
    rec = only_record(o)
    assert rec.input_tokens == total_input(usage) and rec.cached_input_tokens == 4


def test_max_tokens_stop_maps_to_length(observe, client):
    o = observe()
    resp = client.converse(modelId=MODEL, messages=USER, inferenceConfig={"maxTokens": 5})
    assert resp["stopReason"] == "max_tokens"
    assert list(only(o.spans()).attributes[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["length"]


def test_system_prompt_and_content_are_on_spans_only_with_content_capture(observe, client):
    o = observe(capture_content=True)
    resp = client.converse(modelId=MODEL, messages=USER, system=[{"text": "Be brief."}, {"cachePoint": {
        "type": "default"}}])
    a = only(o.spans()).attributes
    assert json.loads(a[n.GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(a[n.GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Tell me about observability."}]}]
    assert json.loads(a[n.GEN_AI_OUTPUT_MESSAGES]) == [{"role": "assistant", "finish_reason": "stop", "parts": [
        {"type": "text", "content": resp["output"]["message"]["content"][0]["text"]}]}]


def test_stored_content_is_normalised_and_redacted_by_default(observe, client):
    o = observe(store_capture_content=True)
    resp = client.converse(modelId=MODEL, system=[{"text": "Escalate to alice@example.com"}],
                           messages=[{"role": "user", "content": [{"text": "My email is bob@example.com"}]}])
    rec = only_record(o)
    stored = json.dumps([rec.system_instructions, rec.input_messages])
    assert "bob@example.com" not in stored and "alice@example.com" not in stored
    assert rec.input_messages[0]["role"] == "user" and rec.system_instructions[0]["type"] == "text"
    assert rec.output_messages[0]["parts"][0]["content"] == resp["output"]["message"]["content"][0]["text"]


# ------------------------------------------------------------------------------------ tools
def test_tool_use_and_tool_definitions_are_captured(observe, client):
    o = observe(capture_content=True)
    resp = client.converse(modelId=MODEL, messages=ASK_WEATHER, toolConfig={"tools": [WEATHER]})
    use = resp["output"]["message"]["content"][0]["toolUse"]
    assert resp["stopReason"] == "tool_use" and use["name"] == "get_weather"
    a = only(o.spans()).attributes
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["tool_calls"]
    assert json.loads(a[n.GEN_AI_TOOL_DEFINITIONS]) == [{
        "type": "function", "name": "get_weather", "description": "Current weather in a city",
        "parameters": WEATHER["toolSpec"]["inputSchema"]["json"]}]
    assert json.loads(a[n.GEN_AI_OUTPUT_MESSAGES])[0]["parts"] == [
        {"type": "tool_call", "id": use["toolUseId"], "name": "get_weather", "arguments": use["input"]}]
    rec = only_record(o)
    assert rec.output_messages[0]["finish_reason"] == "tool_calls"


def test_tool_results_in_the_history_become_tool_call_responses(observe, client):
    o = observe()
    history = ASK_WEATHER + [
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather",
                                                       "input": {"city": "Paris"}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"json": {"temp_c": 21}}]}}]}]
    resp = client.converse(modelId=MODEL, messages=history, toolConfig={"tools": [WEATHER]})
    assert resp["stopReason"] == "end_turn"
    rec = only_record(o)
    assert rec.input_messages[1] == {"role": "assistant", "parts": [
        {"type": "tool_call", "id": "t1", "name": "get_weather", "arguments": {"city": "Paris"}}]}
    assert rec.input_messages[2] == {"role": "tool", "parts": [
        {"type": "tool_call_response", "id": "t1", "response": {"temp_c": 21}}]}


# ------------------------------------------------------------------------------------ ConverseStream
def test_converse_stream_reports_the_text_usage_and_stop_reason_of_its_events(observe, client):
    o = observe()
    resp = sim_headers(client, chunks="5").converse_stream(modelId=MODEL, messages=USER)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    events = list(resp["stream"])
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    usage = events[-1]["metadata"]["usage"]
    assert [next(iter(e)) for e in events][:2] == ["messageStart", "contentBlockDelta"]
    span = only(o.spans(), f"chat {MODEL}")
    a = span.attributes
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == usage["inputTokens"]
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == usage["outputTokens"]
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["stop"]
    assert a[n.GEN_AI_REQUEST_STREAM] is True
    assert a[n.LLMWATCH_STREAM_CHUNKS] == len(events) == 9  # start, 5 deltas, block stop, stop, metadata
    assert a[n.LLMWATCH_TIME_TO_FIRST_CHUNK] >= 0 and n.LLMWATCH_STREAM_ABANDONED not in a
    rec = only_record(o)
    assert rec.streamed and rec.stream_text == text and rec.output_tokens == usage["outputTokens"]
    assert_cost(span, rec, expected_cost(MODEL, usage["inputTokens"], usage["outputTokens"]))


def test_streamed_tool_use_assembles_its_arguments_from_tool_use_deltas(observe, client):
    o = observe(capture_content=True)
    events = list(client.converse_stream(modelId=MODEL, messages=ASK_WEATHER,
                                         toolConfig={"tools": [WEATHER]})["stream"])
    start = next(e["contentBlockStart"]["start"]["toolUse"] for e in events if "contentBlockStart" in e)
    args = "".join(e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e)
    a = only(o.spans()).attributes
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["tool_calls"]
    assert json.loads(a[n.GEN_AI_OUTPUT_MESSAGES])[0]["parts"] == [
        {"type": "tool_call", "id": start["toolUseId"], "name": "get_weather", "arguments": json.loads(args)}]
    assert only_record(o).metadata["tool_calls"] == [{"id": start["toolUseId"], "name": "get_weather",
                                                       "arguments": args}]


def test_stream_abandoned_midway_still_ends_the_span(observe, client):
    o = observe()
    resp = client.converse_stream(modelId=MODEL, messages=USER)
    stream = iter(resp["stream"])
    next(stream), next(stream)
    del stream, resp
    gc.collect()
    a = only(o.spans()).attributes
    assert a[n.LLMWATCH_STREAM_ABANDONED] is True and a[n.LLMWATCH_STREAM_CHUNKS] == 2
    assert only_record(o).metadata["stream_abandoned"] is True


def test_stream_closed_early_is_ended_as_abandoned(observe, client):
    o = observe()
    stream = client.converse_stream(modelId=MODEL, messages=USER)["stream"]
    for _ in stream:
        break
    stream.close()
    assert only(o.spans()).attributes[n.LLMWATCH_STREAM_ABANDONED] is True


def test_stream_broken_by_the_server_records_the_error_and_reraises_it(observe, client):
    o = observe()
    with pytest.raises(Exception) as info:
        for _ in sim_headers(client, disconnect="1").converse_stream(modelId=MODEL, messages=USER)["stream"]:
            pass
    span = only(o.spans())
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes[n.ERROR_TYPE] == type(info.value).__qualname__


# ------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(("status", "code"), [("429", "ThrottlingException"), ("400", "ValidationException")])
def test_client_error_reaches_the_app_unchanged_and_marks_span_and_record(observe, client, status, code):
    sim_headers(client, error=status)
    with pytest.raises(ClientError) as bare:
        client.converse(modelId=MODEL, messages=USER)
    o = observe()
    with pytest.raises(ClientError) as seen:
        client.converse(modelId=MODEL, messages=USER)
    assert type(seen.value) is type(bare.value) and type(seen.value).__name__ == code
    assert str(seen.value) == str(bare.value)
    assert seen.value.response["Error"] == bare.value.response["Error"] and seen.value.response["Error"]["Code"] == code
    span = only(o.spans())
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes[n.ERROR_TYPE] == code  # the class name, which botocore names after the code
    rec = only_record(o)
    assert rec.status == "error" and rec.error_type == code and rec.cost_usd is None
    assert o.value(DURATION_COUNT, error_type=code) == 1


def test_usage_missing_from_the_reply_leaves_tokens_and_cost_unknown(observe, client):
    o = observe(estimate_tokens=False)
    sim_headers(client, omit_usage="1").converse(modelId=MODEL, messages=USER)
    a = only(o.spans()).attributes
    assert n.GEN_AI_USAGE_INPUT_TOKENS not in a and n.LLMWATCH_COST_USD not in a
    assert only_record(o).cost_usd is None


# ------------------------------------------------------------------------------------ InvokeModel
def anthropic_body(**extra):
    return json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 300, "system": "Be brief.",
                       "messages": [{"role": "user", "content": "Tell me about observability."}], **extra})


def test_invoke_model_reads_the_anthropic_body_and_the_app_still_reads_it_whole(observe, client):
    o = observe(capture_content=True)
    resp = client.invoke_model(modelId=MODEL, body=anthropic_body(temperature=0.5))
    doc = json.loads(resp["body"].read())
    span = only(o.spans(), f"chat {MODEL}")
    a = span.attributes
    assert a[n.GEN_AI_OPERATION_NAME] == "chat" and a[n.GEN_AI_PROVIDER_NAME] == "aws.bedrock"
    assert a[n.GEN_AI_RESPONSE_MODEL] == doc["model"] and a[n.GEN_AI_RESPONSE_ID] == doc["id"]
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == doc["usage"]["input_tokens"]
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == doc["usage"]["output_tokens"]
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["stop"]
    assert a[n.GEN_AI_REQUEST_TEMPERATURE] == 0.5 and a[n.GEN_AI_REQUEST_MAX_TOKENS] == 300
    assert json.loads(a[n.GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(a[n.GEN_AI_OUTPUT_MESSAGES])[0]["parts"] == [
        {"type": "text", "content": doc["content"][0]["text"]}]
    rec = only_record(o)
    assert rec.request_params["api"] == "aws.bedrock.invoke_model"
    assert_cost(span, rec, expected_cost(MODEL, doc["usage"]["input_tokens"], doc["usage"]["output_tokens"]))


def test_invoke_model_reads_titan_text(observe, client):
    o = observe()
    resp = client.invoke_model(modelId=TITAN, body=json.dumps({"inputText": "Tell me about observability.",
                                                               "textGenerationConfig": {"maxTokenCount": 5}}))
    doc = json.loads(resp["body"].read())
    a = only(o.spans(), f"chat {TITAN}").attributes
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == doc["inputTextTokenCount"]
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == doc["results"][0]["tokenCount"]
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["length"] and a[n.GEN_AI_REQUEST_MAX_TOKENS] == 5
    assert PriceTable.load().price_for(TITAN) is None
    assert a[n.LLMWATCH_COST_UNKNOWN] is True and only_record(o).cost_usd is None, "an unpriced model: unknown, not $0"


def test_titan_embeddings_are_an_embeddings_operation_priced_on_input(observe, client):
    o = observe()
    resp = client.invoke_model(modelId=TITAN_EMBED, body=json.dumps({"inputText": "observability", "dimensions": 256}))
    doc = json.loads(resp["body"].read())
    span = only(o.spans(), f"embeddings {TITAN_EMBED}")
    a = span.attributes
    assert a[n.GEN_AI_OPERATION_NAME] == "embeddings"
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == doc["inputTextTokenCount"] and n.GEN_AI_USAGE_OUTPUT_TOKENS not in a
    assert a[n.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == len(doc["embedding"]) == 256
    rec = only_record(o)
    assert rec.embedding_dimensions == 256
    assert_cost(span, rec, expected_cost(TITAN_EMBED, doc["inputTextTokenCount"], None, needs_output=False))


def test_invoke_model_with_response_stream_reads_anthropic_events(observe, client):
    o = observe()
    resp = sim_headers(client, chunks="4").invoke_model_with_response_stream(modelId=MODEL, body=anthropic_body())
    docs = [json.loads(e["chunk"]["bytes"]) for e in resp["body"]]
    text = "".join(d["delta"]["text"] for d in docs if d["type"] == "content_block_delta")
    start, delta = docs[0]["message"], next(d for d in docs if d["type"] == "message_delta")
    span = only(o.spans(), f"chat {MODEL}")
    a = span.attributes
    assert a[n.GEN_AI_RESPONSE_ID] == start["id"] and a[n.GEN_AI_RESPONSE_MODEL] == start["model"]
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == start["usage"]["input_tokens"]
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == delta["usage"]["output_tokens"]
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["stop"] and a[n.LLMWATCH_STREAM_CHUNKS] == len(docs)
    assert only_record(o).stream_text == text


def test_invoke_model_with_response_stream_reads_titan_chunks(observe, client):
    o = observe()
    resp = client.invoke_model_with_response_stream(modelId=TITAN, body=json.dumps({"inputText": "Hello there."}))
    docs = [json.loads(e["chunk"]["bytes"]) for e in resp["body"]]
    a = only(o.spans()).attributes
    assert a[n.GEN_AI_USAGE_INPUT_TOKENS] == docs[0]["inputTextTokenCount"]
    assert a[n.GEN_AI_USAGE_OUTPUT_TOKENS] == docs[-1]["totalOutputTextTokenCount"]
    assert list(a[n.GEN_AI_RESPONSE_FINISH_REASONS]) == ["stop"]
    assert only_record(o).stream_text == "".join(d["outputText"] for d in docs)


# ------------------------------------------------------------------------------------ wiring
def test_other_operations_pass_through_unobserved(observe, client):
    o = observe()
    with pytest.raises(ClientError):
        client.list_async_invokes()  # a bedrock-runtime operation that is not an inference call
    assert ours(o.spans()) == []


def test_request_context_and_workflow_parent_apply_unchanged(observe, client):
    o = observe()
    with llmwatch.context(session_id="s-a", user_id="u-a"), llmwatch.workflow("answer"):
        client.converse(modelId=MODEL, messages=USER)
    spans = o.spans()
    wf = next(s for s in spans if s.name == "invoke_workflow answer")
    chat = next(s for s in spans if s.name == f"chat {MODEL}")
    assert chat.parent is not None and chat.parent.span_id == wf.context.span_id
    assert chat.context.trace_id == wf.context.trace_id and chat.attributes["session.id"] == "s-a"
    rec = next(r for r in o.records() if r.operation == "chat")
    assert (rec.session_id, rec.user_id) == ("s-a", "u-a")


def test_shutdown_restores_the_exact_original_method(observe, client):
    before = BaseClient.__dict__["_make_api_call"]
    o = observe()
    assert BaseClient.__dict__["_make_api_call"] is not before
    client.converse(modelId=MODEL, messages=USER)
    assert len(ours(o.spans())) == 1
    llmwatch.shutdown()
    assert BaseClient.__dict__["_make_api_call"] is before
    client.converse(modelId=MODEL, messages=USER)
    assert len(ours(o.exporter.get_finished_spans())) == 1, "no span once shut down"
