"""The Google Gen AI SDK's request and response types as the call core reads them: the dialects
``GENERATE`` (``generate_content`` and its stream) and ``EMBED`` (``embed_content``), and the
mapping of ``contents``, ``system_instruction`` and ``config.tools`` to the semconv message shape.
The patching is in :mod:`~llmwatch.instrumentation.google_genai`.

Usage (``usage_metadata``), per the SDK's field docs: ``prompt_token_count`` includes
``cached_content_token_count``; ``total_token_count`` is prompt + candidates + tool-use prompt +
thoughts. So input = prompt + tool-use prompt (tool results fed back to the model, billed as
input), cached = cached content, output = candidates + thoughts (thinking is billed as output),
reasoning = thoughts. The API writes proto3 JSON, which omits zero counts: once a usage block is
present a missing count is 0, not unknown.
"""

from __future__ import annotations

import json
from typing import Any

from llmwatch import names as n
from llmwatch.instrumentation.call import Call
from llmwatch.instrumentation.dialect import Dialect, Messages
from llmwatch.instrumentation.extract import ResponseInfo, text_or_none, token_count

GENERATE_API = "gcp.gen_ai.generate_content"
EMBED_API = "gcp.gen_ai.embed_content"

# Gemini finish reasons -> semconv values; any other reason is kept, lower-cased.
_FINISH = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter", "RECITATION": "content_filter",
           "BLOCKLIST": "content_filter", "PROHIBITED_CONTENT": "content_filter", "SPII": "content_filter",
           "IMAGE_SAFETY": "content_filter", "IMAGE_PROHIBITED_CONTENT": "content_filter",
           "IMAGE_RECITATION": "content_filter", "MODEL_ARMOR": "content_filter"}
_NUMERIC = (("temperature", n.GEN_AI_REQUEST_TEMPERATURE), ("top_p", n.GEN_AI_REQUEST_TOP_P),
            ("top_k", n.GEN_AI_REQUEST_TOP_K), ("seed", n.GEN_AI_REQUEST_SEED),
            ("max_output_tokens", n.GEN_AI_REQUEST_MAX_TOKENS),
            ("frequency_penalty", n.GEN_AI_REQUEST_FREQUENCY_PENALTY),
            ("presence_penalty", n.GEN_AI_REQUEST_PRESENCE_PENALTY))
_RECORD = ("temperature", "top_p", "top_k", "seed", "max_output_tokens", "frequency_penalty", "presence_penalty",
           "candidate_count", "stop_sequences", "response_mime_type", "output_dimensionality", "task_type")


# ------------------------------------------------------------------------------- reading values
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def field(obj: Any, name: str) -> Any:
    """A field of an SDK model or of the dict the app passed instead (snake_case or camelCase)."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        value = obj.get(name)
        return obj.get(_camel(name)) if value is None else value
    return getattr(obj, name, None)


def _enum(value: Any) -> str | None:
    value = getattr(value, "value", value)
    return value if isinstance(value, str) and value else None


def finish_reason(value: Any) -> str | None:
    """A Gemini ``FinishReason`` in the conventions' terms (``STOP`` -> ``stop``, ...)."""
    reason = _enum(value)
    if reason is None:
        return None
    return _FINISH.get(reason, reason.lower())


def model_name(model: Any) -> str | None:
    """``models/gemini-2.5-flash`` and Vertex resource names -> ``gemini-2.5-flash``."""
    if not isinstance(model, str) or not model:
        return None
    return model.rsplit("models/", 1)[-1] if model.startswith("models/") or "/models/" in model else model


def _count(info: ResponseInfo, usage: Any, field: str) -> int | None:
    """A usage count; absent is 0 (proto3 JSON omits zeros), not a count is None (and an anomaly)."""
    value = getattr(usage, field, None)
    return 0 if value is None else token_count(info, value, field)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ------------------------------------------------------------------------------- semconv messages
def _modality(mime: Any) -> str:
    return mime.split("/", 1)[0] if isinstance(mime, str) and "/" in mime else "file"


