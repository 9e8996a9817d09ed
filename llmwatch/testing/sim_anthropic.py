"""Anthropic's Messages API for the bundled simulator: ``POST /v1/messages`` (also ``?beta=true``)
and ``POST /v1/messages/count_tokens``.

The shapes follow Anthropic's API reference: *Messages* (``/en/api/messages``: the ``message``
object, its ``content`` blocks ``text`` and ``tool_use``, ``stop_reason``, ``usage`` with
``cache_creation_input_tokens`` / ``cache_read_input_tokens``), *Streaming Messages*
(``/en/docs/build-with-claude/streaming``: ``event:`` + ``data:`` frames ``message_start``,
``content_block_start``, ``ping``, ``content_block_delta`` with ``text_delta`` /
``input_json_delta``, ``content_block_stop``, ``message_delta``, ``message_stop``), *Count
Message tokens* and *Errors* (``/en/api/errors``: ``{"type": "error", "error": {"type", "message"}}``
and the ``request-id`` header). The real ``anthropic`` client parses all of them into its models.

Text, token counts and tool arguments come from the OpenAI simulator's deterministic generators,
and the same per-request headers apply (``x-sim-error``, ``x-sim-rate-limit``, ``x-sim-latency-ms``,
``x-sim-chunks``, ``x-sim-chunk-delay-ms``, ``x-sim-omit-usage``, ``x-sim-disconnect``,
``x-sim-malformed``, ``x-sim-toxic``), with two of Anthropic's own: ``x-sim-cached-tokens: N``
reports N prompt tokens as ``cache_read_input_tokens`` and ``x-sim-cache-write-tokens: N`` reports N
as ``cache_creation_input_tokens``. As on the real API, ``input_tokens`` counts only the rest of the
prompt: the three add up to the whole prompt. A tool is called when ``tools`` are given and the last
user turn names one (words of its name), or when ``tool_choice`` asks for one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from llmwatch.testing.simulator import (
    ApiError,
    _Answer,
    _answer,
    _flag,
    _header_int,
    _pick_tools,
    _pieces,
    _Request,
    _sse,
    count_tokens,
)

_ENDPOINT = "anthropic.messages"
# HTTP status -> Anthropic's error type (the Errors page); others: api_error (5xx) / invalid_request_error.
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
                529: "overloaded_error"}
_STOP = {"tool_use": "tool_use", "length": "max_tokens", "stop": "end_turn"}


def handles(path: str) -> bool:
    return path.partition("?")[0].rstrip("/") in ("/v1/messages", "/v1/messages/count_tokens")


def serve(handler: Any, raw_body: bytes) -> None:
    """Reply to one request through the simulator's handler (faults first, as a gateway would)."""
    counting = handler.path.partition("?")[0].rstrip("/").endswith("/count_tokens")
    endpoint = _ENDPOINT + (".count_tokens" if counting else "")
    try:
        req = handler._prepare("messages", None, raw_body)
        result = _count_tokens(req) if counting else _messages(req)
    except ApiError as err:
        handler.server.count(endpoint, err.status)
        handler._reply(err.status, error_body(err.status, str(err)), _request_id(err.headers))
        return
    handler.server.count(endpoint, 200, req.tokens, stream=not isinstance(result, dict))
    disconnect = bool(_flag(handler.headers, "x-sim-disconnect"))
    if _flag(handler.headers, "x-sim-malformed"):
        handler.server.bump("malformed")
        if isinstance(result, dict):
            handler._reply(200, None, _request_id(), raw_body=b'{"id": "msg_malformed", "content": [')
            return
        result = iter([next(result), b'event: content_block_start\ndata: {"type": "content_block_start", \n\n'])
    if isinstance(result, dict):
        handler._reply(200, result, _request_id(), disconnect=disconnect)
        return
    delay = _header_int(handler.headers, "x-sim-chunk-delay-ms", 0, 60_000)
    handler._stream(result, handler.server.config.chunk_delay if delay is None else delay / 1000, disconnect)


def error_body(status: int, message: str) -> dict[str, Any]:
    etype = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": etype, "message": message}}


def _request_id(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"request-id": f"req_{os.urandom(12).hex()}", **(extra or {})}


# ---------------------------------------------------------------- request reading


def _blocks_text(content: Any, kinds: tuple[str, ...] = ("text",)) -> str:
    """Text of a ``content`` (a string or blocks); tool results' own content counts where asked."""
    if isinstance(content, str):
        return content
    out = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind in kinds and kind == "text":
            out.append(str(block.get("text") or ""))
        elif kind in kinds and kind == "tool_result":
            out.append(_blocks_text(block.get("content")))
        elif kind in kinds and kind == "tool_use":
            out.append(json.dumps(block.get("input") or {}))
    return " ".join(out)


