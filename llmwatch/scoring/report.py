"""Evaluations -> Prometheus/OTel metrics, ``gen_ai.evaluation.result`` events, stored score rows.

Scoring finishes after the call's span has ended, so the event cannot go on that span. It is
emitted on a zero-length child span (``evaluation <name>``) whose parent is the call's span
(trace id and span id from the record): trace views show it under the LLM call, and the event
carries the semconv attributes. The same is done by other GenAI instrumentations that model
events as point-in-time spans.

The event's attributes are those semantic-conventions-genai v0.1.0 defines for
``gen_ai.evaluation.result``: ``gen_ai.evaluation.name`` (required), ``.score.value`` and
``.score.label``, ``.explanation``, and ``gen_ai.response.id`` to correlate it with the evaluated
call; ``llmwatch.direction`` (prompt or completion) is llmwatch's own. A scorer that fails emits no
event (its failure is counted instead), so the conventions' ``error.type`` is never set here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from llmwatch import names as n
from llmwatch.metrics.instruments import _Family
from llmwatch.scoring.base import Evaluation, Item

EVENT_NAME = n.EVENT_GEN_AI_EVALUATION_RESULT
GEN_AI_EVALUATION_NAME = n.GEN_AI_EVALUATION_NAME
GEN_AI_EVALUATION_SCORE_VALUE = n.GEN_AI_EVALUATION_SCORE_VALUE
GEN_AI_EVALUATION_SCORE_LABEL = n.GEN_AI_EVALUATION_SCORE_LABEL
GEN_AI_EVALUATION_EXPLANATION = n.GEN_AI_EVALUATION_EXPLANATION


class QualityMetrics:
    """The quality & safety instruments declared in :mod:`llmwatch.names`."""

    def __init__(self, registry: Any = None, meter: Any = None, prometheus: bool = True) -> None:
        def f(spec: n.MetricSpec) -> _Family:
            return _Family(spec, registry, meter, prometheus)

        self.toxicity = f(n.TOXICITY_SCORE)
        self.moderation = f(n.MODERATION_FLAGS)
        self.injection = f(n.INJECTION_DETECTIONS)
        self.redactions = f(n.REDACTIONS)
        self.validation = f(n.VALIDATION_FAILURES)
        self.available = f(n.SCORER_AVAILABLE)

    def scorer_state(self, name: str, available: bool) -> None:
        self.available.set((name,), 1.0 if available else 0.0)

    def redacted(self, kind: str, direction: str, count: int) -> None:
        self.redactions.inc((kind, direction), count)

    def observe(self, model: str, ev: Evaluation) -> None:
        if ev.name == "toxicity" and ev.direction:
            for cat, value in ev.categories.items():
                self.toxicity.observe((model, ev.direction, cat), value)
        elif ev.name == "moderation" and ev.direction:
            for cat in ev.flagged_categories:
                self.moderation.inc((model, ev.direction, cat))
        elif ev.name == "injection" and ev.detector:
            for det in ev.detector.split(","):
                self.injection.inc((model, det))
        elif ev.name == "validation" and ev.label == "fail":
            self.validation.inc((model, ev.validator or ""))


class Reporter:
    """Reports evaluations; ``redact`` masks explanations (validator reasons can quote content)."""

    def __init__(self, metrics: QualityMetrics | None, tracer: Any = None,
                 redact: Callable[[str], str] | None = None) -> None:
        self.metrics = metrics
        self.tracer = tracer
        self.redact = redact

    def explanation(self, ev: Evaluation) -> str:
        text = ev.explanation or ""
        return self.redact(text) if (self.redact and text) else text

    def emit(self, item: Item, evals: Sequence[Evaluation]) -> None:
        """Metrics and events for one call (the caller guards and counts failures); embeddings have none."""
        evals = [ev for ev in evals if ev.vector is None]
        if self.metrics is not None:
            for ev in evals:
                self.metrics.observe(item.model, ev)
        if self.tracer is not None and evals:
            self._event(item, evals)

    def _event(self, item: Item, evals: Sequence[Evaluation]) -> None:
        from opentelemetry import trace
        from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

        ctx = None
        if item.trace_id and item.span_id:
            parent = SpanContext(int(item.trace_id, 16), int(item.span_id, 16), is_remote=True,
                                 trace_flags=TraceFlags(TraceFlags.SAMPLED))
            ctx = trace.set_span_in_context(NonRecordingSpan(parent))
        attrs: dict[str, Any] = {GEN_AI_EVALUATION_NAME: evals[0].name}
        if item.response_id:
            attrs[n.GEN_AI_RESPONSE_ID] = item.response_id
        if item.model:
            attrs[n.GEN_AI_REQUEST_MODEL] = item.model
        span = self.tracer.start_span(f"evaluation {evals[0].name}", context=ctx, kind=SpanKind.INTERNAL,
                                      attributes=attrs)
        try:
            for ev in evals:
                event: dict[str, Any] = {GEN_AI_EVALUATION_NAME: ev.name, GEN_AI_EVALUATION_SCORE_VALUE: ev.value,
                                         GEN_AI_EVALUATION_SCORE_LABEL: ev.label}
                text = self.explanation(ev)
                if text:
                    event[GEN_AI_EVALUATION_EXPLANATION] = text
                if ev.direction:
                    event[n.LLMWATCH_DIRECTION] = ev.direction
                if item.response_id:
                    event[n.GEN_AI_RESPONSE_ID] = item.response_id
                span.add_event(EVENT_NAME, event)
        finally:
            span.end()

    def rows(self, item: Item, scorer: str, evals: Sequence[Evaluation]) -> list[dict[str, Any]]:
        """Rows for ``llmwatch_scores``; ``scorer`` marks the call as scored by that scorer."""
        now = time.time()
        out = []
        for ev in evals:
            if ev.vector is not None:
                continue
            text = self.explanation(ev)
            label = f"{ev.label}: {text}" if text else ev.label
            out.append({"record_id": item.record_id, "name": ev.name, "value": float(ev.value),
                        "label": label[:200], "scorer": scorer, "created_at": now})
        return out

    def embeddings(self, item: Item, evals: Sequence[Evaluation]) -> list[dict[str, Any]]:
        """Rows for ``llmwatch_embeddings`` (:func:`llmwatch.store.annotate.add_embeddings`)."""
        return [{"record_id": item.record_id, "model": ev.explanation, "vector": ev.vector, "created_at": time.time()}
                for ev in evals if ev.vector is not None]
