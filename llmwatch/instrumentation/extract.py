"""Read request parameters and response fields into span attributes and record fields.

Everything here runs on the caller's thread, so it only reads what the request body and the
SDK's typed response already hold: attribute lookups, no parsing, no serialisation.
"""

from __future__ import annotations

from typing import Any

from llmwatch import names as n
from llmwatch.instrumentation.content import responses_finish_reason

# Request path (relative to base_url, as the SDK passes it) -> (api, gen_ai.operation.name)
ENDPOINTS: dict[str, tuple[str, str]] = {
    "/chat/completions": ("chat", n.OP_CHAT),
    "/responses": ("responses", n.OP_CHAT),
    "/embeddings": ("embeddings", n.OP_EMBEDDINGS),
    "/moderations": ("moderations", n.OP_MODERATION),
    "/completions": ("completions", n.OP_TEXT_COMPLETION),
}

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
    params = {k: body[k] for k in _RECORD_PARAMS if k in body and body[k] is not None}
    params["api"] = api
    return params


class ResponseInfo:
    """What a finished (non-streamed) response says about itself."""

    __slots__ = ("model", "id", "finish_reasons", "input_tokens", "output_tokens", "cached_tokens",
                 "reasoning_tokens", "attrs", "dimensions", "flagged")

    def __init__(self) -> None:
        self.model: str | None = None
        self.id: str | None = None
        self.finish_reasons: list[str] | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cached_tokens: int | None = None
        self.reasoning_tokens: int | None = None
        self.attrs: dict[str, Any] = {}
        self.dimensions: int | None = None
        self.flagged: bool | None = None

    def read_chat_usage(self, usage: Any) -> None:
        if usage is None:
            return
        self.input_tokens = usage.prompt_tokens
        self.output_tokens = getattr(usage, "completion_tokens", None)
        details = getattr(usage, "prompt_tokens_details", None)
        if details is not None:
            self.cached_tokens = getattr(details, "cached_tokens", None)
        details = getattr(usage, "completion_tokens_details", None)
        if details is not None:
            self.reasoning_tokens = getattr(details, "reasoning_tokens", None)

    def read_responses_usage(self, usage: Any) -> None:
        if usage is None:
            return
        self.input_tokens = usage.input_tokens
        self.output_tokens = usage.output_tokens
        details = getattr(usage, "input_tokens_details", None)
        if details is not None:
            self.cached_tokens = getattr(details, "cached_tokens", None)
        details = getattr(usage, "output_tokens_details", None)
        if details is not None:
            self.reasoning_tokens = getattr(details, "reasoning_tokens", None)


def read_response(api: str, response: Any) -> ResponseInfo:
    info = ResponseInfo()
    info.model = getattr(response, "model", None)
    info.id = getattr(response, "id", None)
    if api == "chat" or api == "completions":
        choices = response.choices
        if choices:
            info.finish_reasons = [c.finish_reason or "" for c in choices]
        info.read_chat_usage(response.usage)
        fp = getattr(response, "system_fingerprint", None)
        if fp:
            info.attrs[n.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = fp
        tier = getattr(response, "service_tier", None)
        if tier:
            info.attrs[n.OPENAI_RESPONSE_SERVICE_TIER] = tier
    elif api == "responses":
        reason = responses_finish_reason(response)
        if reason:
            info.finish_reasons = [reason]
        info.read_responses_usage(response.usage)
        tier = getattr(response, "service_tier", None)
        if tier:
            info.attrs[n.OPENAI_RESPONSE_SERVICE_TIER] = tier
    elif api == "embeddings":
        usage = response.usage
        if usage is not None:
            info.input_tokens = usage.prompt_tokens
        data = response.data
        if data:
            emb = data[0].embedding
            if isinstance(emb, (list, tuple)):
                info.dimensions = len(emb)
    elif api == "moderations":
        results = response.results or ()
        info.flagged = any(r.flagged for r in results)
    return info
