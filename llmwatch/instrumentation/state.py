"""What the patched methods need at call time, built once by ``init()``."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from llmwatch.instrumentation.extract import record_params

if TYPE_CHECKING:
    from llmwatch.config import Config
    from llmwatch.metrics.instruments import Instruments
    from llmwatch.pipeline import RecordPipeline
    from llmwatch.scoring.redaction import Redaction

# Set while llmwatch itself calls a provider (e.g. the moderation scorer): those calls are not
# the application's and are not observed.
suppressed: contextvars.ContextVar[bool] = contextvars.ContextVar("llmwatch_suppressed", default=False)


class State:
    __slots__ = ("config", "tracer", "instruments", "pipeline", "prices", "capture_content", "capture_records",
                 "provider_override", "span_enrichers", "record_enrichers", "redactor")

    def __init__(self, config: Config, tracer: Any, instruments: Instruments,
                 pipeline: RecordPipeline | None, prices: Any, redactor: Redaction | None = None) -> None:
        self.config = config
        self.tracer = tracer
        self.instruments = instruments
        self.pipeline = pipeline
        self.prices = prices
        self.capture_content = config.capture_content
        # Keep references to request/response for the record's content (normalised off-thread).
        # (also needed to estimate tokens when the provider reports none).
        self.capture_records = config.store_capture_content or config.capture_content or config.estimate_tokens
        self.provider_override = config.provider_name
        # Extension points run on the worker when a call completes (GPU attribution, roll-ups,
        # redaction, ...): span enrichers get (call, attrs) before the span ends; record
        # enrichers get (call, record). Each is guarded; a failure is counted, never raised.
        self.span_enrichers: list[Callable[[Any, dict[str, Any]], None]] = []
        self.record_enrichers: list[Callable[[Any, Any], None]] = []
        # The process's one redaction (None when redact=False): masks span content before it is
        # capped (so a secret cut at the cap cannot leak half of itself) and error messages.
        self.redactor = redactor

    @staticmethod
    def record_params(api: str, body: dict[str, Any]) -> dict[str, Any]:
        return record_params(api, body)
