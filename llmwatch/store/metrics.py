"""The store's Prometheus instruments, created once per registry from the specs in llmwatch.names."""

from __future__ import annotations

import threading

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from llmwatch import names

_lock = threading.Lock()
_by_registry: dict[int, tuple[CollectorRegistry, StoreMetrics]] = {}


class StoreMetrics:
    """Counters for written / spooled / replayed / dropped records, write errors, spool bytes."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        def counter(spec: names.MetricSpec) -> Counter:
            return Counter(spec.prom_name, spec.description, spec.labels, registry=registry)

        self.written = counter(names.STORE_RECORDS_WRITTEN)
        self.spooled = counter(names.STORE_RECORDS_SPOOLED)
        self.replayed = counter(names.STORE_RECORDS_REPLAYED)
        self.dropped = counter(names.STORE_RECORDS_DROPPED)
        self.write_errors = counter(names.STORE_WRITE_ERRORS)
        spec = names.STORE_SPOOL_SIZE
        self.spool_bytes = Gauge(spec.prom_name, spec.description, spec.labels, registry=registry)
        spec = names.STORE_BATCH_DURATION
        self.batch_duration = Histogram(spec.prom_name, spec.description, spec.labels, registry=registry,
                                        buckets=spec.buckets or Histogram.DEFAULT_BUCKETS)

    def drop(self, reason: str, n: int) -> None:
        if n:
            self.dropped.labels(reason).inc(n)


def store_metrics(registry: CollectorRegistry | None = None) -> StoreMetrics:
    """The store's metrics on ``registry`` (default: the global one), registered at most once."""
    registry = REGISTRY if registry is None else registry
    with _lock:
        entry = _by_registry.get(id(registry))
        if entry is None or entry[0] is not registry:
            entry = (registry, StoreMetrics(registry))
            _by_registry[id(registry)] = entry
        return entry[1]
