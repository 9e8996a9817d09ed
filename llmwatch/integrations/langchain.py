"""LangChain: every run becomes a span, nested by ``parent_run_id``.

``init()`` registers the handler with LangChain's configure hooks as soon as ``langchain_core``
is imported, so every ``invoke``/``ainvoke``/``stream``/``astream``/``batch`` is observed with no
change to the app. To pass it explicitly instead::

    from llmwatch.integrations.langchain import callback_handler
    chain.invoke(question, config={"callbacks": [callback_handler()]})

Runs map to spans: a top-level chain -> ``invoke_workflow {name}``, a nested chain -> a ``task``
span named after the runnable, an agent (a run whose name contains "agent") -> ``invoke_agent``,
a tool -> ``execute_tool {name}`` with ``gen_ai.tool.call.id``, a retriever -> ``retrieval
{name}``, a chat model / LLM -> ``chat {model}`` with the tokens of its result. The run's span is
made current while it runs, so an instrumented ``openai`` call inside (``ChatOpenAI``, or your
own runnable calling the client) nests beneath it; the model run then only wraps that call and
does not count its tokens a second time (see :mod:`llmwatch.tracing.parent_spans`).

The handler runs inline (``run_inline``) so that it sees the caller's context under ``ainvoke``
and ``astream``; it never raises into LangChain.
"""

from __future__ import annotations

import contextvars
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import trace

from llmwatch import names as n
from llmwatch.tracing.parent_spans import LLMUsage, Node, detach_run

_RUNS: dict[UUID, tuple[Node, Any]] = {}  # run id -> (node, context token); shared by every handler
_VAR: contextvars.ContextVar[Any] | None = None
_HOOK: tuple[Any, ...] | None = None


def _state() -> Any:
    from llmwatch.tracing.decorators import current_state

    return current_state()


def _name(serialized: dict[str, Any] | None, kwargs: dict[str, Any], default: str) -> str:
    name = kwargs.get("name")
    if not name and serialized:
        name = serialized.get("name") or (serialized.get("id") or [None])[-1]
    return str(name or default)


