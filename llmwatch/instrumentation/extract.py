"""Read request parameters and response fields into span attributes and record fields.

:func:`request_attributes` runs on the caller's thread (the attributes a span starts with); the
rest runs on the record worker. They only read what the request body and the SDK's typed
response already hold: attribute lookups, no parsing, no serialisation. A response of an
unexpected shape (a server that is only nearly OpenAI-compatible) is read as far as it goes:
what does not fit is left unknown and described in ``ResponseInfo.anomaly``.
"""

from __future__ import annotations

import re
from typing import Any

from llmwatch import names as n
from llmwatch.instrumentation.content import responses_finish_reason
from llmwatch.instrumentation.dialect import dialect_for

# Request path (relative to base_url, as the SDK passes it) -> (api, gen_ai.operation.name)
ENDPOINTS: dict[str, tuple[str, str]] = {
    "/chat/completions": ("chat", n.OP_CHAT),
    "/responses": ("responses", n.OP_CHAT),
    "/embeddings": ("embeddings", n.OP_EMBEDDINGS),
    "/moderations": ("moderations", n.OP_MODERATION),
    "/completions": ("completions", n.OP_TEXT_COMPLETION),
}

# The one GET route observed: a stored Responses API response, retrieved by id
# (``client.responses.retrieve(id)``). Only this exact shape: ``/responses/{id}/input_items`` and
# every other GET pass through.
FETCH_RESPONSE_API = "responses.retrieve"
_FETCH_RESPONSE_PATH = re.compile(r"/responses/[^/?]+")


def get_endpoint(url: str) -> tuple[str, str] | None:
    """(api, gen_ai.operation.name) of an observed GET request path, or None to pass it through."""
    if _FETCH_RESPONSE_PATH.fullmatch(url.split("?", 1)[0]):
        return FETCH_RESPONSE_API, n.OP_FETCH_RESPONSE
    return None

