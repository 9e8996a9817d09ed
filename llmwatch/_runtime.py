"""``init()`` and ``shutdown()``: what llmwatch starts, in order, and how it stops.

``init()`` reads top to bottom: config, OTel providers, instruments, prices, the one redaction,
the record pipeline, the prompt-log store, then each feature by calling its ``start``: the provider
SDK patches (openai, anthropic, ...), tracing and integrations, GPU sampling, scoring; then
``/metrics``.
``shutdown()`` stops them in reverse. Nothing registers itself at import time.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from llmwatch.config import Config
from llmwatch.record import Sink

logger = logging.getLogger("llmwatch")

_LOCK = threading.RLock()
_RUNTIME: _Runtime | None = None

class _Runtime:
    """What ``init()`` started, kept for ``flush()`` and ``shutdown()``."""

    def __init__(self, config: Config, tracer_provider: Any, owned_tracer_provider: bool, meter_provider: Any,
                 owned_meter_provider: bool, instruments: Any, pipeline: Any, metrics_server: Any,
                 stops: list[tuple[str, Callable[[], None]]]) -> None:
        self.config = config
        self.tracer_provider = tracer_provider
        self.owned_tracer_provider = owned_tracer_provider
        self.meter_provider = meter_provider
        self.owned_meter_provider = owned_meter_provider
        self.instruments = instruments
        self.pipeline = pipeline
        self.metrics_server = metrics_server
        self.stops = stops  # (feature, stop) in start order; shutdown() runs them in reverse


def _otlp_env(signal: str) -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                or os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"))


def _resource(config: Config) -> Any:
    from opentelemetry.sdk.resources import Resource

    return Resource.create({"service.name": config.service_name})


def _tracer_provider(config: Config, given: Any) -> tuple[Any, bool]:
    """The app's provider if it passed or configured one; else OTLP from env; else a private one.

    A private provider (not set globally) still gives spans real ids, so prompt-log records link
    to traces, without claiming the global slot an app may fill after ``init()``.
    """
    from opentelemetry import trace

    if given is not None:
        return given, False
    current = trace.get_tracer_provider()
    if not isinstance(current, trace.ProxyTracerProvider):
        return current, False
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider(resource=_resource(config))
    if _otlp_env("TRACES"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
    return provider, True


def _meter_provider(config: Config, given: Any) -> tuple[Any, bool]:
    """The app's meter provider if given/configured, OTLP from env if set, else none (Prometheus only)."""
    from opentelemetry import metrics

    if given is not None:
        return given, False
    current = metrics.get_meter_provider()
    if type(current).__name__ not in ("_ProxyMeterProvider", "NoOpMeterProvider"):
        return current, False
    if not _otlp_env("METRICS"):
        return None, False
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    provider = MeterProvider(resource=_resource(config),
                             metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())])
    metrics.set_meter_provider(provider)
    return provider, True


def _metrics_server(config: Config, registry: Any, instruments: Any) -> Any:
    if config.prometheus_port is None or not config.prometheus:
        return None
    from llmwatch.metrics.server import start_metrics_server

    try:
        return start_metrics_server(config.prometheus_host, config.prometheus_port, registry)
    except OSError as exc:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and exc.errno == errno.EADDRINUSE:
            # Pre-forked workers all asked for the port; one serves every worker's values
            # (multiprocess mode), so the others losing the race is expected, not an error.
            logger.debug("llmwatch: /metrics port %s already served by a sibling worker", config.prometheus_port)
            return None
        instruments.internal_error("metrics_server", exc)
        logger.warning("llmwatch: could not serve /metrics on %s:%s: %s", config.prometheus_host,
                       config.prometheus_port, exc)
        return None


def _open_store(config: Config, registry: Any, instruments: Any, redaction: Any) -> Sink | None:
    """The prompt log, or None when ``store=False`` (or the store cannot start: counted, logged)."""
    if not config.store:
        return None
    try:
        from llmwatch.store import open_sink
    except ImportError:
        return None
    try:
        return open_sink(config, registry=registry, redactor=redaction.for_store if redaction is not None else None)
    except Exception as exc:  # noqa: BLE001 - a database problem must not stop the app from starting
        instruments.internal_error("store_open", exc)
        logger.warning("llmwatch: prompt-log store unavailable (%s); calls are still traced and measured", exc)
        return None


def _start(name: str, start: Callable[[], Callable[[], None] | None], instruments: Any,
           stops: list[tuple[str, Callable[[], None]]]) -> None:
    """Start one feature; it returns its stop function (None: not enabled). A failure to start is
    counted and logged, never raised into the app."""
    try:
        stop = start()
    except Exception as exc:  # noqa: BLE001 - a feature must not stop the app from starting
        instruments.internal_error(f"start_{name}", exc)
        logger.warning("llmwatch: %s could not start: %s", name, exc)
        return
    if stop is not None:
        stops.append((name, stop))


