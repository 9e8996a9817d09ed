"""The simulator's promises, checked with the real ``openai`` client against the real server."""

from __future__ import annotations

import asyncio
import datetime
import enum
import http.client
import importlib
import json
import math
import subprocess
import sys
from typing import Literal, Optional

import openai
import pydantic
import pytest
from openai.types import Completion, CreateEmbeddingResponse, ModerationCreateResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from llmwatch import cli
from llmwatch.testing.simulator import HEADERS, Simulator, count_tokens

pytestmark = pytest.mark.openai2  # the 2.x instrumentation suite runs against this server too

USER = [{"role": "user", "content": "Tell me something about observability."}]


def _broken_connection_errors() -> tuple[type[BaseException], ...]:
    """openai 3.x wraps a dropped stream in APIConnectionError; 2.x lets httpx's TransportError through."""
    errors: list[type[BaseException]] = [openai.APIConnectionError]
    for name in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(name).TransportError)
        except ImportError:
            pass
    return tuple(errors)


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=7) as server:
        yield server


@pytest.fixture
def client(sim):
    with openai.OpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=0) as c:
        yield c


def raw_post(sim, path, body, headers=None, conn=None):
    """POST with http.client, for bodies the openai client refuses to send."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request("POST", path, data, {"Content-Type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    payload = resp.read()
    if own:
        conn.close()
    return resp, payload


# ---------------------------------------------------------------- chat completions


def test_chat_reply_validates_strictly_against_the_openai_model(client):
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=USER)
    reply = ChatCompletion.model_validate(json.loads(raw.http_response.text))
    assert reply.id.startswith("chatcmpl-") and reply.model == "gpt-4o-mini"
    assert reply.choices[0].finish_reason == "stop" and reply.choices[0].message.content
    u = reply.usage
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens
    assert u.completion_tokens == count_tokens(reply.choices[0].message.content)
    assert u.prompt_tokens_details.cached_tokens == 0 and u.completion_tokens_details.reasoning_tokens == 0
    assert reply.system_fingerprint and reply.service_tier == "default"
    assert raw.http_response.headers["x-request-id"].startswith("req_")


def test_same_request_gives_same_text_and_usage(client):
    a = client.chat.completions.create(model="gpt-4o", messages=USER)
    b = client.chat.completions.create(model="gpt-4o", messages=USER)
    other = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "different"}])
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.usage == b.usage
    assert other.choices[0].message.content != a.choices[0].message.content


def test_n_gives_n_choices_and_usage_sums_them(client):
    reply = client.chat.completions.create(model="gpt-4o", messages=USER, n=3)
    assert [c.index for c in reply.choices] == [0, 1, 2]
    assert reply.usage.completion_tokens == sum(count_tokens(c.message.content) for c in reply.choices)


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_token_limit_truncates_with_finish_reason_length(client, param):
    reply = client.chat.completions.create(model="gpt-4o", messages=USER, **{param: 5})
    assert reply.choices[0].finish_reason == "length"
    assert 1 <= reply.usage.completion_tokens <= 5


def test_reasoning_models_report_reasoning_tokens_inside_completion_tokens(client):
    reply = client.chat.completions.create(model="o4-mini", messages=USER)
    reasoning = reply.usage.completion_tokens_details.reasoning_tokens
    assert reasoning > 0
    assert reply.usage.completion_tokens == reasoning + count_tokens(reply.choices[0].message.content)


def test_long_prompts_report_cached_tokens_and_header_sets_them(client):
    long = [{"role": "user", "content": "word " * 2000}]
    reply = client.chat.completions.create(model="gpt-4o", messages=long)
    cached = reply.usage.prompt_tokens_details.cached_tokens
    assert cached > 0 and cached % 128 == 0 and cached < reply.usage.prompt_tokens
    reply = client.chat.completions.create(model="gpt-4o", messages=USER, extra_headers={"x-sim-cached-tokens": "3"})
    assert reply.usage.prompt_tokens_details.cached_tokens == 3


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city", "unit"],
        },
    },
}


def test_tool_call_returned_when_user_asks_for_it(client):
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "What is the weather in Paris?"}], tools=[WEATHER_TOOL]
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.id.startswith("call_") and call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert set(args) == {"city", "unit"} and args["unit"] == "c"


def test_no_tool_call_when_not_asked_for_or_forbidden_or_after_a_tool_result(client):
    plain = client.chat.completions.create(model="gpt-4o", messages=USER, tools=[WEATHER_TOOL])
    assert plain.choices[0].message.tool_calls is None and plain.choices[0].finish_reason == "stop"
    ask = [{"role": "user", "content": "weather in Rome?"}]
    none = client.chat.completions.create(model="gpt-4o", messages=ask, tools=[WEATHER_TOOL], tool_choice="none")
    assert none.choices[0].message.tool_calls is None
    call = client.chat.completions.create(model="gpt-4o", messages=ask, tools=[WEATHER_TOOL]).choices[0].message
    followup = ask + [call.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.tool_calls[0].id,
                                                           "content": "sunny"}]
    answer = client.chat.completions.create(model="gpt-4o", messages=followup, tools=[WEATHER_TOOL])
    assert answer.choices[0].message.content and answer.choices[0].finish_reason == "stop"


class Colour(str, enum.Enum):
    red = "red"
    blue = "blue"


class Step(pydantic.BaseModel):
    explanation: str
    count: int
    score: float


class Report(pydantic.BaseModel):
    title: str
    colour: Colour
    kind: Literal["summary", "detail"]
    when: datetime.datetime
    ok: bool
    steps: list[Step]
    note: Optional[str]
    child: Optional["Report"]


def test_chat_parse_fills_a_pydantic_model(client):
    reply = client.chat.completions.parse(model="gpt-4o", messages=USER, response_format=Report)
    parsed = reply.choices[0].message.parsed
    assert isinstance(parsed, Report) and isinstance(parsed.steps[0], Step)


def test_chat_parse_fills_pydantic_function_tool_arguments(client):
    class GetWeather(pydantic.BaseModel):
        city: str
        days: int

    reply = client.chat.completions.parse(
        model="gpt-4o", messages=[{"role": "user", "content": "weather next week?"}],
        tools=[openai.pydantic_function_tool(GetWeather, name="get_weather")],
    )
    assert isinstance(reply.choices[0].message.tool_calls[0].function.parsed_arguments, GetWeather)


def test_json_object_format_returns_a_json_object(client):
    reply = client.chat.completions.create(model="gpt-4o", messages=USER, response_format={"type": "json_object"})
    assert isinstance(json.loads(reply.choices[0].message.content), dict)


def test_stream_without_include_usage_has_no_usage_chunk(client):
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=USER, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.usage is None and len(c.choices) == 1 for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert len([c for c in chunks if c.choices[0].delta.content]) == 8


def test_stream_with_include_usage_ends_with_usage_chunk_matching_plain_call(client):
    plain = client.chat.completions.create(model="gpt-4o", messages=USER)
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=USER, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage == plain.usage
    assert all(c.usage is None for c in chunks[:-1])
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert text == plain.choices[0].message.content


def test_chunk_header_sets_exact_content_chunk_count(sim):
    resp, payload = raw_post(sim, "/v1/chat/completions", {"model": "m", "messages": USER, "stream": True},
                             {"x-sim-chunks": "20"})
    assert resp.getheader("Transfer-Encoding") == "chunked"
    events = [line[6:] for line in payload.decode().split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [ChatCompletionChunk.model_validate_json(e) for e in events[:-1]]
    assert len(chunks) == 1 + 20 + 1  # role, 20 content deltas, finish
    assert sum(1 for c in chunks if c.choices[0].delta.content) == 20


def test_stream_helper_accumulates_parsed_content(client):
    with client.chat.completions.stream(model="gpt-4o", messages=USER, response_format=Step,
                                        stream_options={"include_usage": True}) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_completion()
    assert {"chunk", "content.delta", "content.done"} <= kinds
    assert isinstance(final.choices[0].message.parsed, Step) and final.usage.total_tokens > 0


def test_stream_tool_call_deltas_accumulate_into_a_call(client):
    ask = [{"role": "user", "content": "weather in Oslo?"}]
    with client.chat.completions.stream(model="gpt-4o", messages=ask, tools=[WEATHER_TOOL]) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert final.choices[0].finish_reason == "tool_calls" and json.loads(call.function.arguments)["unit"] == "c"


def test_async_client_create_and_stream(sim):
    async def go():
        async with openai.AsyncOpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=0) as aclient:
            reply = await aclient.chat.completions.create(model="gpt-4o", messages=USER)
            stream = await aclient.chat.completions.create(model="gpt-4o", messages=USER, stream=True,
                                                           stream_options={"include_usage": True})
            chunks = [c async for c in stream]
            return reply, chunks

    reply, chunks = asyncio.run(go())
    assert chunks[-1].usage == reply.usage


# ---------------------------------------------------------------- legacy completions


def test_legacy_completion_uses_the_documented_default_of_16_tokens(client):
    raw = client.completions.with_raw_response.create(model="gpt-3.5-turbo-instruct", prompt="Say something")
    reply = Completion.model_validate(json.loads(raw.http_response.text))
    assert reply.choices[0].finish_reason == "length" and reply.usage.completion_tokens <= 16


def test_legacy_completion_list_prompts_times_n_and_stream(client):
    reply = client.completions.create(model="m", prompt=["a", "b"], n=2, max_tokens=200)
    assert len(reply.choices) == 4 and reply.choices[0].finish_reason == "stop"
    chunks = list(client.completions.create(model="m", prompt="a", max_tokens=200, stream=True,
                                            stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert sum(1 for c in chunks if c.choices and c.choices[0].text) == 8


# ---------------------------------------------------------------- responses API


def test_responses_create_validates_and_counts_instructions(client):
    raw = client.responses.with_raw_response.create(model="gpt-4o", input="hello", instructions="Be brief.")
    reply = Response.model_validate(json.loads(raw.http_response.text))
    assert reply.status == "completed" and reply.output_text and reply.instructions == "Be brief."
    u = reply.usage
    assert u.output_tokens == count_tokens(reply.output_text) and u.total_tokens == u.input_tokens + u.output_tokens
    assert u.input_tokens_details.cached_tokens == 0 and u.output_tokens_details.reasoning_tokens == 0
    bare = client.responses.create(model="gpt-4o", input="hello")
    assert bare.usage.input_tokens < u.input_tokens


def test_responses_accepts_a_list_input_and_parses_a_model(client):
    items = [{"role": "system", "content": "x"}, {"role": "user", "content": [{"type": "input_text", "text": "hi"}]}]
    assert client.responses.create(model="gpt-4o", input=items).output_text
    parsed = client.responses.parse(model="gpt-4o", input="hi", text_format=Report).output_parsed
    assert isinstance(parsed, Report)


def test_responses_max_output_tokens_gives_incomplete(client):
    reply = client.responses.create(model="gpt-4o", input="hello", max_output_tokens=16)
    assert reply.status == "incomplete" and reply.incomplete_details.reason == "max_output_tokens"


def test_responses_function_tool_call(client):
    tool = {"type": "function", "name": "get_weather", "parameters": WEATHER_TOOL["function"]["parameters"]}
    reply = client.responses.create(model="gpt-4o", input="weather in Lima?", tools=[tool])
    call = reply.output[0]
    assert call.type == "function_call" and call.name == "get_weather" and json.loads(call.arguments)["unit"] == "c"


def test_responses_stream_sends_the_real_event_sequence(client):
    plain = client.responses.create(model="gpt-4o", input="hello")
    events = list(client.responses.create(model="gpt-4o", input="hello", stream=True,
                                          extra_headers={"x-sim-chunks": "5"}))
    assert [e.type for e in events] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        *["response.output_text.delta"] * 5, "response.output_text.done", "response.content_part.done",
        "response.output_item.done", "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].response.usage is None and events[-1].response.usage == plain.usage
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == plain.output_text


def test_responses_stream_function_call_events(client):
    tool = {"type": "function", "name": "get_weather", "parameters": WEATHER_TOOL["function"]["parameters"]}
    with client.responses.stream(model="gpt-4o", input="weather in Lima?", tools=[tool]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds.count("response.function_call_arguments.delta") == 8
    assert "response.function_call_arguments.done" in kinds and kinds[-1] == "response.completed"
    assert final.output[0].type == "function_call" and json.loads(final.output[0].arguments)["unit"] == "c"


def test_responses_stream_helper_parses_final_response(client):
    with client.responses.stream(model="gpt-4o", input="hi", text_format=Step) as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert isinstance(final.output_parsed, Step) and final.usage.total_tokens > 0


# ---------------------------------------------------------------- embeddings and moderations


def test_embeddings_float_honours_dimensions_and_is_unit_length(client):
    raw = client.embeddings.with_raw_response.create(model="any", input=["a b c", "d"], dimensions=64,
                                                     encoding_format="float")
    reply = CreateEmbeddingResponse.model_validate(json.loads(raw.http_response.text))
    assert [len(d.embedding) for d in reply.data] == [64, 64]
    assert math.isclose(sum(x * x for x in reply.data[0].embedding), 1.0, rel_tol=1e-6)
    assert reply.usage.prompt_tokens == count_tokens("a b c") + count_tokens("d") == reply.usage.total_tokens


def test_embeddings_default_base64_path_decodes_to_the_same_floats(client, sim):
    default = client.embeddings.create(model="text-embedding-3-large", input="hello world")
    floats = client.embeddings.create(model="text-embedding-3-large", input="hello world", encoding_format="float")
    assert len(default.data[0].embedding) == 256
    assert all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(default.data[0].embedding, floats.data[0].embedding))
    _, payload = raw_post(sim, "/v1/embeddings", {"model": "m", "input": "hello world", "encoding_format": "base64"})
    assert isinstance(json.loads(payload)["data"][0]["embedding"], str)


def test_embeddings_accept_token_arrays_and_share_words_means_closer(client):
    reply = client.embeddings.create(model="m", input=[[1, 2, 3], [4, 5]])
    assert reply.usage.prompt_tokens == 5
    a, b, c = (client.embeddings.create(model="m", input=t, encoding_format="float").data[0].embedding
               for t in ("the cat sat on the mat", "the cat sat on a mat", "quarterly revenue grew"))
    dot = lambda x, y: sum(p * q for p, q in zip(x, y))  # noqa: E731
    assert dot(a, b) > dot(a, c)


def test_moderation_scores_toxic_words_high_in_the_right_category(client):
    raw = client.moderations.with_raw_response.create(
        input=["you are an idiot", "I will stab him", "a stable, lovely day"])
    reply = ModerationCreateResponse.model_validate(json.loads(raw.http_response.text))
    insult, violent, clean = reply.results
    assert insult.flagged and insult.categories.harassment and insult.category_scores.harassment > 0.5
    assert violent.flagged and violent.categories.violence and not violent.categories.harassment
    assert not clean.flagged and max(clean.category_scores.model_dump().values()) < 0.01


def test_moderation_multimodal_input_is_one_result(client):
    reply = client.moderations.create(model="omni-moderation-latest", input=[
        {"type": "text", "text": "shut up"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}])
    assert len(reply.results) == 1 and reply.results[0].categories.harassment
    assert reply.results[0].category_applied_input_types.violence == ["text", "image"]


def test_models_list_and_retrieve(client):
    assert "gpt-4o-mini" in [m.id for m in client.models.list()]
    assert client.models.retrieve("gpt-4o").id == "gpt-4o"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


# ---------------------------------------------------------------- fault headers


@pytest.mark.parametrize("status, exc", [
    (400, openai.BadRequestError), (401, openai.AuthenticationError), (403, openai.PermissionDeniedError),
    (404, openai.NotFoundError), (409, openai.ConflictError), (422, openai.UnprocessableEntityError),
    (429, openai.RateLimitError), (500, openai.InternalServerError), (503, openai.InternalServerError),
])
def test_error_header_raises_the_matching_openai_exception(client, status, exc):
    with pytest.raises(exc) as info:
        client.chat.completions.create(model="m", messages=USER, extra_headers={"x-sim-error": str(status)})
    assert info.value.status_code == status
    assert set(info.value.body) == {"message", "type", "param", "code"}


def test_rate_limit_on_first_attempt_is_retried_and_succeeds(sim):
    before = sim.stats
    with openai.OpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=2) as retrying:
        reply = retrying.chat.completions.create(model="m", messages=USER, extra_headers={"x-sim-rate-limit": "1"})
    after = sim.stats
    assert reply.choices[0].message.content
    assert after["rate_limited"] - before["rate_limited"] == 1
    assert after["by_endpoint"]["chat.completions"] - before["by_endpoint"]["chat.completions"] == 2


def test_rate_limit_all_exhausts_retries_and_carries_retry_headers(sim):
    with openai.OpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=1) as retrying:
        with pytest.raises(openai.RateLimitError) as info:
            retrying.chat.completions.create(model="m", messages=USER, extra_headers={"x-sim-rate-limit": "all"})
    assert info.value.response.headers["retry-after"] == "0" and info.value.code == "rate_limit_exceeded"


def test_error_attempts_header_lets_a_retry_succeed(sim):
    with openai.OpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=1) as retrying:
        reply = retrying.chat.completions.create(
            model="m", messages=USER, extra_headers={"x-sim-error": "503", "x-sim-error-attempts": "1",
                                                     "x-sim-retry-after-ms": "1"})
    assert reply.choices


def test_malformed_header_gives_200_with_a_body_that_is_not_json(client, sim):
    resp, payload = raw_post(sim, "/v1/chat/completions", {"model": "m", "messages": USER}, {"x-sim-malformed": "1"})
    assert resp.status == 200
    with pytest.raises(ValueError):
        json.loads(payload)
    with pytest.raises(ValueError):
        client.chat.completions.create(model="m", messages=USER, extra_headers={"x-sim-malformed": "1"})


def test_omit_usage_header_drops_usage_everywhere(client):
    h = {"x-sim-omit-usage": "1"}
    assert client.chat.completions.create(model="m", messages=USER, extra_headers=h).usage is None
    chunks = list(client.chat.completions.create(model="m", messages=USER, stream=True, extra_headers=h,
                                                 stream_options={"include_usage": True}))
    assert all(c.usage is None and c.choices for c in chunks)
    assert client.responses.create(model="m", input="x", extra_headers=h).usage is None


def test_toxic_header_inserts_a_toxic_phrase_without_changing_usage(client):
    clean = client.chat.completions.create(model="m", messages=USER)
    toxic = client.chat.completions.create(model="m", messages=USER, extra_headers={"x-sim-toxic": "1"})
    assert toxic.usage == clean.usage and toxic.choices[0].message.content != clean.choices[0].message.content
    assert client.moderations.create(input=toxic.choices[0].message.content).results[0].flagged
    assert not client.moderations.create(input=clean.choices[0].message.content).results[0].flagged


def test_disconnect_header_breaks_the_connection_mid_stream(client):
    got = []
    with pytest.raises(_broken_connection_errors()):
        for chunk in client.chat.completions.create(model="m", messages=USER, stream=True,
                                                    extra_headers={"x-sim-disconnect": "1"}):
            got.append(chunk)
    assert len(got) == 3
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="m", messages=USER, extra_headers={"x-sim-disconnect": "1"})


def test_latency_and_chunk_delay_headers_are_honoured(client):
    raw = client.chat.completions.with_raw_response.create(model="m", messages=USER,
                                                           extra_headers={"x-sim-latency-ms": "30"})
    assert int(raw.http_response.headers["openai-processing-ms"]) >= 30  # a lower bound, not a timing
    chunks = list(client.chat.completions.create(model="m", messages=USER, stream=True,
                                                 extra_headers={"x-sim-chunk-delay-ms": "1", "x-sim-chunks": "3"}))
    assert len(chunks) == 5


def test_every_documented_header_starts_with_x_sim():
    assert HEADERS and all(name.startswith("x-sim-") for name in HEADERS)


@pytest.mark.parametrize("header, value", [("x-sim-error", "200"), ("x-sim-chunks", "0"), ("x-sim-latency-ms", "soon")])
def test_bad_header_value_is_a_400_naming_the_header(sim, header, value):
    resp, payload = raw_post(sim, "/v1/chat/completions", {"model": "m", "messages": USER}, {header: value})
    assert resp.status == 400 and json.loads(payload)["error"]["param"] == header


# ---------------------------------------------------------------- request validation and HTTP


@pytest.mark.parametrize("path, body, param", [
    ("/v1/chat/completions", {"model": "m"}, "messages"),
    ("/v1/chat/completions", {"messages": USER}, "model"),
    ("/v1/chat/completions", {"model": "m", "messages": USER, "n": "two"}, "n"),
    ("/v1/embeddings", {"model": "m"}, "input"),
    ("/v1/embeddings", {"model": "m", "input": "x", "encoding_format": "int8"}, "encoding_format"),
    ("/v1/completions", {"model": "m"}, "prompt"),
    ("/v1/moderations", {}, "input"),
])
def test_missing_or_invalid_fields_get_a_400_naming_the_field(sim, path, body, param):
    resp, payload = raw_post(sim, path, body)
    error = json.loads(payload)["error"]
    assert resp.status == 400 and error["param"] == param and error["type"] == "invalid_request_error"


def test_invalid_json_body_is_a_400_and_unknown_path_a_404(sim):
    resp, payload = raw_post(sim, "/v1/chat/completions", b"{not json")
    assert resp.status == 400 and "JSON" in json.loads(payload)["error"]["message"]
    resp, _ = raw_post(sim, "/v1/nothing", {})
    assert resp.status == 404


def test_keep_alive_serves_many_requests_on_one_connection(sim):
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    raw_post(sim, "/v1/chat/completions", {"model": "m", "messages": USER}, conn=conn)
    sock = conn.sock
    raw_post(sim, "/v1/chat/completions", {"model": "m", "messages": USER, "stream": True}, conn=conn)
    raw_post(sim, "/v1/chat/completions", b"{broken", conn=conn)
    resp, payload = raw_post(sim, "/v1/embeddings", {"model": "m", "input": "x"}, conn=conn)
    assert conn.sock is sock and resp.status == 200 and json.loads(payload)["data"]
    conn.close()


def test_azure_client_uses_deployment_paths(sim):
    az = openai.AzureOpenAI(azure_endpoint=sim.url, api_version="2024-10-21", api_key="k", max_retries=0)
    reply = az.chat.completions.create(model="prod-gpt4o", messages=USER)
    assert reply.model == "prod-gpt4o" and reply.choices[0].message.content
    assert len(az.embeddings.create(model="prod-embed", input="x").data[0].embedding) == 256
    resp, payload = raw_post(sim, "/openai/deployments/d/chat/completions", {"messages": USER})
    assert resp.status == 400 and json.loads(payload)["error"]["param"] == "api-version"


def test_stats_count_endpoints_statuses_and_streams():
    with Simulator() as s, openai.OpenAI(base_url=s.base_url, api_key="k", max_retries=0) as c:
        c.chat.completions.create(model="m", messages=USER)
        list(c.chat.completions.create(model="m", messages=USER, stream=True))
        c.embeddings.create(model="m", input="x")
        with pytest.raises(openai.InternalServerError):
            c.chat.completions.create(model="m", messages=USER, extra_headers={"x-sim-error": "500"})
        stats = s.reset_stats()
        assert stats["by_endpoint"] == {"chat.completions": 3, "embeddings": 1}
        assert stats["by_status"] == {200: 3, 500: 1} and stats["streams"] == 1 and stats["errors"] == 1
        assert stats["prompt_tokens"] > 0 and stats["completion_tokens"] > 0
        assert s.stats["requests"] == 0
        c.embeddings.create(model="m", input="x")
    assert s.stats["by_endpoint"] == {"embeddings": 1}  # final counts survive stop()


# ---------------------------------------------------------------- server-wide settings


def _statuses(**settings):
    with Simulator(**settings) as s:
        for _ in range(30):
            raw_post(s, "/v1/chat/completions", {"model": "m", "messages": USER})
        return s.stats["by_status"]


def test_server_wide_fault_rates_are_seeded_and_reproducible():
    first = _statuses(error_rate=0.3, rate_limit_rate=0.2, seed=3)
    assert first == _statuses(error_rate=0.3, rate_limit_rate=0.2, seed=3)
    assert set(first) == {200, 429, 500, 503}
    assert set(_statuses(error_rate=1.0)) == {500, 503}
    assert _statuses(rate_limit_rate=1.0) == {429: 30}


def test_toxic_rate_one_makes_every_output_toxic_and_header_zero_opts_out():
    with Simulator(toxic_rate=1.0) as s, openai.OpenAI(base_url=s.base_url, api_key="k", max_retries=0) as c:
        toxic = c.chat.completions.create(model="m", messages=USER).choices[0].message.content
        clean = c.chat.completions.create(model="m", messages=USER, extra_headers={"x-sim-toxic": "0"})
        assert c.moderations.create(input=toxic).results[0].flagged
        assert not c.moderations.create(input=clean.choices[0].message.content).results[0].flagged


def test_stop_is_idempotent_and_closes_kept_alive_connections():
    s = Simulator().start()
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    raw_post(s, "/v1/embeddings", {"model": "m", "input": "x"}, conn=conn)
    s.stop()
    s.stop()
    try:
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            raw_post(s, "/v1/embeddings", {"model": "m", "input": "x"}, conn=conn)
    finally:
        conn.close()


def test_constructor_rejects_out_of_range_values():
    with pytest.raises(ValueError, match="error_rate must be between 0 and 1"):
        Simulator(error_rate=2)


# ---------------------------------------------------------------- CLI


@pytest.mark.parametrize("argv, option", [
    (["--error-rate", "2"], "--error-rate"), (["--rate-limit-rate", "-0.1"], "--rate-limit-rate"),
    (["--toxic-rate", "1.5"], "--toxic-rate"), (["--latency", "-1"], "--latency"),
    (["--port", "70000"], "--port"), (["--chunks", "0"], "--chunks"),
])
def test_cli_rejects_bad_options_with_exit_code_2(capsys, argv, option):
    assert cli.main(["simulate", *argv]) == 2
    err = capsys.readouterr().err
    assert option in err and "must be between" in err


def test_cli_serves_until_terminated():
    with subprocess.Popen([sys.executable, "-m", "llmwatch.cli", "simulate", "--port", "0", "--seed", "1"],
                          stdout=subprocess.PIPE, text=True) as proc:
        try:
            base_url = proc.stdout.readline().split("serving ")[1].split()[0]
            assert base_url.startswith("http://127.0.0.1:")
            with openai.OpenAI(base_url=base_url, api_key="k", max_retries=0) as c:
                assert c.chat.completions.create(model="m", messages=USER).choices
        finally:
            proc.terminate()
            proc.wait(timeout=10)
