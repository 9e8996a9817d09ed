"""What every provider adapter shares: the patched method's wrapper, the server of a client's base
URL, and the list of patched methods that ``uninstrument()`` restores.

A provider adapter (``openai.py``, ``anthropic.py``, ...) supplies two functions and this module
builds the wrapper around the SDK's choke point from them:

- ``begin(instance, args, kwargs) -> Call | None`` decides whether the request is a GenAI call and
  starts observing it (None: pass straight through). An exception in it is counted, and the
  request passes through unobserved.
- ``finish(call, result, is_async) -> result`` hands the app the SDK's result (a proxy for a
  stream) and finishes the call or arranges for it to finish later. It guards its own
  telemetry failures, so that an adapter can let the app's own errors (met while reading a
  body, say) through unchanged.

The wrapper itself is the one sequence every adapter had copied: the app's exception is recorded
on the call and re-raised unchanged, and the call's context is detached however the SDK returns.
Its per-call cost is what the copies cost: two calls (``begin``, ``finish``) and no allocation;
``begin`` is guarded here rather than by a wrapper function of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import wrapt

from llmwatch.instrumentation.streams import wrap_result

if TYPE_CHECKING:
    from llmwatch.instrumentation.call import Call
    from llmwatch.instrumentation.state import State

Args = tuple[Any, ...]
Kwargs = dict[str, Any]
Begin = Callable[[Any, Args, Kwargs], "Call | None"]
Finish = Callable[["Call", Any, bool], Any]
StateOf = Callable[[], "State | None"]
Wrapper = Callable[[Any, Any, Args, Kwargs], Any]
AsyncWrapper = Callable[[Any, Any, Args, Kwargs], Awaitable[Any]]


def _begin_failed(state: State | None, exc: Exception) -> None:
    if state is not None:
        state.instruments.internal_error("begin", exc)


def sync_wrapper(begin: Begin, finish: Finish, state_of: StateOf) -> Wrapper:
    """A ``wrapt`` wrapper for a synchronous choke point; ``state_of`` names the adapter's state
    (read only when ``begin`` fails, to count the failure)."""

    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        try:
            call = begin(instance, args, kwargs)
        except Exception as exc:  # noqa: BLE001 - never break the app's call
            _begin_failed(state_of(), exc)
            call = None
        if call is None:
            return wrapped(*args, **kwargs)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            call.finish_error(exc)
            raise
        finally:
            call.detach()
        return finish(call, result, False)

    return wrapper


def async_wrapper(begin: Begin, finish: Finish, state_of: StateOf) -> AsyncWrapper:
    """:func:`sync_wrapper` for a coroutine choke point (``AsyncClient.request`` and the like)."""

    async def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        try:
            call = begin(instance, args, kwargs)
        except Exception as exc:  # noqa: BLE001 - never break the app's call
            _begin_failed(state_of(), exc)
            call = None
        if call is None:
            return await wrapped(*args, **kwargs)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            call.finish_error(exc)
            raise
        finally:
            call.detach()
        return finish(call, result, True)

    return wrapper


def finish_sdk_result(call: Call, result: Any, is_async: bool) -> Any:
    """``finish`` for the generated (Stainless) SDKs, openai and anthropic: a typed model, a
    ``Stream`` or a raw response, told apart by :func:`~llmwatch.instrumentation.streams.wrap_result`."""
    try:
        return wrap_result(call, result, is_async)
    except Exception as exc:  # noqa: BLE001
        call.state.instruments.internal_error("wrap_result", exc)
        return result


def _server(host: str | None, port: int | None, scheme: str) -> tuple[str | None, int | None]:
    return host, port or (443 if scheme == "https" else 80)


# id(URL) -> (the URL, (host, port)). Keyed by identity: a client keeps its URL object, and
# httpx's URL properties re-parse on every read. The tuple is returned as stored: no allocation.
_SERVERS: dict[int, tuple[Any, tuple[str | None, int | None]]] = {}


def server_of(base: Any) -> tuple[str | None, int | None]:
    """(host, port) of a client's ``httpx.URL`` base URL (openai, anthropic, ollama); the port is
    the scheme's default where the URL names none."""
    hit = _SERVERS.get(id(base))
    if hit is not None and hit[0] is base:
        return hit[1]
    server = _server(base.host, base.port, base.scheme)
    if len(_SERVERS) > 1024:  # clients come and go; keep the cache bounded
        _SERVERS.clear()
    _SERVERS[id(base)] = (base, server)
    return server


@lru_cache(maxsize=1024)
def server_of_text(url: str) -> tuple[str | None, int | None]:
    """:func:`server_of` for a base URL held as a string (botocore, google-genai)."""
    parts = urlsplit(url)
    return _server(parts.hostname, parts.port, parts.scheme)


class Patches:
    """The methods an adapter wrapped, so that :meth:`restore` puts the exact originals back."""

    def __init__(self) -> None:
        self._originals: list[tuple[Any, str, Any]] = []

    def __bool__(self) -> bool:
        return bool(self._originals)

    def wrap(self, cls: Any, attr: str, wrapper: Any) -> None:
        """Wrap ``cls.attr`` (defined on ``cls`` itself) with a ``wrapt`` wrapper."""
        original = cls.__dict__[attr]
        wrapt.wrap_function_wrapper(cls, attr, wrapper)
        self._originals.append((cls, attr, original))

    def replace(self, cls: Any, attr: str, value: Any) -> None:
        """Set ``cls.attr`` (defined on ``cls`` itself) to ``value`` until :meth:`restore`."""
        original = cls.__dict__[attr]
        setattr(cls, attr, value)
        self._originals.append((cls, attr, original))

    def restore(self) -> None:
        """Put the originals back, last wrapped first."""
        while self._originals:
            cls, attr, original = self._originals.pop()
            setattr(cls, attr, original)