def init(
    *,
    tracer_provider: Any = None,
    meter_provider: Any = None,
    registry: Any = None,
    sinks: Sequence[Sink] = (),
    **options: Any,
) -> Config:
    """Start observing LLM calls. Idempotent: a second call returns the running config.

    Keyword options are the fields of :class:`llmwatch.Config` (each also settable through its
    ``LLMWATCH_*`` environment variable); an invalid value raises :class:`llmwatch.ConfigError`.

        >>> import llmwatch
        >>> cfg = llmwatch.init(service_name="checkout-bot", prometheus_port=9464)  # doctest: +SKIP
    """
    global _RUNTIME
    with _LOCK:
        if _RUNTIME is not None:
            return _RUNTIME.config
        config = Config.resolve(options)

        from llmwatch import __version__
        from llmwatch.gpu import sampler as gpu_sampler
        from llmwatch.instrumentation import providers
        from llmwatch.instrumentation.state import State
        from llmwatch.metrics.instruments import Instruments
        from llmwatch.pipeline import RecordPipeline
        from llmwatch.scoring import worker as scoring
        from llmwatch.scoring.redaction import Redaction
        from llmwatch.scoring.report import QualityMetrics
        from llmwatch.tracing import feature as tracing
        from llmwatch.usage.estimates import Estimator
        from llmwatch.usage.pricing import PriceTable

        tp, owned_tp = _tracer_provider(config, tracer_provider)
        mp, owned_mp = _meter_provider(config, meter_provider)
        meter = mp.get_meter("llmwatch") if mp is not None else None
        chunks = config.otel_chunk_metrics
        chunk_otel = chunks == "on" or (chunks == "auto" and not config.prometheus)
        instruments = Instruments(registry=registry, meter=meter, prometheus=config.prometheus,
                                  otel_chunk_metrics=chunk_otel)
        quality = (QualityMetrics(registry, meter, config.prometheus) if (config.redact or config.scorers)
                   else None)
        prices = PriceTable.load(config.price_file)  # a bad user file fails init(), like any option
        redaction = Redaction.from_config(config, quality.redacted if quality is not None else None)
        pipeline = RecordPipeline(config, instruments, sinks=list(sinks),
                                  processors=[redaction] if redaction is not None else [],
                                  estimator=Estimator(instruments, prices) if config.estimate_tokens else None)
        store = _open_store(config, registry, instruments, redaction)
        if store is not None:
            pipeline.add_sink(store)
        state = State(config, tp.get_tracer("llmwatch", __version__), instruments, pipeline, prices, redaction)
        stops: list[tuple[str, Callable[[], None]]] = []
        _start("providers", lambda: providers.start(state), instruments, stops)  # openai, anthropic, ...
        _start("tracing", lambda: tracing.start(state), instruments, stops)
        _start("gpu", lambda: gpu_sampler.start(state), instruments, stops)
        _start("scoring", lambda: scoring.start(state, quality), instruments, stops)
        server = _metrics_server(config, registry, instruments)
        _RUNTIME = _Runtime(config, tp, owned_tp, mp, owned_mp, instruments, pipeline, server, stops)
        return config


def flush(timeout: float = 10.0) -> bool:
    """Wait until every finished call has reached the sinks and spans are exported."""
    rt = _RUNTIME
    if rt is None:
        return True
    ok: bool = rt.pipeline.flush(timeout)
    force = getattr(rt.tracer_provider, "force_flush", None)
    if force is not None:
        try:
            force(int(timeout * 1000))
        except Exception as exc:  # noqa: BLE001
            rt.instruments.internal_error("flush", exc)
    return ok


def shutdown(timeout: float = 10.0) -> None:
    """Flush, restore the original openai methods, stop what ``init()`` started. Safe to repeat."""
    global _RUNTIME
    with _LOCK:
        rt = _RUNTIME
        if rt is None:
            return
        _RUNTIME = None
        # Features stop in reverse: the GPU ring buffer and scorer lanes before the pipeline drains
        # (the last calls' enrichers still read the buffer), the openai patch last of them.
        for name, stop in reversed(rt.stops):
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - shutdown must finish
                rt.instruments.internal_error(f"stop_{name}", exc)
        rt.pipeline.shutdown(timeout)
        if rt.metrics_server is not None:
            try:
                rt.metrics_server.shutdown()
                rt.metrics_server.server_close()
            except Exception as exc:  # noqa: BLE001
                rt.instruments.internal_error("metrics_server", exc)
        for provider, owned in ((rt.tracer_provider, rt.owned_tracer_provider),
                                (rt.meter_provider, rt.owned_meter_provider)):
            if owned and provider is not None:
                try:
                    provider.shutdown()
                except Exception as exc:  # noqa: BLE001
                    rt.instruments.internal_error("provider_shutdown", exc)
            elif provider is not None and hasattr(provider, "force_flush"):
                try:
                    provider.force_flush()
                except Exception as exc:  # noqa: BLE001
                    rt.instruments.internal_error("flush", exc)


def is_initialized() -> bool:
    return _RUNTIME is not None


def current() -> _Runtime | None:
    return _RUNTIME