def _prompt_tokens(body: dict[str, Any], messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> int:
    kinds = ("text", "tool_result", "tool_use")
    prompt = 3 + count_tokens(_blocks_text(body.get("system"))) + sum(
        4 + count_tokens(_blocks_text(m.get("content"), kinds)) for m in messages)
    if tools:
        prompt += count_tokens(json.dumps(tools).replace(",", " ")) + 8
    return prompt


def _checked(body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(
            isinstance(m, dict) and m.get("role") in ("user", "assistant") for m in messages):
        raise ApiError(400, "messages: Input should be a non-empty list of user and assistant turns")
    tools = [t for t in body.get("tools") or () if isinstance(t, dict) and isinstance(t.get("name"), str)]
    return messages, tools


def _called_tools(body: dict[str, Any], messages: list[dict[str, Any]],
                  tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The OpenAI simulator's rule, on Anthropic's ``tool_choice`` (auto / any / tool / none)."""
    choice = body.get("tool_choice") or {}
    kind = choice.get("type") if isinstance(choice, dict) else None
    picked: Any = {"name": choice.get("name")} if kind == "tool" else {"any": "required", "none": "none"}.get(
        str(kind))
    last = messages[-1]
    content = last.get("content")
    answered = isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result"
                                                 for b in content)
    last_user = _blocks_text(content) if last["role"] == "user" and not answered else None
    if last_user is None and picked not in (None, "none") and last["role"] == "user":
        last_user = ""  # a forced choice still calls a tool after a tool result
    as_functions = [{"name": t["name"], "parameters": t.get("input_schema") or {}} for t in tools]
    parallel = not (isinstance(choice, dict) and choice.get("disable_parallel_tool_use"))
    return _pick_tools(as_functions, picked, last_user, parallel)


# ---------------------------------------------------------------- endpoints


def _count_tokens(req: _Request) -> dict[str, Any]:
    messages, tools = _checked(req.body)
    return {"input_tokens": _prompt_tokens(req.body, messages, tools)}


def _messages(req: _Request) -> dict[str, Any] | Iterator[bytes]:
    body = req.body
    messages, tools = _checked(body)
    budget = body.get("max_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
        raise ApiError(400, "max_tokens: Field required (a positive integer)")
    prompt = _prompt_tokens(body, messages, tools)
    answer = _answer(req, 0, budget, None, False, _called_tools(body, messages, tools))
    stop_reason, stop_sequence = _STOP["tool_use" if answer.calls else "length" if answer.truncated else "stop"], None
    if answer.text and not answer.truncated:
        stop_sequence = _apply_stop_sequences(answer, body.get("stop_sequences"))
        stop_reason = "stop_sequence" if stop_sequence is not None else stop_reason
    read = min(req.cached or 0, prompt)
    write = min(_header_int(req.headers, "x-sim-cache-write-tokens", 0, 10**9, 0), prompt - read)
    req.tokens = (prompt, answer.tokens)
    usage = {"input_tokens": prompt - read - write, "output_tokens": answer.tokens,
             "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
             "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
             "service_tier": "standard"}
    content: list[dict[str, Any]] = [{"type": "tool_use", "id": f"toolu_{os.urandom(12).hex()}", "name": name,
                                      "input": json.loads(args)} for _, name, args in answer.calls]
    if not answer.calls:
        content = [{"type": "text", "text": answer.text or ""}]
    message: dict[str, Any] = {"id": f"msg_{os.urandom(12).hex()}", "type": "message", "role": "assistant",
                               "model": req.model, "content": content, "stop_reason": stop_reason,
                               "stop_sequence": stop_sequence}
    if req.stream:
        return _stream(req, message, usage)
    if not req.omit_usage:
        message["usage"] = usage
    return message


def _apply_stop_sequences(answer: _Answer, stops: Any) -> str | None:
    """Cut the text before the first stop sequence it contains; the sequence found (or None)."""
    text = answer.text or ""
    found: tuple[int, str] | None = None
    for stop in stops if isinstance(stops, list) else ():
        at = text.find(stop) if isinstance(stop, str) and stop else -1
        if at >= 0 and (found is None or at < found[0]):
            found = (at, stop)
    if found is None:
        return None
    answer.text = text[: found[0]]
    answer.tokens = count_tokens(answer.text)
    return found[1]


def _stream(req: _Request, message: dict[str, Any], usage: dict[str, Any]) -> Iterator[bytes]:
    """The documented event order; ``ping`` rides in the first block's frame (one write)."""
    start = dict(message, content=[], stop_reason=None, stop_sequence=None)
    if not req.omit_usage:  # x-sim-omit-usage: a server that is only nearly compatible sends none
        start["usage"] = dict(usage, output_tokens=1)
    yield _sse({"type": "message_start", "message": start}, "message_start")
    blocks = message["content"]
    for index, block in enumerate(blocks):
        if block["type"] == "tool_use":
            opening, kind, key = dict(block, input={}), "input_json_delta", "partial_json"
            pieces = _pieces(json.dumps(block["input"]), req.chunks)
        else:
            opening, kind, key = {"type": "text", "text": ""}, "text_delta", "text"
            pieces = _pieces(block["text"], req.chunks)
        frame = _sse({"type": "content_block_start", "index": index, "content_block": opening}, "content_block_start")
        yield frame + (_sse({"type": "ping"}, "ping") if index == 0 else b"")
        for piece in pieces:
            yield _sse({"type": "content_block_delta", "index": index, "delta": {"type": kind, key: piece}},
                       "content_block_delta")
        yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")
    delta: dict[str, Any] = {"type": "message_delta", "delta": {"stop_reason": message["stop_reason"],
                                                                "stop_sequence": message["stop_sequence"]}}
    if not req.omit_usage:
        delta["usage"] = {"output_tokens": usage["output_tokens"]}
    yield _sse(delta, "message_delta")
    yield _sse({"type": "message_stop"}, "message_stop")
