"""A parent span (workflow, agent, tool, retrieval, task, or an integration's LLM run) and its row.

A :class:`Node` is what the decorators in :mod:`llmwatch.tracing` and the LangChain / LlamaIndex
integrations open. Like an LLM call, the caller's thread only starts the span and stamps the end;
the node then rides the record pipeline's FIFO queue behind its children, so when the worker
completes it, the roll-up of the calls beneath it is final. The worker sets the roll-up
attributes, ends the span with the stamped end time and turns the node into a prompt-log row
(operation ``invoke_workflow``, ``invoke_agent``, ``execute_tool``, ``retrieval``, ``task``; the
roll-up in ``metadata["rollup"]``, never in the token/cost columns, so sums over the log count
each call once) — which is what lets ``llmwatch logs show ID --tree`` print the whole trace.

An integration's LLM run (a LangChain chat model, a LlamaIndex LLM) is the call itself when no
instrumented client call happened beneath it: it then gets the semconv LLM attributes, metrics
and a ``chat`` row with its tokens. When the instrumented openai client did the call beneath it,
the run is only a wrapper (renamed to the run's name, kind ``task``), so nothing is counted twice.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from llmwatch import names as n
from llmwatch.instrumentation.finish import cost_attributes, measure
from llmwatch.record import STATUS_ERROR, CallRecord
from llmwatch.tracing import rollup
from llmwatch.tracing.context import current as _current_context
from llmwatch.usage.pricing import price

if TYPE_CHECKING:
    from llmwatch.instrumentation.state import State

_perf = time.perf_counter
_MISSING = object()

_NAME_ATTR = {"workflow": n.LLMWATCH_WORKFLOW_NAME, "agent": n.GEN_AI_AGENT_NAME, "tool": n.GEN_AI_TOOL_NAME,
              "retrieval": n.GEN_AI_DATA_SOURCE_ID}


class LLMUsage:
    """What an integration learnt about an LLM run (filled before ``Node.end``)."""

    __slots__ = ("op", "provider", "request_model", "response_model", "input_tokens", "output_tokens",
                 "wrapper_name")

    def __init__(self, op: str, provider: str, request_model: str | None, wrapper_name: str) -> None:
        self.op = op
        self.provider = provider
        self.request_model = request_model
        self.response_model: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.wrapper_name = wrapper_name


def span_name(kind: str, name: str | None) -> str:
    op = n.SPAN_KINDS.get(kind, kind)
    if kind == "task":
        return name or op
    return f"{op} {name}" if name else op


class Node:
    """One open parent span. Methods are safe to call twice and never raise into the app."""

    __slots__ = ("state", "kind", "name", "source", "span", "span_id", "parent", "start", "t0", "end_ns",
                 "duration", "error", "done", "rollup", "context", "args", "result", "llm", "provider")

    def __init__(self, state: State, kind: str, name: str | None, *, source: str = "llmwatch",
                 attributes: dict[str, Any] | None = None, parent: Any = None, llm: LLMUsage | None = None) -> None:
        self.state = state
        self.kind = kind
        self.name = name
        self.source = source
        self.llm = llm
        self.provider = llm.provider if llm is not None else source
        self.done = False
        self.error: BaseException | None = None
        self.args: Any = None
        self.result: Any = _MISSING
        self.end_ns = 0
        self.duration = 0.0
        self.rollup = rollup.Rollup()
        ctx = parent if parent is not None else otel_context.get_current()
        sc = trace.get_current_span(ctx).get_span_context()
        self.parent = rollup.lookup(sc.span_id) if sc.is_valid else None
        attrs: dict[str, Any] = {n.LLMWATCH_SPAN_KIND: kind, n.LLMWATCH_SPAN_SOURCE: source}
        if llm is None:
            attrs[n.GEN_AI_OPERATION_NAME] = n.SPAN_KINDS.get(kind, kind)
            if name and kind in _NAME_ATTR:
                attrs[_NAME_ATTR[kind]] = name
            if name and kind == "workflow":  # semconv-genai v0.1.0 names a workflow in gen_ai.agent.name
                attrs[n.GEN_AI_AGENT_NAME] = name
            if kind == "tool":
                attrs[n.GEN_AI_TOOL_TYPE] = "function"
            title = span_name(kind, name)
        else:
            if llm.request_model:
                attrs[n.GEN_AI_REQUEST_MODEL] = llm.request_model
            title = f"{llm.op} {llm.request_model}" if llm.request_model else llm.op
        rc = self.context = _current_context()
        if rc is not None:
            attrs.update(rc.span_attributes)
        if attributes:
            attrs.update(attributes)
        if llm is None:
            # An internal agent/tool/workflow span is not a call to a provider: the conventions keep
            # gen_ai.provider.name on model-call spans only (an LLM run sets it when it completes).
            attrs.pop(n.GEN_AI_PROVIDER_NAME, None)
        self.span = state.tracer.start_span(title, context=ctx, kind=SpanKind.INTERNAL, attributes=attrs)
        self.span_id = self.span.get_span_context().span_id
        rollup.register(self.span_id, self)
        self.start = time.time()
        self.t0 = _perf()

    # ------------------------------------------------------------------ caller's thread
    def attach(self) -> Any:
        """Make this span current (returns a token for :func:`detach`)."""
        return otel_context.attach(trace.set_span_in_context(self.span))

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one span attribute now (ids, flags; never content unless you mean to)."""
        try:
            self.span.set_attribute(key, value)
        except Exception as exc:  # noqa: BLE001
            self.state.instruments.internal_error("span_attribute", exc)

    def set_result(self, value: Any) -> None:
        """The step's result (a tool's return value; opt-in content, serialised on the worker)."""
        self.result = value

    def end(self, error: BaseException | None = None, result: Any = _MISSING) -> None:
        """Stamp the end and queue the node behind its children; the worker does the rest."""
        if self.done:
            return
        self.done = True
        self.duration = _perf() - self.t0
        self.end_ns = time.time_ns()
        self.error = error
        if result is not _MISSING and self.result is _MISSING:
            self.result = result
        pipeline = self.state.pipeline
        if pipeline is None or not pipeline.submit(self):
            self.complete()

    # ------------------------------------------------------------------ worker thread
    def complete(self) -> CallRecord | None:
        state = self.state
        span = self.span
        try:
            attrs: dict[str, Any] = {}
            llm = self.llm
            own = llm is not None and self.rollup.calls == 0  # the run *is* the LLM call
            cost = None
            error_type = type(self.error).__qualname__ if self.error is not None else ""
            if own and llm is not None:
                cost = self._complete_llm(llm, attrs, error_type)
            elif llm is not None:
                span.update_name(llm.wrapper_name)
                attrs[n.LLMWATCH_SPAN_KIND] = "task"
                attrs[n.GEN_AI_OPERATION_NAME] = n.OP_TASK
            r = self.rollup
            if r.calls:
                attrs[n.LLMWATCH_ROLLUP_CALLS] = r.calls
                attrs[n.LLMWATCH_ROLLUP_INPUT_TOKENS] = r.input_tokens
                attrs[n.LLMWATCH_ROLLUP_OUTPUT_TOKENS] = r.output_tokens
                attrs[n.LLMWATCH_ROLLUP_COST_USD] = r.cost
                if r.cost_unknown:
                    attrs[n.LLMWATCH_ROLLUP_COST_UNKNOWN_CALLS] = r.cost_unknown
            if self.kind == "tool" and state.capture_content and span.is_recording():
                cap = state.config.content_max_length
                if self.args is not None:
                    attrs[n.GEN_AI_TOOL_CALL_ARGUMENTS] = _json(self.args)[:cap]
                if self.result is not _MISSING:
                    attrs[n.GEN_AI_TOOL_CALL_RESULT] = _json(self.result)[:cap]
            if self.error is not None:
                attrs[n.ERROR_TYPE] = error_type
                span.set_status(Status(StatusCode.ERROR, str(self.error)[:512]))
                span.record_exception(self.error)
            span.set_attributes(attrs)
            span.end(end_time=self.end_ns)
            if llm is None:
                self._measure(error_type)
            return self._record(own, cost, error_type)
        except Exception as exc:  # noqa: BLE001 - telemetry must never break the app
            state.instruments.internal_error("complete_span", exc)
            try:
                span.end(end_time=self.end_ns or None)
            except Exception:  # noqa: BLE001
                pass
            return None
        finally:
            rollup.unregister(self.span_id)
            self.args = None
            self.result = _MISSING

    def _measure(self, error_type: str) -> None:
        """gen_ai.invoke_agent.duration / gen_ai.execute_tool.duration: the span's own duration."""
        try:
            kind, name = self.kind, self.name or ""
            if kind in ("agent", "workflow"):
                self.state.instruments.agent_run(n.SPAN_KINDS[kind], name, error_type, self.duration)
            elif kind == "tool":
                attrs = getattr(self.span, "attributes", None) or {}
                tool_type = str(attrs.get(n.GEN_AI_TOOL_TYPE) or "function")
                self.state.instruments.tool_run(name, tool_type, error_type, self.duration)
        except Exception as exc:  # noqa: BLE001 - a metric must never break the app
            self.state.instruments.internal_error("metrics", exc)

    def _complete_llm(self, llm: LLMUsage, attrs: dict[str, Any], error_type: str) -> float | None:
        state = self.state
        attrs[n.GEN_AI_OPERATION_NAME] = llm.op
        attrs[n.GEN_AI_PROVIDER_NAME] = llm.provider
        attrs[n.LLMWATCH_SPAN_KIND] = "llm"
        if llm.response_model:
            attrs[n.GEN_AI_RESPONSE_MODEL] = llm.response_model
        if llm.input_tokens is not None:
            attrs[n.GEN_AI_USAGE_INPUT_TOKENS] = llm.input_tokens
        if llm.output_tokens is not None:
            attrs[n.GEN_AI_USAGE_OUTPUT_TOKENS] = llm.output_tokens
        cost = price(state.prices, llm.response_model, llm.request_model, llm.input_tokens, llm.output_tokens,
                     failed=self.error is not None)
        cost_attributes(attrs, cost)
        measure(state.instruments, llm.op, llm.provider, llm.request_model, llm.response_model, error_type,
                self.duration, llm.input_tokens, llm.output_tokens, None, cost)
        rollup.add_to_ancestors(self.parent, llm.input_tokens, llm.output_tokens, cost.usd)
        return cost.usd

    def _record(self, own: bool, cost: float | None, error_type: str) -> CallRecord:
        sc = self.span.get_span_context()
        parent = getattr(self.span, "parent", None)
        llm = self.llm
        if own and llm is not None:
            operation, provider, model = llm.op, llm.provider, llm.request_model
        else:
            operation = n.OP_TASK if llm is not None else n.SPAN_KINDS.get(self.kind, self.kind)
            provider, model = self.source, None
        rec = CallRecord(
            operation=operation, provider=provider, request_model=model, start_time=self.start,
            end_time=self.start + self.duration,
            trace_id=format(sc.trace_id, "032x"), span_id=format(sc.span_id, "016x"),
            parent_span_id=format(parent.span_id, "016x") if parent is not None else None,
            service_name=self.state.config.service_name,
        )
        rec.metadata["span_name"] = getattr(self.span, "name", None) or self.name
        rec.metadata["kind"] = "llm" if own else ("task" if llm is not None else self.kind)
        if self.name:
            rec.metadata["name"] = self.name
        if own and llm is not None:
            rec.response_model = llm.response_model
            rec.input_tokens, rec.output_tokens, rec.cost_usd = llm.input_tokens, llm.output_tokens, cost
        if self.rollup.calls:
            rec.metadata["rollup"] = self.rollup.to_dict()
        if self.error is not None:
            rec.status = STATUS_ERROR
            rec.error_type = error_type
            rec.error_message = str(self.error)[:2000]
        if self.kind == "tool" and self.state.config.store_capture_content:
            self._tool_messages(rec)
        if self.context is not None:
            self.context.fill_record(rec)
        return rec

    def _tool_messages(self, rec: CallRecord) -> None:
        call_id = self.span.attributes.get(n.GEN_AI_TOOL_CALL_ID) if hasattr(self.span, "attributes") else None
        cap = self.state.config.content_max_length
        if self.args is not None:
            rec.input_messages = [{"role": "tool", "parts": [
                {"type": "tool_call", "id": call_id, "name": self.name, "arguments": _json(self.args)[:cap]}]}]
        if self.result is not _MISSING:
            rec.output_messages = [{"role": "tool", "parts": [
                {"type": "tool_call_response", "id": call_id, "response": _json(self.result)[:cap]}]}]


