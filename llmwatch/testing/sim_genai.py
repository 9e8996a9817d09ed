"""Google's Gemini API for the bundled simulator: ``POST /{version}/models/{model}:generateContent``,
``:streamGenerateContent`` (``?alt=sse``), ``:embedContent`` and ``:batchEmbedContents``; Vertex AI
paths (``/{version}/[projects/{p}/locations/{l}/]publishers/google/models/{model}:...``) answer
the same generate shapes.

The shapes follow the Gemini API reference (ai.google.dev/api): *Generating content*
(``GenerateContentResponse``: ``candidates[].content.parts[]`` with ``text`` / ``functionCall``,
``finishReason``, ``index``; ``usageMetadata`` with ``promptTokenCount``, ``candidatesTokenCount``,
``totalTokenCount``, ``cachedContentTokenCount``, ``thoughtsTokenCount``, ``promptTokensDetails``;
``modelVersion``; ``responseId``), its streaming form (SSE ``data:`` frames, each a
``GenerateContentResponse``; the last carries ``finishReason`` and the final usage, earlier ones
the prompt count), *Embeddings* (``embedContent`` -> ``{"embedding": {"values"}}``,
``batchEmbedContents`` -> ``{"embeddings": [{"values"}]}``, with ``usageMetadata.promptTokenCount``
as google-genai 3.x reads it) and the API's error body ``{"error": {"code", "message", "status"}}``.
As the API writes proto3 JSON, zero counts are left out. The real ``google-genai`` client parses all
of them into its typed models.

Text, token counts and tool arguments come from the OpenAI simulator's deterministic generators,
and its per-request headers apply (``x-sim-error``, ``x-sim-latency-ms``, ``x-sim-chunks``,
``x-sim-chunk-delay-ms``, ``x-sim-omit-usage``, ``x-sim-cached-tokens``, ``x-sim-disconnect``,
``x-sim-malformed``, ``x-sim-toxic``). Cached tokens are part of ``promptTokenCount``, as on the
real API. Models named ``gemini-2.5*`` / ``gemini-3*`` think (``thoughtsTokenCount``) unless
``thinkingConfig.thinkingBudget`` is 0. A function is called when ``tools`` declare one whose
name the last user turn mentions, or when ``toolConfig.functionCallingConfig.mode`` is ``ANY``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from typing import Any

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

_PATH = re.compile(r"^/v1(?:alpha|beta1?)?/(?:projects/[^/]+/locations/[^/]+/)?(?:publishers/[^/]+/)?"
                   r"models/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$")
# HTTP status -> google.rpc.Code name, as the API's error body spells it.
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL", 501: "NOT_IMPLEMENTED",
           503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_MESSAGES = {400: "Request contains an invalid argument.", 403: "The caller does not have permission",
             404: "models/{model} is not found for API version v1beta.",
             429: "Resource has been exhausted (e.g. check quota).",
             500: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
             503: "The model is overloaded. Please try again later."}
_DEFAULT_DIMS = 768


def handles(path: str) -> bool:
    return _PATH.match(path.partition("?")[0]) is not None


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message,
                      "status": _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")}}


def serve(handler: Any, raw_body: bytes) -> None:
    """Reply to one request through the simulator's handler (faults first, as a gateway would)."""
    match = _PATH.match(handler.path.partition("?")[0])
    assert match is not None  # handles() said so
    model, method = match.group(1), match.group(2)
    endpoint = "gemini." + method
    try:
        req = handler._prepare(method, model, raw_body)
        if method in ("embedContent", "batchEmbedContents"):
            result: Any = _embed_content(req, method == "batchEmbedContents")
        else:
            result = _generate(req, method == "streamGenerateContent")
    except ApiError as err:
        handler.server.count(endpoint, err.status)
        message = _MESSAGES.get(err.status, str(err)).format(model=model) if "simulated" in str(err) else str(err)
        handler._reply(err.status, error_body(err.status, message), err.headers)
        return
    handler.server.count(endpoint, 200, req.tokens, stream=not isinstance(result, dict))
    disconnect = bool(_flag(handler.headers, "x-sim-disconnect"))
    if _flag(handler.headers, "x-sim-malformed"):
        handler.server.bump("malformed")
        if isinstance(result, dict):
            handler._reply(200, None, raw_body=b'{"candidates": [{"content": ')
            return
        result = iter([next(result), b'data: {"candidates": [\r\n\r\n'])
    if isinstance(result, dict):
        handler._reply(200, result, disconnect=disconnect)
        return
    delay = _header_int(handler.headers, "x-sim-chunk-delay-ms", 0, 60_000)
    handler._stream(result, handler.server.config.chunk_delay if delay is None else delay / 1000, disconnect)


# ---------------------------------------------------------------- request reading


def _parts_text(content: Any) -> str:
    """Text of a ``Content``'s parts, function calls and responses included (they are prompt too)."""
    out = []
    for part in (content or {}).get("parts") or () if isinstance(content, dict) else ():
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            out.append(part["text"])
        for key in ("functionCall", "functionResponse"):
            if isinstance(part.get(key), dict):
                out.append(json.dumps(part[key]).replace(",", " "))
    return " ".join(out)


