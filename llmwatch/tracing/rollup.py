"""Cumulative roll-ups: the tokens and cost of every LLM call beneath a parent span.

Parent spans (workflows, agents, tools, LangChain/LlamaIndex runs) register here, by span id,
while they are open. They are completed on the pipeline's worker like LLM calls, and the worker
takes items in FIFO order: a child finishes (and is queued) before its parent, so when a child
completes, every ancestor is still registered and its total can grow; when the parent completes,
its total is final. Everything here runs on the worker, off the application's threads.

A call made after its parent has already finished (a fire-and-forget task, a generator consumed
after the workflow returned) is not added to that parent: its total was already written.
"""

from __future__ import annotations

import threading
from typing import Any

_OPEN: dict[int, Any] = {}  # span id -> open Node (tracing.Node)
_LOCK = threading.Lock()  # the worker is one thread; a full queue completes inline on the caller's


class Rollup:
    __slots__ = ("calls", "input_tokens", "output_tokens", "cost", "cost_unknown")

    def __init__(self) -> None:
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost = 0.0
        self.cost_unknown = 0

    def add(self, input_tokens: int | None, output_tokens: int | None, cost: float | None) -> None:
        self.calls += 1
        self.input_tokens += input_tokens or 0
        self.output_tokens += output_tokens or 0
        if cost is None:
            if input_tokens or output_tokens:  # a failed call with no usage cost nothing
                self.cost_unknown += 1
        else:
            self.cost += cost

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "total_tokens": self.input_tokens + self.output_tokens, "cost_usd": self.cost,
                "cost_unknown_calls": self.cost_unknown}


def register(span_id: int, node: Any) -> None:
    _OPEN[span_id] = node


def unregister(span_id: int) -> None:
    _OPEN.pop(span_id, None)


def lookup(span_id: int | None) -> Any:
    return _OPEN.get(span_id) if span_id else None


def add_to_ancestors(node: Any, input_tokens: int | None, output_tokens: int | None, cost: float | None) -> None:
    """Add one LLM call's usage to ``node`` and every open ancestor of it."""
    with _LOCK:
        while node is not None:
            node.rollup.add(input_tokens, output_tokens, cost)
            node = node.parent


def record_enricher(call: Any, record: Any) -> None:
    """``State.record_enrichers`` hook: an instrumented LLM call adds its usage to its ancestors."""
    if record.parent_span_id is None:
        return
    node = _OPEN.get(int(record.parent_span_id, 16))
    if node is not None:
        add_to_ancestors(node, record.input_tokens, record.output_tokens, record.cost_usd)


def clear() -> None:
    _OPEN.clear()
