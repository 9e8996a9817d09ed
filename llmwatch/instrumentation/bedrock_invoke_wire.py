"""Amazon Bedrock's InvokeModel / InvokeModelWithResponseStream as the call core reads them (the
dialects ``INVOKE_MODEL`` and ``INVOKE_MODEL_EMBEDDINGS``).

InvokeModel's body is the model family's own JSON. Read here: Anthropic Claude (Messages API),
Amazon Titan Text, Amazon Titan / Cohere embeddings, Amazon Nova; for any other family the token
counts come from Bedrock's ``x-amzn-bedrock-*-token-count`` response headers (streams: the
``amazon-bedrock-invocationMetrics`` of the last chunk). Embedding models (``embed`` in the model
id) are the operation ``embeddings``, priced on input only (``aws.bedrock.invoke_model.embeddings``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from llmwatch import names as n
from llmwatch.instrumentation.bedrock_wire import (
    CONVERSE,
    content_parts,
    converse_usage,
    finish_reason,
    input_messages,
    param_attributes,
    param_values,
)
from llmwatch.instrumentation.dialect import Dialect, Messages
from llmwatch.instrumentation.extract import text_or_none, token_count

if TYPE_CHECKING:
    from llmwatch.instrumentation.call import Call
    from llmwatch.instrumentation.extract import ResponseInfo


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
        attrs = param_attributes(self.record_params(body), body)
        dims = _request_doc(body).get("dimensions")
        if self.input_billed and isinstance(dims, int):
            attrs[n.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dims
        return attrs

    def record_params(self, body: dict[str, Any]) -> dict[str, Any]:
        doc = _request_doc(body)
        params = param_values((doc, doc.get("textGenerationConfig"), doc.get("inferenceConfig")))
        if body.get("stream"):
            params["stream"] = True
        return params

    def read_response(self, info: ResponseInfo, response: Any) -> None:
        doc = response.json()
        info.model = text_or_none(doc.get("model"))
        info.id = text_or_none(doc.get("id"))
        usage = doc.get("usage")
        if isinstance(usage, dict) and "inputTokens" in usage:  # Amazon Nova
            converse_usage(info, usage)
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
        finish = finish_reason(reason)
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
            finish = finish_reason(doc.get("completionReason"))
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
            return content_parts(doc.get("system")) or None, input_messages(doc["messages"])
        text = doc.get("inputText") or doc.get("prompt") or doc.get("texts")
        texts = text if isinstance(text, list) else [text] if isinstance(text, str) else []
        return None, [{"role": "user", "parts": [{"type": "text", "content": t}]} for t in texts]

    def outputs(self, response: Any) -> Messages | None:
        if self.input_billed:
            return None
        doc = response.json()
        if isinstance(doc.get("content"), list):  # Anthropic
            return [{"role": doc.get("role") or "assistant", "parts": content_parts(doc["content"]),
                     "finish_reason": finish_reason(doc.get("stop_reason"))}]
        results = doc.get("results")
        if isinstance(results, list):  # Titan Text
            return [{"role": "assistant", "parts": [{"type": "text", "content": r.get("outputText", "")}],
                     "finish_reason": finish_reason(r.get("completionReason"))} for r in results]
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
        finish = finish_reason((doc.get("delta") or {}).get("stop_reason"))
        if finish:
            info.finish_reasons = [finish]
        _anthropic_usage(info, doc.get("usage"))


class _EmbeddingsDialect(InvokeModelDialect):
    """InvokeModel of an embedding model: priced on input tokens only."""

    api = "aws.bedrock.invoke_model.embeddings"
    input_billed = True


INVOKE_MODEL = InvokeModelDialect()
INVOKE_MODEL_EMBEDDINGS = _EmbeddingsDialect()