def detach(token: Any) -> None:
    """Undo :meth:`Node.attach`; quietly ignores a token from another context (async generators,
    callbacks that end a run elsewhere), where OTel's own ``detach`` would log an error."""
    if token is None:
        return
    try:
        token.var.reset(token)
    except Exception:  # noqa: BLE001
        pass


_ENDED_ELSEWHERE: dict[int, Any] = {}  # span id -> token of a run that ended while not current


def detach_run(node: Node, token: Any) -> None:
    """Detach a framework run's span, which may end out of order.

    Callback-driven frameworks can start sibling runs in one context and end them in any order
    (LangChain's ``batch`` starts every input's run, then ends them). Resetting tokens out of
    order would leave an ended span current for the rest of the thread. So a run that is not the
    current span when it ends is only noted; when the run above it is detached, the context
    skips past every noted run to the one that was current before them.
    """
    if token is None:
        return
    var = token.var
    if trace.get_current_span(var.get()) is not node.span:
        if len(_ENDED_ELSEWHERE) > 10_000:  # runs ended in contexts that were then discarded
            _ENDED_ELSEWHERE.clear()
        _ENDED_ELSEWHERE[node.span_id] = token
        return
    try:
        var.reset(token)
    except ValueError:  # another Context (an async generator resumed elsewhere): nothing to undo here
        return
    while _ENDED_ELSEWHERE:
        sc = trace.get_current_span(var.get()).get_span_context()
        ended = _ENDED_ELSEWHERE.pop(sc.span_id, None) if sc.is_valid else None
        if ended is None:
            return
        previous = ended.old_value
        var.set(previous if previous is not ended.MISSING else otel_context.Context())


def _json(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=repr, ensure_ascii=False)
    except Exception:  # noqa: BLE001
        return repr(value)
