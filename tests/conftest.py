"""Shared fixtures: a real OpenAI-compatible simulator on 127.0.0.1 and an observed llmwatch.

The ``observed`` fixture starts llmwatch with an in-memory span exporter (the OTel SDK's own),
a fresh Prometheus registry and a collecting sink, and shuts it down after the test, so every
test starts unpatched.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator

import pytest

from llmwatch.testing.simulator import Simulator


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    with Simulator() as s:
        yield s


class CollectingSink:
    """A sink that keeps what it receives (what the prompt-log store would get)."""

    def __init__(self) -> None:
        self.records: list[Any] = []
        self._lock = threading.Lock()

    def write(self, records: Any) -> None:
        with self._lock:
            self.records.extend(records)

    def close(self) -> None:
        pass


class Observed:
    def __init__(self, exporter: Any, registry: Any, sink: CollectingSink, config: Any) -> None:
        self.exporter = exporter
        self.registry = registry
        self.sink = sink
        self.config = config

    def flush(self) -> None:
        import llmwatch

        assert llmwatch.flush(10.0)

    def spans(self) -> list[Any]:
        self.flush()
        return list(self.exporter.get_finished_spans())

    def records(self) -> list[Any]:
        self.flush()
        return list(self.sink.records)

    def value(self, name: str, **labels: str) -> float:
        """Sum of a sample over every series whose labels include ``labels`` (0.0 if none)."""
        self.flush()
        total = 0.0
        for metric in self.registry.collect():
            for s in metric.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    total += s.value
        return total


@pytest.fixture
def observe() -> Iterator[Callable[..., Observed]]:
    """``observe(**options)`` -> :class:`Observed` with llmwatch initialised; shut down afterwards."""
    import llmwatch
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from prometheus_client import CollectorRegistry

    started: list[Any] = []

    def start(**options: Any) -> Observed:
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        registry = CollectorRegistry()
        sink = CollectingSink()
        options.setdefault("store", False)
        config = llmwatch.init(tracer_provider=provider, registry=registry, sinks=[sink], **options)
        started.append(provider)
        return Observed(exporter, registry, sink, config)

    yield start
    llmwatch.shutdown()


@pytest.fixture
def client(sim: Simulator) -> Any:
    import openai

    return openai.OpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=0)


@pytest.fixture
def aclient(sim: Simulator) -> Any:
    import openai

    return openai.AsyncOpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=0)


USER = [{"role": "user", "content": "Tell me about observability."}]