class LlmwatchCallbackHandler(BaseCallbackHandler):
    """Maps LangChain runs to llmwatch spans (and prompt-log rows)."""

    run_inline = True
    raise_error = False

    # ------------------------------------------------------------------ plumbing
    def _start(self, run_id: UUID, parent_run_id: UUID | None, kind: str, name: str | None,
               attributes: dict[str, Any] | None = None, llm: LLMUsage | None = None, args: Any = None) -> None:
        state = _state()
        if state is None or run_id in _RUNS:
            return
        try:
            parent = _RUNS.get(parent_run_id) if parent_run_id is not None else None
            ctx = trace.set_span_in_context(parent[0].span) if parent is not None else None
            node = Node(state, kind, name, source="langchain", attributes=attributes, parent=ctx, llm=llm)
            if args is not None and (state.capture_content or state.config.store_capture_content):
                node.args = args
            _RUNS[run_id] = (node, node.attach())
        except Exception as exc:  # noqa: BLE001
            state.instruments.internal_error("langchain", exc)

    def _end(self, run_id: UUID, error: BaseException | None = None, result: Any = None,
             has_result: bool = False) -> Node | None:
        entry = _RUNS.pop(run_id, None)
        if entry is None:
            return None
        node, token = entry
        detach_run(node, token)
        try:
            if has_result:
                node.set_result(result)
            node.end(error=error)
        except Exception as exc:  # noqa: BLE001
            node.state.instruments.internal_error("langchain", exc)
        return node

    # ------------------------------------------------------------------ chains
    def on_chain_start(self, serialized: dict[str, Any], inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        name = _name(serialized, kwargs, "chain")
        if "agent" in name.lower():
            kind = "agent"
        else:
            kind = "workflow" if parent_run_id is None or parent_run_id not in _RUNS else "task"
        self._start(run_id, parent_run_id, kind, name)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    # ------------------------------------------------------------------ models
    def _llm_start(self, op: str, serialized: dict[str, Any], run_id: UUID, parent_run_id: UUID | None,
                   kwargs: dict[str, Any]) -> None:
        meta = kwargs.get("metadata") or {}
        params = kwargs.get("invocation_params") or {}
        model = meta.get("ls_model_name") or params.get("model") or params.get("model_name")
        provider = meta.get("ls_provider") or "langchain"
        usage = LLMUsage(op, str(provider), str(model) if model else None, _name(serialized, kwargs, "llm"))
        self._start(run_id, parent_run_id, "llm", None, llm=usage)

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, *, run_id: UUID,
                            parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._llm_start(n.OP_CHAT, serialized, run_id, parent_run_id, kwargs)

    def on_llm_start(self, serialized: dict[str, Any], prompts: Any, *, run_id: UUID,
                     parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._llm_start(n.OP_TEXT_COMPLETION, serialized, run_id, parent_run_id, kwargs)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        entry = _RUNS.get(run_id)
        if entry is not None and entry[0].llm is not None:
            try:
                _read_usage(entry[0].llm, response)
            except Exception as exc:  # noqa: BLE001
                entry[0].state.instruments.internal_error("langchain", exc)
        self._end(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    # ------------------------------------------------------------------ tools and retrievers
    def on_tool_start(self, serialized: dict[str, Any], input_str: str, *, run_id: UUID,
                      parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        attrs: dict[str, Any] = {}
        if kwargs.get("tool_call_id"):
            attrs[n.GEN_AI_TOOL_CALL_ID] = str(kwargs["tool_call_id"])
        if serialized and serialized.get("description"):
            attrs[n.GEN_AI_TOOL_DESCRIPTION] = str(serialized["description"])
        args = kwargs.get("inputs") if kwargs.get("inputs") is not None else input_str
        self._start(run_id, parent_run_id, "tool", _name(serialized, kwargs, "tool"), attrs, args=args)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        content = getattr(output, "content", output)  # a ToolMessage when called with a tool call
        self._end(run_id, result=content if isinstance(content, (str, int, float, list, dict)) else str(content),
                  has_result=True)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    def on_retriever_start(self, serialized: dict[str, Any], query: str, *, run_id: UUID,
                           parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._start(run_id, parent_run_id, "retrieval", _name(serialized, kwargs, "retriever"))

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        entry = _RUNS.get(run_id)
        if entry is not None:
            entry[0].set_attribute(n.LLMWATCH_RETRIEVAL_DOCUMENTS, len(documents))
        self._end(run_id)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)


def _read_usage(llm: LLMUsage, response: Any) -> None:
    out = getattr(response, "llm_output", None) or {}
    usage = out.get("token_usage") or out.get("usage") or {}
    llm.response_model = out.get("model_name") or out.get("model") or llm.response_model
    inp = usage.get("prompt_tokens", usage.get("input_tokens"))
    outp = usage.get("completion_tokens", usage.get("output_tokens"))
    if inp is None:
        totals = [0, 0]
        found = False
        for gens in getattr(response, "generations", None) or ():
            for gen in gens:
                meta = getattr(getattr(gen, "message", None), "usage_metadata", None)
                if meta:
                    found = True
                    totals[0] += meta.get("input_tokens", 0)
                    totals[1] += meta.get("output_tokens", 0)
                resp_meta = getattr(getattr(gen, "message", None), "response_metadata", None) or {}
                llm.response_model = llm.response_model or resp_meta.get("model_name")
        if found:
            inp, outp = totals
    llm.input_tokens = int(inp) if inp is not None else None
    llm.output_tokens = int(outp) if outp is not None else None


_HANDLER: LlmwatchCallbackHandler | None = None


def callback_handler() -> LlmwatchCallbackHandler:
    """The handler (one per process; passing it as well as auto-registration is harmless)."""
    global _HANDLER
    if _HANDLER is None:
        _HANDLER = LlmwatchCallbackHandler()
    return _HANDLER


def instrument() -> None:
    """Register the handler with every LangChain callback manager (idempotent)."""
    global _VAR, _HOOK
    if _HOOK is not None:
        return
    from langchain_core.tracers import context as lc_context

    if _VAR is None:
        # One shared handler is the point: LangChain's configure hook reads it in every context.
        _VAR = contextvars.ContextVar("llmwatch_langchain_handler", default=callback_handler())  # noqa: B039
    _HOOK = (_VAR, True, None, None)
    lc_context.register_configure_hook(_VAR, True)


def uninstrument() -> None:
    """Remove the configure hook again (what ``shutdown()`` does)."""
    global _HOOK
    if _HOOK is None:
        return
    try:
        from langchain_core.tracers import context as lc_context

        hooks = lc_context._configure_hooks
        for i, hook in enumerate(hooks):
            if hook[0] is _VAR:
                del hooks[i]
                break
    except Exception:  # noqa: BLE001 - the handler is inert without llmwatch running anyway
        pass
    _HOOK = None
    _RUNS.clear()
