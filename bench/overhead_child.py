"""One configuration of the overhead benchmark, in a fresh process: ``bench/overhead.py`` runs this.

    python bench/overhead_child.py CONFIG --base-url URL [--cases chat,stream_20] [--calls N]

Prints one JSON line: per case, the caller thread's CPU per call (median and mean of per-call
``time.thread_time``), the whole process's CPU per call (``time.process_time`` over the timed
phase, which ends with a flush of the deferred work: llmwatch's record pipeline and store, and the
span processor), wall time per call, the garbage collector's work in the phase, and the CPU per
call of every thread by name (the caller, llmwatch's record worker and store threads, the span
processor): a thread's own clock needs no subtraction of another process's figure, so it is the
steadiest figure on a shared machine.

Configurations (only the standard library is imported before one is chosen, so the peer's
configuration runs in its own virtualenv without llmwatch's dependencies):

- ``bare``: the ``openai`` client alone.
- ``peer``: OpenTelemetry's ``opentelemetry-instrumentation-openai-v2`` with spans (batch
  processor, discarding exporter), OTel metrics (an SDK meter provider) and message content on
  spans (latest experimental GenAI conventions, ``span_only``).
- ``lw``: llmwatch with spans (same processor) and native Prometheus metrics; no store.
- ``lw-full``: llmwatch with spans, Prometheus, OTel metrics (same meter provider as the peer) and
  the SQLite prompt log (full-text search), content on; redaction off.
- ``lw-full-redact``: ``lw-full`` with redaction on (the product's default).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

MESSAGES = [{"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Summarise the benefits of observability in two sentences."}]


class _Gc:
    """Collections and the CPU they took (all threads) while enabled."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.cpu = [0.0, 0.0, 0.0]
        self._start: dict[int, float] = {}
        gc.callbacks.append(self._cb)

    def _cb(self, phase: str, info: dict[str, Any]) -> None:
        ident = threading.get_ident()
        if phase == "start":
            self._start[ident] = time.thread_time()
            return
        gen = info["generation"]
        self.count[gen] += 1
        self.cpu[gen] += time.thread_time() - self._start.pop(ident, time.thread_time())

    def snapshot(self) -> tuple[list[int], list[float]]:
        return list(self.count), list(self.cpu)


def _setup_otel() -> tuple[Any, Any, Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class DiscardExporter(SpanExporter):
        def __init__(self) -> None:
            self.count = 0

        def export(self, spans: Any) -> SpanExportResult:
            self.count += len(spans)
            return SpanExportResult.SUCCESS

    exporter = DiscardExporter()
    tp = TracerProvider()
    tp.add_span_processor(BatchSpanProcessor(exporter))
    # A reader that is never collected here: metrics are aggregated, as an app's would be between
    # exports; collection/export (periodic, on another schedule) is not part of a call's cost.
    mp = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return tp, mp, exporter


def configure(config: str, base_url: str, store_dir: str, scorers: tuple[str, ...]) -> tuple[Callable[[], None], Any]:
    """Instrument this process as ``config`` says; returns (flush, exporter or None)."""
    if config == "bare":
        return (lambda: None), None
    tp, mp, exporter = _setup_otel()
    if config == "peer":
        os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
        os.environ.setdefault("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "span_only")
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)
        return (lambda: tp.force_flush()), exporter
    from prometheus_client import CollectorRegistry

    import llmwatch

    full = config.startswith("lw-full")
    redact = config.endswith("-redact") or bool(scorers)
    llmwatch.init(tracer_provider=tp, meter_provider=mp if full else None, registry=CollectorRegistry(),
                  capture_content=True, prometheus=True, store=full,
                  store_url=f"sqlite:///{store_dir}/bench.db", redact=redact, scorers=scorers,
                  moderation_base_url=base_url)
    return (lambda: llmwatch.flush()), exporter


def cases(config: str, base_url: str, names: list[str]) -> dict[str, Callable[[], None]]:
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)

    def chat() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, temperature=0.2)

    def stream() -> None:
        for _ in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                extra_headers={"x-sim-chunks": "20"}):
            pass

    out: dict[str, Callable[[], None]] = {"chat": chat, "stream_20": stream}
    if any(n.startswith("anthropic") for n in names):
        import anthropic

        claude = anthropic.Anthropic(base_url=base_url.removesuffix("/v1"), api_key="sk-ant-bench", max_retries=0)

        def anthropic_chat() -> None:
            claude.messages.create(model="claude-haiku-4-5", max_tokens=256, system="You are terse.",
                                   messages=MESSAGES[1:])  # type: ignore[arg-type]

        def anthropic_stream() -> None:
            for _ in claude.messages.create(model="claude-haiku-4-5", max_tokens=256, messages=MESSAGES[1:],  # type: ignore[arg-type]
                                            stream=True, extra_headers={"x-sim-chunks": "20"}):
                pass

        out.update(anthropic_chat=anthropic_chat, anthropic_stream_20=anthropic_stream)
    if "chain_3_levels" in names:
        if config.startswith("lw"):
            import llmwatch

            lookup = llmwatch.tool(chat)
            researcher = llmwatch.agent(lambda: lookup())
            out["chain_3_levels"] = llmwatch.workflow(lambda: researcher())
        else:  # no parent spans without llmwatch: the same single call
            out["chain_3_levels"] = chat
    return {n: out[n] for n in names}


