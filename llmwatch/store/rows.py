"""Turning a :class:`~llmwatch.record.CallRecord` into a prompt-log row.

The prompt hash
---------------
``prompt_hash`` groups identical prompts across models (``llmwatch logs compare``). It is the
first 32 hex digits of SHA-256 over the *normalised* prompt: the system instructions and each
input message as ``role: text``, with every run of whitespace collapsed to one space and the ends
stripped. Roles are kept, so the same words as system vs. user prompt hash differently. Tool-call
parts contribute their name and arguments. With ``mask_literals=True`` uuids, hex ids of 16+
digits and numbers are replaced by ``<uuid>``/``<hex>``/``<num>`` first, so prompts rendered from
one template with different values group together; the store's default is ``False`` (compare
needs prompts that really were identical).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from llmwatch.record import CallRecord

_WS = re.compile(r"\s+")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b")
_HEX = re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{16,}\b")
_NUM = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?![\w])")
# Dropped when content capture is off. request_params (temperature, max_tokens, ...) and the
# provider's error message are kept: they say how the call was made and why it failed.
_CONTENT_FIELDS = ("system_instructions", "input_messages", "output_messages", "search_text")


def part_texts(value: Any) -> list[str]:
    """The plain-text pieces of semconv-shaped content (messages, parts, or strings), in order."""
    out: list[str] = []
    _collect(value, out)
    return out


def _collect(value: Any, out: list[str]) -> None:
    # Appending to one list, not nested generators: this runs for every stored call on the
    # converter thread, and the generator version was a third of to_row's time.
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for key in ("content", "text", "name", "arguments", "parts"):
            if key in value:
                v = value[key]
                if key == "arguments" and not isinstance(v, str):
                    v = json.dumps(v, sort_keys=True, default=str)
                _collect(v, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, out)


def content_text(*values: Any) -> str | None:
    """All text in the given content fields, newline-joined (None when there is none)."""
    text = "\n".join(t for v in values if v for t in part_texts(v) if t)
    return text or None


def normalise_prompt(system_instructions: Any, input_messages: Any, mask_literals: bool = False) -> str:
    """The canonical prompt string that :func:`prompt_hash` hashes (see module docstring)."""
    lines = []
    if system_instructions:
        lines.append("system: " + " ".join(part_texts(system_instructions)))
    for msg in input_messages or ():
        if isinstance(msg, dict):
            lines.append(f"{msg.get('role', '')}: " + " ".join(part_texts(msg.get("parts", msg.get("content", "")))))
        else:
            lines.append(": " + " ".join(part_texts(msg)))
    out = []
    for line in lines:
        if mask_literals:
            line = _NUM.sub("<num>", _HEX.sub("<hex>", _UUID.sub("<uuid>", line)))
        out.append(_WS.sub(" ", line).strip())
    return "\n".join(out)


def prompt_hash(system_instructions: Any, input_messages: Any, mask_literals: bool = False) -> str | None:
    """32-hex-digit hash of the normalised prompt; None for a call without input content.

    >>> prompt_hash(None, [{"role": "user", "parts": [{"type": "text", "content": "Hi  there"}]}]) == \\
    ...     prompt_hash(None, [{"role": "user", "parts": [{"type": "text", "content": " Hi there "}]}])
    True
    """
    if not system_instructions and not input_messages:
        return None
    norm = normalise_prompt(system_instructions, input_messages, mask_literals)
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:32]


def _trim(value: str | None, n: int) -> str | None:
    return value[:n] if isinstance(value, str) else value


def to_row(rec: CallRecord, capture_content: bool = True, mask_literals: bool = False) -> dict[str, Any]:
    """The ``llmwatch_calls`` row for ``rec`` (already redacted). Content is left out when
    ``capture_content`` is false; the prompt hash is kept (it reveals no text)."""
    phash = prompt_hash(rec.system_instructions, rec.input_messages, mask_literals)
    total = rec.total_tokens
    row: dict[str, Any] = {
        "record_id": rec.record_id or uuid.uuid4().hex,
        "trace_id": rec.trace_id, "span_id": rec.span_id, "parent_span_id": rec.parent_span_id,
        "start_time": float(rec.start_time), "end_time": float(rec.end_time or rec.start_time),
        "duration": rec.duration, "time_to_first_chunk": rec.time_to_first_chunk,
        "service_name": _trim(rec.service_name, 200), "provider": _trim(rec.provider or "unknown", 64),
        "operation": _trim(rec.operation or "unknown", 64),
        "request_model": _trim(rec.request_model, 200), "response_model": _trim(rec.response_model, 200),
        "response_id": _trim(rec.response_id, 200), "server_address": _trim(rec.server_address, 255),
        "server_port": rec.server_port, "status": _trim(rec.status, 16),
        "error_type": _trim(rec.error_type, 200), "error_message": rec.error_message,
        "streamed": bool(rec.streamed), "chunk_count": rec.chunk_count, "finish_reasons": rec.finish_reasons,
        "input_tokens": rec.input_tokens, "output_tokens": rec.output_tokens,
        "cached_input_tokens": rec.cached_input_tokens, "reasoning_tokens": rec.reasoning_tokens,
        "total_tokens": total, "tokens_estimated": bool(rec.tokens_estimated),
        "cost_usd": rec.cost_usd, "cost_estimated": bool(rec.cost_estimated),
        "request_params": rec.request_params or None,
        "system_instructions": rec.system_instructions, "input_messages": rec.input_messages,
        "output_messages": rec.output_messages, "embedding_dimensions": rec.embedding_dimensions,
        "prompt_hash": phash,
        "prompt_template": _trim(rec.prompt_template, 200),
        "prompt_template_version": _trim(rec.prompt_template_version, 100),
        "session_id": _trim(rec.session_id, 200), "conversation_id": _trim(rec.conversation_id, 200),
        "user_id": _trim(rec.user_id, 200), "tags": list(rec.tags) or None, "metadata": rec.metadata or None,
        "search_text": content_text(rec.system_instructions, rec.input_messages, rec.output_messages),
    }
    if not capture_content:
        for name in _CONTENT_FIELDS:
            row[name] = None
    return row


def tag_rows(row: dict[str, Any]) -> list[dict[str, str]]:
    """``llmwatch_call_tags`` rows for one call row."""
    return [{"record_id": row["record_id"], "tag": str(t)[:200]} for t in dict.fromkeys(row.get("tags") or ())]
