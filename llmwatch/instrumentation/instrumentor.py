"""``opentelemetry-instrument`` support: an OpenTelemetry ``BaseInstrumentor`` for llmwatch.

Registered under the ``opentelemetry_instrumentor`` entry point as ``llmwatch``, so

    opentelemetry-instrument python app.py

starts llmwatch (openai patched, spans, metrics, prompt log as configured by ``LLMWATCH_*``)
with no change to the app, and ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=llmwatch`` leaves it off.
The tracer and meter providers are the ones passed in or set globally (by the OTel distro from
``OTEL_*`` variables); llmwatch never replaces a provider the app or the distro already set.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]


class LlmwatchInstrumentor(BaseInstrumentor):  # type: ignore[misc]  # mypy resolves the base to Any (import above)
    """``LlmwatchInstrumentor().instrument(tracer_provider=..., meter_provider=...)`` = ``llmwatch.init()``."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("openai >= 2.0",)

    def _instrument(self, **kwargs: Any) -> None:
        import llmwatch

        llmwatch.init(tracer_provider=kwargs.get("tracer_provider"), meter_provider=kwargs.get("meter_provider"))

    def _uninstrument(self, **kwargs: Any) -> None:
        import llmwatch

        llmwatch.shutdown()
