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
import math
import re
from typing import Any

from llmwatch.record import CallRecord, new_record_id
from llmwatch.store.cjk import grams as cjk_grams

_WS = re.compile(r"\s+")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b")
_HEX = re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{16,}\b")
_NUM = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?![\w])")


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


def _t(value: Any, n: int) -> Any:
    return value[:n] if value.__class__ is str else value


def _parts_texts(parts: Any) -> list[str]:
    """``part_texts(parts)``, faster for the usual ``[{"type": "text", "content": str}, ...]``."""
    if parts.__class__ is not list:
        return part_texts(parts)
    out = []
    for p in parts:
        if p.__class__ is dict and len(p) == 2 and p.get("type") == "text" and p.get("content").__class__ is str:
            out.append(p["content"])
        else:
            return part_texts(parts)
    return out


def _prompt_and_text(rec: CallRecord, mask_literals: bool) -> tuple[str | None, str | None]:
    """``(prompt_hash, search_text)`` in one walk over the content; equal to
    ``prompt_hash(si, im)`` and ``content_text(si, im, om)`` (the row builder's hot spot)."""
    si, im, om = rec.system_instructions, rec.input_messages, rec.output_messages
    search: list[str] = []
    lines: list[str] = []
    if si:
        texts = part_texts(si)
        search += texts
        lines.append("system: " + " ".join(texts))
    if im.__class__ is not list and im:  # not the semconv shape: the generic walk
        search += part_texts(im)
        lines += [": " + " ".join(part_texts(m)) if m.__class__ is not dict else
                  f"{m.get('role', '')}: " + " ".join(part_texts(m.get("parts", m.get("content", "")))) for m in im]
    elif im:
        for msg in im:
            if msg.__class__ is dict:
                if "parts" in msg and not (msg.keys() & _OTHER_TEXT_KEYS):
                    texts = _parts_texts(msg["parts"])  # the common shape: one walk serves both
                    search += texts
                else:
                    texts = part_texts(msg.get("parts", msg.get("content", "")))
                    search += part_texts(msg)
                lines.append(f"{msg.get('role', '')}: " + " ".join(texts))
            else:
                texts = part_texts(msg)
                search += texts
                lines.append(": " + " ".join(texts))
    if om.__class__ is not list:
        search += part_texts(om) if om else []
    else:
        for msg in om:
            if msg.__class__ is dict and "parts" in msg and not (msg.keys() & _OTHER_TEXT_KEYS):
                search += _parts_texts(msg["parts"])
            else:
                search += part_texts(msg)
    text = "\n".join([t for t in search if t]) or None
    if not lines:
        return None, text
    if mask_literals:
        lines = [_NUM.sub("<num>", _HEX.sub("<hex>", _UUID.sub("<uuid>", line))) for line in lines]
    norm = "\n".join([_WS.sub(" ", line).strip() for line in lines])
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:32], text


_OTHER_TEXT_KEYS = frozenset(("content", "text", "name", "arguments"))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


_slow_encode = json.JSONEncoder(separators=(",", ":"), default=str, allow_nan=False).encode
# json's C encoder, made once: JSONEncoder.encode builds a new one on every call, which was half
# the cost of encoding a one-message prompt. No circular-reference check (a circular value hits
# the recursion limit instead, and the converter counts that record as invalid).
_make_c_encoder: Any = getattr(json.encoder, "c_make_encoder", None)  # private, so not in typeshed
_c_encoder = (_make_c_encoder(None, str, json.encoder.encode_basestring_ascii, None, ":", ",",
                              False, False, False)
              if _make_c_encoder is not None else None)


def encode_json(value: Any) -> str:
    """Compact JSON text of a content/metadata value; objects JSON lacks become ``str(obj)`` and
    NaN/infinity become the strings ``"nan"``/``"inf"`` (PostgreSQL's jsonb rejects them)."""
    try:
        return "".join(_c_encoder(value, 0)) if _c_encoder is not None else _slow_encode(value)
    except ValueError:  # a non-finite float (allow_nan=False)
        return _slow_encode(_finite(value))


