"""Instrument Amazon Bedrock Runtime (``boto3`` / ``botocore`` ``bedrock-runtime``) at its choke point.

botocore builds its client classes at run time, but every operation of every client ends in
``botocore.client.BaseClient._make_api_call(self, operation_name, api_params)``. Wrapping that one
method observes every Bedrock client, created before or after ``init()``. Only ``Converse``,
``ConverseStream``, ``InvokeModel`` and ``InvokeModelWithResponseStream`` of the ``bedrock-runtime``
service are observed; any other operation passes through after one dict lookup.

Two wire formats, each read by its dialect: the model-independent Converse API
(``aws.bedrock.converse``, in :mod:`~llmwatch.instrumentation.bedrock_wire`) and InvokeModel's
model-family JSON bodies (``aws.bedrock.invoke_model`` and ``.embeddings``, in
:mod:`~llmwatch.instrumentation.bedrock_invoke_wire`).

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
from typing import Any

import wrapt

from llmwatch import names as n
from llmwatch.instrumentation import state as state_mod
from llmwatch.instrumentation.adapter import Patches, server_of_text, sync_wrapper
from llmwatch.instrumentation.bedrock_invoke_wire import INVOKE_MODEL, INVOKE_MODEL_EMBEDDINGS, InvokeModelResult
from llmwatch.instrumentation.bedrock_wire import CONVERSE
from llmwatch.instrumentation.call import Call
from llmwatch.instrumentation.dialect import Dialect
from llmwatch.instrumentation.streams import SyncStreamProxy

__all__ = ["instrument", "uninstrument", "is_instrumented", "CONVERSE", "INVOKE_MODEL", "INVOKE_MODEL_EMBEDDINGS"]

SERVICE = "bedrock-runtime"
_STATE: state_mod.State | None = None
_PATCHES = Patches()
_suppressed = state_mod.suppressed

# operation name -> (dialect, streamed). A stream is under "stream" (Converse) or "body" (InvokeModel).
_OPERATIONS: dict[str, tuple[Dialect, bool]] = {
    "Converse": (CONVERSE, False),
    "ConverseStream": (CONVERSE, True),
    "InvokeModel": (INVOKE_MODEL, False),
    "InvokeModelWithResponseStream": (INVOKE_MODEL, True),
}


def _begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
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
    dialect, streamed = spec
    model = params.get("modelId")
    op = n.OP_CHAT
    if dialect is INVOKE_MODEL and isinstance(model, str) and "embed" in model.lower():
        dialect, op = INVOKE_MODEL_EMBEDDINGS, n.OP_EMBEDDINGS
    if streamed:  # a shallow copy the core reads ``stream`` from
        params = dict(params, stream=True)
    attrs = _start_attributes(instance, state, op, model)
    return Call(state, dialect.api, op, params, attrs, streamed)


def _start_attributes(instance: Any, state: state_mod.State, op: str, model: Any) -> dict[str, Any]:
    """The same start attributes as ``extract.request_attributes`` (Bedrock names the model modelId)."""
    attrs: dict[str, Any] = {
        n.GEN_AI_OPERATION_NAME: op,
        n.GEN_AI_PROVIDER_NAME: state.provider_override or n.PROVIDER_AWS_BEDROCK,
    }
    if model:
        attrs[n.GEN_AI_REQUEST_MODEL] = str(model)
    host, port = server_of_text(instance.meta.endpoint_url)
    if host:
        attrs[n.SERVER_ADDRESS] = host
        if port:
            attrs[n.SERVER_PORT] = port
    return attrs


def _finish(call: Call, result: Any, is_async: bool) -> Any:
    if call.streamed:
        _wrap_stream(call, result, "stream" if call.dialect is CONVERSE else "body")
    elif call.dialect is CONVERSE:
        call.finish_response(result)
    else:
        _finish_invoke(call, result)
    return result


_make_api_call = sync_wrapper(_begin, _finish, lambda: _STATE)


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
    if _PATCHES:
        return True
    try:
        from botocore.client import BaseClient
    except ImportError:
        return False
    _PATCHES.wrap(BaseClient, "_make_api_call", _make_api_call)
    return True


def uninstrument() -> None:
    """Restore the exact original method."""
    global _STATE
    _PATCHES.restore()
    _STATE = None


def is_instrumented() -> bool:
    return bool(_PATCHES)
