"""Per-call overhead of llmwatch, side by side with the bare openai client, in one run.

    python bench/overhead.py [--rounds 30] [--calls 50] [--store]

The simulator runs in a separate process. In one process the benchmark alternates rounds of bare
calls (llmwatch's patches removed) and instrumented calls (A B A B ...), so both see the same
machine noise. llmwatch runs as a demanding user would configure it: content capture on, spans
through a BatchSpanProcessor to a discarding exporter, Prometheus metrics on, call records
enqueued to the pipeline (with ``--store``: into a SQLite prompt log as well).

Reported per call, for non-streaming chat, 20-chunk streaming chat, and a 3-level chain
(``@llmwatch.workflow`` -> ``@llmwatch.agent`` -> ``@llmwatch.tool`` -> one chat call; per chain:
three parent spans with roll-ups and rows, plus the call):
  - caller-thread CPU µs added (``time.thread_time``): what the app's own thread pays;
  - process CPU µs added (``time.process_time``, all threads incl. the record worker and span
    exporter), measured per round;
  - the ratio instrumented / bare of caller-thread CPU and of wall time.
Absolute times on shared machines are noise; the differences and ratios come from one run.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

import openai
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry

import llmwatch
from llmwatch import _runtime
from llmwatch.tracing import decorators as tracing
from llmwatch.instrumentation import openai as openai_instr

try:  # the non-OpenAI case runs when the anthropic SDK is installed (pip install 'llmwatch[anthropic]')
    import anthropic as _anthropic_sdk  # noqa: F401

    from llmwatch.instrumentation import anthropic as anthropic_instr
except ImportError:
    anthropic_instr = None  # type: ignore[assignment]


class DiscardExporter(SpanExporter):
    def __init__(self) -> None:
        self.count = 0

    def export(self, spans):  # noqa: ANN001
        self.count += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class DiscardSink:
    def __init__(self) -> None:
        self.count = 0

    def write(self, records):  # noqa: ANN001
        self.count += len(records)

    def close(self) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llmwatch.cli", "simulate", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/models", timeout=1).read()
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("simulator did not start")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run(rounds: int, calls: int, store: bool, scorers: tuple[str, ...] = (), redact: bool = False) -> dict:
    proc, base = start_simulator()
    tmp = tempfile.mkdtemp(prefix="llmwatch-bench-")
    try:
        exporter = DiscardExporter()
        tp = TracerProvider()
        tp.add_span_processor(BatchSpanProcessor(exporter))
        sink = DiscardSink()
        llmwatch.init(tracer_provider=tp, registry=CollectorRegistry(), sinks=[sink], capture_content=True,
                      store=store, store_url=f"sqlite:///{tmp}/bench.db", prometheus=True,
                      scorers=scorers, redact=redact or bool(scorers), moderation_base_url=base)
        state = openai_instr._STATE
        client = openai.OpenAI(base_url=base, api_key="sk-bench", max_retries=0)
        messages = [{"role": "system", "content": "You are terse."},
                    {"role": "user", "content": "Summarise the benefits of observability in two sentences."}]

        def chat() -> None:
            client.chat.completions.create(model="gpt-4o-mini", messages=messages, temperature=0.2)

        def stream() -> None:
            for _ in client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True,
                                                    extra_headers={"x-sim-chunks": "20"}):
                pass

        cases = [("chat", chat), ("stream_20_chunks", stream)]
        claude: Any = None
        if anthropic_instr is not None:
            import anthropic

            claude = anthropic.Anthropic(base_url=base.removesuffix("/v1"), api_key="sk-ant-bench", max_retries=0)
            user = messages[1:]

            def anthropic_chat() -> None:
                claude.messages.create(model="claude-haiku-4-5", max_tokens=256, system="You are terse.",
                                       messages=user)

            def anthropic_stream() -> None:
                for _ in claude.messages.create(model="claude-haiku-4-5", max_tokens=256, messages=user, stream=True,
                                                extra_headers={"x-sim-chunks": "20"}):
                    pass

            cases += [("anthropic_chat", anthropic_chat), ("anthropic_stream_20", anthropic_stream)]

        @llmwatch.tool
        def lookup() -> None:
            chat()

        @llmwatch.agent
        def researcher() -> None:
            lookup()

        @llmwatch.workflow
        def chain() -> None:
            researcher()

        cases.append(("chain_3_levels", chain))

        def observed(on: bool) -> None:  # the chain case's bare rounds have no llmwatch spans either
            for adapter in (openai_instr, anthropic_instr):
                if adapter is not None:
                    adapter.instrument(state) if on else adapter.uninstrument()
            tracing.enable(state) if on else tracing.disable()

        results = {}
        for name, fn in cases:
            for _ in range(20):  # warm-up both paths
                fn()
            observed(False)
            for _ in range(20):
                fn()
            samples = {"bare": {"cpu": [], "wall": [], "proc": []}, "llmwatch": {"cpu": [], "wall": [], "proc": []}}
            for r in range(rounds):
                for mode in (("bare", "llmwatch") if r % 2 == 0 else ("llmwatch", "bare")):
                    observed(mode == "llmwatch")
                    p0 = time.process_time_ns()
                    for _ in range(calls):
                        c0 = time.thread_time_ns()
                        w0 = time.perf_counter_ns()
                        fn()
                        samples[mode]["wall"].append((time.perf_counter_ns() - w0) / 1000)
                        samples[mode]["cpu"].append((time.thread_time_ns() - c0) / 1000)
                    if mode == "llmwatch":
                        llmwatch.flush()  # background work of this round lands in this round's process CPU
                    samples[mode]["proc"].append((time.process_time_ns() - p0) / 1000 / calls)
            observed(True)
            b, i = samples["bare"], samples["llmwatch"]
            results[name] = {
                "bare_cpu_median_us": statistics.median(b["cpu"]),
                "llmwatch_cpu_median_us": statistics.median(i["cpu"]),
                "added_cpu_median_us": statistics.median(i["cpu"]) - statistics.median(b["cpu"]),
                "added_cpu_p99_us": pct(i["cpu"], 0.99) - pct(b["cpu"], 0.99),
                "added_process_cpu_us": statistics.median(i["proc"]) - statistics.median(b["proc"]),
                "cpu_ratio": statistics.median(i["cpu"]) / statistics.median(b["cpu"]),
                "wall_ratio": statistics.median(i["wall"]) / statistics.median(b["wall"]),
                "calls_per_mode": len(i["cpu"]),
            }
        llmwatch.shutdown()
        results["spans_exported"] = exporter.count
        results["records_received"] = sink.count
        return results
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--store", action="store_true", help="also write records to a SQLite prompt log")
    ap.add_argument("--scorers", default="", help="comma-separated embedded scorers to run too, with redaction on "
                    "(e.g. injection,validation,moderation): shows what scoring costs the caller's thread")
    ap.add_argument("--redact", action="store_true", help="redaction on (the product's default; off here unless "
                    "given, so runs compare with earlier figures)")
    args = ap.parse_args()
    scorers = tuple(x for x in args.scorers.split(",") if x)
    res = run(args.rounds, args.calls, args.store, scorers, args.redact)
    print(f"llmwatch overhead (openai {openai.__version__}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpus, store={'sqlite' if args.store else 'off'}, "
          f"scorers={','.join(scorers) or 'none'}, redact={'on' if args.redact or scorers else 'off'})")
    print(f"{'case':<18}{'added CPU/call (median)':>25}{'(p99)':>10}{'process CPU':>14}{'CPU ratio':>11}{'wall ratio':>12}")
    for case in ("chat", "stream_20_chunks", "anthropic_chat", "anthropic_stream_20", "chain_3_levels"):
        if case not in res:
            continue
        r = res[case]
        print(f"{case:<18}{r['added_cpu_median_us']:>22.1f} µs{r['added_cpu_p99_us']:>7.0f} µs"
              f"{r['added_process_cpu_us']:>11.1f} µs{r['cpu_ratio']:>11.3f}{r['wall_ratio']:>12.3f}")
    print(f"spans exported: {res['spans_exported']}, records received: {res['records_received']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