def _part(part: Any) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "content": part}
    text = field(part, "text")
    if isinstance(text, str):
        return {"type": "reasoning" if field(part, "thought") else "text", "content": text}
    call = field(part, "function_call")
    if call is not None:
        return {"type": "tool_call", "id": field(call, "id"), "name": field(call, "name"),
                "arguments": field(call, "args")}
    result = field(part, "function_response")
    if result is not None:
        return {"type": "tool_call_response", "id": field(result, "id"), "response": field(result, "response")}
    blob = field(part, "inline_data")
    if blob is not None:
        mime = field(blob, "mime_type")
        return {"type": "blob", "modality": _modality(mime), "mime_type": mime}
    ref = field(part, "file_data")
    if ref is not None:
        mime = field(ref, "mime_type")
        return {"type": "uri", "modality": _modality(mime), "mime_type": mime, "uri": field(ref, "file_uri")}
    if isinstance(part, dict):
        return {"type": next((str(k) for k, v in part.items() if v is not None), "unknown")}
    return {"type": type(part).__name__}


def _is_content(item: Any) -> bool:
    if isinstance(item, dict):
        return "parts" in item or "role" in item
    return hasattr(item, "parts") and hasattr(item, "role")


def _message(content: Any) -> dict[str, Any]:
    parts = [_part(p) for p in field(content, "parts") or ()]
    role = field(content, "role") or "user"
    if role == "model":
        role = "assistant"
    elif parts and all(p["type"] == "tool_call_response" for p in parts):
        role = "tool"
    return {"role": role, "parts": parts}


def contents_messages(contents: Any) -> Messages:
    """``contents`` as the SDK accepts it (str, Part, Content, dicts, or a list of them) -> messages.

    Like the SDK, loose parts (strings, Parts) next to each other form one user turn."""
    if contents is None:
        return []
    items = contents if isinstance(contents, (list, tuple)) else [contents]
    out: Messages = []
    loose: list[dict[str, Any]] = []
    for item in items:
        if _is_content(item):
            if loose:
                out.append({"role": "user", "parts": loose})
                loose = []
            out.append(_message(item))
        else:
            loose.append(_part(item))
    if loose:
        out.append({"role": "user", "parts": loose})
    return out


