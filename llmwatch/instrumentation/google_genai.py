"""Instrument the Google Gen AI SDK (``google-genai``, import ``google.genai``; 2.x and 3.x).

Choke point: ``Models._generate_content`` / ``_generate_content_stream`` / ``_embed_content`` and
their ``AsyncModels`` twins. Every public path ends there — ``generate_content`` (also through
``client.chats``), ``generate_content_stream``, ``embed_content``, sync and ``client.aio`` — once per
HTTP request: automatic function calling and automatic continuation send several requests for one
public call, and each is its own billed call and span. Unlike ``BaseApiClient.request`` below it,
this is the one place holding both the request (model, contents, config, as the app wrote them)
and the SDK's typed ``GenerateContentResponse`` / ``EmbedContentResponse``, so nothing is parsed
twice. Gemini API clients report ``gen_ai.provider.name = gcp.gen_ai``; Vertex AI clients
(``Client(vertexai=True)``) report ``gcp.vertex_ai``.

The wire format (request parameters, usage, content mapping) is read by the dialects in
:mod:`~llmwatch.instrumentation.google_genai_wire`.
"""

from __future__ import annotations

from typing import Any

from llmwatch import names as n
from llmwatch.instrumentation import state as state_mod
from llmwatch.instrumentation.adapter import Begin, Patches, async_wrapper, server_of_text, sync_wrapper
from llmwatch.instrumentation.call import Call
from llmwatch.instrumentation.extract import request_attributes
from llmwatch.instrumentation.google_genai_wire import (
    EMBED_API,
    GENERATE_API,
    model_name,
)
from llmwatch.instrumentation.streams import AsyncStreamProxy, SyncStreamProxy

_STATE: state_mod.State | None = None
_PATCHES = Patches()
_suppressed = state_mod.suppressed


def _server(client: Any) -> tuple[str | None, int | None]:
    base = getattr(getattr(client, "_http_options", None), "base_url", None)
    return server_of_text(base) if isinstance(base, str) else (None, None)


def _begin_for(api: str, streamed: bool) -> Begin:
    """The ``begin`` of one patched method: each serves one API, streamed or not."""
    op = n.OP_GENERATE_CONTENT if api == GENERATE_API else n.OP_EMBEDDINGS

    def begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
        state = _STATE
        if state is None or _suppressed.get():
            return None
        contents = kwargs.get("contents")
        if contents is None:  # Vertex AI embeddings pass one ``content`` or ``batch_contents``
            contents = kwargs.get("content") if kwargs.get("content") is not None else kwargs.get("batch_contents")
        if isinstance(contents, list):
            contents = list(contents)  # automatic function calling appends to the list it was given
        config = kwargs.get("config")
        body: dict[str, Any] = {"model": model_name(kwargs.get("model")), "contents": contents, "config": config}
        if streamed:
            body["stream"] = True
        client = instance._api_client
        provider = state.provider_override or (n.PROVIDER_GCP_VERTEX_AI if client.vertexai else n.PROVIDER_GCP_GEN_AI)
        host, port = _server(client)
        return Call(state, api, op, body, request_attributes(api, op, body, provider, host, port), streamed)

    return begin


def _finish(call: Call, result: Any, is_async: bool) -> Any:
    try:
        if not call.streamed:
            call.finish_response(result)
            return result
        # Sync: a generator, whose request is sent on the first next() (errors surface there).
        # Async: the request was sent; the result is the async generator of chunks.
        return AsyncStreamProxy(result, call) if is_async else SyncStreamProxy(result, call)
    except Exception as exc:  # noqa: BLE001 - the app gets the SDK's result untouched
        call.state.instruments.internal_error("wrap_result", exc)
        if not call.done:
            call.finish_stream(abandoned=True)
        return result


_METHODS = (("_generate_content", _begin_for(GENERATE_API, False)),
            ("_generate_content_stream", _begin_for(GENERATE_API, True)),
            ("_embed_content", _begin_for(EMBED_API, False)))


def instrument(state: state_mod.State) -> bool:
    """Patch google-genai's model classes (idempotent). False when google-genai is not installed."""
    global _STATE
    _STATE = state
    if _PATCHES:
        return True
    try:
        from google.genai import models
    except ImportError:
        return False
    for cls, make in ((models.Models, sync_wrapper), (models.AsyncModels, async_wrapper)):
        for attr, begin in _METHODS:
            if cls.__dict__.get(attr) is None:  # a version without this method: leave it alone
                continue
            _PATCHES.wrap(cls, attr, make(begin, _finish, lambda: _STATE))
    return True


def uninstrument() -> None:
    """Restore the exact original methods."""
    global _STATE
    _PATCHES.restore()
    _STATE = None


def is_instrumented() -> bool:
    return bool(_PATCHES)
