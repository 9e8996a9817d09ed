"""Instrument the ``openai`` client (2.x and 3.x) at its one choke point.

Every API method of every resource — ``chat.completions.create``/``parse``, the ``.stream()``
helpers, ``responses`` (and ``beta.responses``), ``embeddings``, ``moderations``, legacy
``completions``, and their ``with_raw_response``/``with_streaming_response`` variants — ends in
``SyncAPIClient.request`` / ``AsyncAPIClient.request`` with the final request body in
``options.json_data``. Wrapping those two methods on the classes observes every client, whether
created before or after ``init()``, including ``AzureOpenAI`` and any ``base_url``; and raw-response
accessors fetched before patching are covered too, because they also end there.

The wrapper decides by the request path and method whether a call is a GenAI operation: the POSTs
in ``extract.ENDPOINTS`` and one GET, retrieving a stored response (``fetch_response``); anything
else (files, models, batches, ...) passes straight through.
"""

from __future__ import annotations

from typing import Any

from llmwatch import names as n
from llmwatch.instrumentation import state as state_mod
from llmwatch.instrumentation.adapter import Patches, async_wrapper, finish_sdk_result, server_of, sync_wrapper
from llmwatch.instrumentation.call import Call
from llmwatch.instrumentation.extract import ENDPOINTS, get_endpoint, request_attributes

_STATE: state_mod.State | None = None
_PATCHES = Patches()
_PROVIDER_BY_TYPE: dict[type, str] = {}
_suppressed = state_mod.suppressed


def _provider(instance: Any, state: state_mod.State) -> str:
    if state.provider_override:
        return state.provider_override
    cls = type(instance)
    provider = _PROVIDER_BY_TYPE.get(cls)
    if provider is None:
        provider = n.PROVIDER_AZURE_OPENAI if "Azure" in cls.__name__ else n.PROVIDER_OPENAI
        _PROVIDER_BY_TYPE[cls] = provider
    return provider


def _begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
    """Start observing if this request is a GenAI operation; None to pass through."""
    state = _STATE
    if state is None or _suppressed.get():
        return None
    options = args[1] if len(args) > 1 else kwargs.get("options")
    if options is None:
        return None
    url = options.url
    method = options.method.lower()
    if method == "get":
        return _begin_get(instance, state, url, kwargs)
    endpoint = ENDPOINTS.get(url)
    if endpoint is None and "?" in url:  # e.g. client.beta.responses posts "/responses?beta=true"
        endpoint = ENDPOINTS.get(url.split("?", 1)[0])
    if endpoint is None or method != "post":
        return None
    body = options.json_data
    if not isinstance(body, dict):
        return None
    api, op = endpoint
    streamed = bool(body.get("stream")) or bool(kwargs.get("stream"))
    if streamed and state.config.stream_include_usage and api in ("chat", "completions") \
            and "stream_options" not in body:
        body = {**body, "stream_options": {"include_usage": True}}
        options.json_data = body
    host, port = server_of(instance.base_url)
    attrs = request_attributes(api, op, body, _provider(instance, state), host, port)
    return Call(state, api, op, body, attrs, streamed)


def _begin_get(instance: Any, state: state_mod.State, url: str, kwargs: dict[str, Any]) -> Call | None:
    """``client.responses.retrieve(id)``: operation ``fetch_response``; every other GET passes through.

    A retrieved response is not a new generation and bills nothing, so its usage is described on
    the span but not priced or counted again (see ``extract._read_fetched_response``). A streamed
    retrieve (``stream=True`` replays the events) passes through unobserved."""
    endpoint = get_endpoint(url)
    if endpoint is None or kwargs.get("stream"):
        return None
    api, op = endpoint
    host, port = server_of(instance.base_url)
    attrs = request_attributes(api, op, {}, _provider(instance, state), host, port)
    return Call(state, api, op, {}, attrs, False)


_sync_request = sync_wrapper(_begin, finish_sdk_result, lambda: _STATE)
_async_request = async_wrapper(_begin, finish_sdk_result, lambda: _STATE)


def instrument(state: state_mod.State) -> bool:
    """Patch the openai client classes (idempotent). Returns False when openai is not installed."""
    global _STATE
    _STATE = state
    if _PATCHES:
        return True
    try:
        from openai import _base_client
    except ImportError:
        return False
    _PATCHES.wrap(_base_client.SyncAPIClient, "request", _sync_request)
    _PATCHES.wrap(_base_client.AsyncAPIClient, "request", _async_request)
    return True


def uninstrument() -> None:
    """Restore the exact original methods."""
    global _STATE
    _PATCHES.restore()
    _STATE = None


def is_instrumented() -> bool:
    return bool(_PATCHES)
