"""Serving ``/metrics``: the app's registry, or every process's values in multiprocess mode."""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server


def serving_registry(registry: Any = None) -> Any:
    """The registry to expose. With ``PROMETHEUS_MULTIPROC_DIR`` set, a fresh registry that
    aggregates the files every worker process writes (prometheus_client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]  # unannotated upstream
        return merged
    return REGISTRY if registry is None else registry


def start_metrics_server(host: str, port: int, registry: Any = None) -> Any:
    """Start a daemon-thread HTTP server for ``/metrics``; returns it (``.server_port``, ``.shutdown()``)."""
    server, _thread = start_http_server(port, addr=host, registry=serving_registry(registry))
    return server
