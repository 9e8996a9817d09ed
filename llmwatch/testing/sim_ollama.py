"""Ollama's native REST API for the simulator: ``POST /api/chat``, ``/api/generate``, ``/api/embed``
and the legacy ``/api/embeddings``.

Shapes follow Ollama's API reference (``docs/api.md`` in github.com/ollama/ollama, "Generate a
completion", "Generate a chat completion", "Generate Embeddings") and the streaming tool-call
example of the May 2025 "Streaming responses with tool calling" post:

* a stream is ``application/x-ndjson``, one JSON object per line; every object but the last has
  ``done: false`` and carries a piece of text (``message.content`` for chat, ``response`` for
  generate); tool calls arrive whole, in one object of their own; the last object has
  ``done: true``, ``done_reason``, ``total_duration``, ``load_duration``, ``prompt_eval_count``,
  ``prompt_eval_duration``, ``eval_count`` and ``eval_duration`` (durations in nanoseconds);
* ``stream`` defaults to true when the body does not say (Ollama's default);
* tool-call ``arguments`` are a JSON object, not a string, and ``done_reason`` stays ``"stop"``;
* with ``think`` (true or ``"low"``/``"medium"``/``"high"``) the reasoning comes in ``thinking``
  (``message.thinking`` for chat), streamed before the answer and counted in ``eval_count``;
* ``/api/embed`` returns ``embeddings`` (one vector per input) and ``prompt_eval_count``; the legacy
  ``/api/embeddings`` returns only ``embedding``;
* errors are ``{"error": "..."}`` with the HTTP status.

Per-request headers (see ``simulator.HEADERS``): ``x-sim-error: STATUS``, ``x-sim-latency-ms``,
``x-sim-chunks``, ``x-sim-chunk-delay-ms``, ``x-sim-omit-usage`` (no ``prompt_eval_count`` /
``eval_count``) and ``x-sim-disconnect``. Ollama reports no cached-token count, so
``x-sim-cached-tokens`` has nothing to change here.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import time
from collections.abc import Iterator
from typing import Any

from llmwatch.testing.simulator import (
    ApiError,
    _embed,
    _flag,
    _header_int,
    _pick_tools,
    _pieces,
    _sample,
    _sentences,
    _text_of,
    _truncate,
    count_tokens,
)

_PATHS = {"/api/chat": "ollama.chat", "/api/generate": "ollama.generate", "/api/embed": "ollama.embed",
          "/api/embeddings": "ollama.embeddings"}
_ERRORS = {
    400: "invalid request (simulated)",
    401: "unauthorized (simulated)",
    404: "model '{model}' not found (simulated)",
    429: "too many requests (simulated)",
    500: "llama runner process has terminated (simulated)",
    503: "server busy, please try again.  maximum pending requests exceeded (simulated)",
}
_NS_PER_TOKEN = (2_000_000, 16_000_000)  # simulated prompt / generation speed
_LOAD_NS = 5_000_000
_DIMS = 384


def handles(path: str) -> bool:
    return path.partition("?")[0].rstrip("/") in _PATHS


class _Error(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def serve(handler: Any, raw_body: bytes) -> None:
    endpoint = _PATHS[handler.path.partition("?")[0].rstrip("/")]
    try:
        body = _body(raw_body)
        _faults(handler.headers, str(body.get("model") or ""))
        result, tokens = _ENDPOINTS[endpoint](body, handler.headers, handler.server.config.seed)
    except (_Error, ApiError) as err:  # ApiError: a bad x-sim-* header value
        handler.server.count(endpoint, err.status)
        handler._reply(err.status, {"error": str(err)})
        return
    streamed = not isinstance(result, dict)
    handler.server.count(endpoint, 200, tokens, stream=streamed)
    disconnect = bool(_flag(handler.headers, "x-sim-disconnect"))
    if isinstance(result, dict):
        handler._reply(200, result, disconnect=disconnect)
        return
    delay = _header_int(handler.headers, "x-sim-chunk-delay-ms", 0, 60_000)
    handler._stream(result, handler.server.config.chunk_delay if delay is None else delay / 1000, disconnect,
                    content_type="application/x-ndjson")


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        raise _Error(400, f"invalid character in request body: {exc}") from None
    if not isinstance(body, dict):
        raise _Error(400, "json: cannot unmarshal into Go value of type api.Request")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise _Error(400, "model is required")
    return body


def _faults(headers: Any, model: str) -> None:
    wait = _header_int(headers, "x-sim-latency-ms", 0, 600_000)
    if wait:
        time.sleep(wait / 1000)
    status = _header_int(headers, "x-sim-error", 400, 599)
    if status is not None:
        raise _Error(status, _ERRORS.get(status, f"error {status} (simulated)").format(model=model))


class _Gen:
    """What one generation request says: seeded text or tool calls, its token counts, its framing."""

    def __init__(self, body: dict[str, Any], headers: Any, seed: int) -> None:
        key = json.dumps({k: v for k, v in body.items() if k != "stream"}, sort_keys=True, default=str)
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        self.rng = random.Random((seed * 1_000_003) ^ int.from_bytes(digest, "big"))
        self.model = body["model"]
        self.stream = body.get("stream", True) is not False
        self.chunks = _header_int(headers, "x-sim-chunks", 1, 10_000, 8)
        self.omit_usage = bool(_flag(headers, "x-sim-omit-usage"))
        options = body.get("options")
        budget = options.get("num_predict") if isinstance(options, dict) else None
        self.budget = budget if isinstance(budget, int) and not isinstance(budget, bool) and budget > 0 else None
        think = body.get("think")
        self.thinking = _sentences(self.rng, self.rng.randint(10, 30)) if think and think != "none" else ""

    def text(self) -> tuple[str, bool]:
        return _truncate(_sentences(self.rng, self.rng.randint(24, 60)), self.budget)

    def thinking_pieces(self) -> list[str]:
        return _pieces(self.thinking, max(1, self.chunks // 2)) if self.thinking else []

    def final(self, base: dict[str, Any], prompt: int, completion: int, reason: str) -> dict[str, Any]:
        out = dict(base, done=True, done_reason=reason)
        prompt_ns, eval_ns = prompt * _NS_PER_TOKEN[0], completion * _NS_PER_TOKEN[1]
        out.update(total_duration=_LOAD_NS + prompt_ns + eval_ns, load_duration=_LOAD_NS)
        if not self.omit_usage:
            out.update(prompt_eval_count=prompt, prompt_eval_duration=prompt_ns, eval_count=completion,
                       eval_duration=eval_ns)
        return out


def _created_at() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def _chat(body: dict[str, Any], headers: Any, seed: int) -> tuple[Any, tuple[int, int]]:
    messages = body.get("messages")
    if messages is None:
        messages = []
    if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m for m in messages):
        raise _Error(400, "invalid message format")
    gen = _Gen(body, headers, seed)
    if not messages:  # no messages only loads the model
        return {"model": gen.model, "created_at": _created_at(), "message": {"role": "assistant", "content": ""},
                "done_reason": "load", "done": True}, (0, 0)
    tools = [t["function"] for t in body.get("tools") or ()
             if isinstance(t, dict) and isinstance(t.get("function"), dict) and t["function"].get("name")]
    prompt = sum(4 + count_tokens(_text_of(m.get("content"))) for m in messages) + 3
    if tools:
        prompt += count_tokens(json.dumps(tools).replace(",", " ")) + 8
    last = messages[-1]
    called = _pick_tools(tools, None, _text_of(last.get("content")) if last.get("role") == "user" else None, True)
    calls = [{"function": {"name": t["name"], "arguments": _sample(t.get("parameters") or {},
                                                                   t.get("parameters") or {}, gen.rng)}}
             for t in called]
    text, truncated = ("", False) if calls else gen.text()
    completion = sum(count_tokens(json.dumps(c["function"]["arguments"])) + 4 for c in calls) + count_tokens(text)
    completion += count_tokens(gen.thinking)
    reason = "length" if truncated else "stop"
    base = {"model": gen.model, "created_at": _created_at()}
    if not gen.stream:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if gen.thinking:
            message["thinking"] = gen.thinking
        if calls:
            message["tool_calls"] = calls
        return gen.final(dict(base, message=message), prompt, completion, reason), (prompt, completion)

    def frames() -> Iterator[bytes]:
        for piece in gen.thinking_pieces():
            yield _line(dict(base, created_at=_created_at(),
                             message={"role": "assistant", "content": "", "thinking": piece}, done=False))
        if text:
            for piece in _pieces(text, gen.chunks):
                yield _line(dict(base, created_at=_created_at(),
                                 message={"role": "assistant", "content": piece}, done=False))
        if calls:
            yield _line(dict(base, created_at=_created_at(),
                             message={"role": "assistant", "content": "", "tool_calls": calls}, done=False))
        yield _line(gen.final(dict(base, created_at=_created_at(), message={"role": "assistant", "content": ""}),
                              prompt, completion, reason))

    return frames(), (prompt, completion)


def _generate(body: dict[str, Any], headers: Any, seed: int) -> tuple[Any, tuple[int, int]]:
    gen = _Gen(body, headers, seed)
    prompt_text = body.get("prompt") or ""
    system = body.get("system") or ""
    if not isinstance(prompt_text, str) or not isinstance(system, str):
        raise _Error(400, "json: cannot unmarshal into Go struct field GenerateRequest.prompt of type string")
    base = {"model": gen.model, "created_at": _created_at()}
    if not prompt_text:  # an empty prompt only loads the model
        return dict(base, response="", done=True, done_reason="load"), (0, 0)
    prompt = count_tokens(prompt_text) + count_tokens(system) + 6
    text, truncated = gen.text()
    completion = count_tokens(text) + count_tokens(gen.thinking)
    reason = "length" if truncated else "stop"
    # `context` (deprecated) encodes the conversation; raw mode returns none.
    context = None if body.get("raw") else [gen.rng.randrange(1, 128_000) for _ in range(prompt + completion)]
    if not gen.stream:
        final = gen.final(dict(base, response=text), prompt, completion, reason)
        if gen.thinking:
            final["thinking"] = gen.thinking
        if context is not None:
            final["context"] = context
        return final, (prompt, completion)

    def frames() -> Iterator[bytes]:
        for piece in gen.thinking_pieces():
            yield _line(dict(base, created_at=_created_at(), response="", thinking=piece, done=False))
        for piece in _pieces(text, gen.chunks):
            yield _line(dict(base, created_at=_created_at(), response=piece, done=False))
        final = gen.final(dict(base, created_at=_created_at(), response=""), prompt, completion, reason)
        if context is not None:
            final["context"] = context
        yield _line(final)

    return frames(), (prompt, completion)


def _embed_texts(body: dict[str, Any], headers: Any, seed: int) -> tuple[Any, tuple[int, int]]:
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise _Error(400, "invalid input type")
    dims = body.get("dimensions")
    dims = dims if isinstance(dims, int) and not isinstance(dims, bool) and 0 < dims <= 8192 else _DIMS
    tokens = sum(count_tokens(t) for t in texts)
    reply: dict[str, Any] = {"model": body["model"],
                             "embeddings": [_embed(t.lower().split(), dims) for t in texts],
                             "total_duration": _LOAD_NS + tokens * _NS_PER_TOKEN[0], "load_duration": _LOAD_NS}
    if not _flag(headers, "x-sim-omit-usage"):
        reply["prompt_eval_count"] = tokens
    return reply, (tokens, 0)


def _embeddings_legacy(body: dict[str, Any], headers: Any, seed: int) -> tuple[Any, tuple[int, int]]:
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        prompt = ""
    # The legacy endpoint reports neither the model nor a token count.
    return {"embedding": _embed(prompt.lower().split(), _DIMS)}, (count_tokens(prompt), 0)


_ENDPOINTS = {"ollama.chat": _chat, "ollama.generate": _generate, "ollama.embed": _embed_texts,
              "ollama.embeddings": _embeddings_legacy}
