"""Instrument the ``ollama`` client (0.4 and later) at its one choke point.

``Client.chat``/``generate``/``embed``/``embeddings`` — and the module-level ``ollama.chat`` etc.,
which are bound methods of a default ``Client`` — all end in ``Client._request(cls, method, path,
json=body, stream=...)`` (``AsyncClient._request`` for the async client). It is the one method that
sees the API path, the final JSON body and the ``stream`` switch, and it returns either the parsed
response or, for ``stream=True``, a generator of parsed chunks (an async generator for the async
client). Wrapping it on the two classes observes every client, created before or after ``init()``.
Other paths (``/api/tags``, ``/api/pull``, ``/api/show``, ...) pass straight through.

Ollama reports usage as ``prompt_eval_count`` / ``eval_count`` on the final response (the final
stream object, ``done: true``); it has no response id and no separate cached-token count. Its
``done_reason`` values ``stop`` and ``length`` are the semconv finish reasons already; others
(``load``, ``unload``) are kept as they are.

A sync stream's HTTP request is sent when the app takes the first chunk (the SDK's generator is
lazy); the span starts when ``chat(..., stream=True)`` is called, so its time to first chunk covers
the whole round trip.
"""

from __future__ import annotations

import json
from typing import Any

from llmwatch import names as n
from llmwatch.instrumentation import content
from llmwatch.instrumentation import state as state_mod
from llmwatch.instrumentation.adapter import Patches, async_wrapper, server_of, sync_wrapper
from llmwatch.instrumentation.call import Call
from llmwatch.instrumentation.dialect import Dialect, Messages
from llmwatch.instrumentation.extract import ResponseInfo, request_attributes, text_or_none, token_count
from llmwatch.instrumentation.streams import AsyncStreamProxy, SyncStreamProxy

_STATE: state_mod.State | None = None
_PATCHES = Patches()
_suppressed = state_mod.suppressed

# Request path -> (api, gen_ai.operation.name). The legacy /api/embeddings shares the embed dialect.
_ENDPOINTS: dict[str, tuple[str, str]] = {
    "/api/chat": ("ollama.chat", n.OP_CHAT),
    "/api/generate": ("ollama.generate", n.OP_TEXT_COMPLETION),
    "/api/embed": ("ollama.embed", n.OP_EMBEDDINGS),
    "/api/embeddings": ("ollama.embed", n.OP_EMBEDDINGS),
}

