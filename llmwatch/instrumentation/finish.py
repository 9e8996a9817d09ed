"""The steps every finished LLM call shares, whoever observed it.

An instrumented SDK call (:class:`~llmwatch.instrumentation.call.Call`) and an LLM run reported by
a framework integration (:class:`~llmwatch.tracing.parent_spans.Node`) both price through
:func:`llmwatch.usage.pricing.price`, describe the cost with :func:`cost_attributes` and record
their metrics with :func:`measure` — so a call is priced, labelled and counted the same way
wherever it came from.
"""

from __future__ import annotations

from typing import Any

from llmwatch import names as n
from llmwatch.usage.pricing import CallCost


def cost_attributes(attrs: dict[str, Any], cost: CallCost) -> None:
    """``llmwatch.cost.usd``, or ``llmwatch.cost.unknown=true`` when a billable call has no price."""
    if cost.usd is not None:
        attrs[n.LLMWATCH_COST_USD] = cost.usd
    elif cost.billable:
        attrs[n.LLMWATCH_COST_UNKNOWN] = True


def measure(instruments: Any, op: str, provider: str, request_model: str | None, response_model: str | None,
            error_type: str, duration: float, input_tokens: int | None, output_tokens: int | None,
            ttfc: float | None, cost: CallCost, estimated: bool = False) -> None:
    """Duration, time to first chunk, provider-reported tokens, and cost (or an unknown price)."""
    req, resp = request_model or "", response_model or ""
    instruments.call(op, provider, req, resp, error_type, duration, input_tokens, output_tokens, ttfc)
    if cost.billable:
        instruments.priced(provider, req, resp, cost.usd, estimated)
