"""Workflow, agent, tool and retrieval spans around your own code.

    @llmwatch.workflow                       # "invoke_workflow answer"
    def answer(question): ...

    @llmwatch.agent("planner")               # "invoke_agent planner"
    async def plan(goal): ...

    @llmwatch.tool(description="Search the docs")    # "execute_tool search_docs"
    def search_docs(query): ...

    @llmwatch.retrieval("vector-store")      # "retrieval vector-store"
    def retrieve(query): ...

    with llmwatch.span("rerank") as s:       # a plain step ("task"); any kind= works here too
        ...
    with llmwatch.tool("lookup", call_id=tool_call.id) as t:
        t.set_result(do_lookup())

One design, five spellings: ``llmwatch.trace(kind=...)`` is the general form and
``workflow``/``agent``/``tool``/``retrieval``/``span`` are it with the kind filled in. Each works
as a decorator (bare or with arguments) on plain functions, coroutines, generators and async
generators, and as a ``with`` / ``async with`` block.

Parents survive ``asyncio.gather`` and tasks (context variables are copied into tasks),
``ThreadPoolExecutor`` (patched by ``init()``, see :mod:`llmwatch.tracing.propagation`), and generators:
a decorated generator keeps the context it was *created* in, so the LLM calls inside it nest
under its span even when another task, thread or framework consumes it later — and its span never
leaks into the consumer's context between items. Before ``init()`` (and after ``shutdown()``)
everything here is a pass-through.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

from llmwatch import names as n
from llmwatch.tracing.parent_spans import Node, detach

_STATE: Any = None  # the running State while init() is in effect

_KIND_OPTIONS = {
    "agent": {"id": n.GEN_AI_AGENT_ID, "description": n.GEN_AI_AGENT_DESCRIPTION},
    "tool": {"call_id": n.GEN_AI_TOOL_CALL_ID, "description": n.GEN_AI_TOOL_DESCRIPTION},
}


def _open(kind: str, name: str | None, attributes: dict[str, Any], args: Any = None) -> Node | None:
    state = _STATE
    if state is None:
        return None
    try:
        node = Node(state, kind, name, attributes=attributes)
    except Exception as exc:  # noqa: BLE001 - never break the app
        state.instruments.internal_error("span_start", exc)
        return None
    if args is not None and kind == "tool" and (state.capture_content or state.config.store_capture_content):
        node.args = args
    return node


def _call_args(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The call's arguments by parameter name (kept by reference; serialised on the worker)."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
        return dict(bound.arguments)
    except (TypeError, ValueError):
        return {"args": list(args), "kwargs": kwargs}


class Traced:
    """A span specification: use it as a decorator or as a (sync or async) ``with`` block."""

    def __init__(self, kind: str, name: str | None = None, attributes: dict[str, Any] | None = None) -> None:
        if kind not in n.SPAN_KINDS:
            raise ValueError(f"llmwatch.trace: kind must be one of {', '.join(n.SPAN_KINDS)}, got {kind!r}")
        self.kind = kind
        self.name = name
        self.attributes = dict(attributes or {})
        self._active: list[tuple[Node | None, Any]] = []

    # ------------------------------------------------------------------ with-blocks
    def __enter__(self) -> Node | _NullNode:
        node = _open(self.kind, self.name, self.attributes)
        self._active.append((node, node.attach() if node is not None else None))
        return node if node is not None else _NULL

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        node, token = self._active.pop()
        detach(token)
        if node is not None:
            node.end(error=exc)

    async def __aenter__(self) -> Node | _NullNode:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)

    # ------------------------------------------------------------------ decorator
    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        kind, attrs = self.kind, self.attributes
        name = self.name or getattr(fn, "__name__", None) or repr(fn)
        wants_args = kind == "tool"

        def open_node(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Node | None:
            if _STATE is None:
                return None
            return _open(kind, name, attrs, _call_args(fn, args, kwargs) if wants_args else None)

        if inspect.isasyncgenfunction(fn):
            @functools.wraps(fn)
            def agen_wrapper(*args: Any, **kwargs: Any) -> Any:
                if _STATE is None:
                    return fn(*args, **kwargs)
                return _traced_agen(contextvars.copy_context(), fn(*args, **kwargs),
                                    lambda: open_node(args, kwargs))
            return agen_wrapper
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
                if _STATE is None:
                    return fn(*args, **kwargs)
                return _traced_gen(contextvars.copy_context(), fn(*args, **kwargs), lambda: open_node(args, kwargs))
            return gen_wrapper
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                node = open_node(args, kwargs)
                if node is None:
                    return await fn(*args, **kwargs)
                token = node.attach()
                try:
                    result = await fn(*args, **kwargs)
                except BaseException as exc:
                    node.end(error=exc)
                    raise
                finally:
                    detach(token)
                node.end(result=result)
                return result
            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            node = open_node(args, kwargs)
            if node is None:
                return fn(*args, **kwargs)
            token = node.attach()
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                node.end(error=exc)
                raise
            finally:
                detach(token)
            node.end(result=result)
            return result
        return wrapper


def _start_in(ctx: contextvars.Context, opener: Callable[[], Node | None]) -> Node | None:
    """Open the node inside ``ctx`` and leave it attached there (ctx is private to one generator)."""
    def start() -> Node | None:
        node = opener()
        if node is not None:
            node.attach()
        return node
    return ctx.run(start)


def _traced_gen(ctx: contextvars.Context, gen: Any, opener: Callable[[], Node | None]) -> Any:
    """Drive ``gen`` one step at a time inside its creation context; the span covers the iteration."""
    node: Node | None = None
    started = False
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            if not started:
                started = True
                node = _start_in(ctx, opener)
            try:
                if error is not None:
                    exc, error = error, None
                    item = ctx.run(gen.throw, exc)
                else:
                    item = ctx.run(gen.send, value)
            except StopIteration as stop:
                if node is not None:
                    node.end(result=stop.value)
                return stop.value
            except BaseException as exc:
                if node is not None:
                    node.end(error=exc)
                raise
            try:
                value = yield item
            except GeneratorExit:
                ctx.run(gen.close)
                raise
            except BaseException as exc:  # thrown in by the consumer: forward it
                error = exc
    finally:
        if node is not None:
            node.end()  # closed early (or collected): a no-op when it already ended


def _traced_agen(ctx: contextvars.Context, agen: Any, opener: Callable[[], Node | None]) -> Any:
    async def run() -> Any:
        node: Node | None = None
        started = False
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                if not started:
                    started = True
                    node = _start_in(ctx, opener)
                try:
                    if error is not None:
                        exc, error = error, None
                        item = await _in_context(ctx, agen.athrow(exc))
                    else:
                        item = await _in_context(ctx, agen.asend(value))
                except StopAsyncIteration:
                    if node is not None:
                        node.end()
                    return
                except BaseException as exc:
                    if node is not None:
                        node.end(error=exc)
                    raise
                try:
                    value = yield item
                except GeneratorExit:
                    await _in_context(ctx, agen.aclose())
                    raise
                except BaseException as exc:
                    error = exc
        finally:
            if node is not None:
                node.end()
    return run()


@types.coroutine
def _in_context(ctx: contextvars.Context, coro: Any) -> Any:
    """Await ``coro`` with every step run inside ``ctx`` (what a task with its own context does,
    without a task: the awaited futures pass straight through to whatever loop drives us)."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            if error is not None:
                exc, error = error, None
                future = ctx.run(coro.throw, exc)
            else:
                future = ctx.run(coro.send, value)
        except StopIteration as stop:
            return stop.value
        try:
            value = yield future
        except BaseException as exc:  # cancellation and the like go into the coroutine
            error = exc


