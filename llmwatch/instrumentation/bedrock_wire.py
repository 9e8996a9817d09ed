"""Amazon Bedrock Runtime's Converse API as the call core reads it (the dialect ``CONVERSE``), and
the readers InvokeModel's model families share with it: finish reasons, request parameters in
their several spellings, content blocks in the semconv message shape, Converse usage.

``aws.bedrock.converse`` is the model-independent Converse / ConverseStream API: usage,
``stopReason``, ``system`` and ``messages`` content blocks, ``toolConfig`` and ``inferenceConfig``
all have one shape. InvokeModel's bodies are read in
:mod:`~llmwatch.instrumentation.bedrock_invoke_wire`; the patching is in
:mod:`~llmwatch.instrumentation.bedrock`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmwatch import names as n
from llmwatch.instrumentation.dialect import Dialect, Messages
from llmwatch.instrumentation.extract import text_or_none, token_count

if TYPE_CHECKING:
    from llmwatch.instrumentation.call import Call
    from llmwatch.instrumentation.extract import ResponseInfo

# Provider stop reasons -> the semconv finish reasons; anything else is kept as the provider said.
# Converse / Anthropic (end_turn, tool_use, ...) and Titan (FINISH, LENGTH, ...) spellings.
_FINISH = {
    "end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "model_context_window_exceeded": "length",
    "tool_use": "tool_calls", "content_filtered": "content_filter", "guardrail_intervened": "content_filter",
    "refusal": "content_filter", "FINISH": "stop", "STOP_CRITERIA_MET": "stop", "LENGTH": "length",
    "CONTENT_FILTERED": "content_filter",
}
# Request parameters: (semconv key, record key, spellings across Converse and the model families).
_PARAMS = (
    (n.GEN_AI_REQUEST_TEMPERATURE, "temperature", ("temperature",)),
    (n.GEN_AI_REQUEST_TOP_P, "top_p", ("topP", "top_p")),
    (n.GEN_AI_REQUEST_MAX_TOKENS, "max_tokens", ("maxTokens", "max_tokens", "maxTokenCount", "max_new_tokens",
                                                 "max_gen_len")),
    (n.GEN_AI_REQUEST_STOP_SEQUENCES, "stop", ("stopSequences", "stop_sequences", "stop")),
)
_MODALITY = {"image": "image", "video": "video", "audio": "audio", "document": "file"}


def finish_reason(reason: Any) -> str | None:
    return _FINISH.get(reason, reason) if isinstance(reason, str) and reason else None


def param_values(configs: tuple[Any, ...]) -> dict[str, Any]:
    """record key -> value, from the first config dict that names each parameter."""
    out: dict[str, Any] = {}
    for config in configs:
        if not isinstance(config, dict):
            continue
        for _, key, spellings in _PARAMS:
            for spelling in spellings:
                value = config.get(spelling)
                if value is not None and key not in out:
                    out[key] = value
    return out


def param_attributes(values: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if body.get("stream"):
        attrs[n.GEN_AI_REQUEST_STREAM] = True
    for attr, key, _ in _PARAMS:
        value = values.get(key)
        if key == "stop":
            if isinstance(value, str):
                attrs[attr] = [value]
            elif isinstance(value, list) and value:
                attrs[attr] = [str(s) for s in value]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if key != "max_tokens" or isinstance(value, int):
                attrs[attr] = value
    return attrs


def _part(block: Any) -> dict[str, Any] | None:
    """A content block -> a semconv part. Converse blocks are keyed by kind (``{"text": ...}``),
    Anthropic's carry ``type``; both are read here. Cache points carry no content: None."""
    if not isinstance(block, dict):
        return {"type": "text", "content": block} if isinstance(block, str) else {"type": type(block).__name__}
    kind = block.get("type")
    if isinstance(kind, str):  # Anthropic Messages API on InvokeModel
        if kind == "text":
            return {"type": "text", "content": block.get("text", "")}
        if kind == "tool_use":
            return {"type": "tool_call", "id": block.get("id"), "name": block.get("name"),
                    "arguments": block.get("input")}
        if kind == "tool_result":
            return {"type": "tool_call_response", "id": block.get("tool_use_id"),
                    "response": _tool_result(block.get("content"))}
        if kind in _MODALITY:
            return {"type": "blob", "modality": _MODALITY[kind]}
        if kind in ("thinking", "redacted_thinking"):
            return {"type": "reasoning", "content": block.get("thinking", "")}
        return {"type": kind}
    if "text" in block:
        return {"type": "text", "content": block["text"]}
    if "toolUse" in block:
        use = block["toolUse"] or {}
        return {"type": "tool_call", "id": use.get("toolUseId"), "name": use.get("name"), "arguments": use.get("input")}
    if "toolResult" in block:
        result = block["toolResult"] or {}
        return {"type": "tool_call_response", "id": result.get("toolUseId"),
                "response": _tool_result(result.get("content"))}
    if "reasoningContent" in block:
        text = ((block["reasoningContent"] or {}).get("reasoningText") or {}).get("text", "")
        return {"type": "reasoning", "content": text}
    if "guardContent" in block:
        return {"type": "text", "content": ((block["guardContent"] or {}).get("text") or {}).get("text", "")}
    if "cachePoint" in block:
        return None
    for kind, modality in _MODALITY.items():
        if kind in block:
            return {"type": "blob", "modality": modality}
    return {"type": next(iter(block), "unknown")}