def _instruction_parts(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [{"type": "text", "content": value}]
    if _is_content(value):
        return [_part(p) for p in field(value, "parts") or ()]
    if isinstance(value, (list, tuple)):
        return [_part(p) for p in value]
    return [_part(value)]


def tool_definitions(tools: Any) -> list[dict[str, Any]]:
    """``config.tools`` (Tool objects, dicts, or plain Python functions) -> definitions (content on)."""
    out: list[dict[str, Any]] = []
    for tool in tools or ():
        if callable(tool) and not hasattr(tool, "function_declarations"):
            out.append({"type": "function", "name": getattr(tool, "__name__", None),
                        "description": text_or_none(getattr(tool, "__doc__", None))})
            continue
        declarations = field(tool, "function_declarations")
        for decl in declarations or ():
            params = field(decl, "parameters_json_schema") or field(decl, "parameters")
            dump = getattr(params, "model_dump", None)
            out.append({"type": "function", "name": field(decl, "name"), "description": field(decl, "description"),
                        "parameters": dump(exclude_none=True, mode="json") if dump is not None else params})
        if not declarations:
            fields = tool.items() if isinstance(tool, dict) else getattr(tool, "__dict__", {}).items()
            out.append({"type": next((str(k) for k, v in fields if v is not None), type(tool).__name__)})
    return out


# ------------------------------------------------------------------------------- dialects
class GenerateContent(Dialect):
    """``models/{model}:generateContent`` / ``:streamGenerateContent`` as the SDK types them."""

    api = GENERATE_API

    def tool_definitions(self, body: dict[str, Any]) -> Any:
        tools = field(body.get("config"), "tools")
        return tool_definitions(tools) if tools else None

    def param_attributes(self, body: dict[str, Any]) -> dict[str, Any]:
        config = body.get("config")
        attrs: dict[str, Any] = {}
        for key, attr in _NUMERIC:
            value = field(config, key)
            if _number(value):
                attrs[attr] = value
        stop = field(config, "stop_sequences")
        if stop:
            attrs[n.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop] if isinstance(stop, str) else [str(s) for s in stop]
        count = field(config, "candidate_count")
        if isinstance(count, int) and count != 1:
            attrs[n.GEN_AI_REQUEST_CHOICE_COUNT] = count
        mime = field(config, "response_mime_type")
        if isinstance(mime, str):
            attrs[n.GEN_AI_OUTPUT_TYPE] = "json" if mime == "application/json" else "text"
        if body.get("stream"):
            attrs[n.GEN_AI_REQUEST_STREAM] = True
        return attrs

    def record_params(self, body: dict[str, Any]) -> dict[str, Any]:
        config = body.get("config")
        params = {}
        for key in _RECORD:
            value = field(config, key)
            if value is not None:
                params[key] = _enum(value) or (list(value) if isinstance(value, (list, tuple)) else value)
        if body.get("stream"):
            params["stream"] = True
        return params

    def read_response(self, info: ResponseInfo, response: Any) -> None:
        self._read(info, response)
        reasons = [finish_reason(c.finish_reason) or "" for c in response.candidates or ()]
        if not reasons and field(response.prompt_feedback, "block_reason") is not None:
            reasons = ["content_filter"]  # the prompt itself was blocked: no candidates at all
        info.finish_reasons = reasons or None

    @staticmethod
    def _read(info: ResponseInfo, response: Any) -> None:
        info.model = text_or_none(response.model_version) or info.model
        info.id = text_or_none(response.response_id) or info.id
        usage = response.usage_metadata
        if usage is None:
            return
        prompt = _count(info, usage, "prompt_token_count")
        tool_use = _count(info, usage, "tool_use_prompt_token_count")
        candidates = _count(info, usage, "candidates_token_count")
        thoughts = _count(info, usage, "thoughts_token_count")
        info.input_tokens = None if prompt is None or tool_use is None else prompt + tool_use
        info.output_tokens = None if candidates is None or thoughts is None else candidates + thoughts
        info.reasoning_tokens = thoughts or None
        info.cached_tokens = _count(info, usage, "cached_content_token_count") or None

    def text_delta(self, chunk: Any) -> str | None:
        candidates = chunk.candidates
        if not candidates or len(candidates) != 1:
            return None
        candidate = candidates[0]
        content = candidate.content
        if candidate.finish_reason is not None or content is None or not content.parts or len(content.parts) != 1:
            return None
        part = content.parts[0]
        text = part.text
        return text if isinstance(text, str) and not part.thought else None

    def read_chunk(self, call: Call, chunk: Any, info: ResponseInfo) -> None:
        self._read(info, chunk)  # every chunk repeats model and id; usage is cumulative, the last wins
        for candidate in chunk.candidates or ():
            content = candidate.content
            for part in (content.parts or ()) if content is not None else ():
                fn = part.function_call
                if fn is not None:
                    args = None if fn.args is None else json.dumps(fn.args, default=str)
                    call.add_tool_call_delta(len(call.tool_calls or ()), fn.id, fn.name, args)
                elif isinstance(part.text, str) and not part.thought and not candidate.index:
                    call.text.append(part.text)
            reason = finish_reason(candidate.finish_reason)
            if reason:
                info.finish_reasons = (info.finish_reasons or []) + [reason]

    def inputs(self, operation: str, body: dict[str, Any]) -> tuple[Messages | None, Messages]:
        return _instruction_parts(field(body.get("config"), "system_instruction")), contents_messages(body["contents"])

    def outputs(self, response: Any) -> Messages | None:
        out: Messages = []
        for candidate in response.candidates or ():
            content = candidate.content
            parts = [_part(p) for p in (content.parts or ())] if content is not None else []
            out.append({"role": "assistant", "parts": parts, "finish_reason": finish_reason(candidate.finish_reason)})
        return out


class EmbedContent(Dialect):
    """``:batchEmbedContents`` / ``:embedContent`` (and Vertex ``:predict``): input tokens only."""

    api = EMBED_API
    input_billed = True

    def record_params(self, body: dict[str, Any]) -> dict[str, Any]:
        return GENERATE.record_params(body)

    def read_response(self, info: ResponseInfo, response: Any) -> None:
        embeddings = response.embeddings or ()
        if embeddings and isinstance(embeddings[0].values, list):
            info.dimensions = len(embeddings[0].values)
        usage = getattr(response, "usage_metadata", None)  # Gemini API, read by google-genai 3.x
        if usage is not None:
            info.input_tokens = _count(info, usage, "prompt_token_count")
            return
        counts = [field(e.statistics, "token_count") for e in embeddings]  # Vertex AI: per input
        if counts and all(_number(c) for c in counts):
            info.input_tokens = token_count(info, int(sum(counts)), "statistics.token_count")

    def inputs(self, operation: str, body: dict[str, Any]) -> tuple[Messages | None, Messages]:
        contents = body["contents"]
        items = contents if isinstance(contents, (list, tuple)) else [contents]
        messages: Messages = []
        for item in items:
            messages.extend(contents_messages(item))
        return None, messages


GENERATE = GenerateContent()
EMBED = EmbedContent()
