"""Instrument the ``anthropic`` client at its one choke point, and read Anthropic's Messages API.

The SDK is generated like openai's: ``messages.create`` (plain and ``stream=True``), the
``messages.stream(...)`` helper, ``messages.parse``, ``beta.messages`` (its own classes, posting
``/v1/messages?beta=true``) and every ``with_raw_response`` / ``with_streaming_response`` variant,
sync and async, end in ``SyncAPIClient.request`` / ``AsyncAPIClient.request`` with the request path
in ``options.url`` and the final body in ``options.json_data``. Wrapping those two methods observes
every client (``AnthropicBedrock`` and ``AnthropicVertex`` too: they post the same path and rewrite
it later, inside ``request``). Only ``POST /v1/messages`` is a generation; ``count_tokens``,
batches, files and models pass straight through.

The provider name is the one the SDK's own client class declares (``anthropic``, ``aws.bedrock``,
``gcp.vertex_ai``); SDKs that predate that attribute are ``anthropic``.
"""

from __future__ import annotations

import json
from typing import Any

from llmwatch import names as n
from llmwatch.instrumentation import state as state_mod
from llmwatch.instrumentation.adapter import Patches, async_wrapper, finish_sdk_result, server_of, sync_wrapper
from llmwatch.instrumentation.call import Call
from llmwatch.instrumentation.content import _as_dict, _maybe_json, _short_uri, _text_part
from llmwatch.instrumentation.dialect import Dialect, Messages
from llmwatch.instrumentation.extract import ResponseInfo, request_attributes, text_or_none, token_count

API = "anthropic.messages"
_PATH = "/v1/messages"