# ``options`` keys that are semconv request attributes as they are.
_NUMERIC_OPTIONS = (
    ("temperature", n.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", n.GEN_AI_REQUEST_TOP_P),
    ("top_k", n.GEN_AI_REQUEST_TOP_K),
    ("seed", n.GEN_AI_REQUEST_SEED),
    ("frequency_penalty", n.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", n.GEN_AI_REQUEST_PRESENCE_PENALTY),
)
_RECORD_OPTIONS = ("temperature", "top_p", "top_k", "min_p", "seed", "num_predict", "num_ctx", "stop",
                   "repeat_penalty", "frequency_penalty", "presence_penalty")
_RECORD_FIELDS = ("stream", "keep_alive", "think", "raw", "dimensions", "truncate")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _options(body: dict[str, Any]) -> dict[str, Any]:
    options = body.get("options")
    return options if isinstance(options, dict) else {}


# ------------------------------------------------------------------------------------ dialects
class _Ollama(Dialect):
    """What Ollama's three APIs share: ``options`` parameters and the final object's usage."""

    def param_attributes(self, body: dict[str, Any]) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        options = _options(body)
        for key, attr in _NUMERIC_OPTIONS:
            value = options.get(key)
            if _number(value):
                attrs[attr] = value
        limit = options.get("num_predict")  # -1 (no limit) and -2 (fill the context) are not a max
        if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
            attrs[n.GEN_AI_REQUEST_MAX_TOKENS] = limit
        stop = options.get("stop")
        if stop:
            attrs[n.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop] if isinstance(stop, str) else [str(s) for s in stop]
        if body.get("stream"):
            attrs[n.GEN_AI_REQUEST_STREAM] = True
        fmt = body.get("format")
        if fmt == "json" or isinstance(fmt, dict):  # JSON mode or a JSON schema
            attrs[n.GEN_AI_OUTPUT_TYPE] = "json"
        return attrs

    def record_params(self, body: dict[str, Any]) -> dict[str, Any]:
        options = _options(body)
        params = {k: options[k] for k in _RECORD_OPTIONS if options.get(k) is not None}
        params.update({k: body[k] for k in _RECORD_FIELDS if body.get(k) is not None})
        fmt = body.get("format")
        if fmt:
            params["format"] = fmt if isinstance(fmt, str) else "json_schema"
        return params

    def read_response(self, info: ResponseInfo, response: Any) -> None:
        _read_final(info, response)


def _read_final(info: ResponseInfo, obj: Any) -> None:
    """Usage and finish reason of a final object (a complete response or the ``done`` chunk).

    ``prompt_eval_count`` is every prompt token Ollama evaluated (it reports no cached subset);
    ``eval_count`` the generated tokens."""
    info.model = text_or_none(getattr(obj, "model", None)) or info.model
    info.input_tokens = token_count(info, getattr(obj, "prompt_eval_count", None), "prompt_eval_count")
    info.output_tokens = token_count(info, getattr(obj, "eval_count", None), "eval_count")
    reason = text_or_none(getattr(obj, "done_reason", None))
    if reason:
        info.finish_reasons = [reason]


def _image_parts(images: Any) -> list[dict[str, Any]]:
    # Base64 image data is never copied into telemetry: the part says only that an image was sent.
    return [{"type": "blob", "modality": "image"} for _ in images or ()]


def _tool_call_part(call: Any) -> dict[str, Any]:
    fn = call.function
    return {"type": "tool_call", "id": getattr(call, "id", None), "name": fn.name,
            "arguments": dict(fn.arguments or {})}


class _Chat(_Ollama):
    api = "ollama.chat"

    def text_delta(self, chunk: Any) -> str | None:
        if chunk.done:
            return None
        msg = chunk.message
        if msg.tool_calls or getattr(msg, "thinking", None):
            return None
        return msg.content or ""

    def read_chunk(self, call: Call, chunk: Any, info: ResponseInfo) -> None:
        info.model = text_or_none(chunk.model) or info.model
        msg = chunk.message
        if msg is not None:
            if msg.content:
                call.text.append(msg.content)
            # Ollama streams each tool call whole, in a chunk of its own (no deltas to join).
            for tool_call in msg.tool_calls or ():
                fn = tool_call.function
                call.add_tool_call_delta(len(call.tool_calls or ()), getattr(tool_call, "id", None), fn.name,
                                         json.dumps(dict(fn.arguments or {}), default=str))
        if chunk.done:
            _read_final(info, chunk)

    def inputs(self, operation: str, body: dict[str, Any]) -> tuple[Messages | None, Messages]:
        # System messages stay in the history, where Ollama's chat API carries them (as for OpenAI's).
        messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
        _, out = content.chat_messages(messages)
        for msg, entry in zip(messages, out):
            entry["parts"].extend(_image_parts(msg.get("images")))
            if msg.get("tool_name"):
                entry["name"] = msg["tool_name"]
        return None, out

    def outputs(self, response: Any) -> Messages | None:
        msg = response.message
        parts: list[dict[str, Any]] = []
        thinking = getattr(msg, "thinking", None)  # absent from older clients
        if thinking:
            parts.append({"type": "reasoning", "content": thinking})
        if msg.content:
            parts.append({"type": "text", "content": msg.content})
        parts.extend(_tool_call_part(c) for c in msg.tool_calls or ())
        return [{"role": msg.role or "assistant", "parts": parts, "finish_reason": response.done_reason}]


class _Generate(_Ollama):
    api = "ollama.generate"

    def text_delta(self, chunk: Any) -> str | None:
        if chunk.done or getattr(chunk, "thinking", None):
            return None
        text: str = chunk.response or ""
        return text

    def read_chunk(self, call: Call, chunk: Any, info: ResponseInfo) -> None:
        info.model = text_or_none(chunk.model) or info.model
        if chunk.response:
            call.text.append(chunk.response)
        if chunk.done:
            _read_final(info, chunk)

    def inputs(self, operation: str, body: dict[str, Any]) -> tuple[Messages | None, Messages]:
        system = body.get("system")
        instructions = [{"type": "text", "content": system}] if isinstance(system, str) and system else None
        prompt = body.get("prompt")
        parts = [{"type": "text", "content": prompt}] if isinstance(prompt, str) and prompt else []
        parts.extend(_image_parts(body.get("images")))
        return instructions, [{"role": "user", "parts": parts}] if parts else []

    def outputs(self, response: Any) -> Messages | None:
        parts: list[dict[str, Any]] = []
        thinking = getattr(response, "thinking", None)
        if thinking:
            parts.append({"type": "reasoning", "content": thinking})
        if response.response:
            parts.append({"type": "text", "content": response.response})
        return [{"role": "assistant", "parts": parts, "finish_reason": response.done_reason}]


class _Embed(_Ollama):
    """``/api/embed`` (``input``: a string or a list; ``embeddings`` and ``prompt_eval_count`` back)
    and the legacy ``/api/embeddings`` (``prompt``; only ``embedding`` back, no token count)."""

    api = "ollama.embed"
    input_billed = True

    def read_response(self, info: ResponseInfo, response: Any) -> None:
        info.input_tokens = token_count(info, getattr(response, "prompt_eval_count", None), "prompt_eval_count")
        vectors = getattr(response, "embeddings", None)
        first = vectors[0] if vectors else getattr(response, "embedding", None)
        if first is not None:
            info.dimensions = len(first)

    def inputs(self, operation: str, body: dict[str, Any]) -> tuple[Messages | None, Messages]:
        return None, content.text_inputs(body.get("input", body.get("prompt")))


CHAT = _Chat()
GENERATE = _Generate()
EMBED = _Embed()


# ------------------------------------------------------------------------------------ patching
class _AsyncGeneratorProxy(AsyncStreamProxy):
    """The async client streams through a bare async generator: it closes with ``aclose()`` only."""

    async def close(self) -> None:
        try:
            await self.__wrapped__.aclose()
        finally:
            _finish_abandoned(self._self_call)


def _finish_abandoned(call: Call) -> None:
    try:
        call.finish_stream(True)
    except Exception as exc:  # noqa: BLE001
        call.state.instruments.internal_error("stream", exc)


def _begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
    """Start observing if this request is a GenAI operation; None to pass through.

    ``args`` are ``(response_cls, method, path)`` as the SDK passes them."""
    state = _STATE
    if state is None or _suppressed.get() or len(args) < 3:
        return None
    endpoint = _ENDPOINTS.get(args[2]) if isinstance(args[2], str) else None
    if endpoint is None or str(args[1]).upper() != "POST":
        return None
    body = kwargs.get("json")
    if not isinstance(body, dict):
        return None
    api, op = endpoint
    host, port = server_of(instance._client.base_url)
    provider = state.provider_override or n.PROVIDER_OLLAMA
    attrs = request_attributes(api, op, body, provider, host, port)
    return Call(state, api, op, body, attrs, bool(kwargs.get("stream")))


def _wrap(call: Call, result: Any, is_async: bool) -> Any:
    try:
        if not call.streamed:
            call.finish_response(result)
            return result
        return _AsyncGeneratorProxy(result, call) if is_async else SyncStreamProxy(result, call)
    except Exception as exc:  # noqa: BLE001
        call.state.instruments.internal_error("wrap_result", exc)
        return result


_sync_request = sync_wrapper(_begin, _wrap, lambda: _STATE)
_async_request = async_wrapper(_begin, _wrap, lambda: _STATE)


def instrument(state: state_mod.State) -> bool:
    """Patch ``ollama.Client`` / ``ollama.AsyncClient`` (idempotent). False when ollama is not installed."""
    global _STATE
    _STATE = state
    if _PATCHES:
        return True
    try:
        # Not ``from ollama import _client``: the package rebinds that name to its default Client.
        from ollama import AsyncClient, Client
    except ImportError:
        return False
    _PATCHES.wrap(Client, "_request", _sync_request)
    _PATCHES.wrap(AsyncClient, "_request", _async_request)
    return True


def uninstrument() -> None:
    """Restore the exact original methods."""
    global _STATE
    _PATCHES.restore()
    _STATE = None


def is_instrumented() -> bool:
    return bool(_PATCHES)