def thread_clocks() -> dict[str, int]:
    """CPU nanoseconds of every live thread, by name (numbered when names repeat)."""
    out: dict[str, int] = {}
    for t in threading.enumerate():
        if t.ident is None:
            continue
        try:
            ns = time.clock_gettime_ns(time.pthread_getcpuclockid(t.ident))
        except (OSError, AttributeError):  # a thread that just ended; or no per-thread clocks here
            continue
        name = "caller" if t is threading.main_thread() else t.name
        out[name if name not in out else f"{name}#{t.ident}"] = ns
    return out


def measure(fn: Callable[[], None], flush: Callable[[], None], calls: int, warmup: int, gcs: _Gc,
            rate: float = 0.0) -> dict[str, Any]:
    """Time ``calls`` calls of ``fn`` back to back, or paced at ``rate`` calls a second (an app
    that is not saturated: the deferred work then comes in smaller batches, and the background
    threads' wake-ups between calls count in the process CPU)."""
    for _ in range(warmup):
        fn()
    flush()
    gc.collect()  # the warm-up's (and imports') garbage is not this phase's
    thread: list[float] = []
    wall: list[float] = []
    gc0 = gcs.snapshot()
    t0 = thread_clocks()
    p0 = time.process_time_ns()
    w_all = time.perf_counter_ns()
    slot = time.perf_counter()
    for _ in range(calls):
        c0 = time.thread_time_ns()
        w0 = time.perf_counter_ns()
        fn()
        wall.append((time.perf_counter_ns() - w0) / 1000)
        thread.append((time.thread_time_ns() - c0) / 1000)
        if rate:
            slot += 1.0 / rate
            time.sleep(max(0.0, slot - time.perf_counter()))
    flush()  # deferred work (records, store, spans) lands in this phase's process CPU
    p1 = time.process_time_ns()
    t1 = thread_clocks()
    w_all = time.perf_counter_ns() - w_all
    gc1 = gcs.snapshot()
    # Threads alive at both ends (a thread that ended in between is in process_us only).
    threads = {k: (t1[k] - t0[k]) / 1000 / calls for k in t1 if k in t0}
    return {
        "caller_median_us": statistics.median(thread), "caller_mean_us": statistics.fmean(thread),
        "process_us": (p1 - p0) / 1000 / calls, "wall_median_us": statistics.median(wall),
        "phase_wall_us": w_all / 1000 / calls,
        "gc_collections": [b - a for a, b in zip(gc0[0], gc1[0])],
        "gc_us_per_call": [(b - a) * 1e6 / calls for a, b in zip(gc0[1], gc1[1])],
        "threads_us": threads,
    }


