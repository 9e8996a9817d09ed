"""Per-request GPU attribution: NVML sampled into a ring buffer, summarised over each call's window.

``llmwatch.init(gpu=True)`` starts a :class:`GpuSampler` thread that reads every GPU's
utilisation and memory in use each ``gpu_sample_interval`` seconds into a bounded ring buffer
(10 minutes of history by default). When a call completes, the span enricher (run on the
pipeline worker, never on the caller's thread) takes the samples inside the call's window
``[t0, t0 + duration]`` (``time.perf_counter`` stamps) and sets on the span:

- ``llmwatch.gpu.utilization.mean`` / ``.max``: utilisation (0..1) over the window; with several
  GPUs a sample's utilisation is the mean over GPUs, the max is over GPUs and samples;
- ``llmwatch.gpu.memory.delta``: bytes in use (summed over GPUs) at the last sample of the window
  minus at the last sample before it;
- ``llmwatch.gpu.samples``: how many samples the figures are based on.

A call shorter than the interval may hold no sample: then the nearest one (before or after, if
within one interval of the window) stands in, and ``samples`` is 1.

Overlapping requests: GPU counters are device-wide, so each call gets the figures of the whole
device over its own window, *not* a share. Two concurrent calls on a busy GPU both report high
utilisation, and a memory delta includes what concurrent calls allocated (or freed). Compare
calls by their windows, not by summing attributes across calls.
"""

from __future__ import annotations

import collections
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from llmwatch import names as n
from llmwatch.gpu.source import GpuSource, GpuUnavailable

logger = logging.getLogger("llmwatch")


class GpuSampler:
    """Background sampler + ring buffer; :meth:`enrich` is a ``State.span_enrichers`` function."""

    def __init__(self, source: GpuSource, interval: float = 0.1, history_seconds: float = 600.0,
                 clock: Any = time.perf_counter) -> None:
        self.source = source
        self.interval = interval
        self.clock = clock
        self._ring: collections.deque[tuple[float, float, float, int | None]] = collections.deque(
            maxlen=max(16, math.ceil(history_seconds / interval)))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def open(self) -> bool:
        """Open the source; False (and one log line) without a usable GPU."""
        try:
            self.source.open()
        except GpuUnavailable as exc:
            logger.warning("llmwatch: gpu=True but no GPU can be read (%s): spans get no GPU attributes", exc)
            return False
        return True

    def start(self) -> bool:
        """Open the source and start sampling; False when no GPU can be read."""
        if not self.open():
            return False
        self.sample()
        self._thread = threading.Thread(target=self._run, name="llmwatch-gpu-sampler", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception as exc:  # noqa: BLE001 - a failing read must not kill the sampler
                logger.debug("llmwatch: GPU sample failed: %r", exc)

    def sample(self, now: float | None = None) -> None:
        """Take one sample now (the thread calls this; tests call it with explicit times)."""
        per_gpu = self.source.utilization_and_memory()
        utils = [u for u, _ in per_gpu if u is not None]
        mems = [m for _, m in per_gpu if m is not None]
        if not utils and not mems:
            return
        t = self.clock() if now is None else now
        entry = (t, sum(utils) / len(utils) if utils else math.nan, max(utils) if utils else math.nan,
                 sum(mems) if mems else None)
        with self._lock:
            self._ring.append(entry)

    def window(self, t0: float, t1: float) -> dict[str, Any]:
        """The span attributes for a call that ran from ``t0`` to ``t1`` (perf_counter seconds)."""
        inside: list[tuple[float, float, float, int | None]] = []
        before = after = None
        with self._lock:
            for entry in reversed(self._ring):
                if entry[0] > t1:
                    after = entry
                elif entry[0] >= t0:
                    inside.append(entry)
                else:
                    before = entry
                    break
        inside.reverse()
        used = inside
        if not used:
            near = [e for e in (before, after)
                    if e is not None and min(abs(e[0] - t0), abs(e[0] - t1)) <= self.interval]
            used = [min(near, key=lambda e: min(abs(e[0] - t0), abs(e[0] - t1)))] if near else []
        if not used:
            return {}
        attrs: dict[str, Any] = {n.LLMWATCH_GPU_SAMPLES: len(used)}
        means = [e[1] for e in used if not math.isnan(e[1])]
        if means:
            attrs[n.LLMWATCH_GPU_UTILIZATION_MEAN] = sum(means) / len(means)
            attrs[n.LLMWATCH_GPU_UTILIZATION_MAX] = max(e[2] for e in used if not math.isnan(e[2]))
        base = before if before is not None else (inside[0] if inside else None)
        end = inside[-1] if inside else before
        if base is not None and end is not None and base[3] is not None and end[3] is not None:
            attrs[n.LLMWATCH_GPU_MEMORY_DELTA] = end[3] - base[3]
        return attrs

    def enrich(self, call: Any, attrs: dict[str, Any]) -> None:
        attrs.update(self.window(call.t0, call.t0 + call.duration))

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5.0)
        self.source.close()


# ---------------------------------------------------------------------------------------------
# init(gpu=True) / shutdown(): registered as an llmwatch._runtime extension hook pair.
# ---------------------------------------------------------------------------------------------
_ACTIVE: list[GpuSampler] = []


def source_for_sdk() -> GpuSource:
    """The GPU source ``init(gpu=True)`` samples (NVML); tests replace it with the fake source."""
    from llmwatch.gpu.source import open_source

    return open_source("nvml")


def start(state: Any) -> Callable[[], None] | None:
    """``init(gpu=True)``: sample the GPUs and put each call's figures on its span; returns the
    sampler's stop (its ring buffer stays readable for the last calls' enrichers)."""
    config = state.config
    if not config.gpu:
        return None
    sampler = GpuSampler(source_for_sdk(), interval=config.gpu_sample_interval)
    if not sampler.start():
        return None
    state.span_enrichers.append(sampler.enrich)
    return sampler.stop
