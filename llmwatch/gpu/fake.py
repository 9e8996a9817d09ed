"""A fake GPU source: a test double for machines without an NVIDIA GPU (CI, laptops).

It is *not* a simulation of NVML: it returns whatever values it was given, so tests can check
the collector's names, units and labels, the "not supported" paths (``unsupported={"power"}``),
the no-GPU path (``unavailable="..."``) and the sampler's windows. The real path is
:class:`llmwatch.gpu.nvml.NvmlSource`; this one exists because the project's test machines have
no GPU.

    src = FakeSource(gpus=2, utilization=0.5)
    src.set(0, utilization=0.9, memory_used=3 << 30)

The agent can run on it for demos and its own tests: ``gpu_source = "fake:/path/fake.json"``,
where the JSON holds the constructor's keyword arguments.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llmwatch.gpu.source import GpuDevice, GpuProcess, GpuReading, GpuUnavailable

_DEFAULTS: dict[str, Any] = {
    "utilization": 0.25, "memory_used": 2 << 30, "memory_total": 80 << 30, "temperature": 41.0,
    "power_watts": 120.5, "energy_joules": 123456.789, "sm_clock_hz": 1.41e9, "memory_clock_hz": 2.619e9,
    "throttle": {"idle": False, "sw_power_cap": False, "hw_slowdown": False, "sync_boost": False,
                 "sw_thermal": False, "hw_thermal": False, "hw_power_brake": False},
    "ecc_errors": {"corrected": 0, "uncorrected": 0},
}


class FakeSource:
    """:class:`~llmwatch.gpu.source.GpuSource` returning given values (see module docstring)."""

    def __init__(self, gpus: int = 1, name: str = "NVIDIA H100 80GB HBM3 (fake)", unavailable: str | None = None,
                 unsupported: Iterable[str] = (), processes: Iterable[dict[str, Any]] = (),
                 read_delay: float = 0.0, read_marker: str | None = None, **values: Any) -> None:
        unknown = set(values) - set(_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown fake GPU field(s) {sorted(unknown)}; known: {sorted(_DEFAULTS)}")
        self.unavailable = unavailable
        self.unsupported = set(unsupported)
        self.read_delay = read_delay
        self.read_marker = read_marker
        self._devices = [GpuDevice(i, f"GPU-fake-{i:04d}-0000-0000-000000000000", name) for i in range(gpus)]
        self._values = [{**_DEFAULTS, **values} for _ in range(gpus)]
        self._processes = [GpuProcess(int(p["pid"]), str(p.get("name", "")), p.get("memory_bytes"))
                           for p in processes]
        self._lock = threading.Lock()
        self.opened = False
        self.reads = 0

    @classmethod
    def from_file(cls, path: str) -> FakeSource:
        return cls(**json.loads(Path(path).read_text()))

    def set(self, index: int, **values: Any) -> None:
        """Change what GPU ``index`` reports from now on."""
        with self._lock:
            self._values[index].update(values)

    def open(self) -> None:
        if self.unavailable:
            raise GpuUnavailable(self.unavailable)
        self.opened = True

    def devices(self) -> list[GpuDevice]:
        return list(self._devices)

    def _get(self, index: int, key: str) -> Any:
        return None if key in self.unsupported else self._values[index][key]

    def read(self, device: GpuDevice) -> GpuReading:
        if self.read_marker:
            Path(self.read_marker).touch()
        if self.read_delay:
            time.sleep(self.read_delay)  # lets tests hold a scrape in flight (graceful-drain test)
        with self._lock:
            self.reads += 1
            def g(k: str) -> Any:
                return self._get(device.index, k)

            throttle, ecc = g("throttle"), g("ecc_errors")
            return GpuReading(
                device, utilization=g("utilization"), memory_used=g("memory_used"),
                memory_total=g("memory_total"), temperature=g("temperature"), power_watts=g("power_watts"),
                energy_joules=g("energy_joules"), sm_clock_hz=g("sm_clock_hz"),
                memory_clock_hz=g("memory_clock_hz"), throttle=None if throttle is None else dict(throttle),
                ecc_errors=None if ecc is None else dict(ecc),
                processes=[] if "processes" in self.unsupported or device.index else list(self._processes))

    def utilization_and_memory(self) -> list[tuple[float | None, int | None]]:
        with self._lock:
            return [(self._get(d.index, "utilization"), self._get(d.index, "memory_used")) for d in self._devices]

    def close(self) -> None:
        self.opened = False