# Anthropic stop_reason -> the semconv finish reason where one fits; others are kept as sent.
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
_NUMERIC_PARAMS = (
    ("temperature", n.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", n.GEN_AI_REQUEST_TOP_P),
    ("top_k", n.GEN_AI_REQUEST_TOP_K),
)
_RECORD_PARAMS = ("temperature", "top_p", "top_k", "max_tokens", "stop_sequences", "stream", "tool_choice",
                  "thinking", "service_tier")


def finish_reason(stop_reason: Any) -> str | None:
    reason = text_or_none(stop_reason)
    return _FINISH.get(reason, reason) if reason else None


class MessagesDialect(Dialect):
    """``POST /v1/messages``: the Message object and its event stream."""

    api = API

    def param_attributes(self, body: dict[str, Any]) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        for key, attr in _NUMERIC_PARAMS:
            value = body.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                attrs[attr] = value
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and not isinstance(max_tokens, bool):
            attrs[n.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
        stops = body.get("stop_sequences")
        if stops:
            attrs[n.GEN_AI_REQUEST_STOP_SEQUENCES] = [stops] if isinstance(stops, str) else [str(s) for s in stops]
        if body.get("stream"):
            attrs[n.GEN_AI_REQUEST_STREAM] = True
        return attrs

    def record_params(self, body: dict[str, Any]) -> dict[str, Any]:
        return {k: body[k] for k in _RECORD_PARAMS if body.get(k) is not None}

    def read_response(self, info: ResponseInfo, response: Any) -> None:
        read_usage(info, getattr(response, "usage", None))
        reason = finish_reason(getattr(response, "stop_reason", None))
        if reason:
            info.finish_reasons = [reason]

    def text_delta(self, chunk: Any) -> str | None:
        # Caller's thread: the bulk of a stream is content_block_delta + text_delta.
        if chunk.type == "content_block_delta":
            delta = chunk.delta
            if delta.type == "text_delta":
                text: str = delta.text
                return text
        return None

    def read_chunk(self, call: Call, chunk: Any, info: ResponseInfo) -> None:
        kind = getattr(chunk, "type", None)
        if kind == "content_block_delta":
            delta = chunk.delta
            dtype = getattr(delta, "type", None)
            if dtype == "text_delta":
                call.text.append(delta.text)
            elif dtype == "input_json_delta":
                call.add_tool_call_delta(chunk.index, None, None, delta.partial_json)
        elif kind == "content_block_start":
            block = chunk.content_block
            btype = getattr(block, "type", None)
            if btype == "text" and block.text:
                call.text.append(block.text)
            elif btype in ("tool_use", "server_tool_use"):
                # Anthropic opens with input {} and streams the JSON; a proxy may send it whole here.
                given = getattr(block, "input", None)
                call.add_tool_call_delta(chunk.index, block.id, block.name, json.dumps(given) if given else None)
        elif kind == "message_start":
            message = chunk.message
            info.model = text_or_none(getattr(message, "model", None)) or info.model
            info.id = text_or_none(getattr(message, "id", None)) or info.id
            read_usage(info, getattr(message, "usage", None))
        elif kind == "message_delta":
            reason = finish_reason(getattr(chunk.delta, "stop_reason", None))
            if reason:
                info.finish_reasons = [reason]
            read_usage(info, getattr(chunk, "usage", None))

    def inputs(self, operation: str, body: dict[str, Any]) -> tuple[Messages | None, Messages]:
        return system_parts(body.get("system")), [_message(m) for m in body.get("messages") or ()]

    def outputs(self, response: Any) -> Messages | None:
        parts = _parts(getattr(response, "content", None))
        return [{"role": "assistant", "parts": parts,
                 "finish_reason": finish_reason(getattr(response, "stop_reason", None))}]


MESSAGES = MessagesDialect()


def read_usage(info: ResponseInfo, usage: Any) -> None:
    """Anthropic's usage (a Message's, ``message_start``'s or ``message_delta``'s, whose counts are
    cumulative and may omit the input side) into ``info``.

    Anthropic's ``input_tokens`` excludes the tokens read from and written to the prompt cache;
    semconv's ``gen_ai.usage.input_tokens`` includes them, so ``info.input_tokens`` is the sum of
    the three, with ``cached_tokens`` (read) and ``cache_write_tokens`` (written) as its parts.
    """
    if usage is None:
        return
    if not hasattr(usage, "output_tokens"):
        info.anomaly = f"usage is {usage!r}, not a usage object"[:200]
        return
    output = token_count(info, usage.output_tokens, "output_tokens")
    if output is not None:
        info.output_tokens = output
    earlier = info.input_tokens
    plain = None if earlier is None else earlier - (info.cached_tokens or 0) - (info.cache_write_tokens or 0)
    given = token_count(info, getattr(usage, "input_tokens", None), "input_tokens")
    plain = given if given is not None else plain
    read = token_count(info, getattr(usage, "cache_read_input_tokens", None), "cache_read_input_tokens")
    if read is not None:
        info.cached_tokens = read
    written = token_count(info, getattr(usage, "cache_creation_input_tokens", None), "cache_creation_input_tokens")
    if written is not None:
        info.cache_write_tokens = written
    if plain is not None:
        info.input_tokens = plain + (info.cached_tokens or 0) + (info.cache_write_tokens or 0)
    details = getattr(usage, "output_tokens_details", None)
    if details is not None:
        thinking = token_count(info, getattr(details, "thinking_tokens", None), "thinking_tokens")
        if thinking is not None:
            info.reasoning_tokens = thinking


# ------------------------------------------------------------------------ content (semconv parts)
def system_parts(system: Any) -> Messages | None:
    """``system`` (a string or text blocks) -> ``gen_ai.system_instructions`` parts."""
    if isinstance(system, str):
        return [_text_part(system)] if system else None
    parts = _parts(system)
    return parts or None


def _message(msg: Any) -> dict[str, Any]:
    msg = _as_dict(msg)
    parts = _parts(msg.get("content"))
    role = msg.get("role", "user")
    # Tool results travel in user turns; semconv gives them the "tool" role.
    if parts and all(p.get("type") == "tool_call_response" for p in parts):
        role = "tool"
    return {"role": role, "parts": parts}


def _parts(content: Any) -> Messages:
    if content is None:
        return []
    if isinstance(content, str):
        return [_text_part(content)]
    out: Messages = []
    for block in content if isinstance(content, (list, tuple)) else ():
        out.append(_part(_as_dict(block)))
    return out


def _part(block: dict[str, Any]) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "text":
        return _text_part(str(block.get("text") or ""))
    if kind in ("tool_use", "server_tool_use"):
        return {"type": "tool_call", "id": block.get("id"), "name": block.get("name"),
                "arguments": _maybe_json(block.get("input"))}
    if kind == "tool_result":
        return {"type": "tool_call_response", "id": block.get("tool_use_id"), "response": _result(block)}
    if kind == "thinking":
        return {"type": "reasoning", "content": str(block.get("thinking") or "")}
    if kind in ("image", "document"):
        return _media(block, "image" if kind == "image" else "file")
    return {"type": str(kind or "unknown")}


def _result(block: dict[str, Any]) -> Any:
    content = block.get("content")
    if isinstance(content, str) or content is None:
        return content
    return "".join(p.get("content", "") for p in _parts(content) if p.get("type") == "text")


def _media(block: dict[str, Any], modality: str) -> dict[str, Any]:
    source = block.get("source") or {}
    stype = source.get("type")
    if stype == "url":
        return {"type": "uri", "modality": modality, "uri": _short_uri(source.get("url"))}
    if stype == "file":
        return {"type": "file", "modality": modality, "file_id": source.get("file_id")}
    if stype == "text":
        return _text_part(str(source.get("data") or ""))
    part = {"type": "blob", "modality": modality}  # base64: the bytes stay out of telemetry
    if source.get("media_type"):
        part["mime_type"] = str(source["media_type"])
    return part


# ------------------------------------------------------------------------ patching
_STATE: state_mod.State | None = None
_PATCHES = Patches()
_suppressed = state_mod.suppressed


def _provider(instance: Any) -> str:
    name = getattr(instance, "_gen_ai_provider_name", None)
    if isinstance(name, str) and name:
        return name
    return n.PROVIDER_AWS_BEDROCK if "Bedrock" in type(instance).__name__ else n.PROVIDER_ANTHROPIC


def _begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
    """Start observing a Messages call; None to pass through."""
    state = _STATE
    if state is None or _suppressed.get():
        return None
    options = args[1] if len(args) > 1 else kwargs.get("options")
    if options is None or options.url.partition("?")[0] != _PATH or options.method.lower() != "post":
        return None
    body = options.json_data
    if not isinstance(body, dict):
        return None
    extra = getattr(options, "extra_json", None)
    if isinstance(extra, dict) and extra:
        # extra_body is merged into the posted JSON later, when the request is built; sampling
        # parameters the SDK no longer declares (temperature, top_p, top_k) travel there.
        body = {**body, **extra}
    streamed = bool(body.get("stream")) or bool(kwargs.get("stream"))
    host, port = server_of(instance.base_url)
    attrs = request_attributes(API, n.OP_CHAT, body, _provider(instance), host, port)
    return Call(state, API, n.OP_CHAT, body, attrs, streamed)


_sync_request = sync_wrapper(_begin, finish_sdk_result, lambda: _STATE)
_async_request = async_wrapper(_begin, finish_sdk_result, lambda: _STATE)


def instrument(state: state_mod.State) -> bool:
    """Patch the anthropic client classes (idempotent). Returns False when anthropic is not installed."""
    global _STATE
    _STATE = state
    if _PATCHES:
        return True
    try:
        from anthropic import _base_client
    except ImportError:
        return False
    _PATCHES.wrap(_base_client.SyncAPIClient, "request", _sync_request)
    _PATCHES.wrap(_base_client.AsyncAPIClient, "request", _async_request)
    if not state.config.sdk_spans and isinstance(_base_client.BaseClient.__dict__.get("_tracer"), property):
        # anthropic 1.x+ traces itself: while llmwatch observes its calls, the SDK's second GenAI
        # span (same usage, counted twice by span-based cost views) is off unless sdk_spans=True.
        _PATCHES.replace(_base_client.BaseClient, "_tracer", property(_no_tracer))
    return True


def _no_tracer(client: Any) -> None:
    return None


def uninstrument() -> None:
    """Restore the exact original methods."""
    global _STATE
    _PATCHES.restore()
    _STATE = None


def is_instrumented() -> bool:
    return bool(_PATCHES)
