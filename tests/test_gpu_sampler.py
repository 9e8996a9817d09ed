"""Per-request GPU attribution: the sampler's ring buffer and the span attributes of real calls.

No GPU here: the sampler reads ``llmwatch.gpu.fake.FakeSource`` (a test double), swapped in for
the NVML source through ``llmwatch.gpu.sampler.source_for_sdk``. Window tests pass explicit
sample times, so nothing depends on scheduling.
"""

from __future__ import annotations

import pytest

from llmwatch import names as n
from llmwatch.gpu import sampler as sampler_mod
from llmwatch.gpu.fake import FakeSource
from llmwatch.gpu.sampler import GpuSampler
from tests.conftest import USER

MIB = 1 << 20


class CountingMemory(FakeSource):
    """Memory in use grows by 1 MiB per read, so a window's delta = samples read since the baseline."""

    def utilization_and_memory(self):
        out = super().utilization_and_memory()
        self.set(0, memory_used=self._values[0]["memory_used"] + MIB)
        return out


def sampled(points, gpus=1, interval=1.0) -> GpuSampler:
    """A sampler holding samples at the given (time, utilization, memory) points."""
    src = FakeSource(gpus=gpus)
    s = GpuSampler(src, interval=interval)
    for t, util, mem in points:
        for i in range(gpus):
            src.set(i, utilization=util if not isinstance(util, tuple) else util[i], memory_used=mem)
        s.sample(now=t)
    return s


def test_window_mean_max_and_memory_delta_over_the_calls_own_samples():
    s = sampled([(0.0, 0.1, 100), (1.0, 0.5, 150), (2.0, 0.9, 300), (3.0, 0.2, 310), (4.0, 0.0, 50)])
    attrs = s.window(0.5, 3.5)
    assert attrs[n.LLMWATCH_GPU_SAMPLES] == 3
    assert attrs[n.LLMWATCH_GPU_UTILIZATION_MEAN] == pytest.approx((0.5 + 0.9 + 0.2) / 3)
    assert attrs[n.LLMWATCH_GPU_UTILIZATION_MAX] == 0.9
    assert attrs[n.LLMWATCH_GPU_MEMORY_DELTA] == 310 - 100  # last in window minus last before it


def test_overlapping_calls_each_get_the_whole_devices_figures_over_their_own_window():
    s = sampled([(t, u, m) for t, u, m in ((0, 0.0, 0), (1, 0.8, 10), (2, 0.8, 20), (3, 0.4, 20), (4, 0.0, 5))])
    a, b = s.window(0.5, 2.5), s.window(1.5, 3.5)  # overlap on [1.5, 2.5]
    assert a[n.LLMWATCH_GPU_UTILIZATION_MEAN] == pytest.approx(0.8)
    assert b[n.LLMWATCH_GPU_UTILIZATION_MEAN] == pytest.approx(0.6)
    assert a[n.LLMWATCH_GPU_MEMORY_DELTA] == 20 and b[n.LLMWATCH_GPU_MEMORY_DELTA] == 10  # not split


def test_a_call_shorter_than_the_interval_uses_the_nearest_sample():
    s = sampled([(0.0, 0.3, 100), (1.0, 0.7, 200)])
    attrs = s.window(0.9, 0.95)
    assert attrs[n.LLMWATCH_GPU_SAMPLES] == 1
    assert attrs[n.LLMWATCH_GPU_UTILIZATION_MEAN] == 0.7
    assert s.window(10.0, 10.01) == {}  # nothing near: no attributes rather than stale ones


def test_several_gpus_mean_over_gpus_max_over_gpus_and_samples_memory_summed():
    s = sampled([(0.0, (0.0, 0.0), 10), (1.0, (0.2, 1.0), 30)], gpus=2)
    attrs = s.window(0.5, 1.5)
    assert attrs[n.LLMWATCH_GPU_UTILIZATION_MEAN] == pytest.approx(0.6)
    assert attrs[n.LLMWATCH_GPU_UTILIZATION_MAX] == 1.0
    assert attrs[n.LLMWATCH_GPU_MEMORY_DELTA] == 2 * 30 - 2 * 10


def test_ring_buffer_is_bounded():
    s = GpuSampler(FakeSource(), interval=0.5, history_seconds=10)
    for i in range(1000):
        s.sample(now=float(i))
    assert len(s._ring) == 20


def test_init_gpu_true_puts_attribution_on_each_llm_span(observe, client, monkeypatch):
    src = CountingMemory(utilization=0.6)
    monkeypatch.setattr(sampler_mod, "source_for_sdk", lambda: src)
    obs = observe(gpu=True, gpu_sample_interval=0.01)
    client.chat.completions.create(model="gpt-4o-mini", messages=USER, extra_headers={"x-sim-latency-ms": "150"})
    (span,) = obs.spans()
    a = span.attributes
    assert a[n.LLMWATCH_GPU_UTILIZATION_MEAN] == pytest.approx(0.6)
    assert a[n.LLMWATCH_GPU_UTILIZATION_MAX] == pytest.approx(0.6)
    assert a[n.LLMWATCH_GPU_SAMPLES] >= 1
    assert a[n.LLMWATCH_GPU_MEMORY_DELTA] == a[n.LLMWATCH_GPU_SAMPLES] * MIB


def test_init_gpu_true_without_a_gpu_logs_once_and_calls_still_work(observe, client, caplog):
    pynvml = pytest.importorskip("pynvml")
    try:
        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        pytest.skip("this machine has a working NVML")
    except pynvml.NVMLError:
        pass
    with caplog.at_level("WARNING", logger="llmwatch"):
        obs = observe(gpu=True)
    client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    (span,) = obs.spans()
    assert not any(k.startswith("llmwatch.gpu.") for k in span.attributes)
    assert len([r for r in caplog.records if "no GPU can be read" in r.getMessage()]) == 1


def test_gpu_options_validate_at_init():
    from llmwatch.config import Config, ConfigError

    assert Config.resolve({}, environ={"LLMWATCH_GPU": "yes"}).gpu is True
    with pytest.raises(ConfigError, match="gpu_sample_interval"):
        Config.resolve({"gpu_sample_interval": 0})
