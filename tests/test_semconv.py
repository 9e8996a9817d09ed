"""llmwatch follows the GenAI conventions as they stand now (open-telemetry/semantic-conventions-genai
v0.1.0): the cache-write rename with its opt-in, fetch_response, the agent/tool duration metrics,
no provider name on internal agent spans, and the evaluation event's attributes."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest

import llmwatch
from llmwatch import names as n
from llmwatch import semconv
from llmwatch.config import Config, ConfigError
from llmwatch.instrumentation import call as call_mod
from llmwatch.instrumentation import openai as openai_mod
from llmwatch.instrumentation.extract import ResponseInfo, get_endpoint, request_attributes

OLD_CACHE_WRITE = n.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS
NEW_CACHE_WRITE = n.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS


# ---- the opt-in: one option, one rule -----------------------------------------------------------
def test_opt_in_is_read_from_the_shared_otel_variable_and_keeps_other_categories():
    cfg = Config.resolve({}, {"OTEL_SEMCONV_STABILITY_OPT_IN": " http , Gen_AI_Latest_Experimental/dup,http"})
    assert cfg.semconv_opt_in == ("http", semconv.DUP)
    assert Config.resolve({}, {}).semconv_opt_in == ()


@pytest.mark.parametrize("value", ["gen_ai/dup", "gen_ai", "gen_ai_latest"])
def test_an_unknown_gen_ai_opt_in_fails_at_init_naming_the_option_and_the_accepted_values(value):
    with pytest.raises(ConfigError) as info:
        Config.resolve({}, {"OTEL_SEMCONV_STABILITY_OPT_IN": value})
    message = str(info.value)
    assert "semconv_opt_in" in message and "OTEL_SEMCONV_STABILITY_OPT_IN" in message
    assert semconv.LATEST in message and semconv.DUP in message


def test_old_names_are_added_only_when_dup_is_asked_for():
    for opt_in, expect_old in [((), False), ((semconv.LATEST,), False), (("http",), False), ((semconv.DUP,), True)]:
        attrs: dict[str, Any] = {NEW_CACHE_WRITE: 700}
        semconv.add_deprecated(attrs, opt_in)
        assert (OLD_CACHE_WRITE in attrs) is expect_old, opt_in
        assert attrs[NEW_CACHE_WRITE] == 700
    attrs = {n.GEN_AI_USAGE_INPUT_TOKENS: 5}
    semconv.add_deprecated(attrs, (semconv.DUP,))
    assert attrs == {n.GEN_AI_USAGE_INPUT_TOKENS: 5}  # nothing to rename: nothing added


def _call_with_cache_write(monkeypatch: pytest.MonkeyPatch) -> Any:
    """One completed Call whose response reported cache writes. The OpenAI API reports none, and the
    adapters that do (Anthropic, Bedrock) are tested in their own files; here the response reader is
    replaced (a stand-in, said so) so the finish point itself is what is tested."""
    def read(api: str, response: Any) -> ResponseInfo:
        info = ResponseInfo()
        info.model, info.id = "claude-sonnet-4-5-20250929", "msg_1"
        info.input_tokens, info.output_tokens = 10_000, 500
        info.cached_tokens, info.cache_write_tokens = 6_000, 3_000
        return info

    monkeypatch.setattr(call_mod, "read_response", read)
    state = openai_mod._STATE
    assert state is not None
    body = {"model": "claude-sonnet-4-5", "messages": []}
    attrs = request_attributes("chat", n.OP_CHAT, body, n.PROVIDER_ANTHROPIC, "localhost", 1)
    call = call_mod.Call(state, "chat", n.OP_CHAT, body, attrs, False)
    call.detach()
    call.finish_response(object())
    return call


@pytest.mark.parametrize("opt_in, old_too", [(None, False), (semconv.LATEST, False), (semconv.DUP, True)])
def test_cache_writes_are_on_the_span_priced_and_kept_in_the_record(observe, monkeypatch, opt_in, old_too):
    o = observe(semconv_opt_in=opt_in)
    _call_with_cache_write(monkeypatch)
    (span,) = o.spans()
    assert span.attributes[NEW_CACHE_WRITE] == 3_000
    assert (span.attributes.get(OLD_CACHE_WRITE) == 3_000) is old_too
    (rec,) = o.records()
    expected = (1_000 * 3.0 + 6_000 * 0.3 + 3_000 * 3.75 + 500 * 15.0) / 1e6
    assert rec.cost_usd == pytest.approx(expected)
    assert span.attributes[n.LLMWATCH_COST_USD] == pytest.approx(expected)
    assert rec.metadata["cache_write_input_tokens"] == 3_000
    assert rec.cached_input_tokens == 6_000


# ---- fetch_response: GET /responses/{id} --------------------------------------------------------
STORED = {
    "id": "resp_stored1", "object": "response", "created_at": 1_700_000_000, "status": "completed",
    "model": "gpt-4o-mini-2024-07-18", "output": [{
        "type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": "Stored answer.", "annotations": []}]}],
    "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
    "usage": {"input_tokens": 120, "output_tokens": 30, "total_tokens": 150,
              "input_tokens_details": {"cached_tokens": 20}, "output_tokens_details": {"reasoning_tokens": 0}},
}


class _Stored(BaseHTTPRequestHandler):
    """A tiny stand-in for the stored-responses routes (the bundled simulator serves only POSTs)."""

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, status: int, obj: Any) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/v1/responses/resp_stored1":
            self._json(200, STORED)
        elif self.path.startswith("/v1/responses/resp_stored1/input_items"):
            self._json(200, {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False})
        elif self.path == "/v1/models":
            self._json(200, {"object": "list", "data": []})
        else:
            self._json(404, {"error": {"message": "No response with that id", "type": "invalid_request_error"}})

    def do_DELETE(self) -> None:
        self._json(200, {"id": "resp_stored1", "object": "response", "deleted": True})


@pytest.fixture(scope="module")
def stored_client():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stored)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield openai.OpenAI(base_url=f"http://127.0.0.1:{server.server_port}/v1", api_key="sk-test", max_retries=0)
    server.shutdown()


def test_only_the_retrieve_route_is_a_get_endpoint():
    assert get_endpoint("/responses/resp_1") == ("responses.retrieve", n.OP_FETCH_RESPONSE)
    assert get_endpoint("/responses/resp_1?include=x") == ("responses.retrieve", n.OP_FETCH_RESPONSE)
    for url in ("/responses", "/responses/resp_1/input_items", "/models", "/files/f_1", "/chat/completions/c_1"):
        assert get_endpoint(url) is None, url


def test_retrieving_a_stored_response_is_a_fetch_response_span_that_bills_nothing(observe, stored_client):
    o = observe()
    resp = stored_client.responses.retrieve("resp_stored1")
    assert resp.output_text == "Stored answer."
    (span,) = o.spans()
    a = span.attributes
    assert span.name == "fetch_response"
    assert a[n.GEN_AI_OPERATION_NAME] == n.OP_FETCH_RESPONSE and a[n.GEN_AI_PROVIDER_NAME] == "openai"
    assert (a[n.GEN_AI_RESPONSE_ID], a[n.GEN_AI_RESPONSE_MODEL]) == ("resp_stored1", "gpt-4o-mini-2024-07-18")
    assert a[n.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    # The stored generation's usage is described, not billed or counted again.
    assert (a[n.GEN_AI_USAGE_INPUT_TOKENS], a[n.GEN_AI_USAGE_OUTPUT_TOKENS]) == (120, 30)
    assert a[n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 20
    assert n.LLMWATCH_COST_USD not in a and n.LLMWATCH_COST_UNKNOWN not in a
    (rec,) = o.records()
    assert rec.operation == n.OP_FETCH_RESPONSE
    assert (rec.input_tokens, rec.output_tokens, rec.cost_usd) == (None, None, None)
    assert not rec.tokens_estimated
    assert o.value(n.TOKEN_USAGE.prom_name + "_count") == 0
    assert o.value(n.OPERATION_DURATION.prom_name + "_count", gen_ai_operation_name=n.OP_FETCH_RESPONSE) == 1
    assert o.value(n.COST.prom_name) == 0 and o.value(n.UNKNOWN_PRICE_CALLS.prom_name) == 0


def test_a_missing_stored_response_is_an_error_span_and_the_app_gets_the_sdk_error(observe, stored_client):
    o = observe()
    with pytest.raises(openai.NotFoundError) as info:
        stored_client.responses.retrieve("resp_missing")
    assert "No response with that id" in str(info.value)
    (span,) = o.spans()
    assert span.attributes[n.ERROR_TYPE] == "NotFoundError"
    assert span.attributes[n.GEN_AI_OPERATION_NAME] == n.OP_FETCH_RESPONSE


def test_other_gets_and_deletes_pass_through_unobserved(observe, stored_client):
    o = observe()
    stored_client.models.list()
    stored_client.responses.input_items.list("resp_stored1")
    stored_client.responses.delete("resp_stored1")
    assert o.spans() == [] and o.records() == []


# ---- parent spans: duration metrics and no provider name ----------------------------------------
AGENT_COUNT = n.INVOKE_AGENT_DURATION.prom_name + "_count"
TOOL_COUNT = n.EXECUTE_TOOL_DURATION.prom_name + "_count"


def test_agent_workflow_and_tool_spans_record_their_duration_metrics(observe):
    o = observe()

    @llmwatch.tool(name="lookup")
    def lookup(q: str) -> str:
        return q.upper()

    @llmwatch.agent(name="planner")
    def plan() -> str:
        return lookup("x")

    @llmwatch.tool(name="broken")
    def broken() -> None:
        raise KeyError("nope")

    with llmwatch.workflow(name="checkout"):
        plan()
        with pytest.raises(KeyError):
            broken()

    assert o.value(AGENT_COUNT, gen_ai_operation_name="invoke_agent", gen_ai_agent_name="planner",
                   error_type="") == 1
    assert o.value(AGENT_COUNT, gen_ai_operation_name="invoke_workflow", gen_ai_agent_name="checkout") == 1
    assert o.value(TOOL_COUNT, gen_ai_operation_name="execute_tool", gen_ai_tool_name="lookup",
                   gen_ai_tool_type="function", error_type="") == 1
    assert o.value(TOOL_COUNT, gen_ai_tool_name="broken", error_type="KeyError") == 1
    spans = {s.name: s for s in o.spans()}
    # One observation per span, equal to the span's duration.
    planner = spans["invoke_agent planner"]
    observed = o.value(n.INVOKE_AGENT_DURATION.prom_name + "_sum", gen_ai_agent_name="planner")
    assert observed == pytest.approx((planner.end_time - planner.start_time) / 1e9, abs=0.05)
    assert spans["invoke_workflow checkout"].attributes[n.GEN_AI_AGENT_NAME] == "checkout"


def test_internal_agent_spans_carry_no_provider_name(observe):
    o = observe()
    with llmwatch.trace(kind="agent", name="a", attributes={n.GEN_AI_PROVIDER_NAME: "openai"}):
        pass
    with llmwatch.tool(name="t"):
        pass
    for span in o.spans():
        assert n.GEN_AI_PROVIDER_NAME not in span.attributes, span.name


def test_model_calls_keep_their_provider_name(observe, client):
    o = observe()
    with llmwatch.agent(name="a"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    spans = {s.name: s for s in o.spans()}
    assert spans["chat gpt-4o-mini"].attributes[n.GEN_AI_PROVIDER_NAME] == "openai"
    assert n.GEN_AI_PROVIDER_NAME not in spans["invoke_agent a"].attributes


# ---- the evaluation event ------------------------------------------------------------------------
def test_evaluation_events_carry_the_current_convention_attributes():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from llmwatch.scoring.base import Evaluation, Item
    from llmwatch.scoring.report import Reporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    item = Item(record_id="r1", model="gpt-4o-mini", trace_id="ab" * 16, span_id="cd" * 8, response_id="chatcmpl-1")
    Reporter(None, provider.get_tracer("t")).emit(item, [Evaluation("toxicity", 0.91, "flagged", "insult")])
    (span,) = exporter.get_finished_spans()
    (event,) = span.events
    assert event.name == "gen_ai.evaluation.result"
    assert dict(event.attributes) == {
        n.GEN_AI_EVALUATION_NAME: "toxicity", n.GEN_AI_EVALUATION_SCORE_VALUE: 0.91,
        n.GEN_AI_EVALUATION_SCORE_LABEL: "flagged", n.GEN_AI_EVALUATION_EXPLANATION: "insult",
        n.GEN_AI_RESPONSE_ID: "chatcmpl-1"}
    assert span.parent.span_id == int("cd" * 8, 16)


def test_an_async_retrieve_is_observed_the_same_way(observe, stored_client):
    o = observe()
    client = openai.AsyncOpenAI(base_url=str(stored_client.base_url), api_key="sk-test", max_retries=0)

    async def run() -> Any:
        try:
            return await client.responses.retrieve("resp_stored1")
        finally:
            await client.close()

    import asyncio

    assert asyncio.run(run()).id == "resp_stored1"
    (span,) = o.spans()
    assert span.attributes[n.GEN_AI_OPERATION_NAME] == n.OP_FETCH_RESPONSE
    assert n.LLMWATCH_COST_USD not in span.attributes
