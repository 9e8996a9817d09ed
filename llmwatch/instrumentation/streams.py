"""Stream and raw-response proxies.

A proxied stream behaves exactly like the SDK's ``Stream``/``AsyncStream`` (``wrapt.ObjectProxy``
forwards everything else) and feeds each chunk to its :class:`~llmwatch.instrumentation.call.Call`.
The call finishes on exhaustion, on an exception, on ``close()``/``aclose()``, on leaving a
``with`` block, or, for a stream the app abandons, when the proxy is garbage-collected.

Raw responses (``with_raw_response`` / ``with_streaming_response``) hand the app an
``APIResponse``; the proxy finishes the call when the app parses it (wrapping the stream if the
parse yields one) or closes it.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import wrapt

from llmwatch.instrumentation.call import Call

if TYPE_CHECKING:  # wrapt's stubs make the proxy generic; wrapt 1.x cannot be subscripted at runtime
    _Proxy = wrapt.ObjectProxy[Any]
else:
    _Proxy = wrapt.ObjectProxy


def _guard(call: Call, fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001
        call.state.instruments.internal_error("stream", exc)


class SyncStreamProxy(_Proxy):
    def __init__(self, wrapped: Any, call: Call) -> None:
        super().__init__(wrapped)
        self._self_call = call
        # Bound once: __next__ runs for every chunk.
        self._self_next = wrapped.__next__
        self._self_on_chunk = call.on_chunk

    def __iter__(self) -> SyncStreamProxy:
        return self

    def __next__(self) -> Any:
        try:
            chunk = self._self_next()
        except StopIteration:
            call = self._self_call
            _guard(call, call.finish_stream)
            raise
        except BaseException as exc:
            call = self._self_call
            _guard(call, call.finish_error, exc)
            raise
        try:
            self._self_on_chunk(chunk)
        except Exception as exc:  # noqa: BLE001
            self._self_call.state.instruments.internal_error("stream_chunk", exc)
        return chunk

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            _guard(self._self_call, self._self_call.finish_stream, True)

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            _guard(self._self_call, self._self_call.finish_stream, True)

    def __del__(self) -> None:
        call = getattr(self, "_self_call", None)
        if call is not None and not call.done:
            _guard(call, call.finish_stream, True)


class AsyncStreamProxy(_Proxy):
    def __init__(self, wrapped: Any, call: Call) -> None:
        super().__init__(wrapped)
        self._self_call = call

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        call = self._self_call
        try:
            chunk = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            _guard(call, call.finish_stream)
            raise
        except BaseException as exc:
            _guard(call, call.finish_error, exc)
            raise
        try:
            call.on_chunk(chunk)
        except Exception as exc:  # noqa: BLE001
            call.state.instruments.internal_error("stream_chunk", exc)
        return chunk

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            _guard(self._self_call, self._self_call.finish_stream, True)

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            _guard(self._self_call, self._self_call.finish_stream, True)

    async def aclose(self) -> None:
        await self.close()

    def __del__(self) -> None:
        call = getattr(self, "_self_call", None)
        if call is not None and not call.done:
            _guard(call, call.finish_stream, True)


def is_sync_stream(obj: Any) -> bool:
    return hasattr(obj, "__next__") and hasattr(obj, "response") and not hasattr(obj, "parse")


def is_async_stream(obj: Any) -> bool:
    return hasattr(obj, "__anext__") and hasattr(obj, "response") and not hasattr(obj, "parse")


def wrap_result(call: Call, result: Any, is_async: bool) -> Any:
    """Finish the call for a model, or wrap a stream / raw response so it finishes later."""
    if hasattr(result, "parse") and hasattr(result, "http_response"):
        async_parse = inspect.iscoroutinefunction(type(result).parse)
        proxy = (AsyncRawResponseProxy if async_parse else RawResponseProxy)(result, call)
        if not async_parse and not call.streamed and getattr(result.http_response, "is_closed", False):
            # with_raw_response: the body is already read; parsing now (the SDK caches the parse,
            # so the app's own .parse() costs nothing more) ends the span at the right time.
            try:
                proxy.parse()
            except Exception:  # noqa: BLE001 - the app sees the same error when it parses
                pass
        return proxy
    if is_async and is_async_stream(result):
        return AsyncStreamProxy(result, call)
    if not is_async and is_sync_stream(result):
        return SyncStreamProxy(result, call)
    call.finish_response(result)
    return result


class RawResponseProxy(_Proxy):
    """``LegacyAPIResponse`` (with_raw_response) or ``APIResponse`` (with_streaming_response)."""

    def __init__(self, wrapped: Any, call: Call) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_parsed: Any = None

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        call = self._self_call
        try:
            parsed = self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            _guard(call, call.finish_error, exc)
            raise
        if call.done:
            return self._self_parsed if self._self_parsed is not None else parsed
        if is_sync_stream(parsed):
            self._self_parsed = SyncStreamProxy(parsed, call)
            return self._self_parsed
        if is_async_stream(parsed):  # the async client's with_raw_response returns a sync parse()
            self._self_parsed = AsyncStreamProxy(parsed, call)
            return self._self_parsed
        _guard(call, call.finish_response, parsed)
        return parsed

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            _guard(self._self_call, self._self_call.finish_stream, True)

    def __del__(self) -> None:
        call = getattr(self, "_self_call", None)
        if call is not None and not call.done and self._self_parsed is None:
            _guard(call, call.finish_stream, True)


class AsyncRawResponseProxy(_Proxy):
    def __init__(self, wrapped: Any, call: Call) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_parsed: Any = None

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        call = self._self_call
        try:
            parsed = await self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            _guard(call, call.finish_error, exc)
            raise
        if call.done:
            return self._self_parsed if self._self_parsed is not None else parsed
        if is_async_stream(parsed):
            self._self_parsed = AsyncStreamProxy(parsed, call)
            return self._self_parsed
        _guard(call, call.finish_response, parsed)
        return parsed

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            _guard(self._self_call, self._self_call.finish_stream, True)

    def __del__(self) -> None:
        call = getattr(self, "_self_call", None)
        if call is not None and not call.done and self._self_parsed is None:
            _guard(call, call.finish_stream, True)
