"""Where a stream's per-chunk timings go, and the pre-aggregated Prometheus update that carries them.

Real openai client against the simulator, a real OTel SDK meter provider with an in-memory reader
(the SDK's own), and prometheus_client registries.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import CollectorRegistry, Histogram, generate_latest

import llmwatch
from llmwatch import names as n
from llmwatch.metrics.instruments import observe_many

USER = [{"role": "user", "content": "Say hello in five words."}]
BUCKETS = n.TIME_PER_OUTPUT_CHUNK.buckets


def _otel_metrics(reader: InMemoryMetricReader) -> dict[str, object]:
    data = reader.get_metrics_data()
    if data is None:
        return {}
    return {m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}


def _stream(client, chunks: int = 12) -> int:
    got = list(client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True,
                                              extra_headers={"x-sim-chunks": str(chunks)}))
    return len(got)


@pytest.mark.parametrize(("setting", "prometheus", "otel_has_chunks"), [
    ("auto", True, False),   # the default: Prometheus records it, one path
    ("auto", False, True),   # OTel is the only metric path: it records it
    ("on", True, True),
    ("off", False, False),
])
def test_per_chunk_histogram_goes_through_one_path_unless_asked(client, setting, prometheus, otel_has_chunks):
    reader = InMemoryMetricReader()
    registry = CollectorRegistry()
    llmwatch.init(meter_provider=MeterProvider(metric_readers=[reader]), registry=registry, store=False,
                  prometheus=prometheus, otel_chunk_metrics=setting)
    try:
        received = _stream(client)
        llmwatch.flush()
        otel = _otel_metrics(reader)
        # per-call metrics are on the OTel path whatever the setting
        assert n.OPERATION_DURATION.otel_name in otel and n.TIME_TO_FIRST_CHUNK.otel_name in otel
        assert (n.TIME_PER_OUTPUT_CHUNK.otel_name in otel) is otel_has_chunks
        if otel_has_chunks:
            points = otel[n.TIME_PER_OUTPUT_CHUNK.otel_name].data.data_points  # type: ignore[attr-defined]
            assert sum(p.count for p in points) == received - 1
        prom = sum(s.value for m in registry.collect() for s in m.samples
                   if s.name == n.TIME_PER_OUTPUT_CHUNK.prom_name + "_count")
        assert prom == (received - 1 if prometheus else 0)
    finally:
        llmwatch.shutdown()


def test_a_bad_setting_is_refused_with_what_is_accepted():
    with pytest.raises(llmwatch.ConfigError, match=r"otel_chunk_metrics.*auto.*on.*off"):
        llmwatch.init(otel_chunk_metrics="sometimes", store=False, registry=CollectorRegistry())


def _exposition(values: list[float], bulk: bool) -> bytes:
    registry = CollectorRegistry()
    h = Histogram("x_seconds", "x", ["model"], registry=registry, buckets=BUCKETS)
    child = h.labels("m")
    if bulk:
        observe_many(child, values)
    else:
        for v in values:
            child.observe(v)
    return b"\n".join(line for line in generate_latest(registry).splitlines() if b"_created" not in line)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([float(b) for b in BUCKETS if math.isfinite(b)]),  # on a bound
                          st.floats(min_value=0.0, max_value=200.0, allow_nan=False)), max_size=60))
def test_bulk_observation_exposes_exactly_what_one_observe_per_value_does(values):
    # sums may differ in the last bit (added in another order); compare them apart, exactly otherwise
    def split(text: bytes) -> tuple[list[bytes], float]:
        lines = text.splitlines()
        total = next(float(line.split()[-1]) for line in lines if line.startswith(b"x_seconds_sum"))
        return [line for line in lines if not line.startswith(b"x_seconds_sum")], total

    bulk_lines, bulk_sum = split(_exposition(values, bulk=True))
    one_lines, one_sum = split(_exposition(values, bulk=False))
    assert bulk_lines == one_lines
    assert math.isclose(bulk_sum, one_sum, rel_tol=1e-9, abs_tol=1e-12)


def test_bulk_observation_falls_back_to_observe_on_an_unfamiliar_child():
    class Child:
        def __init__(self) -> None:
            self.seen: list[float] = []

        def observe(self, v: float) -> None:
            self.seen.append(v)

    c = Child()
    observe_many(c, [0.1, 0.2])
    assert c.seen == [0.1, 0.2]
