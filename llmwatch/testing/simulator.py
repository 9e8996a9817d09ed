"""A small, fast, OpenAI-compatible HTTP server on 127.0.0.1 for demos, tests and load tests.

Standard library only. Replies are shaped like the real API closely enough that the ``openai``
client parses them into its typed models: chat completions (JSON and SSE, tools, structured
output), legacy completions, the Responses API (JSON and its event stream), embeddings (float and
base64), moderations and the model list, plus Azure-style ``/openai/deployments/{name}/...`` paths.

Everything is deterministic: the output text, token counts and vectors are seeded by the request
body and the server ``seed``; server-wide fault rates draw from one seeded RNG. Faults can also be
forced per request with ``x-sim-*`` headers (see ``HEADERS``), which keeps tests exact::

    with Simulator() as sim:
        client = openai.OpenAI(base_url=sim.base_url, api_key="sk-test")
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                       extra_headers={"x-sim-error": "503"})   # raises InternalServerError

This module holds one concern (the simulated server) but is longer than the ~400 lines STYLE.md
asks for: it was scoped to a single file; ``_sim_text``/``_sim_endpoints`` would be the split.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import logging
import os
import random
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, overload

__all__ = ["Simulator", "HEADERS", "count_tokens", "register"]

log = logging.getLogger(__name__)

#: Per-request fault headers and what they do.
HEADERS = {
    "x-sim-error": "STATUS (400-599): reply with that status and an OpenAI-shaped error body",
    "x-sim-error-attempts": "N: apply x-sim-error only to attempts 0..N-1 (x-stainless-retry-count)",
    "x-sim-rate-limit": "N or 'all': 429 for attempts 0..N-1; '1' limits only the first attempt",
    "x-sim-retry-after-ms": "N: retry-after-ms sent with a 429 (default 1)",
    "x-sim-latency-ms": "N: wait before replying (overrides the server latency)",
    "x-sim-chunks": "N: exact number of content chunks in a stream (default 8)",
    "x-sim-chunk-delay-ms": "N: wait between stream events (overrides the server chunk_delay)",
    "x-sim-malformed": "1: HTTP 200 whose body is not valid JSON",
    "x-sim-omit-usage": "1: no usage object at all",
    "x-sim-shape": "wrong-types: a 200 JSON body whose choices and usage are strings; text-usage: usage "
                   "counts as words (\"ten\") — a server that is only nearly OpenAI-compatible",
    "x-sim-toxic": "1 or 0: force or forbid a toxic phrase in the output",
    "x-sim-disconnect": "1: close the connection mid-body (mid-stream for streams)",
    "x-sim-cached-tokens": "N: prompt tokens reported as cached (clamped to the prompt)",
    "x-sim-cache-write-tokens": "N: input tokens reported as written to the prompt cache (Anthropic)",
}

_WORDS = (
    "the system returns a stable answer for every request while metrics stay within budget and "
    "latency remains low across regions the model considers context tokens cost and quality before "
    "it writes a short reply about data pipelines caching retries errors dashboards alerts traces "
    "users prompts vectors embeddings throughput capacity clusters"
).split()
_TOXIC = ("you are an idiot", "what a stupid question", "shut up you moron", "only a loser asks this")
# term -> categories it scores high in; parents are listed explicitly (violence/graphic -> violence).
_LEXICON = {
    "idiot": ("harassment",), "stupid": ("harassment",), "moron": ("harassment",),
    "loser": ("harassment",), "shut up": ("harassment",),
    "i will hurt you": ("harassment", "harassment/threatening", "violence"),
    "kill you": ("harassment", "harassment/threatening", "violence"),
    "kill": ("violence",), "murder": ("violence",), "stab": ("violence",), "shoot": ("violence",),
    "bomb": ("violence", "illicit", "illicit/violent"), "gore": ("violence", "violence/graphic"),
    "dismember": ("violence", "violence/graphic"), "vermin": ("hate",), "subhuman": ("hate",),
    "exterminate them": ("hate", "hate/threatening", "violence"),
    "kill myself": ("self-harm", "self-harm/intent", "violence"),
    "hurt myself": ("self-harm", "self-harm/intent"), "how to self-harm": ("self-harm", "self-harm/instructions"),
    "porn": ("sexual",), "explicit sex": ("sexual",), "steal a car": ("illicit",),
    "buy drugs": ("illicit",),
}
# Whole words only: "stab" must not match "stable". Longest first so phrases win over their words.
_LEXICON_RE = re.compile(r"\b(" + "|".join(map(re.escape, sorted(_LEXICON, key=len, reverse=True))) + r")\b")
_CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors",
    "violence", "violence/graphic",
)
_IMAGE_CATEGORIES = frozenset(
    ("self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "violence", "violence/graphic")
)
_MODELS = (
    "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-5", "gpt-5-mini", "o3", "o4-mini",
    "gpt-3.5-turbo-instruct", "text-embedding-3-small", "text-embedding-3-large", "omni-moderation-latest",
)
_ENDPOINTS = ("chat/completions", "completions", "responses", "embeddings", "moderations")
_FINGERPRINT = "fp_llmwatchsim"
_STATUS_TEXT = {
    400: ("invalid_request_error", None, "Bad request (simulated)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided (simulated)."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden (simulated)."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist (simulated)."),
    409: ("invalid_request_error", "conflict", "Conflict (simulated)."),
    422: ("invalid_request_error", None, "Unprocessable entity (simulated)."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests (simulated)."),
    500: ("server_error", None, "The server had an error while processing your request (simulated)."),
    503: ("server_error", "overloaded", "The engine is currently overloaded (simulated)."),
}
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests"}


# ---------------------------------------------------------------- tokens, text and values


def count_tokens(text: str) -> int:
    """The simulator's token count: words x 1.3, rounded (integer arithmetic, so it never drifts)."""
    return (len(text.split()) * 13 + 5) // 10


