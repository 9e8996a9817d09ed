"""Prompts and completions in the GenAI semconv message shape.

``gen_ai.input.messages`` / ``gen_ai.output.messages`` are JSON arrays of
``{"role": ..., "parts": [{"type": "text", "content": ...}, {"type": "tool_call", ...}]}``;
``gen_ai.system_instructions`` is an array of parts. The same shape is stored in the prompt log,
so what an analyst queries and what a trace backend shows are one and the same.

These functions read plain request bodies (the dicts the openai SDK is about to post) and the
SDK's typed response models; they never raise on odd shapes: unknown parts are kept by type.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from llmwatch import names
from llmwatch.instrumentation.dialect import dialect_for

TRUNCATED = "…[truncated]"


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "content": text}


def _parts_from_content(content: Any) -> list[dict[str, Any]]:
    """Chat/Responses message content (a string or a list of typed parts) -> semconv parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [_text_part(content)]
    parts: list[dict[str, Any]] = []
    if isinstance(content, Iterable) and not isinstance(content, (bytes, dict)):
        for item in content:
            if not isinstance(item, dict):
                item = _as_dict(item)
            kind = item.get("type")
            if kind in ("text", "input_text", "output_text"):
                parts.append(_text_part(item.get("text", "")))
            elif kind in ("image_url", "input_image"):
                url = item.get("image_url")
                url = url.get("url") if isinstance(url, dict) else url
                parts.append({"type": "uri", "modality": "image", "uri": _short_uri(url)})
            elif kind in ("input_audio", "file", "input_file"):
                parts.append({"type": "blob", "modality": "audio" if "audio" in kind else "file"})
            elif kind == "refusal":
                parts.append({"type": "text", "content": item.get("refusal", "")})
            else:
                parts.append({"type": str(kind or "unknown")})
    return parts


