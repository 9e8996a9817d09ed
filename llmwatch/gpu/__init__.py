"""GPU telemetry: NVML readings behind a small protocol, a Prometheus/OTel collector, and the
SDK's per-request sampler.

    from llmwatch.gpu import open_source, GpuCollector
    registry.register(GpuCollector(open_source("nvml")))   # llmwatch_gpu_available 0 without a GPU
"""

from __future__ import annotations

from llmwatch.gpu.collector import GpuCollector, register_otel
from llmwatch.gpu.source import GpuDevice, GpuReading, GpuSource, GpuUnavailable, open_source

__all__ = ["GpuCollector", "register_otel", "GpuDevice", "GpuReading", "GpuSource", "GpuUnavailable",
           "open_source"]
