"""Instrument Amazon Bedrock Runtime (``boto3`` / ``botocore`` ``bedrock-runtime``) at its choke point.

botocore builds its client classes at run time, but every operation of every client ends in
``botocore.client.BaseClient._make_api_call(self, operation_name, api_params)``. Wrapping that one
method observes every Bedrock client, created before or after ``init()``. Only ``Converse``,
``ConverseStream``, ``InvokeModel`` and ``InvokeModelWithResponseStream`` of the ``bedrock-runtime``
service are observed; any other operation passes through after one dict lookup.

Two wire formats (dialects):

- ``aws.bedrock.converse`` — the model-independent Converse API: usage, ``stopReason``, ``system``
  and ``messages`` content blocks, ``toolConfig`` and ``inferenceConfig`` all have one shape.
- ``aws.bedrock.invoke_model`` — InvokeModel's body is the model family's own JSON. Read here:
  Anthropic Claude (Messages API), Amazon Titan Text, Amazon Titan / Cohere embeddings, Amazon Nova;
  for any other family the token counts come from Bedrock's ``x-amzn-bedrock-*-token-count``
  response headers (streams: the ``amazon-bedrock-invocationMetrics`` of the last chunk).
  Embedding models (``embed`` in the model id) are the operation ``embeddings``, priced on input
  only (``aws.bedrock.invoke_model.embeddings``).

InvokeModel's response body is a one-shot ``StreamingBody``: the wrapper reads its bytes on the
caller's thread (a copy, no parsing) and hands the app an equivalent ``StreamingBody`` over those
bytes; the JSON is parsed on the record worker. Streams (``response["stream"]`` of ConverseStream,
``response["body"]`` of InvokeModelWithResponseStream) are botocore ``EventStream`` objects, which
are iterable but not iterators; :class:`EventStreamProxy` adapts the shared stream proxy to them.

``error.type`` is the exception's class name (the core's rule, as semconv recommends). For Bedrock's
modelled errors botocore's class is named after the error code (``ThrottlingException``,
``ValidationException``); an unmodelled code raises ``ClientError``.

boto3 is synchronous only; ``aiobotocore``/``aioboto3`` override ``_make_api_call`` with their own
coroutine and are not observed by this adapter.
"""

from __future__ import annotations

import io
import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import wrapt

from llmwatch import names as n
from llmwatch.instrumentation import state as state_mod
from llmwatch.instrumentation.call import Call
from llmwatch.instrumentation.dialect import Dialect, Messages
from llmwatch.instrumentation.extract import text_or_none, token_count
from llmwatch.instrumentation.streams import SyncStreamProxy

if TYPE_CHECKING:
    from llmwatch.instrumentation.extract import ResponseInfo

__all__ = ["instrument", "uninstrument", "is_instrumented", "CONVERSE", "INVOKE_MODEL", "INVOKE_MODEL_EMBEDDINGS"]

# ------------------------------------------------------------------------------------ wire formats
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


def _finish(reason: Any) -> str | None:
    return _FINISH.get(reason, reason) if isinstance(reason, str) and reason else None


def _param_values(configs: tuple[Any, ...]) -> dict[str, Any]:
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


