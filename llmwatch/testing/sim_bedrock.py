"""Amazon Bedrock Runtime for the bundled simulator: ``POST /model/{modelId}/converse``,
``/converse-stream``, ``/invoke`` and ``/invoke-with-response-stream``.

Point boto3 at the simulator's root URL (``sim.url``, not ``sim.base_url``)::

    boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=sim.url,
                 aws_access_key_id="test", aws_secret_access_key="test")

The shapes follow the *Amazon Bedrock API Reference*: ``Converse`` (``ConverseResponse``: ``output.message``
content blocks ``text`` / ``toolUse``, ``stopReason``, ``usage`` with ``inputTokens``, ``outputTokens``,
``totalTokens``, ``cacheReadInputTokens``, ``cacheWriteInputTokens``; ``metrics.latencyMs``),
``ConverseStream`` (``ConverseStreamOutput`` events ``messageStart``, ``contentBlockStart``,
``contentBlockDelta``, ``contentBlockStop``, ``messageStop``, ``metadata``), ``InvokeModel`` /
``InvokeModelWithResponseStream`` (``PayloadPart``: a ``chunk`` event whose ``bytes`` is the model's
own JSON, base64-encoded; the ``X-Amzn-Bedrock-Input-Token-Count`` / ``-Output-Token-Count`` headers)
and *Common Errors* (the ``x-amzn-errortype`` header and a ``{"message": ...}`` body). Streams use the
*Amazon event stream encoding* (``application/vnd.amazon.eventstream``): each message is a prelude
(total length, headers length, prelude CRC32), headers (``:event-type``, ``:content-type``,
``:message-type``), the JSON payload and the message CRC32 — what botocore's ``EventStream`` parses.
InvokeModel bodies follow the *Bedrock User Guide*'s model parameters pages: Anthropic Claude
Messages API (``anthropic.*`` models, also behind ``us.``/``eu.`` inference profiles), Amazon Titan
Text (``amazon.titan-text-*``) and Amazon Titan Text Embeddings (``amazon.titan-embed-*``).

Text, token counts and tool arguments come from the OpenAI simulator's deterministic generators;
the per-request headers ``x-sim-error``, ``x-sim-latency-ms``, ``x-sim-chunks``,
``x-sim-chunk-delay-ms``, ``x-sim-omit-usage``, ``x-sim-cached-tokens`` (reported as
``cacheReadInputTokens``; as on Bedrock, ``inputTokens`` counts only the rest of the prompt) and
``x-sim-disconnect`` apply. A tool is called when tools are given and the last user turn names one
(words of its name), or when the tool choice asks for one.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from llmwatch.testing.simulator import (
    ApiError,
    _Answer,
    _answer,
    _embed,
    _flag,
    _header_int,
    _pick_tools,
    _pieces,
    _Request,
    count_tokens,
)

_ACTIONS = {"converse": "converse", "converse-stream": "converse_stream", "invoke": "invoke",
            "invoke-with-response-stream": "invoke_stream"}
# HTTP status -> Bedrock Runtime's error code (the API reference's Errors sections).
_ERRORS = {400: "ValidationException", 403: "AccessDeniedException", 404: "ResourceNotFoundException",
           408: "ModelTimeoutException", 424: "ModelErrorException", 429: "ThrottlingException",
           500: "InternalServerException", 503: "ServiceUnavailableException"}
_MESSAGES = {429: "Too many requests, please wait before trying again. (simulated)",
             503: "Bedrock is unable to process your request. (simulated)"}
_CONVERSE_STOP = {"tool_use": "tool_use", "length": "max_tokens", "stop": "end_turn"}
_TITAN_STOP = {"length": "LENGTH", "stop": "FINISH"}
_EVENTSTREAM = "application/vnd.amazon.eventstream"


def handles(path: str) -> bool:
    path = path.partition("?")[0]
    return path.startswith("/model/") and path.rsplit("/", 1)[-1] in _ACTIONS


def serve(handler: Any, raw_body: bytes) -> None:
    """Reply to one request through the simulator's handler (faults first, as a gateway would)."""
    path = handler.path.partition("?")[0]
    model_id, _, action = path[len("/model/"):].rpartition("/")
    kind = _ACTIONS[action]
    endpoint = "bedrock." + kind
    try:
        req = handler._prepare(endpoint, unquote(model_id), raw_body)
        result = _ENDPOINTS[kind](req)
    except ApiError as err:
        handler.server.count(endpoint, err.status)
        status = err.status if err.status in _ERRORS else (500 if err.status >= 500 else 400)
        code = _ERRORS[status]
        message = _MESSAGES.get(status, str(err)) if str(err).endswith("(simulated).") else str(err)
        handler._reply(status, {"message": message}, _headers({"x-amzn-errortype": f"{code}:http://internal."
                                                               "amazon.com/coral/com.amazon.bedrock/"}))
        return
    handler.server.count(endpoint, 200, req.tokens, stream=not isinstance(result, tuple))
    disconnect = bool(_flag(handler.headers, "x-sim-disconnect"))
    if isinstance(result, tuple):
        body, extra = result
        handler._reply(200, body, _headers(extra), disconnect=disconnect)
        return
    delay = _header_int(handler.headers, "x-sim-chunk-delay-ms", 0, 60_000)
    handler._stream(result, handler.server.config.chunk_delay if delay is None else delay / 1000, disconnect,
                    content_type=_EVENTSTREAM)


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"x-amzn-RequestId": os.urandom(16).hex(), **(extra or {})}


