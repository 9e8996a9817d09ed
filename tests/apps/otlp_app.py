"""A small app that llmwatch observes, sending spans over OTLP/HTTP (run as its own process).

    python tests/apps/otlp_app.py fresh         # no provider configured: llmwatch builds one from OTEL_EXPORTER_OTLP_*
    python tests/apps/otlp_app.py app-provider  # the app sets its TracerProvider first; llmwatch must use it

Makes real openai calls (chat, stream, embeddings, one failing chat) against the simulator inside
one app span, then prints a JSON report on the last stdout line: trace/span ids, the usage the
simulator reported, and whether the global TracerProvider is the one the app expects.
"""

from __future__ import annotations

import json
import sys

import openai
from opentelemetry import trace

import llmwatch
from llmwatch.testing.simulator import Simulator

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "How do retries affect latency?"}]


def _app_provider():
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "app-owned-provider"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def main(mode: str) -> dict:
    app_provider = _app_provider() if mode == "app-provider" else None
    llmwatch.init(store=False, prometheus_port=None, service_name=f"llmwatch-otlp-{mode}")
    global_provider = trace.get_tracer_provider()
    rt = llmwatch._runtime.current()
    report: dict = {
        "mode": mode,
        "global_is_app_provider": app_provider is not None and global_provider is app_provider,
        "llmwatch_uses_global": rt.tracer_provider is global_provider,
        "global_provider_type": type(global_provider).__name__,
    }
    tracer = trace.get_tracer("otlp-app")
    with Simulator() as sim:
        client = openai.OpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=0)
        with tracer.start_as_current_span("handle-request") as parent:
            ctx = parent.get_span_context()
            report["trace_id"] = format(ctx.trace_id, "032x")
            report["parent_span_id"] = format(ctx.span_id, "016x")
            chat = client.chat.completions.create(model=MODEL, messages=MESSAGES)
            report["chat"] = {"id": chat.id, "input": chat.usage.prompt_tokens, "output": chat.usage.completion_tokens,
                              "response_model": chat.model}
            usage = None
            chunks = 0
            for chunk in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True,
                                                        stream_options={"include_usage": True},
                                                        extra_headers={"x-sim-chunks": "5"}):
                chunks += 1
                usage = chunk.usage or usage
            report["stream"] = {"input": usage.prompt_tokens, "output": usage.completion_tokens, "events": chunks}
            emb = client.embeddings.create(model="text-embedding-3-small", input="retries and latency")
            report["embeddings"] = {"input": emb.usage.prompt_tokens, "dimensions": len(emb.data[0].embedding)}
            try:
                client.chat.completions.create(model=MODEL, messages=MESSAGES, extra_headers={"x-sim-error": "500"})
            except openai.InternalServerError as exc:
                report["error"] = type(exc).__name__
    llmwatch.shutdown()
    report["global_unchanged_after_shutdown"] = trace.get_tracer_provider() is global_provider
    if app_provider is not None:
        app_provider.shutdown()  # the app owns it: llmwatch only flushed it
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
