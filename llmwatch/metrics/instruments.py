"""Metric instruments: native ``prometheus_client`` metrics and, when configured, OTel instruments.

Instruments are created once per registry (re-``init()`` reuses them) from the specs in
:mod:`llmwatch.names`. The hot-path methods look up a cached child per label tuple — no lock, no
label validation after the first call — then observe.

Internal failures are counted in ``llmwatch_internal_errors_total`` and logged at most once a
minute per component, never raised.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from llmwatch import names
from llmwatch.names import MetricSpec

logger = logging.getLogger("llmwatch")

# Per registry (weakly held: a test's throwaway registry must not leave metrics behind whose
# id() a new registry could reuse).
_BY_REGISTRY: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_BY_REGISTRY_LOCK = threading.Lock()


def prometheus_metric(spec: MetricSpec, registry: CollectorRegistry | None) -> Any:
    """The prometheus_client metric for ``spec`` in ``registry``, created on first use."""
    registry = REGISTRY if registry is None else registry
    with _BY_REGISTRY_LOCK:
        existing = _BY_REGISTRY.setdefault(registry, {})
        if spec.prom_name in existing:
            return existing[spec.prom_name]
        if spec.kind == "histogram":
            metric: Any = Histogram(spec.prom_name, spec.description, spec.labels, registry=registry,
                                    buckets=spec.buckets or Histogram.DEFAULT_BUCKETS)
        elif spec.kind == "counter":
            assert spec.prom_name.endswith("_total")
            metric = Counter(spec.prom_name[: -len("_total")], spec.description, spec.labels, registry=registry)
        else:
            metric = Gauge(spec.prom_name, spec.description, spec.labels, registry=registry,
                           multiprocess_mode="livesum")
        existing[spec.prom_name] = metric
        return metric


class _Family:
    """One metric on both paths with a per-label-tuple child cache."""

    __slots__ = ("prom", "otel", "spec", "_children", "_attrs", "_last")

    def __init__(self, spec: MetricSpec, registry: CollectorRegistry | None, meter: Any, enabled: bool) -> None:
        self.spec = spec
        self.prom: Any = prometheus_metric(spec, registry) if enabled else None
        self.otel: Any = None
        if meter is not None:
            if spec.kind == "histogram":
                self.otel = meter.create_histogram(spec.otel_name, unit=spec.unit, description=spec.description,
                                                   explicit_bucket_boundaries_advisory=list(spec.buckets or ()))
            elif spec.kind == "counter":
                self.otel = meter.create_counter(spec.otel_name, unit=spec.unit, description=spec.description)
            else:
                self.otel = meter.create_up_down_counter(spec.otel_name, unit=spec.unit,
                                                         description=spec.description)
        self._children: dict[tuple[str, ...], Any] = {}
        self._attrs: dict[tuple[str, ...], dict[str, Any]] = {}
        self._last: dict[tuple[str, ...], float] = {}

    def child(self, key: tuple[str, ...]) -> Any:
        child = self._children.get(key)
        if child is None:
            child = self.prom.labels(*key) if key else self.prom
            self._children[key] = child
        return child

    def attrs(self, key: tuple[str, ...]) -> dict[str, Any]:
        attrs = self._attrs.get(key)
        if attrs is None:
            # OTel omits empty attributes (error.type on success) exactly as semconv asks.
            attrs = {k: v for k, v in zip(self.spec.attributes, key) if v != ""}
            self._attrs[key] = attrs
        return attrs

    def observe(self, key: tuple[str, ...], value: float) -> None:
        if self.prom is not None:
            self.child(key).observe(value)
        if self.otel is not None:
            self.otel.record(value, self.attrs(key))

    def inc(self, key: tuple[str, ...], value: float = 1.0) -> None:
        if self.prom is not None:
            self.child(key).inc(value)
        if self.otel is not None:
            self.otel.add(value, self.attrs(key))

    def set(self, key: tuple[str, ...], value: float) -> None:
        """A gauge's value (OTel: the up-down counter moves by the difference from the last value)."""
        if self.prom is not None:
            self.child(key).set(value)
        if self.otel is not None:
            last = self._last.get(key)
            self._last[key] = value
            if last is None or value != last:  # the first set creates the series, even at 0
                self.otel.add(value - (last or 0.0), self.attrs(key))