def _words_within(budget: int) -> int:
    """Largest word count whose token count fits ``budget`` (at least one word)."""
    k = max(1, budget * 10 // 13)
    while k > 1 and (k * 13 + 5) // 10 > budget:
        k -= 1
    while ((k + 1) * 13 + 5) // 10 <= budget:
        k += 1
    return k


def _sentences(rng: random.Random, n_words: int) -> str:
    words: list[str] = []
    while len(words) < n_words:
        size = min(rng.randint(6, 14), n_words - len(words))
        sentence = [rng.choice(_WORDS) for _ in range(size)]
        sentence[0] = sentence[0].capitalize()
        sentence[-1] += "."
        words.extend(sentence)
    return " ".join(words)


def _toxify(text: str, rng: random.Random) -> str:
    """Replace the last words by a toxic phrase, keeping the word (so token) count unchanged."""
    words = text.split(" ")
    phrase = rng.choice(_TOXIC).split(" ")
    phrase[-1] += "."
    if len(words) <= len(phrase):
        return " ".join(phrase[: len(words)])
    return " ".join(words[: len(words) - len(phrase)] + phrase)


def _truncate(text: str, budget: int | None) -> tuple[str, bool]:
    if budget is None or count_tokens(text) <= budget:
        return text, False
    return " ".join(text.split(" ")[: _words_within(budget)]), True


def _pieces(text: str, n: int) -> list[str]:
    """Split ``text`` into exactly ``n`` pieces: whole words where possible, else characters."""
    words = text.split(" ")
    if len(words) >= n:
        q, r = divmod(len(words), n)
        out, start = [], 0
        for i in range(n):
            end = start + q + (i < r)
            out.append((" " if start else "") + " ".join(words[start:end]))
            start = end
        return out
    q, r = divmod(len(text), n)
    bounds = [i * q + min(i, r) for i in range(n + 1)]
    return [text[bounds[i] : bounds[i + 1]] for i in range(n)]


_FORMATS = {
    "date-time": "2025-01-01T12:00:00Z", "date": "2025-01-01", "time": "12:00:00",
    "email": "user@example.com", "uri": "https://example.com/", "uuid": "00000000-0000-4000-8000-000000000000",
}


def _sample(schema: Any, root: dict[str, Any], rng: random.Random, depth: int = 0) -> Any:
    """A value satisfying a JSON schema's types, required properties, enums and simple bounds.

    Enough for schemas from Pydantic (``$defs``/``$ref``, ``anyOf`` for Optional, strict mode);
    ``pattern`` is not honoured. Recursion is cut by choosing ``null`` or empty arrays when deep.
    """
    if not isinstance(schema, dict) or depth > 12:
        return None
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return _sample(target, root, rng, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        real = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
        return None if (depth > 4 and len(real) < len(options)) or not real else _sample(real[0], root, rng, depth)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part)
        return _sample(merged, root, rng, depth)
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), "null")
    if typ is None:
        typ = "object" if "properties" in schema else "array" if "items" in schema else "string"
    sampler = _SAMPLERS.get(typ)
    return sampler(schema, root, rng, depth) if sampler is not None else None


def _sample_object(schema: dict[str, Any], root: dict[str, Any], rng: random.Random, depth: int) -> dict[str, Any]:
    props = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    return {k: _sample(v, root, rng, depth + 1) for k, v in props.items() if depth < 4 or k in required}


def _sample_array(schema: dict[str, Any], root: dict[str, Any], rng: random.Random, depth: int) -> list[Any]:
    if schema.get("prefixItems"):
        return [_sample(s, root, rng, depth + 1) for s in schema["prefixItems"]]
    count = max(int(schema.get("minItems", 0)), 1 if depth < 4 else 0)
    count = min(count, int(schema.get("maxItems", count)))
    return [_sample(schema.get("items", {}), root, rng, depth + 1) for _ in range(count)]


def _sample_string(schema: dict[str, Any], root: dict[str, Any], rng: random.Random, depth: int) -> str:
    value = _FORMATS.get(schema.get("format", ""), rng.choice(_WORDS))
    value = value.ljust(int(schema.get("minLength", 0)), "x")
    return value[: int(schema["maxLength"])] if "maxLength" in schema else value


def _sample_number(schema: dict[str, Any], root: dict[str, Any], rng: random.Random, depth: int) -> float | int:
    integer = schema.get("type") == "integer" or "integer" in (schema.get("type") or ())
    lo = schema.get("minimum", schema.get("exclusiveMinimum", None))
    hi = schema.get("maximum", schema.get("exclusiveMaximum", None))
    step = 1 if integer else 0.5
    if lo is not None:
        value = lo + (step if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    else:
        value = rng.randint(1, 100) if integer else rng.randint(2, 200) / 2
        if hi is not None and value >= hi:
            value = hi - step if "exclusiveMaximum" in schema and "maximum" not in schema else hi
    return int(value) if integer else float(value)


_SAMPLERS: dict[str, Callable[..., Any]] = {
    "object": _sample_object, "array": _sample_array, "string": _sample_string,
    "integer": _sample_number, "number": _sample_number,
    "boolean": lambda s, r, rng, d: rng.random() < 0.5, "null": lambda *_: None,
}


@functools.lru_cache(maxsize=8192)
def _word_vector(word: str, dims: int) -> tuple[float, ...]:
    return tuple((b - 127.5) / 127.5 for b in hashlib.shake_256(word.encode()).digest(dims))


def _embed(words: list[str], dims: int) -> list[float]:
    """Bag-of-words hashing: texts sharing words get similar vectors; unit length."""
    acc = [0.0] * dims
    for word in words or [""]:
        acc = [a + b for a, b in zip(acc, _word_vector(word, dims))]
    norm = sum(a * a for a in acc) ** 0.5 or 1.0
    return [a / norm for a in acc]


# ---------------------------------------------------------------- request parsing and errors


class ApiError(Exception):
    """An error reply with an OpenAI-shaped body ``{"error": {message, type, param, code}}``."""

    def __init__(self, status: int, message: str | None = None, *, param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None) -> None:
        etype, default_code, default_message = _STATUS_TEXT.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None, f"Error {status} (simulated).")
        )
        super().__init__(message or default_message)
        self.status, self.param, self.headers = status, param, headers or {}
        self.body = {"error": {"message": message or default_message, "type": etype, "param": param,
                               "code": code if code is not None else default_code}}