# ---------------------------------------------------------------- event stream encoding


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return struct.pack("!B", len(raw_name)) + raw_name + struct.pack("!BH", 7, len(raw_value)) + raw_value


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    """One ``application/vnd.amazon.eventstream`` message carrying a JSON event."""
    headers = (_header(":event-type", event_type) + _header(":content-type", "application/json")
               + _header(":message-type", "event"))
    body = json.dumps(payload, separators=(",", ":")).encode()
    prelude = struct.pack("!II", 16 + len(headers) + len(body), len(headers))
    prelude += struct.pack("!I", binascii.crc32(prelude))
    message = prelude + headers + body
    return message + struct.pack("!I", binascii.crc32(message))


# ---------------------------------------------------------------- request reading


def _block_text(block: Any) -> str:
    if not isinstance(block, dict):
        return ""
    if isinstance(block.get("text"), str):
        return str(block["text"])
    if "toolResult" in block:
        return " ".join(_block_text(b) for b in (block["toolResult"] or {}).get("content") or ())
    if "toolUse" in block:
        return json.dumps((block["toolUse"] or {}).get("input") or {})
    if "json" in block:
        return json.dumps(block["json"])
    if block.get("type") == "tool_result":
        content = block.get("content")
        return content if isinstance(content, str) else " ".join(_block_text(b) for b in content or ())
    if block.get("type") == "tool_use":
        return json.dumps(block.get("input") or {})
    return ""


def _content_text(content: Any) -> str:
    return content if isinstance(content, str) else " ".join(_block_text(b) for b in content or ())


