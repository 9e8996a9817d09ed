"""Token estimates and their cost, computed on the record worker (never the caller's thread).

When a provider reports no usage (streams without ``include_usage``, some self-hosted servers),
the record's tokens are estimated with tiktoken, flagged ``tokens_estimated``, counted in
``llmwatch_estimated_tokens_total`` (never in the billable ``gen_ai_client_token_usage``), and
priced with ``cost_estimated`` set and ``llmwatch_estimated="true"`` on the cost counter.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from llmwatch import names
from llmwatch.instrumentation.dialect import dialect_for
from llmwatch.record import STATUS_OK, CallRecord
from llmwatch.usage.pricing import price

if TYPE_CHECKING:
    from llmwatch.usage.tokens import Estimate

logger = logging.getLogger("llmwatch")

_GENERATIVE_APIS = ("chat", "responses", "completions")


def _generative(api: str | None) -> bool:
    """Whether the API produces output tokens (a provider dialect unless it bills input only)."""
    dialect = dialect_for(api)
    return (not dialect.input_billed) if dialect is not None else api in _GENERATIVE_APIS


def _message_text(messages: Any) -> str:
    """The text of semconv messages (text parts, tool-call names and arguments)."""
    texts: list[str] = []
    for msg in messages or ():
        if not isinstance(msg, dict):
            continue
        for part in msg.get("parts", ()):
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text":
                texts.append(str(part.get("content") or ""))
            elif part.get("type") in ("tool_call", "tool_call_response"):
                texts.append(str(part.get("name") or "") + str(part.get("arguments") or part.get("response") or ""))
    return "".join(texts)


def _output_text(record: CallRecord) -> str:
    if record.stream_text is not None:
        return record.stream_text
    return _message_text(record.output_messages)


class Estimator:
    """Fills missing token counts on a record (called by the pipeline for each record)."""

    def __init__(self, instruments: Any, prices: Any) -> None:
        self._instruments = instruments
        self._prices = prices

    def __call__(self, record: CallRecord) -> None:
        if record.status != STATUS_OK or "response_anomaly" in record.metadata:
            return  # a failed call used nothing billable; an unreadable answer has no text to count
        api = (record.request_params or {}).get("api")
        model = record.response_model or record.request_model
        from llmwatch.usage import tokens

        estimated = False
        generative = _generative(api)
        if record.input_tokens is None and isinstance(record.raw_request, dict):
            est: Estimate | None
            if dialect_for(api) is not None:  # another provider's request shape: count its normalised text
                est = tokens.estimate_text(_message_text(record.system_instructions) + "\n"
                                           + _message_text(record.input_messages), model)
            else:
                est = tokens.estimate_input(api or record.operation, record.raw_request, model)
            if est is not None:
                record.input_tokens = est.tokens
                estimated = True
                self._instruments.estimated(record, names.TOKEN_TYPE_INPUT, est.tokens)
        if record.output_tokens is None and generative:
            est = tokens.estimate_text(_output_text(record), model)
            record.output_tokens = est.tokens
            estimated = True
            self._instruments.estimated(record, names.TOKEN_TYPE_OUTPUT, est.tokens)
        if not estimated:
            return
        record.tokens_estimated = True
        if record.cost_usd is None:
            cost = price(self._prices, record.response_model, record.request_model, record.input_tokens,
                         record.output_tokens, record.cached_input_tokens, needs_output=generative)
            if cost.billable:
                record.cost_usd = cost.usd
                record.cost_estimated = cost.usd is not None
                self._instruments.priced(record.provider, record.request_model or "", record.response_model or "",
                                         cost.usd, True)