def _param_attributes(values: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
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


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    return [p for p in map(_part, content or ()) if p is not None] if isinstance(content, list) else []


def _messages(messages: Any) -> Messages:
    """Chat history -> semconv input messages; a user turn holding only tool results is role ``tool``."""
    out: Messages = []
    for msg in messages or ():
        if not isinstance(msg, dict):
            continue
        parts = _parts(msg.get("content"))
        role = msg.get("role") or "user"
        if role == "user" and parts and all(p["type"] == "tool_call_response" for p in parts):
            role = "tool"
        out.append({"role": role, "parts": parts})
    return out


def _converse_usage(info: ResponseInfo, usage: Any) -> None:
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


def _anthropic_usage(info: ResponseInfo, usage: Any) -> None:
    if not isinstance(usage, dict):
        return
    inputs = token_count(info, usage.get("input_tokens"), "input_tokens")
    read = token_count(info, usage.get("cache_read_input_tokens"), "cache_read_input_tokens")
    write = token_count(info, usage.get("cache_creation_input_tokens"), "cache_creation_input_tokens")
    if inputs is not None:  # Anthropic's input_tokens excludes cache reads and writes; semconv's includes them
        info.input_tokens = inputs + (read or 0) + (write or 0)
        info.cached_tokens, info.cache_write_tokens = read, write
    output = token_count(info, usage.get("output_tokens"), "output_tokens")
    if output is not None:
        info.output_tokens = output


def _router_model(info: ResponseInfo, trace: Any) -> None:
    """A prompt router names the model it chose; Converse names no response model otherwise."""
    if isinstance(trace, dict):
        model = text_or_none((trace.get("promptRouter") or {}).get("invokedModelId"))
        if model:
            info.model = model


def _tool_definitions(tool_config: Any) -> list[dict[str, Any]]:
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

    def param_attributes(self, body: dict[str, Any]) -> dict[str, Any]:
        return _param_attributes(self.record_params(body), body)

    def record_params(self, body: dict[str, Any]) -> dict[str, Any]:
        params = _param_values((body.get("inferenceConfig"),))
        choice = (body.get("toolConfig") or {}).get("toolChoice")
        if choice:
            params["tool_choice"] = choice
        if body.get("stream"):
            params["stream"] = True
        return params

    def read_response(self, info: ResponseInfo, response: Any) -> None:
        _converse_usage(info, response.get("usage"))
        reason = _finish(response.get("stopReason"))
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
            reason = _finish(chunk["messageStop"].get("stopReason"))
            info.finish_reasons = [reason] if reason else None
        elif "metadata" in chunk:
            meta = chunk["metadata"]
            _converse_usage(info, meta.get("usage"))
            _router_model(info, meta.get("trace"))

    def inputs(self, operation: str, body: dict[str, Any]) -> tuple[Messages | None, Messages]:
        return _parts(body.get("system")) or None, _messages(body.get("messages"))

    def outputs(self, response: Any) -> Messages | None:
        message = (response.get("output") or {}).get("message") or {}
        return [{"role": message.get("role") or "assistant", "parts": _parts(message.get("content")),
                 "finish_reason": _finish(response.get("stopReason"))}]



class InvokeModelResult:
    """What the worker reads of an InvokeModel response: the body's bytes (parsed once, on the
    worker) and the HTTP headers, which carry Bedrock's token counts for every model family."""

    __slots__ = ("data", "headers", "content_type", "_doc")

    def __init__(self, data: bytes, headers: dict[str, str], content_type: str | None) -> None:
        self.data, self.headers, self.content_type = data, headers, content_type
        self._doc: Any = None

    def json(self) -> dict[str, Any]:
        if self._doc is None:
            doc = json.loads(self.data) if self.data else {}
            self._doc = doc if isinstance(doc, dict) else {}
        doc_: dict[str, Any] = self._doc
        return doc_

    def header_count(self, info: ResponseInfo, name: str) -> int | None:
        raw = self.headers.get(name)
        if raw is None:
            return None
        try:
            return token_count(info, int(raw), name)
        except ValueError:
            return token_count(info, raw, name)


@lru_cache(maxsize=8)
def _json_of(data: str | bytes) -> Any:
    return json.loads(data)


def _request_doc(body: dict[str, Any]) -> dict[str, Any]:
    """InvokeModel's request body as JSON (a file-like body is the app's to read: left unread)."""
    raw = body.get("body")
    if isinstance(raw, (bytearray, memoryview)):
        raw = bytes(raw)
    if not isinstance(raw, (str, bytes)):
        return {}
    try:
        doc = _json_of(raw)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


class InvokeModelDialect(Dialect):
    """InvokeModel / InvokeModelWithResponseStream: the model family's own JSON bodies."""

    api = "aws.bedrock.invoke_model"

    def param_attributes(self, body: dict[str, Any]) -> dict[str, Any]:
        attrs = _param_attributes(self.record_params(body), body)
        dims = _request_doc(body).get("dimensions")
        if self.input_billed and isinstance(dims, int):
            attrs[n.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dims
        return attrs

    def record_params(self, body: dict[str, Any]) -> dict[str, Any]:
        doc = _request_doc(body)
        params = _param_values((doc, doc.get("textGenerationConfig"), doc.get("inferenceConfig")))
        if body.get("stream"):
            params["stream"] = True
        return params

    def read_response(self, info: ResponseInfo, response: Any) -> None:
        doc = response.json()
        info.model = text_or_none(doc.get("model"))
        info.id = text_or_none(doc.get("id"))
        usage = doc.get("usage")
        if isinstance(usage, dict) and "inputTokens" in usage:  # Amazon Nova
            _converse_usage(info, usage)
        else:
            _anthropic_usage(info, usage)
        reason = doc.get("stop_reason") or doc.get("stopReason")
        results = doc.get("results")
        if isinstance(results, list) and results:  # Amazon Titan Text
            info.input_tokens = token_count(info, doc.get("inputTextTokenCount"), "inputTextTokenCount")
            info.output_tokens = token_count(info, sum(r.get("tokenCount") or 0 for r in results), "tokenCount")
            reason = results[0].get("completionReason")
        elif "inputTextTokenCount" in doc:  # Amazon Titan Embeddings
            info.input_tokens = token_count(info, doc["inputTextTokenCount"], "inputTextTokenCount")
        finish = _finish(reason)
        info.finish_reasons = [finish] if finish else None
        embedding = doc.get("embedding") or doc.get("embeddings")
        if isinstance(embedding, dict):  # Cohere's embeddings_by_type
            embedding = next(iter(embedding.values()), None)
        if isinstance(embedding, list) and embedding and isinstance(embedding[0], list):
            embedding = embedding[0]
        if isinstance(embedding, list) and embedding:
            info.dimensions = len(embedding)
        if info.input_tokens is None:  # any other family: Bedrock's own counts
            info.input_tokens = response.header_count(info, "x-amzn-bedrock-input-token-count")
        if info.output_tokens is None and not self.input_billed:
            info.output_tokens = response.header_count(info, "x-amzn-bedrock-output-token-count")

    def read_chunk(self, call: Call, chunk: Any, info: ResponseInfo) -> None:
        data = (chunk.get("chunk") or {}).get("bytes")
        if not data:
            return
        doc = json.loads(data)
        kind = doc.get("type")
        if kind is not None:
            _anthropic_event(call, doc, kind, info)
        elif "outputText" in doc:  # Amazon Titan Text
            call.text.append(doc["outputText"] or "")
            if doc.get("inputTextTokenCount") is not None:
                info.input_tokens = token_count(info, doc["inputTextTokenCount"], "inputTextTokenCount")
            if doc.get("totalOutputTextTokenCount") is not None:
                info.output_tokens = token_count(info, doc["totalOutputTextTokenCount"], "totalOutputTextTokenCount")
            finish = _finish(doc.get("completionReason"))
            if finish:
                info.finish_reasons = [finish]
        else:  # Amazon Nova streams Converse-shaped events
            CONVERSE.read_chunk(call, doc, info)
        metrics = doc.get("amazon-bedrock-invocationMetrics")
        if isinstance(metrics, dict):  # every family's last chunk: Bedrock's own counts
            if info.input_tokens is None:
                info.input_tokens = token_count(info, metrics.get("inputTokenCount"), "inputTokenCount")
            if info.output_tokens is None:
                info.output_tokens = token_count(info, metrics.get("outputTokenCount"), "outputTokenCount")

    def inputs(self, operation: str, body: dict[str, Any]) -> tuple[Messages | None, Messages]:
        doc = _request_doc(body)
        if "messages" in doc:  # Anthropic Messages API, Amazon Nova
            return _parts(doc.get("system")) or None, _messages(doc["messages"])
        text = doc.get("inputText") or doc.get("prompt") or doc.get("texts")
        texts = text if isinstance(text, list) else [text] if isinstance(text, str) else []
        return None, [{"role": "user", "parts": [{"type": "text", "content": t}]} for t in texts]

    def outputs(self, response: Any) -> Messages | None:
        if self.input_billed:
            return None
        doc = response.json()
        if isinstance(doc.get("content"), list):  # Anthropic
            return [{"role": doc.get("role") or "assistant", "parts": _parts(doc["content"]),
                     "finish_reason": _finish(doc.get("stop_reason"))}]
        results = doc.get("results")
        if isinstance(results, list):  # Titan Text
            return [{"role": "assistant", "parts": [{"type": "text", "content": r.get("outputText", "")}],
                     "finish_reason": _finish(r.get("completionReason"))} for r in results]
        if isinstance(doc.get("output"), dict):  # Nova
            return CONVERSE.outputs(doc)
        return None


def _anthropic_event(call: Call, doc: dict[str, Any], kind: str, info: ResponseInfo) -> None:
    """One Anthropic Messages streaming event (as InvokeModelWithResponseStream carries it)."""
    if kind == "content_block_delta":
        delta = doc.get("delta") or {}
        if delta.get("type") == "text_delta":
            call.text.append(delta.get("text", ""))
        elif delta.get("type") == "input_json_delta":
            call.add_tool_call_delta(doc.get("index", 0), None, None, delta.get("partial_json"))
    elif kind == "content_block_start":
        block = doc.get("content_block") or {}
        if block.get("type") == "tool_use":
            call.add_tool_call_delta(doc.get("index", 0), block.get("id"), block.get("name"), None)
    elif kind == "message_start":
        message = doc.get("message") or {}
        info.model = text_or_none(message.get("model")) or info.model
        info.id = text_or_none(message.get("id")) or info.id
        _anthropic_usage(info, message.get("usage"))
    elif kind == "message_delta":
        finish = _finish((doc.get("delta") or {}).get("stop_reason"))
        if finish:
            info.finish_reasons = [finish]
        _anthropic_usage(info, doc.get("usage"))


class _EmbeddingsDialect(InvokeModelDialect):
    """InvokeModel of an embedding model: priced on input tokens only."""

    api = "aws.bedrock.invoke_model.embeddings"
    input_billed = True


CONVERSE = ConverseDialect()
INVOKE_MODEL = InvokeModelDialect()
INVOKE_MODEL_EMBEDDINGS = _EmbeddingsDialect()

SERVICE = "bedrock-runtime"
_STATE: state_mod.State | None = None
_PATCHED: list[tuple[Any, str, Any]] = []
_suppressed = state_mod.suppressed

# operation name -> (dialect, streamed, response key holding the stream)
_OPERATIONS: dict[str, tuple[Dialect, bool, str]] = {
    "Converse": (CONVERSE, False, ""),
    "ConverseStream": (CONVERSE, True, "stream"),
    "InvokeModel": (INVOKE_MODEL, False, ""),
    "InvokeModelWithResponseStream": (INVOKE_MODEL, True, "body"),
}


@lru_cache(maxsize=256)
def _server(endpoint_url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(endpoint_url)
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def _begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Call, bool, str] | None:
    """Start observing a Bedrock Runtime inference call; None to pass through."""
    state = _STATE
    if state is None:
        return None
    spec = _OPERATIONS.get(args[0] if args else kwargs.get("operation_name"))  # type: ignore[arg-type]
    if spec is None or instance.meta.service_model.service_name != SERVICE or _suppressed.get():
        return None
    params = args[1] if len(args) > 1 else kwargs.get("api_params")
    if not isinstance(params, dict):
        return None
    dialect, streamed, stream_key = spec
    model = params.get("modelId")
    op = n.OP_CHAT
    if dialect is INVOKE_MODEL and isinstance(model, str) and "embed" in model.lower():
        dialect, op = INVOKE_MODEL_EMBEDDINGS, n.OP_EMBEDDINGS
    # The same start attributes as extract.request_attributes (Bedrock names the model modelId).
    attrs: dict[str, Any] = {
        n.GEN_AI_OPERATION_NAME: op,
        n.GEN_AI_PROVIDER_NAME: state.provider_override or n.PROVIDER_AWS_BEDROCK,
    }
    if model:
        attrs[n.GEN_AI_REQUEST_MODEL] = str(model)
    if streamed or (dialect is CONVERSE and state.capture_content and params.get("toolConfig")):
        # A shallow copy the core reads: ``stream`` and, for span content, ``tools`` (semconv's shape).
        params = dict(params, stream=True) if streamed else dict(params)
        if dialect is CONVERSE and state.capture_content:
            tools = _tool_definitions(params.get("toolConfig"))
            if tools:
                params["tools"] = tools
    host, port = _server(instance.meta.endpoint_url)
    if host:
        attrs[n.SERVER_ADDRESS] = host
        if port:
            attrs[n.SERVER_PORT] = port
    return Call(state, dialect.api, op, params, attrs, streamed), streamed, stream_key


def _safe_begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Call, bool, str] | None:
    try:
        return _begin(instance, args, kwargs)
    except Exception as exc:  # noqa: BLE001 - never break the app's call
        state = _STATE
        if state is not None:
            state.instruments.internal_error("begin", exc)
        return None


def _make_api_call(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    begun = _safe_begin(instance, args, kwargs)
    if begun is None:
        return wrapped(*args, **kwargs)
    call, streamed, stream_key = begun
    try:
        result = wrapped(*args, **kwargs)
    except BaseException as exc:
        call.finish_error(exc)
        raise
    finally:
        call.detach()
    if streamed:
        _wrap_stream(call, result, stream_key)
    elif call.dialect is CONVERSE:
        call.finish_response(result)
    else:
        _finish_invoke(call, result)
    return result


def _wrap_stream(call: Call, result: Any, key: str) -> None:
    try:
        stream = result.get(key) if isinstance(result, dict) else None
        if stream is None:
            call.finish_response(result)
        else:
            result[key] = EventStreamProxy(stream, call)
    except Exception as exc:  # noqa: BLE001
        call.state.instruments.internal_error("wrap_result", exc)


def _finish_invoke(call: Call, result: Any) -> None:
    """Copy InvokeModel's one-shot body and give the app an equivalent one over the same bytes.

    A failure while reading the body is the app's own error (it would have met it reading the
    body): it is recorded on the call and raised unchanged."""
    body = result.get("body") if isinstance(result, dict) else None
    if body is None or not hasattr(body, "read"):
        call.finish_response(result)
        return
    try:
        data = body.read()
    except BaseException as exc:
        call.finish_error(exc)
        raise
    try:
        from botocore.response import StreamingBody

        result["body"] = StreamingBody(io.BytesIO(data), len(data))
        headers = (result.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
        call.finish_response(InvokeModelResult(data, headers, result.get("contentType")))
    except Exception as exc:  # noqa: BLE001
        call.state.instruments.internal_error("wrap_result", exc)
        call.finish_stream()


class EventStreamProxy(SyncStreamProxy):
    """A botocore ``EventStream`` (iterable, with ``close()``) behind the shared stream proxy."""

    def __init__(self, wrapped: Any, call: Call) -> None:
        wrapt.ObjectProxy.__init__(self, wrapped)
        self._self_call = call
        self._self_next = iter(wrapped).__next__
        self._self_on_chunk = call.on_chunk

    def __enter__(self) -> EventStreamProxy:
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        self.close()
        return None


def instrument(state: state_mod.State) -> bool:
    """Patch ``BaseClient._make_api_call`` (idempotent). Returns False when botocore is not installed."""
    global _STATE
    _STATE = state
    if _PATCHED:
        return True
    try:
        from botocore.client import BaseClient
    except ImportError:
        return False
    original = BaseClient.__dict__["_make_api_call"]
    wrapt.wrap_function_wrapper(BaseClient, "_make_api_call", _make_api_call)
    _PATCHED.append((BaseClient, "_make_api_call", original))
    return True


def uninstrument() -> None:
    """Restore the exact original method."""
    global _STATE
    while _PATCHED:
        cls, attr, original = _PATCHED.pop()
        setattr(cls, attr, original)
    _STATE = None


def is_instrumented() -> bool:
    return bool(_PATCHED)