class _NullNode:
    """What a ``with`` block gets before ``init()``: accepts the same calls, does nothing."""

    def set_attribute(self, key: str, value: Any) -> None:
        pass

    def set_result(self, value: Any) -> None:
        pass


_NULL = _NullNode()


def _spec(kind: str, target: Any, name: str | None, options: dict[str, Any]) -> Any:
    attributes = dict(options.pop("attributes", None) or {})
    for key, attr in _KIND_OPTIONS.get(kind, {}).items():
        if options.get(key) is not None:
            attributes[attr] = options.pop(key)
        options.pop(key, None)
    if options:
        raise TypeError(f"llmwatch.{kind}: unexpected option(s) {', '.join(sorted(options))}")
    if isinstance(target, str):
        name, target = target, None
    spec = Traced(kind, name, attributes)
    return spec(target) if target is not None else spec


def trace(target: Any = None, /, *, kind: str = "task", name: str | None = None, **options: Any) -> Any:
    """Trace a function or a block as a ``kind`` span (workflow, agent, tool, retrieval, task).

    Options: ``attributes={...}`` for any kind; ``id=``/``description=`` for agents;
    ``call_id=``/``description=`` for tools (``gen_ai.tool.call.id``; a tool's arguments and
    result are recorded only with ``capture_content`` on spans / ``store_capture_content`` in the
    prompt log).

        >>> @llmwatch.trace(kind="agent", name="planner")  # doctest: +SKIP
        ... def plan(goal): ...
    """
    return _spec(kind, target, name, options)


def workflow(target: Any = None, /, *, name: str | None = None, **options: Any) -> Any:
    """``invoke_workflow {name}``: a decorator (bare or with a name) or a ``with`` block."""
    return _spec("workflow", target, name, options)


def agent(target: Any = None, /, *, name: str | None = None, **options: Any) -> Any:
    """``invoke_agent {gen_ai.agent.name}``; options ``id=``, ``description=``."""
    return _spec("agent", target, name, options)


def tool(target: Any = None, /, *, name: str | None = None, **options: Any) -> Any:
    """``execute_tool {gen_ai.tool.name}``; options ``call_id=``, ``description=``."""
    return _spec("tool", target, name, options)


def retrieval(target: Any = None, /, *, name: str | None = None, **options: Any) -> Any:
    """``retrieval {gen_ai.data_source.id}``: name the data source (``@llmwatch.retrieval("kb")``)."""
    return _spec("retrieval", target, name, options)


def span(name: str, /, *, kind: str = "task", **options: Any) -> Traced:
    """A ``with`` block (or decorator) named ``name``: ``with llmwatch.span("rerank"): ...``."""
    traced: Traced = _spec(kind, None, name, options)
    return traced


# ---------------------------------------------------------------------------- init()/shutdown()
def enable(state: Any) -> None:
    global _STATE
    _STATE = state


def disable() -> None:
    global _STATE
    _STATE = None


def current_state() -> Any:
    """The running instrumentation state, or ``None`` outside ``init()`` … ``shutdown()``."""
    return _STATE
