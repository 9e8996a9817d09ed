"""GPU metrics: names, units and labels from names.py, guarded NVML fields, the no-GPU path.

No GPU is available on the project's test machines, so the collector is driven by
``llmwatch.gpu.fake.FakeSource`` (a test double that returns given values). The no-GPU test uses
the *real* ``pynvml`` import and ``nvmlInit()``, which raises NVMLError_LibraryNotFound here.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from llmwatch import names as n
from llmwatch.gpu import GpuCollector, open_source, register_otel
from llmwatch.gpu.fake import FakeSource


def scrape(source) -> tuple[str, dict[str, list]]:
    registry = CollectorRegistry()
    registry.register(GpuCollector(source))
    text = generate_latest(registry).decode()
    samples: dict[str, list] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            samples.setdefault(s.name, []).append(s)
    return text, samples


def value(samples, name, **labels) -> float:
    hits = [s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(hits) == 1, (name, labels, samples.get(name))
    return hits[0]


def test_every_gpu_metric_is_exported_with_names_py_names_units_and_labels():
    src = FakeSource(gpus=2, processes=[{"pid": 4242, "name": "python3", "memory_bytes": 1 << 30}])
    src.set(1, utilization=0.875, memory_used=5 << 30, power_watts=301.25, throttle={"hw_thermal": True, "idle": False},
            ecc_errors={"corrected": 3, "uncorrected": 1})
    _, s = scrape(src)
    gpu1 = {"hw_id": "GPU-fake-0001-0000-0000-000000000000", "llmwatch_gpu_index": "1"}
    assert value(s, n.GPU_UTILIZATION.prom_name, **gpu1) == 0.875
    assert value(s, n.GPU_MEMORY_USAGE.prom_name, **gpu1) == 5 << 30
    assert value(s, n.GPU_MEMORY_LIMIT.prom_name, **gpu1) == 80 << 30
    assert value(s, n.GPU_POWER.prom_name, hw_type="gpu", **gpu1) == 301.25
    assert value(s, n.GPU_TEMPERATURE.prom_name, **gpu1) == 41.0
    assert value(s, n.GPU_ENERGY.prom_name, **gpu1) == pytest.approx(123456.789)
    assert value(s, n.GPU_CLOCK.prom_name, llmwatch_gpu_clock_domain="sm", **gpu1) == 1.41e9
    assert value(s, n.GPU_CLOCK.prom_name, llmwatch_gpu_clock_domain="memory", **gpu1) == 2.619e9
    assert value(s, n.GPU_THROTTLE_ACTIVE.prom_name, llmwatch_gpu_throttle_reason="hw_thermal", **gpu1) == 1
    assert value(s, n.GPU_THROTTLE_ACTIVE.prom_name, llmwatch_gpu_throttle_reason="idle", **gpu1) == 0
    assert value(s, n.GPU_ECC_ERRORS.prom_name, error_type="corrected", **gpu1) == 3
    assert value(s, n.GPU_ECC_ERRORS.prom_name, error_type="uncorrected", **gpu1) == 1
    assert value(s, n.GPU_PROCESS_MEMORY.prom_name, process_pid="4242", process_executable_name="python3",
                 llmwatch_gpu_index="0") == 1 << 30
    assert value(s, n.GPU_AVAILABLE.prom_name) == 1
    for spec in n.GPU_METRICS:
        for sample in s[spec.prom_series_names[0]]:
            assert set(sample.labels) == set(spec.labels), spec.prom_name
    assert {x.labels["hw_name"] for x in s[n.GPU_UTILIZATION.prom_name]} == {"NVIDIA H100 80GB HBM3 (fake)"}


def test_unsupported_fields_are_omitted_one_by_one_and_the_rest_still_exported():
    _, s = scrape(FakeSource(unsupported={"power_watts", "ecc_errors", "energy_joules", "throttle"}))
    for spec in (n.GPU_POWER, n.GPU_ECC_ERRORS, n.GPU_ENERGY, n.GPU_THROTTLE_ACTIVE):
        assert spec.prom_series_names[0] not in s
    assert value(s, n.GPU_UTILIZATION.prom_name) == 0.25
    assert value(s, n.GPU_AVAILABLE.prom_name) == 1


def test_no_gpu_with_the_real_pynvml_gives_available_0_one_log_line_and_nothing_else(caplog):
    pynvml = pytest.importorskip("pynvml")
    try:
        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        pytest.skip("this machine has a working NVML: the no-GPU path cannot be shown here")
    except pynvml.NVMLError:
        pass
    registry = CollectorRegistry()
    collector = GpuCollector(open_source("nvml"))
    registry.register(collector)
    with caplog.at_level("INFO", logger="llmwatch"):
        texts = [generate_latest(registry).decode() for _ in range(3)]
    for text in texts:
        lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
        assert lines == ["llmwatch_gpu_available 0.0"]
    warnings = [r for r in caplog.records if "no GPU metrics" in r.getMessage()]
    assert len(warnings) == 1 and "NVML" in warnings[0].getMessage()
    assert not collector.available and "LibraryNotFound" in collector.reason


def test_collector_output_passes_promtool_check_metrics():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool missing: apt-get install -y --no-install-recommends prometheus (scripts/test.sh does)")
    src = FakeSource(gpus=2, processes=[{"pid": 1, "name": "vllm", "memory_bytes": 123}])
    for text in (scrape(src)[0], scrape(FakeSource(unavailable="no driver"))[0]):
        proc = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
        assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
        assert proc.stdout.strip() == b"" and proc.stderr.strip() == b"", proc.stderr.decode()


def test_a_gpu_that_fails_to_read_is_skipped_without_failing_the_scrape():
    class Broken(FakeSource):
        def read(self, device):
            if device.index == 0:
                raise RuntimeError("GPU fell off the bus")
            return super().read(device)

    _, s = scrape(Broken(gpus=2))
    assert [x.labels["llmwatch_gpu_index"] for x in s[n.GPU_UTILIZATION.prom_name]] == ["1"]


def test_otel_observable_instruments_report_the_same_values():
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    src = FakeSource(gpus=1)
    src.set(0, utilization=0.5, ecc_errors={"corrected": 7, "uncorrected": 0})
    register_otel(provider.get_meter("test"), GpuCollector(src))
    got = {}
    for rm in reader.get_metrics_data().resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                got[m.name] = (m.unit, [(dict(p.attributes), p.value) for p in m.data.data_points])
    assert got["hw.gpu.utilization"][0] == "1"
    assert got["hw.gpu.utilization"][1] == [({"hw.id": "GPU-fake-0000-0000-0000-000000000000",
                                              "hw.name": "NVIDIA H100 80GB HBM3 (fake)", "llmwatch.gpu.index": "0"}, 0.5)]
    assert ({"hw.id": "GPU-fake-0000-0000-0000-000000000000", "hw.name": "NVIDIA H100 80GB HBM3 (fake)",
             "llmwatch.gpu.index": "0", "hw.type": "gpu", "error.type": "corrected"}, 7) in got["hw.errors"][1]
    assert got["llmwatch.gpu.available"][1] == [({}, 1)]
    assert src.reads == 1  # one collection reads each GPU once, not once per instrument
    provider.shutdown()