def _declarations(body: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for tool in body.get("tools") or ():
        for decl in (tool.get("functionDeclarations") or ()) if isinstance(tool, dict) else ():
            if isinstance(decl, dict) and isinstance(decl.get("name"), str):
                # Proto JSON accepts either spelling; google-genai sends parameters_json_schema for callables.
                schema = decl.get("parametersJsonSchema") or decl.get("parameters_json_schema")
                out.append({"name": decl["name"], "parameters": schema or _schema(decl.get("parameters"))})
    return out


def _schema(schema: Any) -> Any:
    """Gemini's OpenAPI-style ``Schema`` (``type: "OBJECT"``) -> JSON schema for the value sampler."""
    if isinstance(schema, dict):
        return {k: (v.lower() if k == "type" and isinstance(v, str) else _schema(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_schema(v) for v in schema]
    return schema


def _called(body: dict[str, Any], contents: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[Any]:
    config = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {})
    mode = str(config.get("mode") or "AUTO").upper()
    allowed = config.get("allowedFunctionNames")
    if allowed:
        tools = [t for t in tools if t["name"] in allowed]
    last = contents[-1]
    answered = any(isinstance(p, dict) and "functionResponse" in p for p in last.get("parts") or ())
    last_user = _parts_text(last) if last.get("role", "user") == "user" and not answered else None
    choice = {"ANY": "required", "NONE": "none"}.get(mode)
    if choice == "required" and last_user is None:
        last_user = ""
    return _pick_tools(tools, choice, last_user, True)


def _thoughts(req: _Request, body: dict[str, Any]) -> int:
    config = (body.get("generationConfig") or {}).get("thinkingConfig") or {}
    budget = config.get("thinkingBudget")
    name = req.model.lower()
    if budget == 0 or not (name.startswith("gemini-2.5") or name.startswith("gemini-3")):
        return 0
    thoughts = 32 * req.rng(99).randint(1, 8)
    return min(thoughts, budget) if isinstance(budget, int) and budget > 0 else thoughts


# ---------------------------------------------------------------- endpoints


def _generate(req: _Request, stream: bool) -> dict[str, Any] | Iterator[bytes]:
    body = req.body
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents or not all(isinstance(c, dict) for c in contents):
        raise ApiError(400, "* GenerateContentRequest.contents: contents is not specified")
    generation = body.get("generationConfig") or {}
    count = generation.get("candidateCount") or 1
    budget = generation.get("maxOutputTokens")
    if not isinstance(count, int) or not 1 <= count <= 8:
        raise ApiError(400, "* GenerateContentRequest.generation_config.candidate_count: must be in [1, 8]")
    tools = _declarations(body)
    prompt = count_tokens(" ".join([_parts_text(body.get("systemInstruction"))] + [_parts_text(c) for c in contents]))
    if tools:
        prompt += count_tokens(json.dumps(tools).replace(",", " "))
    prompt = max(prompt, 1)
    called = _called(body, contents, tools)
    schema = generation.get("responseJsonSchema") or _schema(generation.get("responseSchema"))
    json_mode = generation.get("responseMimeType") == "application/json"
    answers = [_answer(req, i, budget, schema if json_mode and schema else None, json_mode and not schema, called)
               for i in range(count)]
    thoughts = _thoughts(req, body)
    candidates = sum(a.tokens for a in answers)
    req.tokens = (prompt, candidates + thoughts)
    usage: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": candidates,
                             "totalTokenCount": prompt + candidates + thoughts,
                             "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
    cached = req.usage_details(prompt)
    if cached:
        usage["cachedContentTokenCount"] = cached
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    base = {"modelVersion": req.model, "responseId": base64.urlsafe_b64encode(os.urandom(15)).decode()}
    if stream:
        return _stream(req, answers, usage, base)
    out: dict[str, Any] = {"candidates": [_candidate(a, i, a.text or "", True) for i, a in enumerate(answers)]}
    if not req.omit_usage:
        out["usageMetadata"] = usage
    out.update(base)
    return out


def _candidate(answer: _Answer, index: int, text: str, last: bool) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"functionCall": {"name": name, "args": json.loads(args)}}
                                   for _, name, args in answer.calls] if last else []
    if not answer.calls:
        parts = [{"text": text}]
    cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if last:
        cand["finishReason"] = "MAX_TOKENS" if answer.truncated else "STOP"
    if index:  # proto3 JSON leaves out the default 0
        cand["index"] = index
    return cand


def _frame(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\r\n\r\n"


def _stream(req: _Request, answers: list[_Answer], usage: dict[str, Any], base: dict[str, Any]) -> Iterator[bytes]:
    n = 1 if all(a.calls for a in answers) else req.chunks
    pieces = [_pieces(a.text, n) if a.text else [""] * n for a in answers]
    running = {"promptTokenCount": usage["promptTokenCount"], "totalTokenCount": usage["promptTokenCount"]}
    for k in range(n):
        last = k == n - 1
        chunk: dict[str, Any] = {"candidates": [_candidate(a, i, pieces[i][k], last) for i, a in enumerate(answers)]}
        if not req.omit_usage:
            chunk["usageMetadata"] = usage if last else running
        chunk.update(base)
        yield _frame(chunk)


def _embed_content(req: _Request, batch: bool) -> dict[str, Any]:
    body = req.body
    requests = body.get("requests") if batch else [body]
    if not isinstance(requests, list) or not requests or not all(isinstance(r, dict) for r in requests):
        raise ApiError(400, "* BatchEmbedContentsRequest.requests: at least one request is required")
    vectors, tokens = [], 0
    for item in requests:
        text = _parts_text(item.get("content"))
        if not text:
            raise ApiError(400, "* EmbedContentRequest.content: contains an empty Part.")
        dims = item.get("outputDimensionality") or _DEFAULT_DIMS
        if not isinstance(dims, int) or not 1 <= dims <= 3072:
            raise ApiError(400, "* EmbedContentRequest.output_dimensionality: must be in [1, 3072]")
        vectors.append({"values": _embed(text.lower().split(), dims)})
        tokens += count_tokens(text)
    req.tokens = (tokens, 0)
    out: dict[str, Any] = {"embeddings": vectors} if batch else {"embedding": vectors[0]}
    if not req.omit_usage:
        out["usageMetadata"] = {"promptTokenCount": tokens, "totalTokenCount": tokens}
    return out