def _short_uri(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    # data: URIs carry the whole image; keep only the media type.
    return url.split(",", 1)[0] + ",…" if url.startswith("data:") else url


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    dump = getattr(obj, "model_dump", None)
    if dump is not None:
        try:
            dumped: dict[str, Any] = dump(exclude_none=True)
            return dumped
        except Exception:  # noqa: BLE001
            pass
    return {"type": type(obj).__name__}


def _tool_call_parts(tool_calls: Any) -> list[dict[str, Any]]:
    parts = []
    for call in tool_calls or ():
        call = _as_dict(call)
        fn = call.get("function") or {}
        parts.append({
            "type": "tool_call", "id": call.get("id"), "name": fn.get("name"),
            "arguments": _maybe_json(fn.get("arguments")),
        })
    return parts


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# ------------------------------------------------------------------------------------ inputs
def chat_messages(messages: Any) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """Chat Completions ``messages`` -> (system_instructions, input_messages).

    System/developer messages stay in the history (that is where chat APIs put them) and are also
    not duplicated: ``system_instructions`` is only for separately-passed instructions.
    """
    out: list[dict[str, Any]] = []
    for msg in messages or ():
        msg = _as_dict(msg)
        role = msg.get("role", "user")
        if role == "tool":
            parts = [{"type": "tool_call_response", "id": msg.get("tool_call_id"),
                      "response": _flatten_text(msg.get("content"))}]
        else:
            parts = _parts_from_content(msg.get("content")) + _tool_call_parts(msg.get("tool_calls"))
        entry: dict[str, Any] = {"role": role, "parts": parts}
        if msg.get("name"):
            entry["name"] = msg["name"]
        out.append(entry)
    return None, out


def responses_input(body: dict[str, Any]) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """Responses API ``instructions`` + ``input`` -> (system_instructions, input_messages)."""
    system = [_text_part(body["instructions"])] if isinstance(body.get("instructions"), str) else None
    raw = body.get("input")
    if isinstance(raw, str):
        return system, [{"role": "user", "parts": [_text_part(raw)]}]
    out: list[dict[str, Any]] = []
    for item in raw or ():
        item = _as_dict(item)
        kind = item.get("type", "message")
        if kind == "message" or "role" in item:
            out.append({"role": item.get("role", "user"), "parts": _parts_from_content(item.get("content"))})
        elif kind == "function_call":
            out.append({"role": "assistant", "parts": [{
                "type": "tool_call", "id": item.get("call_id"), "name": item.get("name"),
                "arguments": _maybe_json(item.get("arguments"))}]})
        elif kind == "function_call_output":
            out.append({"role": "tool", "parts": [{
                "type": "tool_call_response", "id": item.get("call_id"), "response": item.get("output")}]})
        else:
            out.append({"role": "user", "parts": [{"type": str(kind)}]})
    return system, out


def text_inputs(value: Any) -> list[dict[str, Any]]:
    """Embeddings / moderation / legacy-completion input (str, list of str, token arrays)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "parts": [_text_part(value)]}]
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if items and all(isinstance(x, int) for x in items):  # a single token array
        return [{"role": "user", "parts": [{"type": "tokens", "count": len(items)}]}]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append({"role": "user", "parts": [_text_part(item)]})
        elif isinstance(item, (list, tuple)):
            out.append({"role": "user", "parts": [{"type": "tokens", "count": len(item)}]})
        else:
            out.append({"role": "user", "parts": _parts_from_content([_as_dict(item)])})
    return out


def request_inputs(operation: str, api: str, body: dict[str, Any]) -> tuple[list[Any] | None, list[Any]]:
    dialect = dialect_for(api)
    if dialect is not None:
        return dialect.inputs(operation, body)
    if api == "responses":
        return responses_input(body)
    if api == "chat":
        return chat_messages(body.get("messages"))
    if api == "completions":
        return None, text_inputs(body.get("prompt"))
    return None, text_inputs(body.get("input"))


def _flatten_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("content", "") for p in _parts_from_content(content) if p.get("type") == "text")


# ------------------------------------------------------------------------------------ outputs
def response_outputs(api: str, response: Any) -> list[dict[str, Any]] | None:
    """The SDK's typed response -> output_messages (None for embeddings/moderations)."""
    if response is None:
        return None
    dialect = dialect_for(api)
    if dialect is not None:
        return dialect.outputs(response)
    if api == "chat":
        out = []
        for choice in getattr(response, "choices", None) or ():
            msg = choice.message
            parts = _parts_from_content(msg.content) + _tool_call_parts(getattr(msg, "tool_calls", None))
            if getattr(msg, "refusal", None):
                parts.append({"type": "refusal", "content": msg.refusal})
            out.append({"role": msg.role or "assistant", "parts": parts, "finish_reason": choice.finish_reason})
        return out
    if api == "completions":
        return [{"role": "assistant", "parts": [_text_part(c.text)], "finish_reason": c.finish_reason}
                for c in getattr(response, "choices", None) or ()]
    if api == "responses":
        parts = []
        for item in getattr(response, "output", None) or ():
            kind = getattr(item, "type", None)
            if kind == "message":
                parts.extend(_parts_from_content([_as_dict(c) for c in item.content or ()]))
            elif kind == "function_call":
                parts.append({"type": "tool_call", "id": item.call_id, "name": item.name,
                              "arguments": _maybe_json(item.arguments)})
            elif kind == "reasoning":
                parts.append({"type": "reasoning"})
            elif kind:
                parts.append({"type": str(kind)})
        return [{"role": "assistant", "parts": parts, "finish_reason": responses_finish_reason(response)}]
    return None


def responses_finish_reason(response: Any) -> str | None:
    status = getattr(response, "status", None)
    if status == "incomplete":
        details = getattr(response, "incomplete_details", None)
        return getattr(details, "reason", None) or "incomplete"
    if status == "completed":
        return "stop"
    return status


def stream_outputs(text: str | None, finish_reasons: list[str] | None,
                   tool_calls: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    parts = [_text_part(text)] if text else []
    for call in tool_calls or ():
        parts.append({"type": "tool_call", "id": call.get("id"), "name": call.get("name"),
                      "arguments": _maybe_json(call.get("arguments"))})
    finish = finish_reasons[0] if finish_reasons else None
    return [{"role": "assistant", "parts": parts, "finish_reason": finish}]


# ------------------------------------------------------------------------------------ records
def normalise_record(record: Any) -> None:
    """Fill input/output messages of a record from its raw request/response (worker thread)."""
    api = record.request_params.get("api") if record.request_params else None
    body = record.raw_request
    if record.input_messages is None and isinstance(body, dict) and api:
        system, messages = request_inputs(record.operation, api, body)
        record.input_messages = messages
        if system and record.system_instructions is None:
            record.system_instructions = system
    if record.output_messages is None and api:
        if record.raw_response is not None:
            try:
                record.output_messages = response_outputs(api, record.raw_response)
            except (AttributeError, TypeError, KeyError, IndexError, ValueError):
                # A 200 body of an unexpected shape: its output is unknown, the record is kept
                # (the span path already named the anomaly and counted it).
                record.output_messages = None
        elif record.streamed and (record.stream_text or record.finish_reasons):
            tool_calls = record.metadata.get("tool_calls") if record.metadata else None
            record.output_messages = stream_outputs(record.stream_text, record.finish_reasons, tool_calls)


# ------------------------------------------------------------------------------------ spans
def cap_parts(messages: list[dict[str, Any]] | None, cap: int) -> list[dict[str, Any]] | None:
    """Copy of ``messages`` with every text content longer than ``cap`` characters truncated."""
    if not messages:
        return messages
    out = []
    for msg in messages:
        if "parts" in msg:
            parts = [_cap_part(p, cap) for p in msg["parts"]]
            msg = {**msg, "parts": parts}
        else:
            msg = _cap_part(msg, cap)
        out.append(msg)
    return out


def _cap_part(part: dict[str, Any], cap: int) -> dict[str, Any]:
    text = part.get("content")
    if isinstance(text, str) and len(text) > cap:
        return {**part, "content": text[:cap] + TRUNCATED}
    return part


def span_content_attributes(system: list[Any] | None, inputs: list[Any] | None, outputs: list[Any] | None,
                            tools: Any, cap: int) -> dict[str, str]:
    """Semconv content attributes as JSON strings (only called when capture_content is on)."""
    attrs: dict[str, str] = {}
    if system:
        attrs[names.GEN_AI_SYSTEM_INSTRUCTIONS] = json.dumps(cap_parts(system, cap), ensure_ascii=False, default=str)
    if inputs:
        attrs[names.GEN_AI_INPUT_MESSAGES] = json.dumps(cap_parts(inputs, cap), ensure_ascii=False, default=str)
    if outputs:
        attrs[names.GEN_AI_OUTPUT_MESSAGES] = json.dumps(cap_parts(outputs, cap), ensure_ascii=False, default=str)
    if tools:
        attrs[names.GEN_AI_TOOL_DEFINITIONS] = json.dumps(tools, ensure_ascii=False, default=str)[: cap * 4]
    return attrs