# The ``llmwatch_calls`` columns a row tuple holds, in order (writer.py checks them against the model).
COLUMNS: tuple[str, ...] = (
    "record_id", "trace_id", "span_id", "parent_span_id", "start_time", "end_time", "duration",
    "time_to_first_chunk", "service_name", "provider", "operation", "request_model", "response_model",
    "response_id", "server_address", "server_port", "status", "error_type", "error_message", "streamed",
    "chunk_count", "finish_reasons", "input_tokens", "output_tokens", "cached_input_tokens",
    "reasoning_tokens", "total_tokens", "tokens_estimated", "cost_usd", "cost_estimated", "request_params",
    "system_instructions", "input_messages", "output_messages", "embedding_dimensions", "prompt_hash",
    "prompt_template", "prompt_template_version", "session_id", "conversation_id", "user_id", "tags",
    "metadata", "search_text", "search_grams")
# Held as JSON text in a row tuple (encoded once, by the converter).
JSON_COLUMNS = frozenset(("finish_reasons", "request_params", "system_instructions", "input_messages",
                          "output_messages", "tags", "metadata"))
INDEX = {name: i for i, name in enumerate(COLUMNS)}


def build_row(rec: CallRecord, capture_content: bool = True, mask_literals: bool = False) -> tuple[Any, ...]:
    """The ``llmwatch_calls`` row for ``rec`` (already redacted) as a tuple in :data:`COLUMNS`
    order, JSON columns encoded. Content (instructions, messages, search text) is left out when
    ``capture_content`` is false; the prompt hash (it reveals no text), request parameters and the
    provider's error message are kept: they say how the call was made and why it failed. This runs
    once per stored call, so it is written flat."""
    phash, text = _prompt_and_text(rec, mask_literals)
    start = float(rec.start_time)
    end = float(rec.end_time or rec.start_time)
    inp, out = rec.input_tokens, rec.output_tokens
    enc = encode_json
    if capture_content:
        si = None if rec.system_instructions is None else enc(rec.system_instructions)
        im = None if rec.input_messages is None else enc(rec.input_messages)
        om = None if rec.output_messages is None else enc(rec.output_messages)
    else:
        si = im = om = text = None
    fr, params, tags, meta = rec.finish_reasons, rec.request_params, rec.tags, rec.metadata
    return (
        rec.record_id or new_record_id(), rec.trace_id, rec.span_id, rec.parent_span_id, start, end,
        max(0.0, end - start), rec.time_to_first_chunk,
        _t(rec.service_name, 200), _t(rec.provider or "unknown", 64), _t(rec.operation or "unknown", 64),
        _t(rec.request_model, 200), _t(rec.response_model, 200), _t(rec.response_id, 200),
        _t(rec.server_address, 255), rec.server_port, _t(rec.status, 16), _t(rec.error_type, 200),
        rec.error_message, bool(rec.streamed), rec.chunk_count, None if fr is None else enc(fr),
        inp, out, rec.cached_input_tokens, rec.reasoning_tokens,
        None if inp is None and out is None else (inp or 0) + (out or 0), bool(rec.tokens_estimated),
        rec.cost_usd, bool(rec.cost_estimated), enc(params) if params else None, si, im, om,
        rec.embedding_dimensions, phash, _t(rec.prompt_template, 200), _t(rec.prompt_template_version, 100),
        _t(rec.session_id, 200), _t(rec.conversation_id, 200), _t(rec.user_id, 200),
        enc(list(tags)) if tags else None, enc(meta) if meta else None, text, cjk_grams(text))


def tag_pairs(record_id: str, tags: Any) -> list[tuple[str, str]]:
    """``llmwatch_call_tags`` rows ``(record_id, tag)`` for one call (deduplicated, capped)."""
    return [(record_id, str(t)[:200]) for t in dict.fromkeys(tags)] if tags else []


def to_row(rec: CallRecord, capture_content: bool = True, mask_literals: bool = False) -> dict[str, Any]:
    """:func:`build_row` as a dict of column name to value, JSON columns decoded."""
    return {name: json.loads(v) if name in JSON_COLUMNS and v is not None else v
            for name, v in zip(COLUMNS, build_row(rec, capture_content, mask_literals))}
