"""The seam between llmwatch and the GPU driver: what a GPU source must provide.

Two implementations: :class:`llmwatch.gpu.nvml.NvmlSource` (the real one, ``nvidia-ml-py``) and
:class:`llmwatch.gpu.fake.FakeSource` (a test double for machines without a GPU). The collector
and the sampler use only this protocol and never branch on which one they hold.

Every reading field is optional: a value the driver does not support on this model (NVML's
``NotSupported`` is common) is ``None`` and its series is simply absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class GpuUnavailable(RuntimeError):
    """No GPU can be read: library missing, driver not loaded, no device. The message says which."""


@dataclass(frozen=True)
class GpuDevice:
    index: int
    uuid: str
    name: str


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    name: str
    memory_bytes: int | None


@dataclass
class GpuReading:
    """One GPU at one moment. Units are the exported ones (fractions, bytes, W, J, Hz, Celsius)."""

    device: GpuDevice
    utilization: float | None = None  # 0..1
    memory_used: int | None = None
    memory_total: int | None = None
    temperature: float | None = None
    power_watts: float | None = None
    energy_joules: float | None = None
    sm_clock_hz: float | None = None
    memory_clock_hz: float | None = None
    throttle: dict[str, bool] | None = None  # reason -> active
    ecc_errors: dict[str, int] | None = None  # "corrected" | "uncorrected" -> count
    processes: list[GpuProcess] = field(default_factory=list)


@runtime_checkable
class GpuSource(Protocol):
    """What the collector and sampler need from a GPU driver binding."""

    def open(self) -> None:
        """Initialise; raise :class:`GpuUnavailable` (with the reason) if no GPU can be read."""

    def devices(self) -> Sequence[GpuDevice]:
        """The GPUs, in index order (valid after :meth:`open`)."""

    def read(self, device: GpuDevice) -> GpuReading:
        """Everything about one GPU; each field guarded separately (unsupported -> None)."""

    def utilization_and_memory(self) -> list[tuple[float | None, int | None]]:
        """The sampler's cheap read: (utilization 0..1, memory used bytes) per GPU."""

    def close(self) -> None:
        """Release the driver; safe to call twice."""


def open_source(kind: str = "nvml", **options: object) -> GpuSource:
    """A GPU source by name: ``"nvml"`` (real) or ``"fake"`` (test double); not yet opened."""
    if kind == "nvml":
        from llmwatch.gpu.nvml import NvmlSource

        return NvmlSource()
    if kind == "fake" or kind.startswith("fake:"):
        from llmwatch.gpu.fake import FakeSource

        path = kind.partition(":")[2]
        return FakeSource.from_file(path) if path else FakeSource(**options)  # type: ignore[arg-type]
    raise ValueError(f"unknown GPU source {kind!r}: expected nvml, fake or fake:/path/to/fake.json")
