"""The real GPU source: NVIDIA's NVML through ``nvidia-ml-py`` (imported as ``pynvml``).

Each NVML call is guarded on its own: many are ``NotSupported`` on some boards (power on
consumer cards, ECC on GeForce, per-process memory under some container runtimes), and one
missing value must not hide the rest. NVML units are converted here: power mW -> W, energy mJ ->
J, clocks MHz -> Hz, utilisation % -> fraction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from llmwatch.gpu.source import GpuDevice, GpuProcess, GpuReading, GpuUnavailable

logger = logging.getLogger("llmwatch")
T = TypeVar("T")

# NVML clocks-event (formerly "throttle") reason bits -> the label values names.py documents.
_THROTTLE_BITS = (
    ("nvmlClocksEventReasonGpuIdle", "idle"),
    ("nvmlClocksEventReasonSwPowerCap", "sw_power_cap"),
    ("nvmlClocksEventReasonHwSlowdown", "hw_slowdown"),
    ("nvmlClocksEventReasonSyncBoost", "sync_boost"),
    ("nvmlClocksEventReasonSwThermalSlowdown", "sw_thermal"),
    ("nvmlClocksEventReasonHwThermalSlowdown", "hw_thermal"),
    ("nvmlClocksEventReasonHwPowerBrakeSlowdown", "hw_power_brake"),
)


def _text(v: Any) -> str:
    return v.decode(errors="replace") if isinstance(v, bytes) else str(v)


class NvmlSource:
    """:class:`~llmwatch.gpu.source.GpuSource` over NVML. ``open()`` raises GpuUnavailable without a GPU."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._handles: list[tuple[GpuDevice, Any]] = []
        self._lock = threading.Lock()
        self._failed: set[str] = set()

    def open(self) -> None:
        try:
            import pynvml
        except ImportError:
            raise GpuUnavailable("nvidia-ml-py is not installed (pip install 'llmwatch[gpu]')") from None
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            raise GpuUnavailable(f"NVML could not initialise: {type(exc).__name__}: {exc}") from None
        except OSError as exc:  # a broken libnvidia-ml.so
            raise GpuUnavailable(f"NVML could not be loaded: {exc}") from None
        self._nvml = pynvml
        try:
            handles = []
            for i in range(pynvml.nvmlDeviceGetCount()):
                h = pynvml.nvmlDeviceGetHandleByIndex(i)
                uuid = self._guard("uuid", lambda: _text(pynvml.nvmlDeviceGetUUID(h))) or f"GPU-index-{i}"  # noqa: B023 - _guard calls it at once
                name = self._guard("name", lambda: _text(pynvml.nvmlDeviceGetName(h))) or "unknown"  # noqa: B023 - _guard calls it at once
                handles.append((GpuDevice(i, uuid, name), h))
        except pynvml.NVMLError as exc:
            self.close()
            raise GpuUnavailable(f"NVML could not list the GPUs: {exc}") from None
        self._handles = handles

    def devices(self) -> list[GpuDevice]:
        return [d for d, _ in self._handles]

    def _guard(self, what: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except self._nvml.NVMLError as exc:
            if what not in self._failed:  # log each unsupported field once, not every scrape
                self._failed.add(what)
                logger.info("llmwatch: NVML %s unavailable on this GPU/driver (%s); that series is omitted",
                            what, type(exc).__name__)
            return None

    def _handle(self, device: GpuDevice) -> Any:
        return self._handles[device.index][1]

    def read(self, device: GpuDevice) -> GpuReading:
        nv, h, g = self._nvml, self._handle(device), self._guard
        r = GpuReading(device)
        util = g("utilization", lambda: nv.nvmlDeviceGetUtilizationRates(h))
        if util is not None:
            r.utilization = util.gpu / 100.0
        mem = g("memory", lambda: nv.nvmlDeviceGetMemoryInfo(h))
        if mem is not None:
            r.memory_used, r.memory_total = int(mem.used), int(mem.total)
        r.temperature = g("temperature", lambda: float(nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU)))
        mw = g("power", lambda: nv.nvmlDeviceGetPowerUsage(h))
        r.power_watts = None if mw is None else mw / 1000.0
        mj = g("energy", lambda: nv.nvmlDeviceGetTotalEnergyConsumption(h))
        r.energy_joules = None if mj is None else mj / 1000.0
        sm = g("sm_clock", lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM))
        r.sm_clock_hz = None if sm is None else sm * 1e6
        mc = g("memory_clock", lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_MEM))
        r.memory_clock_hz = None if mc is None else mc * 1e6
        r.throttle = g("throttle_reasons", lambda: self._throttle(h))
        r.ecc_errors = g("ecc_errors", lambda: self._ecc(h))
        r.processes = g("processes", lambda: self._processes(h)) or []
        return r

    def _throttle(self, h: Any) -> dict[str, bool]:
        nv = self._nvml
        get = (getattr(nv, "nvmlDeviceGetCurrentClocksEventReasons", None)
               or nv.nvmlDeviceGetCurrentClocksThrottleReasons)
        mask = get(h)
        return {label: bool(mask & getattr(nv, bit)) for bit, label in _THROTTLE_BITS if hasattr(nv, bit)}

    def _ecc(self, h: Any) -> dict[str, int]:
        nv = self._nvml
        return {kind: int(nv.nvmlDeviceGetTotalEccErrors(h, code, nv.NVML_VOLATILE_ECC))
                for kind, code in (("corrected", nv.NVML_MEMORY_ERROR_TYPE_CORRECTED),
                                   ("uncorrected", nv.NVML_MEMORY_ERROR_TYPE_UNCORRECTED))}

    def _processes(self, h: Any) -> list[GpuProcess]:
        nv = self._nvml
        out = []
        for p in nv.nvmlDeviceGetComputeRunningProcesses(h):
            used = getattr(p, "usedGpuMemory", None)
            out.append(GpuProcess(int(p.pid), self._process_name(int(p.pid)), None if used is None else int(used)))
        return out

    def _process_name(self, pid: int) -> str:
        try:
            name = _text(self._nvml.nvmlSystemGetProcessName(pid))
            if name:
                return Path(name).name
        except Exception:  # noqa: BLE001 - pid from another namespace, or not permitted
            pass
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return ""

    def utilization_and_memory(self) -> list[tuple[float | None, int | None]]:
        nv, out = self._nvml, []
        for _, h in self._handles:
            util = self._guard("utilization", lambda: nv.nvmlDeviceGetUtilizationRates(h))  # noqa: B023 - _guard calls it at once
            mem = self._guard("memory", lambda: nv.nvmlDeviceGetMemoryInfo(h))  # noqa: B023 - _guard calls it at once
            out.append((None if util is None else util.gpu / 100.0, None if mem is None else int(mem.used)))
        return out

    def close(self) -> None:
        nv, self._nvml = self._nvml, None
        self._handles = []
        if nv is not None:
            try:
                nv.nvmlShutdown()
            except Exception:  # noqa: BLE001
                pass