def switch(config: str, base_url: str, store_dir: str, scorers: tuple[str, ...]
           ) -> tuple[Callable[[], None], Callable[[], None], Callable[[], None]]:
    """For paired blocks in one process: ``(on, off, flush)``. llmwatch is initialised once and
    switched off by its own suppression flag (what it sets around its own provider calls: the
    wrapper then passes straight through), so nothing is re-initialised between blocks; the peer,
    which has no such flag, is instrumented and uninstrumented."""
    if config == "peer":
        tp, mp, _ = _setup_otel()
        os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
        os.environ.setdefault("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "span_only")
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        inst = OpenAIInstrumentor()
        return (lambda: inst.instrument(tracer_provider=tp, meter_provider=mp)), inst.uninstrument, \
            (lambda: tp.force_flush())
    flush, _ = configure(config, base_url, store_dir, scorers)
    from llmwatch.instrumentation.state import suppressed

    return (lambda: suppressed.set(False)), (lambda: suppressed.set(True)), flush


def paired(fn: Callable[[], None], on: Callable[[], None], off: Callable[[], None], flush: Callable[[], None],
           pairs: int, block: int, warmup: int, gcs: _Gc) -> dict[str, Any]:
    """``pairs`` pairs of short blocks in this process, the bare client and the configuration (the
    order flips every pair), each timed as :func:`measure` does (the configuration's block ends by
    flushing its deferred work). Each pair's difference is one sample: the machine's speed, which
    drifts by more than the effect on shared machines, changes little within a pair."""
    deltas: dict[str, list[float]] = {"caller_median_us": [], "process_us": []}
    for i in range(pairs):
        got: dict[str, dict[str, Any]] = {}
        for mode in (("bare", "on") if i % 2 == 0 else ("on", "bare")):
            (on if mode == "on" else off)()
            got[mode] = measure(fn, flush if mode == "on" else (lambda: None), block, warmup, gcs)
        for key in deltas:
            deltas[key].append(got["on"][key] - got["bare"][key])
    off()
    return {"paired": deltas, "pairs": pairs, "block": block}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config", choices=("bare", "peer", "lw", "lw-full", "lw-full-redact"))
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--cases", default="chat,stream_20")
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--scorers", default="")
    ap.add_argument("--pairs", type=int, default=0,
                    help="paired mode: this many (bare, configuration) pairs of --calls-call blocks in this process")
    ap.add_argument("--rate", type=float, default=0.0,
                    help="pace the timed calls at this many a second (0: back to back)")
    args = ap.parse_args()
    if args.rate and args.pairs:
        raise SystemExit("--rate applies to the fresh-process phase, not to paired blocks")
    names = [c for c in args.cases.split(",") if c]
    scorers = tuple(s for s in args.scorers.split(",") if s)
    gcs = _Gc()
    if args.pairs:
        if args.config == "bare":
            raise SystemExit("paired mode compares a configuration with the bare client: pick one")
        with tempfile.TemporaryDirectory(prefix="llmwatch-bench-") as store_dir:
            on, off, flush = switch(args.config, args.base_url, store_dir, scorers)
            fns = cases(args.config, args.base_url, names)
            out: dict[str, Any] = {"config": args.config}
            for name, fn in fns.items():
                block = args.calls if "stream" not in name else max(1, args.calls // 2)
                out[name] = paired(fn, on, off, flush, args.pairs, block, args.warmup, gcs)
            if args.config.startswith("lw"):
                import llmwatch

                llmwatch.shutdown()
        print(json.dumps(out))
        return 0
    with tempfile.TemporaryDirectory(prefix="llmwatch-bench-") as store_dir:
        flush, exporter = configure(args.config, args.base_url, store_dir, scorers)
        fns = cases(args.config, args.base_url, names)
        import openai

        result: dict[str, Any] = {"config": args.config, "python": sys.version.split()[0],
                                  "versions": {"openai": openai.__version__}}
        for name, fn in fns.items():
            result[name] = measure(fn, flush, args.calls if "stream" not in name else max(1, args.calls // 2),
                                   args.warmup, gcs, args.rate)
        result["spans_exported"] = exporter.count if exporter is not None else 0
        if args.config.startswith("lw"):
            import llmwatch

            llmwatch.shutdown()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
