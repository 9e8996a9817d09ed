"""GPU metrics read at scrape time: a ``prometheus_client`` custom collector and OTel observable
instruments, both from the specs in :mod:`llmwatch.names` (``hw.gpu.*``, ``hw.power``, ...).

Nothing polls in the background: each scrape (or OTel collection) reads the source once. With no
GPU or driver the collector exports ``llmwatch_gpu_available 0`` and nothing else, logs one line,
and retries opening the source at most once a minute (a driver may be installed later).

    registry = CollectorRegistry()
    registry.register(GpuCollector(open_source("nvml")))
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from llmwatch import names as n
from llmwatch.gpu.source import GpuReading, GpuSource, GpuUnavailable

logger = logging.getLogger("llmwatch")


class GpuCollector(Collector):
    """Reads every GPU of ``source`` on each ``collect()``; see the module docstring."""

    def __init__(self, source: GpuSource, retry_interval: float = 60.0, otel_cache_seconds: float = 1.0) -> None:
        self.source = source
        self.retry_interval = retry_interval
        self.otel_cache_seconds = otel_cache_seconds
        self.available = False
        self.reason = "not opened yet"
        self._opened_at: float | None = None
        self._lock = threading.Lock()
        self._cache: tuple[float, list[GpuReading]] = (-1e18, [])

    # ------------------------------------------------------------------ reading
    def _ensure_open(self) -> bool:
        if self.available:
            return True
        now = time.monotonic()
        if self._opened_at is not None and now - self._opened_at < self.retry_interval:
            return False
        first = self._opened_at is None
        self._opened_at = now
        try:
            self.source.open()
        except GpuUnavailable as exc:
            self.reason = str(exc)
            if first:
                logger.warning("llmwatch: no GPU metrics: %s (llmwatch_gpu_available 0)", exc)
            return False
        self.available, self.reason = True, f"{len(self.source.devices())} GPU(s)"
        return True

    def open(self) -> bool:
        """Try to open the source now (the agent does this at start to report readiness)."""
        with self._lock:
            return self._ensure_open()

    def readings(self) -> list[GpuReading]:
        """One reading per GPU (empty without a GPU). A failing device is skipped, never raised."""
        with self._lock:
            if not self._ensure_open():
                return []
            out = []
            for device in self.source.devices():
                try:
                    out.append(self.source.read(device))
                except Exception as exc:  # noqa: BLE001 - a lost GPU must not fail the scrape
                    logger.warning("llmwatch: reading GPU %s failed: %r", device.index, exc)
            return out

    def close(self) -> None:
        with self._lock:
            self.source.close()
            self.available = False

    # ------------------------------------------------------------------ Prometheus
    def describe(self) -> Iterator[Any]:
        # Names only, so registering never reads the GPU.
        for spec in n.GPU_METRICS:
            yield _family(spec)

    def collect(self) -> Iterator[Any]:
        readings = self.readings()
        fams = {spec.otel_name: _family(spec) for spec in n.GPU_METRICS}
        fams[n.GPU_AVAILABLE.otel_name].add_metric([], 1.0 if self.available else 0.0)
        for spec, labels, value in samples(readings):
            fams[spec.otel_name].add_metric(labels, value)
        yield from fams.values()

    # ------------------------------------------------------------------ OTel
    def cached_readings(self) -> list[GpuReading]:
        """Readings at most ``otel_cache_seconds`` old: OTel calls one callback per instrument,
        and one collection should read the GPUs once, not once per instrument."""
        at, cached = self._cache
        now = time.monotonic()
        if now - at > self.otel_cache_seconds:
            cached = self.readings()
            self._cache = (now, cached)
        return cached


def _family(spec: n.MetricSpec) -> Any:
    if spec.kind == "counter":
        return CounterMetricFamily(spec.prom_name, spec.description, labels=spec.labels)
    return GaugeMetricFamily(spec.prom_name, spec.description, labels=spec.labels)


def samples(readings: list[GpuReading]) -> Iterator[tuple[n.MetricSpec, list[str], float]]:
    """(spec, label values in spec order, value) for every value the readings hold."""
    for r in readings:
        d = r.device
        gpu = [d.uuid, d.name, str(d.index)]
        for spec, value in ((n.GPU_UTILIZATION, r.utilization), (n.GPU_MEMORY_USAGE, r.memory_used),
                            (n.GPU_MEMORY_LIMIT, r.memory_total)):
            if value is not None:
                yield spec, gpu, float(value)
        for spec, value in ((n.GPU_POWER, r.power_watts), (n.GPU_TEMPERATURE, r.temperature),
                            (n.GPU_ENERGY, r.energy_joules)):
            if value is not None:
                yield spec, gpu + ["gpu"], float(value)
        for domain, value in (("sm", r.sm_clock_hz), ("memory", r.memory_clock_hz)):
            if value is not None:
                yield n.GPU_CLOCK, gpu + [domain], float(value)
        for reason, active in sorted((r.throttle or {}).items()):
            yield n.GPU_THROTTLE_ACTIVE, gpu + [reason], 1.0 if active else 0.0
        for kind, count in sorted((r.ecc_errors or {}).items()):
            yield n.GPU_ECC_ERRORS, gpu + ["gpu", kind], float(count)
        for p in r.processes:
            if p.memory_bytes is not None:  # NVML may report None (no permission, MIG): omitted
                yield n.GPU_PROCESS_MEMORY, gpu + [str(p.pid), p.name], float(p.memory_bytes)


def register_otel(meter: Any, collector: GpuCollector) -> list[Any]:
    """Create OTel observable instruments for every GPU metric on ``meter``; returns them.

    Gauges become observable gauges, counters (energy, ECC errors) observable counters; the
    attribute keys are the spec's (``hw.id``, ``hw.name``, ...), so an OTLP -> Prometheus path
    yields the same series as the native collector.
    """
    from opentelemetry.metrics import Observation

    def callback_for(spec: n.MetricSpec) -> Any:
        def callback(_options: Any) -> list[Any]:
            if spec is n.GPU_AVAILABLE:
                collector.cached_readings()
                return [Observation(1 if collector.available else 0, {})]
            return [Observation(value, dict(zip(spec.attributes, labels)))
                    for s, labels, value in samples(collector.cached_readings()) if s is spec]
        return callback

    instruments = []
    for spec in n.GPU_METRICS:
        make = meter.create_observable_counter if spec.kind == "counter" else meter.create_observable_gauge
        instruments.append(make(spec.otel_name, callbacks=[callback_for(spec)], unit=spec.unit,
                                description=spec.description))
    return instruments