def _prompt_tokens(system: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> int:
    prompt = 3 + count_tokens(_content_text(system)) + sum(4 + count_tokens(_content_text(m.get("content")))
                                                           for m in messages)
    if tools:
        prompt += count_tokens(json.dumps(tools).replace(",", " ")) + 8
    return prompt


def _checked_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(
            isinstance(m, dict) and m.get("role") in ("user", "assistant") for m in messages):
        raise ApiError(400, "The model returned the following errors: messages must be a non-empty list of "
                            "user and assistant turns")
    return messages


def _called(messages: list[dict[str, Any]], tools: list[dict[str, Any]], choice: Any) -> list[dict[str, Any]]:
    """The OpenAI simulator's tool rule; ``tools`` as ``{"name", "parameters"}``."""
    last = messages[-1]
    content = last.get("content")
    answered = isinstance(content, list) and any(
        isinstance(b, dict) and ("toolResult" in b or b.get("type") == "tool_result") for b in content)
    last_user = _content_text(content) if last["role"] == "user" and not answered else None
    if last_user is None and choice not in (None, "none") and last["role"] == "user":
        last_user = ""
    return _pick_tools(tools, choice, last_user, parallel=False)


def _usage_split(req: _Request, prompt: int) -> tuple[int, int]:
    """(uncached input, cache read): Bedrock reports them apart."""
    read = min(req.cached or 0, prompt)
    return prompt - read, read


# ---------------------------------------------------------------- Converse


def _converse_answer(req: _Request) -> tuple[dict[str, Any], dict[str, Any]]:
    body = req.body
    messages = _checked_messages(body)
    config = body.get("inferenceConfig") or {}
    tool_config = body.get("toolConfig") or {}
    specs = [t["toolSpec"] for t in tool_config.get("tools") or () if isinstance(t, dict) and "toolSpec" in t]
    tools = [{"name": s.get("name"), "parameters": (s.get("inputSchema") or {}).get("json") or {}} for s in specs]
    raw_choice = tool_config.get("toolChoice") or {}
    choice: Any = ({"name": raw_choice["tool"].get("name")} if "tool" in raw_choice
                   else "required" if "any" in raw_choice else None)
    budget = config.get("maxTokens")
    answer = _answer(req, 0, budget if isinstance(budget, int) else None, None, False,
                     _called(messages, tools, choice))
    prompt = _prompt_tokens(body.get("system"), messages, tools)
    req.tokens = (prompt, answer.tokens)
    inputs, read = _usage_split(req, prompt)
    usage: dict[str, Any] = {"inputTokens": inputs, "outputTokens": answer.tokens,
                             "totalTokens": prompt + answer.tokens}
    if read:
        usage.update(cacheReadInputTokens=read, cacheWriteInputTokens=0)
    content: list[dict[str, Any]] = [
        {"toolUse": {"toolUseId": f"tooluse_{os.urandom(11).hex()}", "name": name, "input": json.loads(args)}}
        for _, name, args in answer.calls] or [{"text": answer.text or ""}]
    stop = _CONVERSE_STOP[_outcome(answer)]
    return {"output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop,
            "usage": usage, "metrics": {"latencyMs": 1}}, usage


def _outcome(answer: _Answer) -> str:
    return "tool_use" if answer.calls else "length" if answer.truncated else "stop"


def _converse(req: _Request) -> tuple[dict[str, Any], dict[str, str]]:
    response, _ = _converse_answer(req)
    if req.omit_usage:
        del response["usage"]
    return response, {}


def _converse_stream(req: _Request) -> Iterator[bytes]:
    response, usage = _converse_answer(req)  # before the first frame: a bad request is a plain error reply
    return _converse_events(req, response, usage)


def _converse_events(req: _Request, response: dict[str, Any], usage: dict[str, Any]) -> Iterator[bytes]:
    yield event("messageStart", {"role": "assistant"})
    for index, block in enumerate(response["output"]["message"]["content"]):
        if "toolUse" in block:
            use = block["toolUse"]
            yield event("contentBlockStart", {"contentBlockIndex": index, "start": {
                "toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}})
            pieces = _pieces(json.dumps(use["input"]), req.chunks)
            deltas: list[dict[str, Any]] = [{"toolUse": {"input": p}} for p in pieces]
        else:
            deltas = [{"text": p} for p in _pieces(block["text"], req.chunks)]
        for delta in deltas:
            yield event("contentBlockDelta", {"contentBlockIndex": index, "delta": delta})
        yield event("contentBlockStop", {"contentBlockIndex": index})
    yield event("messageStop", {"stopReason": response["stopReason"]})
    metadata: dict[str, Any] = {"metrics": {"latencyMs": 1}}
    if not req.omit_usage:
        metadata["usage"] = usage
    yield event("metadata", metadata)


# ---------------------------------------------------------------- InvokeModel


def _family(model_id: str) -> str:
    if "anthropic." in model_id:
        return "anthropic"
    if model_id.startswith("amazon.titan-embed"):
        return "titan-embed"
    if model_id.startswith("amazon.titan-text"):
        return "titan-text"
    raise ApiError(400, f"The provided model identifier is invalid: {model_id} (the simulator serves "
                        "anthropic.*, amazon.titan-text-* and amazon.titan-embed-*).")


def _anthropic(req: _Request) -> tuple[dict[str, Any], int, int]:
    body = req.body
    messages = _checked_messages(body)
    budget = body.get("max_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
        raise ApiError(400, "Malformed input request: #: required key [max_tokens] not found")
    tools = [{"name": t["name"], "parameters": t.get("input_schema") or {}} for t in body.get("tools") or ()
             if isinstance(t, dict) and isinstance(t.get("name"), str)]
    raw_choice = body.get("tool_choice") or {}
    choice: Any = ({"name": raw_choice.get("name")} if raw_choice.get("type") == "tool"
                   else "required" if raw_choice.get("type") == "any" else None)
    answer = _answer(req, 0, budget, None, False, _called(messages, tools, choice))
    prompt = _prompt_tokens(body.get("system"), messages, tools)
    inputs, read = _usage_split(req, prompt)
    content = [{"type": "tool_use", "id": f"toolu_bdrk_{os.urandom(12).hex()}", "name": name,
                "input": json.loads(args)} for _, name, args in answer.calls]
    model = req.model.split("anthropic.", 1)[1].rsplit("-v", 1)[0]
    message: dict[str, Any] = {
        "id": f"msg_bdrk_{os.urandom(12).hex()}", "type": "message", "role": "assistant", "model": model,
        "content": content or [{"type": "text", "text": answer.text or ""}],
        "stop_reason": _CONVERSE_STOP[_outcome(answer)], "stop_sequence": None,
        "usage": {"input_tokens": inputs, "cache_creation_input_tokens": 0, "cache_read_input_tokens": read,
                  "output_tokens": answer.tokens}}
    return message, prompt, answer.tokens


def _titan_text(req: _Request) -> tuple[dict[str, Any], int, int]:
    body = req.body
    text = body.get("inputText")
    if not isinstance(text, str) or not text:
        raise ApiError(400, "Malformed input request: #: required key [inputText] not found")
    budget = (body.get("textGenerationConfig") or {}).get("maxTokenCount")
    answer = _answer(req, 0, budget if isinstance(budget, int) else None, None, False, [])
    prompt = count_tokens(text)
    return {"inputTextTokenCount": prompt, "results": [{
        "tokenCount": answer.tokens, "outputText": answer.text or "",
        "completionReason": _TITAN_STOP["length" if answer.truncated else "stop"]}]}, prompt, answer.tokens


def _titan_embed(req: _Request) -> tuple[dict[str, Any], int, int]:
    text = req.body.get("inputText")
    if not isinstance(text, str) or not text:
        raise ApiError(400, "Malformed input request: #: required key [inputText] not found")
    default = 1536 if req.model.startswith("amazon.titan-embed-text-v1") else 1024
    dims = req.body.get("dimensions", default)
    if dims not in (256, 512, 1024, 1536):
        raise ApiError(400, "Malformed input request: #/dimensions: must be one of 256, 512, 1024")
    prompt = count_tokens(text)
    return {"embedding": _embed(text.lower().split(), dims), "inputTextTokenCount": prompt}, prompt, 0


_FAMILIES = {"anthropic": _anthropic, "titan-text": _titan_text, "titan-embed": _titan_embed}


def _invoke(req: _Request) -> tuple[dict[str, Any], dict[str, str]]:
    doc, prompt, completion = _FAMILIES[_family(req.model)](req)
    req.tokens = (prompt, completion)
    if req.omit_usage:
        doc.pop("usage", None)
        doc.pop("inputTextTokenCount", None)
        return doc, {}
    return doc, {"X-Amzn-Bedrock-Input-Token-Count": str(prompt), "X-Amzn-Bedrock-Output-Token-Count": str(completion),
                 "X-Amzn-Bedrock-Invocation-Latency": "1"}


def _chunk(doc: dict[str, Any]) -> bytes:
    return event("chunk", {"bytes": base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()})


def _invoke_stream(req: _Request) -> Iterator[bytes]:
    family = _family(req.model)
    if family == "titan-embed":
        raise ApiError(400, "The model does not support streaming (simulated).")
    doc, prompt, completion = _FAMILIES[family](req)
    req.tokens = (prompt, completion)
    metrics = {"inputTokenCount": prompt, "outputTokenCount": completion, "invocationLatency": 1,
               "firstByteLatency": 1}
    if family == "titan-text":
        return _titan_stream(req, doc, metrics)
    return _anthropic_stream(req, doc, metrics)


def _titan_stream(req: _Request, doc: dict[str, Any], metrics: dict[str, Any]) -> Iterator[bytes]:
    result = doc["results"][0]
    pieces = _pieces(result["outputText"], req.chunks)
    for k, piece in enumerate(pieces):
        last = k == len(pieces) - 1
        chunk: dict[str, Any] = {"outputText": piece, "index": 0,
                                 "totalOutputTextTokenCount": result["tokenCount"] if last else None,
                                 "completionReason": result["completionReason"] if last else None}
        if k == 0:
            chunk["inputTextTokenCount"] = doc["inputTextTokenCount"]
        if last and not req.omit_usage:
            chunk["amazon-bedrock-invocationMetrics"] = metrics
        if req.omit_usage:
            chunk.pop("inputTextTokenCount", None)
            chunk["totalOutputTextTokenCount"] = None
        yield _chunk(chunk)


def _anthropic_stream(req: _Request, message: dict[str, Any], metrics: dict[str, Any]) -> Iterator[bytes]:
    """Anthropic's documented event order, each event one ``chunk``; the last carries Bedrock's metrics."""
    usage = message.pop("usage")
    start = dict(message, content=[], stop_reason=None)
    if not req.omit_usage:
        start["usage"] = dict(usage, output_tokens=1)
    yield _chunk({"type": "message_start", "message": start})
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            opening, kind, key = dict(block, input={}), "input_json_delta", "partial_json"
            pieces = _pieces(json.dumps(block["input"]), req.chunks)
        else:
            opening, kind, key = {"type": "text", "text": ""}, "text_delta", "text"
            pieces = _pieces(block["text"], req.chunks)
        yield _chunk({"type": "content_block_start", "index": index, "content_block": opening})
        for piece in pieces:
            yield _chunk({"type": "content_block_delta", "index": index, "delta": {"type": kind, key: piece}})
        yield _chunk({"type": "content_block_stop", "index": index})
    delta: dict[str, Any] = {"type": "message_delta", "delta": {"stop_reason": message["stop_reason"],
                                                                "stop_sequence": None}}
    if not req.omit_usage:
        delta["usage"] = {"output_tokens": usage["output_tokens"]}
    stop: dict[str, Any] = {"type": "message_stop"}
    if not req.omit_usage:
        stop["amazon-bedrock-invocationMetrics"] = metrics
    yield _chunk(delta)
    yield _chunk(stop)


_ENDPOINTS: dict[str, Any] = {"converse": _converse, "converse_stream": _converse_stream, "invoke": _invoke,
                              "invoke_stream": _invoke_stream}