def _missing(name: str) -> ApiError:
    return ApiError(400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")


def _int(body: dict[str, Any], name: str, default: int | None, lo: int, hi: int) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(400, f"Invalid type for '{name}': expected an integer.", param=name, code="invalid_type")
    if not lo <= value <= hi:
        raise ApiError(400, f"Invalid '{name}': {value} is outside [{lo}, {hi}].", param=name, code="invalid_value")
    return value


@overload
def _header_int(headers: Any, name: str, lo: int, hi: int, default: int) -> int: ...
@overload
def _header_int(headers: Any, name: str, lo: int, hi: int, default: None = None) -> int | None: ...
def _header_int(headers: Any, name: str, lo: int, hi: int, default: int | None = None) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = lo - 1
    if not lo <= value <= hi:
        raise ApiError(400, f"Invalid header {name}: {raw!r}; expected an integer in [{lo}, {hi}].", param=name)
    return value


def _flag(headers: Any, name: str) -> bool | None:
    raw = headers.get(name)
    return None if raw is None else raw.strip().lower() in ("1", "true", "yes", "on")


def _text_of(content: Any) -> str:
    """Text of a message ``content``: a string or a list of parts (text parts only)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text") or p.get("output") or "" for p in content if isinstance(p, dict))
    return ""


class _Request:
    """One parsed POST: body, model, per-request switches and the seed for its outputs."""

    def __init__(self, sim: _Server, endpoint: str, deployment: str | None, headers: Any, raw: bytes,
                 attempt: int) -> None:
        self.endpoint, self.headers, self.attempt = endpoint, headers, attempt
        try:
            body = json.loads(raw or b"null")
        except ValueError as exc:
            raise ApiError(400, f"We could not parse the JSON body of your request: {exc}.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        self.body = body
        model = deployment or body.get("model")
        if model is None and endpoint != "moderations":
            raise _missing("model")
        if not isinstance(model, (str, type(None))):
            raise ApiError(400, "Invalid type for 'model': expected a string.", param="model", code="invalid_type")
        self.model = str(model or "omni-moderation-latest")
        # Seeded by the body minus the stream switches, so a streamed call says what the plain one says.
        key = json.dumps({k: v for k, v in body.items() if k not in ("stream", "stream_options")}, sort_keys=True)
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        self.seed = (sim.config.seed * 1_000_003) ^ int.from_bytes(digest, "big")
        self.chunks = _header_int(headers, "x-sim-chunks", 1, 10_000, sim.config.chunks)
        self.omit_usage = bool(_flag(headers, "x-sim-omit-usage"))
        self.cached = _header_int(headers, "x-sim-cached-tokens", 0, 10**9)
        forced = _flag(headers, "x-sim-toxic")
        self.toxic = sim.draw_toxic() if forced is None else forced
        self.stream = bool(body.get("stream"))
        self.created = int(time.time())
        self.tokens = (0, 0)  # (prompt, completion) billed, for the server's stats

    def rng(self, index: int = 0) -> random.Random:
        return random.Random(self.seed + index * 7919)

    def usage_details(self, prompt_tokens: int) -> int:
        """Cached prompt tokens: the header, else half the prompt in 128-token blocks once it passes 1024."""
        if self.cached is not None:
            return min(self.cached, prompt_tokens)
        return (prompt_tokens // 2) // 128 * 128 if prompt_tokens >= 1024 else 0


# ---------------------------------------------------------------- generation shared by endpoints


class _Answer:
    """One generated choice: text or tool calls, finish reason and token counts."""

    __slots__ = ("text", "calls", "truncated", "tokens", "reasoning")

    def __init__(self, text: str | None, calls: list[tuple[str, str, str]], truncated: bool, tokens: int,
                 reasoning: int) -> None:
        self.text, self.calls, self.truncated, self.tokens, self.reasoning = text, calls, truncated, tokens, reasoning


def _is_reasoning_model(model: str) -> bool:
    return model[:1] == "o" and model[1:2].isdigit() or model.startswith("gpt-5")


def _pick_tools(tools: list[dict[str, Any]], choice: Any, last_user: str | None,
                parallel: bool) -> list[dict[str, Any]]:
    """Tools to call: a named tool_choice, else tools whose name words appear in the last user turn."""
    if not tools or choice == "none" or last_user is None:
        return []
    if isinstance(choice, dict):
        name = (choice.get("function") or choice).get("name")
        return [t for t in tools if t["name"] == name][:1]
    text = last_user.lower()
    hits = [t for t in tools if any(len(w) >= 4 and w in text for w in t["name"].lower().replace("-", "_").split("_"))]
    if not hits and choice == "required":
        hits = tools[:1]
    return hits if parallel else hits[:1]


def _answer(req: _Request, index: int, budget: int | None, schema: dict[str, Any] | None, json_object: bool,
            tools: list[dict[str, Any]]) -> _Answer:
    rng = req.rng(index)
    reasoning = 64 * rng.randint(1, 6) if _is_reasoning_model(req.model) else 0
    if budget is not None:
        reasoning = min(reasoning, budget // 2)
        budget -= reasoning
    if tools:
        calls = [(f"call_{os.urandom(12).hex()}", t["name"],
                  json.dumps(_sample(t.get("parameters") or {}, t.get("parameters") or {}, rng)))
                 for t in tools]
        return _Answer(None, calls, False, sum(count_tokens(a) + 4 for _, _, a in calls), reasoning)
    if schema is not None:
        text = json.dumps(_sample(schema, schema, rng))
    elif json_object:
        text = json.dumps({"answer": _sentences(rng, rng.randint(8, 20))})
    else:
        text = _sentences(rng, rng.randint(24, 60))
        if req.toxic:
            text = _toxify(text, rng)
    text, truncated = _truncate(text, budget)
    return _Answer(text, [], truncated, count_tokens(text), reasoning)


def _chat_usage(req: _Request, prompt: int, answers: list[_Answer]) -> dict[str, Any] | None:
    completion = sum(a.tokens + a.reasoning for a in answers)
    req.tokens = (prompt, completion)
    if req.omit_usage:
        return None
    return {
        "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": req.usage_details(prompt), "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": sum(a.reasoning for a in answers), "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    }


def _sse(obj: Any, event: str | None = None) -> bytes:
    data = "data: " + (obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"))) + "\n\n"
    return (f"event: {event}\n{data}" if event else data).encode()


# ---------------------------------------------------------------- endpoints


def _chat(req: _Request) -> dict[str, Any] | Iterator[bytes]:
    body = req.body
    messages = body.get("messages")
    if not messages:
        raise _missing("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m for m in messages):
        raise ApiError(400, "Invalid 'messages': expected a list of objects with a 'role'.", param="messages",
                       code="invalid_value")
    n = _int(body, "n", 1, 1, 128) or 1
    budget = _int(body, "max_completion_tokens", None, 1, 10**7) or _int(body, "max_tokens", None, 1, 10**7)
    tools = [t["function"] for t in body.get("tools") or ()
             if isinstance(t, dict) and isinstance(t.get("function"), dict)]
    prompt = 3 + sum(4 + count_tokens(_text_of(m.get("content"))) for m in messages)
    if tools:
        prompt += count_tokens(json.dumps(tools).replace(",", " ")) + 8
    last = messages[-1]
    called = _pick_tools(tools, body.get("tool_choice"),
                         _text_of(last.get("content")) if last["role"] == "user" else None,
                         body.get("parallel_tool_calls") is not False)
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema", {}) if fmt.get("type") == "json_schema" else None
    answers = [_answer(req, i, budget, schema, fmt.get("type") == "json_object", called) for i in range(n)]
    base = {"id": f"chatcmpl-{os.urandom(12).hex()}", "object": "chat.completion", "created": req.created,
            "model": req.model, "system_fingerprint": _FINGERPRINT, "service_tier": "default"}
    usage = _chat_usage(req, prompt, answers)
    if req.stream:
        include = bool((body.get("stream_options") or {}).get("include_usage")) and usage is not None
        return _chat_stream(req, base, answers, usage if include else None, include)
    base["choices"] = [{"index": i, "message": _message(a), "logprobs": None, "finish_reason": _finish(a)}
                       for i, a in enumerate(answers)]
    if usage is not None:
        base["usage"] = usage
    return base


def _finish(a: _Answer) -> str:
    return "tool_calls" if a.calls else "length" if a.truncated else "stop"


def _message(a: _Answer) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": a.text, "refusal": None, "annotations": []}
    if a.calls:
        msg["tool_calls"] = [{"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                             for cid, name, args in a.calls]
    return msg


def _chat_stream(req: _Request, base: dict[str, Any], answers: list[_Answer], usage: dict[str, Any] | None,
                 include: bool) -> Iterator[bytes]:
    base = dict(base, object="chat.completion.chunk")
    if include:
        base["usage"] = None

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _sse(dict(base, choices=[{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]))

    for i in range(len(answers)):
        yield chunk(i, {"role": "assistant", "content": "" if not answers[i].calls else None, "refusal": None})
    for i, a in enumerate(answers):
        for j, (cid, name, _) in enumerate(a.calls):
            yield chunk(i, {"tool_calls": [{"index": j, "id": cid, "type": "function",
                                            "function": {"name": name, "arguments": ""}}]})
    plans: list[list[tuple[int | None, str]]] = [
        [(j, p) for j, (_, _, args) in enumerate(a.calls) for p in _pieces(args, req.chunks)]
        if a.calls else [(None, p) for p in _pieces(a.text or "", req.chunks)] for a in answers]
    for step in range(max(len(p) for p in plans)):
        for i, plan in enumerate(plans):
            if step < len(plan):
                at, piece = plan[step]
                delta = ({"content": piece} if at is None
                         else {"tool_calls": [{"index": at, "function": {"arguments": piece}}]})
                yield chunk(i, delta)
    for i, a in enumerate(answers):
        yield chunk(i, {}, _finish(a))
    if usage is not None:
        yield _sse(dict(base, choices=[], usage=usage))
    yield _sse("[DONE]")


def _completions(req: _Request) -> dict[str, Any] | Iterator[bytes]:
    prompt = req.body.get("prompt")
    if prompt is None or prompt == "" or prompt == []:
        raise _missing("prompt")
    single = isinstance(prompt, str) or (isinstance(prompt, list) and prompt and isinstance(prompt[0], int))
    prompts: list[Any] = [prompt] if single else list(prompt)
    texts = [p if isinstance(p, str) else " ".join(map(str, p)) for p in prompts]
    n = _int(req.body, "n", 1, 1, 128) or 1
    budget = _int(req.body, "max_tokens", 16, 1, 10**7)  # the legacy API's documented default is 16
    answers = [_answer(req, k, budget, None, False, []) for k in range(len(prompts) * n)]
    for k, a in enumerate(answers):
        if req.body.get("echo"):
            a.text = texts[k // n] + (a.text or "")
    p_tokens = sum(len(p) if isinstance(p, list) else count_tokens(p) for p in prompts)
    usage = _chat_usage(req, p_tokens, answers)
    if usage is not None:
        del usage["completion_tokens_details"]["audio_tokens"], usage["prompt_tokens_details"]["audio_tokens"]
    base = {"id": f"cmpl-{os.urandom(12).hex()}", "object": "text_completion", "created": req.created,
            "model": req.model, "system_fingerprint": _FINGERPRINT}
    if req.stream:
        include = bool((req.body.get("stream_options") or {}).get("include_usage")) and usage is not None
        return _completions_stream(req, base, answers, usage if include else None)
    base["choices"] = [{"index": k, "text": a.text, "logprobs": None, "finish_reason": _finish(a)}
                       for k, a in enumerate(answers)]
    if usage is not None:
        base["usage"] = usage
    return base


def _completions_stream(req: _Request, base: dict[str, Any], answers: list[_Answer],
                        usage: dict[str, Any] | None) -> Iterator[bytes]:
    plans = [_pieces(a.text or "", req.chunks) for a in answers]
    for step in range(req.chunks):
        for k, plan in enumerate(plans):
            yield _sse(dict(base, choices=[{"index": k, "text": plan[step], "logprobs": None, "finish_reason": None}]))
    for k, a in enumerate(answers):
        yield _sse(dict(base, choices=[{"index": k, "text": "", "logprobs": None, "finish_reason": _finish(a)}]))
    if usage is not None:
        yield _sse(dict(base, choices=[], usage=usage))
    yield _sse("[DONE]")


def _responses(req: _Request) -> dict[str, Any] | Iterator[bytes]:
    body = req.body
    items = body.get("input")
    items = [{"role": "user", "content": items}] if isinstance(items, str) else items or []
    if not isinstance(items, list):
        raise ApiError(400, "Invalid 'input': expected a string or a list of items.", param="input",
                       code="invalid_type")
    instructions = body.get("instructions")
    prompt = count_tokens(instructions if isinstance(instructions, str) else "") + sum(
        4 + count_tokens(_text_of(i.get("content", i.get("output")))) for i in items if isinstance(i, dict))
    tools = [t for t in body.get("tools") or () if isinstance(t, dict) and t.get("type") == "function" and "name" in t]
    last = items[-1] if items and isinstance(items[-1], dict) else {}
    last_user = _text_of(last.get("content")) if last.get("role", "user") == "user" and "content" in last else None
    called = _pick_tools(tools, body.get("tool_choice"), last_user, body.get("parallel_tool_calls") is not False)
    fmt = (body.get("text") or {}).get("format") or {"type": "text"}
    schema = fmt.get("schema", {}) if fmt.get("type") == "json_schema" else None
    a = _answer(req, 0, _int(body, "max_output_tokens", None, 1, 10**7), schema, fmt.get("type") == "json_object",
                called)
    rid, mid = f"resp_{os.urandom(16).hex()}", f"msg_{os.urandom(16).hex()}"
    req.tokens = (prompt, a.tokens + a.reasoning)
    usage = None if req.omit_usage else {
        "input_tokens": prompt, "output_tokens": a.tokens + a.reasoning,
        "total_tokens": prompt + a.tokens + a.reasoning,
        "input_tokens_details": {"cached_tokens": req.usage_details(prompt), "cache_write_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": a.reasoning},
    }
    status = "incomplete" if a.truncated else "completed"
    output: list[dict[str, Any]]
    if a.calls:
        output = [{"type": "function_call", "id": f"fc_{os.urandom(16).hex()}", "call_id": cid, "name": name,
                   "arguments": args, "status": "completed"} for cid, name, args in a.calls]
    else:
        output = [{"type": "message", "id": mid, "status": status, "role": "assistant",
                   "content": [{"type": "output_text", "text": a.text, "annotations": [], "logprobs": []}]}]
    final = {
        "id": rid, "object": "response", "created_at": req.created, "completed_at": int(time.time()),
        "status": status, "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if a.truncated else None,
        "instructions": instructions, "max_output_tokens": body.get("max_output_tokens"), "model": req.model,
        "output": output, "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"), "reasoning": {"effort": None, "summary": None},
        "service_tier": "default", "temperature": body.get("temperature", 1.0), "top_p": body.get("top_p", 1.0),
        "text": {"format": fmt, "verbosity": "medium"}, "tool_choice": body.get("tool_choice", "auto"),
        "tools": [dict({"strict": True, "parameters": None}, **t) for t in tools], "truncation": "disabled",
        "usage": usage, "user": None, "metadata": body.get("metadata") or {},
    }
    return _responses_stream(req, final) if req.stream else final


def _responses_stream(req: _Request, final: dict[str, Any]) -> Iterator[bytes]:
    seq = iter(range(1 << 30))

    def event(kind: str, **fields: Any) -> bytes:
        return _sse(dict(type=kind, sequence_number=next(seq), **fields), kind)

    start = dict(final, status="in_progress", output=[], usage=None, completed_at=None, incomplete_details=None)
    yield event("response.created", response=start)
    yield event("response.in_progress", response=start)
    for idx, item in enumerate(final["output"]):
        if item["type"] == "function_call":
            yield event("response.output_item.added", output_index=idx,
                        item=dict(item, arguments="", status="in_progress"))
            for piece in _pieces(item["arguments"], req.chunks):
                yield event("response.function_call_arguments.delta", item_id=item["id"], output_index=idx, delta=piece)
            yield event("response.function_call_arguments.done", item_id=item["id"], output_index=idx,
                        arguments=item["arguments"])
        else:
            part = item["content"][0]
            ids = {"item_id": item["id"], "output_index": idx, "content_index": 0}
            yield event("response.output_item.added", output_index=idx,
                        item=dict(item, status="in_progress", content=[]))
            yield event("response.content_part.added", part=dict(part, text=""), **ids)
            for piece in _pieces(part["text"], req.chunks):
                yield event("response.output_text.delta", delta=piece, logprobs=[], **ids)
            yield event("response.output_text.done", text=part["text"], logprobs=[], **ids)
            yield event("response.content_part.done", part=part, **ids)
        yield event("response.output_item.done", output_index=idx, item=item)
    yield event("response.incomplete" if final["status"] == "incomplete" else "response.completed", response=final)


def _embeddings(req: _Request) -> dict[str, Any]:
    raw = req.body.get("input")
    if raw is None or raw == "" or raw == []:
        raise _missing("input")
    if isinstance(raw, str) or (isinstance(raw, list) and isinstance(raw[0], int)):
        raw = [raw]
    if not isinstance(raw, list) or any(not (isinstance(x, str) and x) and not (isinstance(x, list) and x)
                                        for x in raw):
        raise ApiError(400, "Invalid 'input': expected a non-empty string, list of strings or token arrays.",
                       param="input", code="invalid_value")
    dims = _int(req.body, "dimensions", 256, 1, 8192) or 256
    fmt = req.body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise ApiError(400, f"Invalid 'encoding_format': {fmt!r}; expected 'float' or 'base64'.",
                       param="encoding_format", code="invalid_value")
    data, tokens = [], 0
    for i, item in enumerate(raw):
        words = item.lower().split() if isinstance(item, str) else [str(t) for t in item]
        tokens += count_tokens(item) if isinstance(item, str) else len(item)
        vec: Any = _embed(words, dims)
        if fmt == "base64":
            vec = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode()
        data.append({"object": "embedding", "index": i, "embedding": vec})
    req.tokens = (tokens, 0)
    reply: dict[str, Any] = {"object": "list", "data": data, "model": req.model}
    if not req.omit_usage:
        reply["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
    return reply


def _moderation_result(text: str, image: bool) -> dict[str, Any]:
    low = text.lower()
    hits: dict[str, int] = {}
    for term in _LEXICON_RE.findall(low):
        for cat in _LEXICON[term]:
            hits[cat] = hits.get(cat, 0) + 1
    noise = hashlib.blake2b(low.encode(), digest_size=len(_CATEGORIES)).digest()
    scores = {c: round(0.9 + 0.02 * min(hits[c], 4), 6) if c in hits else round((b + 1) / 256 * 0.002, 6)
              for c, b in zip(_CATEGORIES, noise)}
    flags = {c: s >= 0.5 for c, s in scores.items()}
    applied = {c: ["text", "image"] if image and c in _IMAGE_CATEGORIES else ["text"] for c in _CATEGORIES}
    return {"flagged": any(flags.values()), "categories": flags, "category_scores": scores,
            "category_applied_input_types": applied}


def _moderations(req: _Request) -> dict[str, Any]:
    raw = req.body.get("input")
    if raw is None or raw == []:
        raise _missing("input")
    if isinstance(raw, list) and raw and all(isinstance(p, dict) for p in raw):  # one multimodal input
        results = [_moderation_result(_text_of(raw), any(p.get("type") == "image_url" for p in raw))]
    else:
        results = [_moderation_result(str(x), False) for x in ([raw] if isinstance(raw, str) else raw)]
    return {"id": f"modr-{os.urandom(12).hex()}", "model": req.model, "results": results}


_HANDLERS: dict[str, Callable[[_Request], Any]] = {
    "chat/completions": _chat, "completions": _completions, "responses": _responses,
    "embeddings": _embeddings, "moderations": _moderations,
}


def _models_list() -> dict[str, Any]:
    return {"object": "list", "data": [_model(m) for m in _MODELS]}


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "llmwatch-simulator"}


# ---------------------------------------------------------------- HTTP server

_LIMITS = {  # option -> (low, high): shared by the constructor and the CLI so both say the same thing
    "latency": (0.0, 600.0), "error_rate": (0.0, 1.0), "rate_limit_rate": (0.0, 1.0), "toxic_rate": (0.0, 1.0),
    "chunk_delay": (0.0, 60.0), "chunks": (1, 10_000), "port": (0, 65_535),
}


def _check(values: dict[str, Any], label: Callable[[str], str] = str) -> None:
    for name, value in values.items():
        lo, hi = _LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise ValueError(f"{label(name)} must be between {lo:g} and {hi:g}, got {value!r}")


#: Other providers' wire formats, each a module with ``handles(path) -> bool`` and
#: ``serve(handler, raw_body)`` (it replies through the handler's ``_reply`` / ``_stream``).
PROVIDER_SIMULATORS: tuple[str, ...] = (
    "llmwatch.testing.sim_anthropic",
    "llmwatch.testing.sim_ollama",
    "llmwatch.testing.sim_genai",
    "llmwatch.testing.sim_bedrock",
)


@functools.lru_cache(maxsize=1)
def _provider_simulators() -> tuple[Any, ...]:
    import importlib
    import importlib.util

    # A provider whose module is absent (a trimmed install) is simply not served.
    return tuple(importlib.import_module(name) for name in PROVIDER_SIMULATORS
                 if importlib.util.find_spec(name) is not None)


def _route(path: str) -> tuple[str, str | None]:
    """``(endpoint, azure deployment)`` for a POST path, accepting ``/v1/...`` and Azure forms."""
    path, _, query = path.partition("?")
    azure = False
    if path.startswith("/v1/"):
        rest, deployment = path[4:], None
    elif path.startswith("/openai/v1/"):
        rest, deployment = path[11:], None
    elif path.startswith("/openai/deployments/"):
        deployment, _, rest = path[20:].partition("/")
        azure = True
    elif path.startswith("/openai/"):
        rest, deployment, azure = path[8:], None, True
    else:
        rest, deployment = "", None
    rest = rest.rstrip("/")
    if rest not in _HANDLERS:
        raise ApiError(404, f"Invalid URL (POST {path})", code="unknown_url")
    if azure and "api-version=" not in query:
        raise ApiError(400, "Missing required query parameter 'api-version'.", param="api-version",
                       code="missing_required_parameter")
    return rest, deployment


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: replies carry Content-Length or chunked framing
    disable_nagle_algorithm = True  # small SSE writes must not wait for the peer's delayed ACK
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("simulator: " + format, *args)

    def do_GET(self) -> None:
        self._t0 = time.perf_counter()
        path = self.path.partition("?")[0].rstrip("/")
        for prefix in ("/v1/models", "/openai/v1/models", "/openai/models"):
            if path == prefix:
                self.server.count("models", 200)
                return self._reply(200, _models_list())
            if path.startswith(prefix + "/"):
                name = path[len(prefix) + 1 :]
                if name in _MODELS:
                    self.server.count("models", 200)
                    return self._reply(200, _model(name))
                err = ApiError(404, f"The model '{name}' does not exist", param="model")
                self.server.count("models", 404)
                return self._reply(404, err.body)
        self.server.count("unknown", 404)
        self._reply(404, ApiError(404, f"Invalid URL (GET {path})", code="unknown_url").body)

    def do_POST(self) -> None:
        self._t0 = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        for provider in _provider_simulators():  # Anthropic, Gemini, Bedrock, Ollama wire formats
            if provider.handles(self.path):
                provider.serve(self, raw)
                return
        endpoint = "unknown"
        try:
            route, deployment = _route(self.path)
            endpoint = route.replace("/", ".")
            req = self._prepare(route, deployment, raw)
            result = _HANDLERS[route](req)
        except ApiError as err:
            self.server.count(endpoint, err.status)
            return self._reply(err.status, err.body, err.headers)
        self.server.count(endpoint, 200, req.tokens, stream=not isinstance(result, dict))
        disconnect = bool(_flag(self.headers, "x-sim-disconnect"))
        if _flag(self.headers, "x-sim-malformed"):
            self.server.bump("malformed")
            if isinstance(result, dict):
                return self._reply(200, None,
                                   raw_body=b'{"id": "sim-malformed", "object": "chat.completion", "choices": [')
            result = iter([next(result), b'data: {"id": "sim-malformed", "choices": [\n\n', _sse("[DONE]")])
        shape = (self.headers.get("x-sim-shape") or "").strip().lower()
        if shape and isinstance(result, dict):
            self.server.bump("odd_shape")
            result = _odd_shape(result, shape)
        if isinstance(result, dict):
            return self._reply(200, result, disconnect=disconnect)
        delay = _header_int(self.headers, "x-sim-chunk-delay-ms", 0, 60_000)
        self._stream(result, self.server.config.chunk_delay if delay is None else delay / 1000, disconnect)

    def _prepare(self, route: str, deployment: str | None, raw: bytes) -> _Request:
        """Latency, then injected faults, then the body: in that order, like a real gateway."""
        headers, config = self.headers, self.server.config
        attempt = _header_int(headers, "x-stainless-retry-count", 0, 10**6, 0) or 0
        wait = _header_int(headers, "x-sim-latency-ms", 0, 600_000)
        wait_s = config.latency if wait is None else wait / 1000
        if wait_s:
            time.sleep(wait_s)
        retry = {"retry-after": "0", "retry-after-ms": str(_header_int(headers, "x-sim-retry-after-ms", 0, 600_000, 1))}
        forced = _header_int(headers, "x-sim-error", 400, 599)
        if forced is not None and attempt < (_header_int(headers, "x-sim-error-attempts", 0, 10**6) or 1 << 62):
            raise ApiError(forced, headers=retry if forced == 429 else None)
        limit = headers.get("x-sim-rate-limit")
        if limit is not None:
            first = 1 << 62 if limit.strip().lower() == "all" else _header_int(headers, "x-sim-rate-limit", 0, 10**6)
            if attempt < (first or 0):
                raise ApiError(429, headers=retry)
        r_limit, r_error = self.server.draw_faults()
        if r_limit < config.rate_limit_rate:
            raise ApiError(429, headers=retry)
        if r_error < config.error_rate:
            raise ApiError(500 if r_error < config.error_rate / 2 else 503)
        shape = (headers.get("x-sim-shape") or "").strip().lower()
        if shape and shape not in _ODD_SHAPES:
            raise ApiError(400, f"x-sim-shape {shape!r}: expected one of {', '.join(_ODD_SHAPES)}")
        req = _Request(self.server, route.replace("/", "."), deployment, headers, raw, attempt)
        return req

    def _head(self, status: int, ctype: str, length: int | None, extra: dict[str, str] | None = None) -> bytes:
        ms = int((time.perf_counter() - self._t0) * 1000)
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", f"Content-Type: {ctype}",
            f"x-request-id: req_{os.urandom(12).hex()}", f"openai-processing-ms: {ms}", "openai-version: 2020-10-01",
            "x-ratelimit-limit-requests: 10000", f"x-ratelimit-remaining-requests: {0 if status == 429 else 9999}",
            "x-ratelimit-limit-tokens: 10000000", f"x-ratelimit-remaining-tokens: {0 if status == 429 else 9999000}",
            "x-ratelimit-reset-requests: 6ms", "x-ratelimit-reset-tokens: 0s",
            f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked",
        ]
        lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _reply(self, status: int, obj: Any, extra: dict[str, str] | None = None, *, raw_body: bytes | None = None,
               disconnect: bool = False) -> None:
        body = raw_body if raw_body is not None else json.dumps(obj, separators=(",", ":")).encode()
        payload = self._head(status, "application/json", len(body), extra) + body
        if disconnect:
            return self._drop(payload[: len(payload) - len(body) // 2])
        try:
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True

    def _stream(self, events: Iterator[bytes], delay: float, disconnect: bool,
                content_type: str = "text/event-stream; charset=utf-8") -> None:
        head = self._head(200, content_type, None, {"Cache-Control": "no-cache"})
        try:
            if not delay and not disconnect:  # nothing to pace: one write instead of one per event
                frames = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events)
                self.wfile.write(head + frames + b"0\r\n\r\n")
                return
            for k, event in enumerate(events):
                if k and delay:
                    time.sleep(delay)
                if disconnect and k == 3:  # role chunk + two content chunks, then the peer sees a dead socket
                    return self._drop(head)
                self.wfile.write(head + b"%x\r\n%s\r\n" % (len(event), event))
                head = b""
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client went away mid-stream (abandoned iterator, timeout)
            self.close_connection = True

    def _drop(self, partial: bytes) -> None:
        self.server.bump("disconnects")
        self.close_connection = True
        try:
            self.wfile.write(partial)
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@dataclasses.dataclass(frozen=True)
class _Config:
    latency: float
    error_rate: float
    rate_limit_rate: float
    toxic_rate: float
    seed: int
    chunk_delay: float
    chunks: int


def _fresh_stats() -> dict[str, Any]:
    return {"requests": 0, "by_endpoint": {}, "by_status": {}, "streams": 0, "errors": 0, "rate_limited": 0,
            "malformed": 0, "odd_shape": 0, "disconnects": 0, "prompt_tokens": 0, "completion_tokens": 0}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # load tests open many connections at once

    def __init__(self, address: tuple[str, int], config: _Config) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._stats = _fresh_stats()
        self._conns: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("simulator: error while serving %s", client_address, exc_info=True)

    def draw_faults(self) -> tuple[float, float]:
        with self._lock:
            return self._rng.random(), self._rng.random()

    def draw_toxic(self) -> bool:
        with self._lock:
            return self._rng.random() < self.config.toxic_rate

    def count(self, endpoint: str, status: int, tokens: tuple[int, int] = (0, 0), stream: bool = False) -> None:
        with self._lock:
            s = self._stats
            s["requests"] += 1
            s["by_endpoint"][endpoint] = s["by_endpoint"].get(endpoint, 0) + 1
            s["by_status"][status] = s["by_status"].get(status, 0) + 1
            s["errors"] += status >= 400
            s["rate_limited"] += status == 429
            s["streams"] += stream
            s["prompt_tokens"] += tokens[0]
            s["completion_tokens"] += tokens[1]

    def bump(self, key: str) -> None:
        with self._lock:
            self._stats[key] += 1

    def snapshot(self, reset: bool = False) -> dict[str, Any]:
        with self._lock:
            s = self._stats
            out = dict(s, by_endpoint=dict(s["by_endpoint"]), by_status=dict(s["by_status"]))
            if reset:
                self._stats = _fresh_stats()
            return out

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            (self._conns.add if alive else self._conns.discard)(conn)

    def close_connections(self) -> None:
        """Shut idle keep-alive sockets so their handler threads end with the server."""
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Simulator:
    """An OpenAI-compatible server on ``127.0.0.1`` (a free port unless ``port`` is given).

    ``latency`` and ``chunk_delay`` are seconds; the ``*_rate`` arguments are fractions of requests,
    drawn from an RNG seeded with ``seed``; ``chunks`` is the default number of content chunks per
    stream. Per-request ``x-sim-*`` headers (``HEADERS``) override all of them. ::

        with Simulator(latency=0.01, error_rate=0.05, seed=1) as sim:
            client = openai.OpenAI(base_url=sim.base_url, api_key="sk-test")
            ...
            sim.stats["by_endpoint"]["chat.completions"]
    """

    def __init__(self, latency: float = 0.0, error_rate: float = 0.0, rate_limit_rate: float = 0.0,
                 toxic_rate: float = 0.0, seed: int = 0, chunk_delay: float = 0.0, *, host: str = "127.0.0.1",
                 port: int = 0, chunks: int = 8) -> None:
        _check({"latency": latency, "error_rate": error_rate, "rate_limit_rate": rate_limit_rate,
                "toxic_rate": toxic_rate, "chunk_delay": chunk_delay, "chunks": chunks, "port": port})
        if not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        self._config = _Config(latency=float(latency), error_rate=float(error_rate),
                               rate_limit_rate=float(rate_limit_rate), toxic_rate=float(toxic_rate), seed=seed,
                               chunk_delay=float(chunk_delay), chunks=int(chunks))
        self.host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._last_stats = _fresh_stats()  # what ``stats`` shows once stopped

    def _bind(self) -> _Server:
        if self._server is None:
            self._server = _Server((self.host, self._port), self._config)
            self._port = self._server.server_address[1]
        return self._server

    def start(self) -> Simulator:
        """Serve on a daemon thread; returns self. Binding happens here, so ``port`` is known after."""
        if self._thread is None:
            server = self._bind()
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="llmwatch-simulator", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and release the port. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        self._last_stats = server.snapshot()
        if thread is not None:
            server.shutdown()
            thread.join()
        server.close_connections()
        server.server_close()

    def run_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI's mode)."""
        server = self._bind()
        try:
            server.serve_forever(poll_interval=0.5)
        finally:
            self._server = None
            self._last_stats = server.snapshot()
            server.close_connections()
            server.server_close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """The server root, e.g. for ``AzureOpenAI(azure_endpoint=sim.url)``."""
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def stats(self) -> dict[str, Any]:
        """A snapshot: requests, by_endpoint, by_status, streams, errors, rate_limited, malformed,
        disconnects, prompt_tokens, completion_tokens (tokens billed, whether or not reported).
        After ``stop()`` it keeps the final counts."""
        return self._server.snapshot() if self._server is not None else dict(self._last_stats)

    def reset_stats(self) -> dict[str, Any]:
        """Return the current stats and start counting from zero."""
        return self._server.snapshot(reset=True) if self._server is not None else _fresh_stats()


# ---------------------------------------------------------------- CLI


def register(subparsers: Any) -> None:
    """Add ``llmwatch simulate`` to the CLI."""
    p = subparsers.add_parser("simulate", help="run an OpenAI-compatible simulator",
                              description="Serve a deterministic OpenAI-compatible API for demos and load tests. "
                                          "Per-request x-sim-* headers force faults: " + ", ".join(HEADERS))
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (0-65535, 0 = any free port; default 8000)")
    p.add_argument("--latency", type=float, default=0.0, help="seconds before each reply (0-600)")
    p.add_argument("--error-rate", type=float, default=0.0, help="fraction of requests answered 500/503 (0-1)")
    p.add_argument("--rate-limit-rate", type=float, default=0.0, help="fraction of requests answered 429 (0-1)")
    p.add_argument("--toxic-rate", type=float, default=0.0, help="fraction of outputs with a toxic phrase (0-1)")
    p.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between stream events (0-60)")
    p.add_argument("--chunks", type=int, default=8, help="content chunks per stream (1-10000)")
    p.add_argument("--seed", type=int, default=0, help="seed for outputs and fault draws")
    p.set_defaults(func=_run)


def _run(args: Any) -> int:
    from llmwatch.cli import UsageError

    values = {name: getattr(args, name) for name in _LIMITS}
    try:
        _check(values, lambda name: "--" + name.replace("_", "-"))
        sim = Simulator(seed=args.seed, host=args.host, **values)
        sim._bind()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"--host/--port: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    print(f"llmwatch simulator: serving {sim.base_url} (Ctrl-C to stop)", flush=True)
    sim.run_forever()
    return 0


_ODD_SHAPES = ("wrong-types", "text-usage")


def _odd_shape(body: dict[str, Any], shape: str) -> dict[str, Any]:
    """A valid-JSON body of the wrong shape (see ``x-sim-shape``): ids and model kept, as such servers do."""
    if shape == "wrong-types":
        return {"id": body.get("id"), "object": body.get("object"), "model": body.get("model"),
                "choices": "nope", "usage": "many"}
    if shape == "text-usage":
        usage = dict(body.get("usage") or {})
        usage["prompt_tokens"], usage["completion_tokens"] = "ten", "twelve"
        return {**body, "usage": usage}
    return body  # not reached: _prepare refuses other shapes