_NUMERIC_PARAMS = (
    ("temperature", n.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", n.GEN_AI_REQUEST_TOP_P),
    ("seed", n.GEN_AI_REQUEST_SEED),
    ("frequency_penalty", n.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", n.GEN_AI_REQUEST_PRESENCE_PENALTY),
)
# Params kept on the stored record (request_params) besides the ones above.
_RECORD_PARAMS = ("temperature", "top_p", "seed", "frequency_penalty", "presence_penalty", "n", "stop",
                  "max_tokens", "max_completion_tokens", "max_output_tokens", "stream", "dimensions",
                  "encoding_format", "user", "tool_choice", "reasoning_effort", "service_tier")


def request_attributes(api: str, op: str, body: dict[str, Any], provider: str, host: str | None,
                       port: int | None) -> dict[str, Any]:
    """The attributes a span starts with: the ones semconv asks to have at creation (samplers may
    use them). The request parameters follow in :func:`request_param_attributes`, on the worker."""
    model = body.get("model")
    attrs: dict[str, Any] = {
        n.GEN_AI_OPERATION_NAME: op,
        n.GEN_AI_PROVIDER_NAME: provider,
    }
    if model:
        attrs[n.GEN_AI_REQUEST_MODEL] = str(model)
    if host:
        attrs[n.SERVER_ADDRESS] = host
        if port:
            attrs[n.SERVER_PORT] = port
    return attrs


def request_param_attributes(api: str, body: dict[str, Any]) -> dict[str, Any]:
    """Request-parameter attributes (temperature, max tokens, stop, ...), read off the hot path."""
    dialect = dialect_for(api)
    if dialect is not None:
        return dialect.param_attributes(body)
    attrs: dict[str, Any] = {}
    get = body.get
    for key, attr in _NUMERIC_PARAMS:
        v = get(key)
        if v is not None and not isinstance(v, bool) and isinstance(v, (int, float)):
            attrs[attr] = v
    max_tokens = get("max_tokens") or get("max_completion_tokens") or get("max_output_tokens")
    if isinstance(max_tokens, int):
        attrs[n.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    stop = get("stop")
    if stop:
        attrs[n.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop] if isinstance(stop, str) else [str(s) for s in stop]
    choices = get("n")
    if isinstance(choices, int) and choices != 1:
        attrs[n.GEN_AI_REQUEST_CHOICE_COUNT] = choices
    if get("stream"):
        attrs[n.GEN_AI_REQUEST_STREAM] = True
    if api == "embeddings":
        attrs[n.GEN_AI_REQUEST_ENCODING_FORMATS] = [str(get("encoding_format") or "float")]
    fmt = get("response_format") or (get("text") or {}).get("format") if api in ("chat", "responses") else None
    if isinstance(fmt, dict) and fmt.get("type"):
        attrs[n.GEN_AI_OUTPUT_TYPE] = "json" if fmt["type"] in ("json_schema", "json_object") else "text"
    return attrs


def record_params(api: str, body: dict[str, Any]) -> dict[str, Any]:
    dialect = dialect_for(api)
    if dialect is not None:
        params = dialect.record_params(body)
        params["api"] = api
        return params
    params = {k: body[k] for k in _RECORD_PARAMS if k in body and body[k] is not None}
    params["api"] = api
    return params


def token_count(info: ResponseInfo, value: Any, what: str) -> int | None:
    """A token count, or None (an anomaly when the provider sent something that is not a count)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    info.anomaly = f"usage.{what} is {value!r}, not a token count"[:200]
    return None


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class ResponseInfo:
    """What a finished response (or a stream's chunks) says about itself."""

    __slots__ = ("model", "id", "finish_reasons", "input_tokens", "output_tokens", "cached_tokens",
                 "cache_write_tokens", "reasoning_tokens", "attrs", "dimensions", "flagged", "anomaly")

    def __init__(self) -> None:
        self.model: str | None = None
        self.id: str | None = None
        self.finish_reasons: list[str] | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cached_tokens: int | None = None  # read from the provider's cache (part of input_tokens)
        self.cache_write_tokens: int | None = None  # written to the provider's cache (part of input_tokens)
        self.reasoning_tokens: int | None = None
        self.attrs: dict[str, Any] = {}
        self.dimensions: int | None = None
        self.flagged: bool | None = None
        self.anomaly: str | None = None  # what in the response did not have the expected shape

    def span_attributes(self, attrs: dict[str, Any]) -> None:
        """The response's semconv attributes (model, id, finish reasons, usage, ...)."""
        if self.model:
            attrs[n.GEN_AI_RESPONSE_MODEL] = self.model
        if self.id:
            attrs[n.GEN_AI_RESPONSE_ID] = self.id
        if self.finish_reasons:
            attrs[n.GEN_AI_RESPONSE_FINISH_REASONS] = self.finish_reasons
        if self.input_tokens is not None:
            attrs[n.GEN_AI_USAGE_INPUT_TOKENS] = self.input_tokens
        if self.output_tokens is not None:
            attrs[n.GEN_AI_USAGE_OUTPUT_TOKENS] = self.output_tokens
        if self.cached_tokens:
            attrs[n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = self.cached_tokens
        if self.cache_write_tokens:
            attrs[n.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = self.cache_write_tokens
        if self.reasoning_tokens:
            attrs[n.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = self.reasoning_tokens
        if self.dimensions is not None:
            attrs[n.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = self.dimensions
        if self.flagged is not None:
            attrs[n.LLMWATCH_MODERATION_FLAGGED] = self.flagged
        if self.anomaly is not None:
            attrs[n.LLMWATCH_RESPONSE_ANOMALY] = self.anomaly
        if self.attrs:
            attrs.update(self.attrs)

    def read_chat_usage(self, usage: Any) -> None:
        """Chat / legacy completions / embeddings usage (``prompt_tokens`` + ``completion_tokens``)."""
        self._read_usage(usage, "prompt_tokens", "completion_tokens")

    def read_responses_usage(self, usage: Any) -> None:
        """Responses API usage (``input_tokens`` + ``output_tokens``)."""
        self._read_usage(usage, "input_tokens", "output_tokens")

    def _read_usage(self, usage: Any, input_name: str, output_name: str) -> None:
        if usage is None:
            return
        if not hasattr(usage, input_name):
            self.anomaly = f"usage is {usage!r}, not a usage object"[:200]
            return
        self.input_tokens = token_count(self, getattr(usage, input_name), input_name)
        self.output_tokens = token_count(self, getattr(usage, output_name, None), output_name)
        details = getattr(usage, f"{input_name}_details", None)
        if details is not None:
            self.cached_tokens = token_count(self, getattr(details, "cached_tokens", None), "cached_tokens")
        details = getattr(usage, f"{output_name}_details", None)
        if details is not None:
            self.reasoning_tokens = token_count(self, getattr(details, "reasoning_tokens", None), "reasoning_tokens")


def read_response(api: str, response: Any) -> ResponseInfo:
    """Everything the response says about itself; a part of an unexpected shape is left unknown
    (and named in ``anomaly``) without losing the parts that could be read."""
    info = ResponseInfo()
    info.model = text_or_none(getattr(response, "model", None))
    info.id = text_or_none(getattr(response, "id", None))
    try:
        dialect = dialect_for(api)
        if dialect is not None:
            dialect.read_response(info, response)
        else:
            reader = _READERS.get(api)
            if reader is not None:
                reader(info, response)
    except Exception as exc:  # noqa: BLE001 - the shape is the provider's; the record is ours
        info.anomaly = f"{api} response: {type(exc).__name__}: {exc}"[:200]
    return info


def _read_chat(info: ResponseInfo, response: Any) -> None:
    usage = getattr(response, "usage", None)
    info.read_chat_usage(usage)
    choices = response.choices
    if choices:
        info.finish_reasons = [str(c.finish_reason or "") for c in choices]
    fp = text_or_none(getattr(response, "system_fingerprint", None))
    if fp:
        info.attrs[n.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = fp
    tier = text_or_none(getattr(response, "service_tier", None))
    if tier:
        info.attrs[n.OPENAI_RESPONSE_SERVICE_TIER] = tier


def _read_responses(info: ResponseInfo, response: Any) -> None:
    info.read_responses_usage(getattr(response, "usage", None))
    reason = responses_finish_reason(response)
    if reason:
        info.finish_reasons = [reason]
    tier = text_or_none(getattr(response, "service_tier", None))
    if tier:
        info.attrs[n.OPENAI_RESPONSE_SERVICE_TIER] = tier


def _read_fetched_response(info: ResponseInfo, response: Any) -> None:
    """A retrieved response describes a generation that already happened (and was billed and
    counted when it was created). Its usage goes on the span as attributes only: not in
    ``info``'s counts, so this call is not priced, adds nothing to the token metrics, and the
    record's token columns stay empty; sums over calls count each generation once."""
    stored = ResponseInfo()
    stored.read_responses_usage(getattr(response, "usage", None))
    if stored.anomaly is not None:
        info.anomaly = stored.anomaly
    stored.model = stored.id = None
    stored.span_attributes(info.attrs)
    reason = responses_finish_reason(response)
    if reason:
        info.finish_reasons = [reason]
    tier = text_or_none(getattr(response, "service_tier", None))
    if tier:
        info.attrs[n.OPENAI_RESPONSE_SERVICE_TIER] = tier


def _read_embeddings(info: ResponseInfo, response: Any) -> None:
    info.read_chat_usage(getattr(response, "usage", None))  # prompt_tokens only: no output to count
    data = response.data
    if data:
        emb = data[0].embedding
        if isinstance(emb, (list, tuple)):
            info.dimensions = len(emb)


def _read_moderations(info: ResponseInfo, response: Any) -> None:
    results = response.results or ()
    info.flagged = any(bool(r.flagged) for r in results)


_READERS = {"chat": _read_chat, "completions": _read_chat, "responses": _read_responses,
            "embeddings": _read_embeddings, "moderations": _read_moderations,
            FETCH_RESPONSE_API: _read_fetched_response}