def observe_many(child: Any, values: Sequence[float]) -> None:
    """Observe ``values`` on a prometheus_client histogram child as one update: the values are
    counted per bucket here, then each touched bucket and the sum are incremented once (two
    locked increments per touched bucket instead of two per value; a stream's gaps fall in a few
    buckets). The same exposition as one ``observe()`` per value (tested); prometheus_client has
    no public bulk observe, so this reads the child's bucket values and falls back to
    ``observe()`` if their shape ever changes."""
    try:
        bounds, buckets, total = child._upper_bounds, child._buckets, child._sum
    except AttributeError:
        for value in values:
            child.observe(value)
        return
    counts: dict[int, int] = {}
    for value in values:
        i = bisect_left(bounds, value)  # prometheus_client's bucket: the first bound >= value
        counts[i] = counts.get(i, 0) + 1
    total.inc(sum(values))
    for i, count in counts.items():
        buckets[i].inc(count)


class Instruments:
    """Everything the SDK records. ``key`` tuples follow the spec's attribute order."""

    def __init__(self, registry: CollectorRegistry | None = None, meter: Any = None, prometheus: bool = True,
                 otel_chunk_metrics: bool = True) -> None:
        """``otel_chunk_metrics=False`` keeps the per-chunk histogram off the OTel meter (see the
        ``otel_chunk_metrics`` option: the runtime passes False when native Prometheus records it)."""
        # Kept so extensions (the scorers) create their instruments on the same registry/meter.
        self.registry, self.meter, self.prometheus = registry, meter, prometheus
        def f(spec: names.MetricSpec, with_meter: bool = True) -> _Family:
            return _Family(spec, registry, meter if with_meter else None, prometheus)

        self.duration = f(names.OPERATION_DURATION)
        self.tokens = f(names.TOKEN_USAGE)
        self.ttfc = f(names.TIME_TO_FIRST_CHUNK)
        self.tpoc = f(names.TIME_PER_OUTPUT_CHUNK, otel_chunk_metrics)
        self.cost = f(names.COST)
        self.unknown_price = f(names.UNKNOWN_PRICE_CALLS)
        self.estimated_tokens = f(names.ESTIMATED_TOKENS)
        self._dropped = f(names.RECORDS_DROPPED)
        self._errors = f(names.INTERNAL_ERRORS)
        self._processed = f(names.RECORDS_PROCESSED)
        self._depth = f(names.QUEUE_DEPTH)
        self._feedback = f(names.FEEDBACK_SCORE)
        self._agent_duration = f(names.INVOKE_AGENT_DURATION)
        self._tool_duration = f(names.EXECUTE_TOOL_DURATION)
        self._depth_last = 0
        self._last_log: dict[str, float] = {}
        self._local = threading.local()  # .pending: the open batch's counter sums (see batch())

    # --- hot path (caller's thread)
    def call(self, op: str, provider: str, req_model: str, resp_model: str, error_type: str, duration: float,
             input_tokens: int | None, output_tokens: int | None, ttfc: float | None) -> None:
        self.duration.observe((op, provider, req_model, resp_model, error_type), duration)
        if ttfc is not None:
            self.ttfc.observe((op, provider, req_model, resp_model, error_type), ttfc)
        if input_tokens is not None:
            self.tokens.observe((op, provider, req_model, resp_model, names.TOKEN_TYPE_INPUT), input_tokens)
        if output_tokens is not None:
            self.tokens.observe((op, provider, req_model, resp_model, names.TOKEN_TYPE_OUTPUT), output_tokens)

    def priced(self, provider: str, req_model: str, resp_model: str, cost: float | None, estimated: bool) -> None:
        if cost is None:
            self._add(self.unknown_price, (provider, req_model, resp_model), 1.0)
        else:
            self._add(self.cost, (provider, req_model, resp_model, "true" if estimated else "false"), cost)

    # --- counters summed per batch
    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """While the record worker completes a batch, the counters it adds to (cost, unknown prices,
        estimated tokens) are summed per series and added once per series at the end: the same
        totals, one OTel measurement per series and batch instead of one per call and counter (an
        OTel SDK measurement is ~7 µs; a stream's calls each added three). Only the thread that
        opened the batch defers; any other thread adds at once."""
        pending: dict[tuple[_Family, tuple[str, ...]], float] = {}
        self._local.pending = pending
        try:
            yield
        finally:
            self._local.pending = None
            for (family, key), value in pending.items():
                try:
                    family.inc(key, value)
                except Exception as exc:  # noqa: BLE001 - one series must not lose the others
                    self.internal_error("metrics", exc)

    def _add(self, family: _Family, key: tuple[str, ...], value: float) -> None:
        pending = getattr(self._local, "pending", None)
        if pending is None:
            family.inc(key, value)
        else:
            k = (family, key)
            pending[k] = pending[k] + value if k in pending else value

    # --- worker thread
    def chunk_intervals(self, record: Any, stamps: Sequence[float]) -> None:
        """One observation per chunk after the first. Prometheus gets them pre-aggregated (see
        :func:`observe_many`); the OTel instrument, when it records this histogram, one
        measurement per chunk (its API has no bulk record), looked up once per stream."""
        key = (record.operation, record.provider, record.request_model or "", record.response_model or "",
               record.error_type or "")
        family = self.tpoc
        gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        if family.prom is not None:
            observe_many(family.child(key), gaps)
        if family.otel is not None:
            record_otel, attrs = family.otel.record, family.attrs(key)
            for gap in gaps:
                record_otel(gap, attrs)

    def agent_run(self, op: str, name: str, error_type: str, duration: float) -> None:
        """One finished agent or workflow span (``op`` is ``invoke_agent`` or ``invoke_workflow``)."""
        self._agent_duration.observe((op, name, error_type), duration)

    def tool_run(self, name: str, tool_type: str, error_type: str, duration: float) -> None:
        """One finished tool span."""
        self._tool_duration.observe((names.OP_EXECUTE_TOOL, name, tool_type, error_type), duration)

    def estimated(self, record: Any, token_type: str, count: int) -> None:
        self._add(self.estimated_tokens, (record.operation, record.provider, record.request_model or "", token_type),
                  count)

    def processed(self, n: int) -> None:
        self._processed.inc((), n)

    def queue_depth(self, depth: int) -> None:
        if self._depth.prom is not None:
            self._depth.prom.set(depth)
        if self._depth.otel is not None and depth != self._depth_last:
            self._depth.otel.add(depth - self._depth_last, {})
        self._depth_last = depth

    # --- anywhere
    def feedback(self, req_model: str, kind: str, score: float) -> None:
        """One user feedback event, ``score`` already normalised to [0, 1]."""
        self._feedback.observe((req_model, kind), score)

    def dropped(self, reason: str, n: int = 1) -> None:
        try:
            self._dropped.inc((reason,), n)
        except Exception:  # noqa: BLE001 - counting a drop must never raise
            pass

    def internal_error(self, component: str, exc: BaseException | None = None) -> None:
        """Count and (rate-limited) log a failure inside llmwatch. Never raises."""
        try:
            self._errors.inc((component,))
            now = time.monotonic()
            if now - self._last_log.get(component, -1e9) >= 60.0:
                self._last_log[component] = now
                logger.warning("llmwatch: internal error in %s (counted; further ones logged at most once a "
                               "minute): %r", component, exc, exc_info=exc is not None and logger.isEnabledFor(10))
        except Exception:  # noqa: BLE001
            pass