def _tool_result(content: Any) -> Any:
    """A tool result's content: its text or JSON when it is one block, else the blocks' parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and len(content) == 1 and isinstance(content[0], dict):
        only = content[0]
        if "text" in only:
            return only["text"]
        if "json" in only:
            return only["json"]
    return [p for p in map(_part, content or ()) if p is not None] if isinstance(content, list) else content


def content_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    return [p for p in map(_part, content or ()) if p is not None] if isinstance(content, list) else []


def input_messages(messages: Any) -> Messages:
    """Chat history -> semconv input messages; a user turn holding only tool results is role ``tool``."""
    out: Messages = []
    for msg in messages or ():
        if not isinstance(msg, dict):
            continue
        parts = content_parts(msg.get("content"))
        role = msg.get("role") or "user"
        if role == "user" and parts and all(p["type"] == "tool_call_response" for p in parts):
            role = "tool"
        out.append({"role": role, "parts": parts})
    return out


def converse_usage(info: ResponseInfo, usage: Any) -> None:
    if usage is None:
        return
    if not isinstance(usage, dict):
        info.anomaly = f"usage is {usage!r}, not a usage object"[:200]
        return
    inputs = token_count(info, usage.get("inputTokens"), "inputTokens")
    read = token_count(info, usage.get("cacheReadInputTokens"), "cacheReadInputTokens")
    write = token_count(info, usage.get("cacheWriteInputTokens"), "cacheWriteInputTokens")
    # Bedrock's inputTokens excludes the tokens read from / written to the prompt cache; semconv's
    # input_tokens includes them, so the sum is reported, with both cache counts alongside.
    info.input_tokens = None if inputs is None else inputs + (read or 0) + (write or 0)
    info.output_tokens = token_count(info, usage.get("outputTokens"), "outputTokens")
    info.cached_tokens, info.cache_write_tokens = read, write


def _router_model(info: ResponseInfo, trace: Any) -> None:
    """A prompt router names the model it chose; Converse names no response model otherwise."""
    if isinstance(trace, dict):
        model = text_or_none((trace.get("promptRouter") or {}).get("invokedModelId"))
        if model:
            info.model = model


def tool_definitions(tool_config: Any) -> list[dict[str, Any]]:
    """Converse ``toolConfig.tools`` -> semconv tool definitions (function name, description, schema)."""
    out: list[dict[str, Any]] = []
    for tool in (tool_config or {}).get("tools") or () if isinstance(tool_config, dict) else ():
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if isinstance(spec, dict):
            out.append({"type": "function", "name": spec.get("name"), "description": spec.get("description"),
                        "parameters": (spec.get("inputSchema") or {}).get("json")})
    return out


class ConverseDialect(Dialect):
    """The Converse / ConverseStream API: one shape for every model."""

    api = "aws.bedrock.converse"

    def tool_definitions(self, body: dict[str, Any]) -> Any:
        return tool_definitions(body.get("toolConfig")) or None

    def param_attributes(self, body: dict[str, Any]) -> dict[str, Any]:
        return param_attributes(self.record_params(body), body)

    def record_params(self, body: dict[str, Any]) -> dict[str, Any]:
        params = param_values((body.get("inferenceConfig"),))
        choice = (body.get("toolConfig") or {}).get("toolChoice")
        if choice:
            params["tool_choice"] = choice
        if body.get("stream"):
            params["stream"] = True
        return params

    def read_response(self, info: ResponseInfo, response: Any) -> None:
        converse_usage(info, response.get("usage"))
        reason = finish_reason(response.get("stopReason"))
        info.finish_reasons = [reason] if reason else None
        _router_model(info, response.get("trace"))

    def text_delta(self, chunk: Any) -> str | None:
        delta = chunk.get("contentBlockDelta")
        if delta is None:
            return None
        text: str | None = (delta.get("delta") or {}).get("text")
        return text

    def read_chunk(self, call: Call, chunk: Any, info: ResponseInfo) -> None:
        if "contentBlockDelta" in chunk:
            event = chunk["contentBlockDelta"]
            delta = event.get("delta") or {}
            if "text" in delta:
                call.text.append(delta["text"])
            elif "toolUse" in delta:
                call.add_tool_call_delta(event.get("contentBlockIndex", 0), None, None,
                                         (delta["toolUse"] or {}).get("input"))
        elif "contentBlockStart" in chunk:
            event = chunk["contentBlockStart"]
            use = (event.get("start") or {}).get("toolUse")
            if use:
                call.add_tool_call_delta(event.get("contentBlockIndex", 0), use.get("toolUseId"), use.get("name"), None)
        elif "messageStop" in chunk:
            reason = finish_reason(chunk["messageStop"].get("stopReason"))
            info.finish_reasons = [reason] if reason else None
        elif "metadata" in chunk:
            meta = chunk["metadata"]
            converse_usage(info, meta.get("usage"))
            _router_model(info, meta.get("trace"))

    def inputs(self, operation: str, body: dict[str, Any]) -> tuple[Messages | None, Messages]:
        return content_parts(body.get("system")) or None, input_messages(body.get("messages"))

    def outputs(self, response: Any) -> Messages | None:
        message = (response.get("output") or {}).get("message") or {}
        return [{"role": message.get("role") or "assistant", "parts": content_parts(message.get("content")),
                 "finish_reason": finish_reason(response.get("stopReason"))}]


CONVERSE = ConverseDialect()
