"""Configuration: one frozen object; each option names its environment variable.

Precedence: keyword argument to :func:`llmwatch.init` > environment variable > default. A bad
value fails at ``init()`` with :class:`ConfigError`, naming the option, where the value came from
and what is accepted.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmwatch.options import (
    ConfigError,
    boolean,
    byte_size,
    check_known,
    choice,
    commit_delay,
    from_arguments,
    from_environment,
    int_range,
    option,
    optional_path,
    optional_port,
    optional_string,
    positive_seconds,
    ratio,
    regex_patterns,
    resolve,
    retention,
    scorer_names,
    semconv_opt_in,
    string,
    torch_device,
)

__all__ = ["Config", "ConfigError"]


@dataclass(frozen=True)
class Config:
    """Every llmwatch option. See README "Configuration" (generated from this class)."""

    service_name: str = option("llm-app", ("LLMWATCH_SERVICE_NAME", "OTEL_SERVICE_NAME"), string,
                             "service.name on spans and records.")
    capture_content: bool = option(False,
        ("LLMWATCH_CAPTURE_CONTENT", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"), boolean,
        "Put prompts and completions on exported spans (gen_ai.input.messages, ...). Off by default.")
    content_max_length: int = option(16384, "LLMWATCH_CONTENT_MAX_LENGTH",
                                   int_range(64, 10_000_000),
                                   "Cap, in characters, on each content attribute on spans.")
    prometheus: bool = option(True, "LLMWATCH_PROMETHEUS", boolean,
                            "Record native Prometheus metrics with prometheus_client.")
    prometheus_port: int | None = option(None, "LLMWATCH_PROMETHEUS_PORT", optional_port,
                                       "Start a /metrics HTTP server on this port (none: don't).")
    prometheus_host: str = option("127.0.0.1", "LLMWATCH_PROMETHEUS_HOST", string,
                                "Address the /metrics server binds (0.0.0.0 in containers).")
    queue_size: int = option(10_000, "LLMWATCH_QUEUE_SIZE", int_range(1, 10_000_000),
                           "Bound on call records waiting for the sinks; beyond it records are dropped and counted.")
    batch_size: int = option(500, "LLMWATCH_BATCH_SIZE", int_range(1, 100_000),
                           "Records handed to the sinks per batch.")
    flush_interval: float = option(1.0, "LLMWATCH_FLUSH_INTERVAL", positive_seconds,
        "Seconds the record worker waits between drains of the queue (a batch_size of waiting calls wakes it "
        "sooner). Spans end and metrics update up to this long after a call; each wake-up costs CPU, and a "
        "bigger batch is cheaper per call (at 20 calls/s the worker's CPU per call was ~330 µs at 0.2 s, "
        "~210 µs at 1 s).")
    otel_chunk_metrics: str = option("auto", "LLMWATCH_OTEL_CHUNK_METRICS", choice("auto", "on", "off"),
        "Record gen_ai.client.operation.time_per_output_chunk (one measurement per stream chunk) on the OTel "
        "meter too. auto: only when native Prometheus is off, so a stream's per-chunk timings go through one "
        "metric path (an OTel SDK measurement costs ~9 µs of CPU, ~200 µs for a 20-chunk stream); on: both "
        "paths; off: Prometheus only. Per-call metrics always go to both.")
    stream_include_usage: bool = option(False, "LLMWATCH_STREAM_INCLUDE_USAGE", boolean,
                                      "Inject stream_options.include_usage=true into streaming chat calls "
                                      "that did not set it (changes the stream the app sees: one extra chunk).")
    sdk_spans: bool = option(False, "LLMWATCH_SDK_SPANS", boolean,
                             "Let provider SDKs that trace themselves (anthropic 1.x+) also emit their own span for "
                             "each call llmwatch observes. Off by default: both spans carry the call's gen_ai.usage, "
                             "so span-based cost views would count it twice, and the SDK's span work costs the "
                             "caller's thread ~45 µs per call.")
    estimate_tokens: bool = option(True, "LLMWATCH_ESTIMATE_TOKENS", boolean,
                                 "Estimate tokens with tiktoken (off the caller's thread) when the provider "
                                 "reports no usage; estimates are flagged and counted separately.")
    price_file: str | None = option(None, "LLMWATCH_PRICE_FILE", optional_string,
                                  "JSON price table whose entries override the bundled one.")
    provider_name: str | None = option(None, "LLMWATCH_PROVIDER_NAME", optional_string,
                                     "Override gen_ai.provider.name (default: openai, or azure.ai.openai "
                                     "for AzureOpenAI clients).")
    semconv_opt_in: tuple[str, ...] = option((), "OTEL_SEMCONV_STABILITY_OPT_IN", semconv_opt_in,
        "OpenTelemetry's comma-separated stability opt-ins. llmwatch emits the latest GenAI conventions "
        "(semantic-conventions-genai v0.1.0); gen_ai_latest_experimental/dup also emits the old names of "
        "renamed attributes (gen_ai.usage.cache_creation.input_tokens) during a migration.")
    scorers: tuple[str, ...] = option((), "LLMWATCH_SCORERS", scorer_names,
        "Quality & safety scorers to run in-process, off the caller's thread: toxicity, moderation, injection, "
        "pii, validation, embedding (prompt embeddings for similar/clusters) (comma-separated; empty: none; the "
        "agent can score instead).")
    score_sample_rate: float = option(1.0, "LLMWATCH_SCORE_SAMPLE_RATE", ratio,
                                    "Share of calls the embedded scorers score (by record id, the same calls for "
                                    "every scorer).")
    embedding_sample_rate: float = option(0.2, "LLMWATCH_EMBEDDING_SAMPLE_RATE", ratio,
        "Share of calls the embedding scorer embeds (by record id); errored calls and calls another scorer "
        "flagged are always embedded. 0.2: one CPU thread embeds ~25 prompts/s, so a fifth keeps up with "
        "~100 calls/s and still gives every recurring kind of prompt many members.")
    score_queue_size: int = option(1000, "LLMWATCH_SCORE_QUEUE_SIZE", int_range(1, 1_000_000),
                                 "Bound on calls waiting for each scorer; beyond it they are dropped and counted.")
    score_batch_size: int = option(16, "LLMWATCH_SCORE_BATCH_SIZE", int_range(1, 4096),
                                 "Calls per scorer batch (texts per Detoxify forward pass).")
    score_timeout: float = option(30.0, "LLMWATCH_SCORE_TIMEOUT", positive_seconds,
                                "Seconds one scorer batch may take before it is abandoned and counted.")
    toxicity_model: str = option("original", "LLMWATCH_TOXICITY_MODEL",
                               choice("original", "unbiased", "multilingual"), "Detoxify model.")
    toxicity_checkpoint: str | None = option(None, "LLMWATCH_TOXICITY_CHECKPOINT", optional_string,
        "Local Detoxify checkpoint (.ckpt, or a folder with one and its Hugging Face config/tokenizer files) "
        "for offline installs.")
    toxicity_device: str = option("auto", "LLMWATCH_TOXICITY_DEVICE", torch_device,
                                "Torch device for Detoxify: auto (CUDA when available), cpu, cuda, cuda:N.")
    moderation_model: str = option("omni-moderation-latest", "LLMWATCH_MODERATION_MODEL", string,
                                 "OpenAI moderation model used by the moderation scorer.")
    moderation_base_url: str | None = option(None, "LLMWATCH_MODERATION_BASE_URL", optional_string,
                                           "Base URL for moderation requests (default: OPENAI_BASE_URL).")
    injection_threshold: float = option(0.5, "LLMWATCH_INJECTION_THRESHOLD", ratio,
                                      "Prompt-injection score at which a call is flagged.")
    redact: bool = option(True, "LLMWATCH_REDACT", boolean,
                        "Mask PII and secrets (emails, phones, cards, IBANs, API keys, AWS keys, JWTs, IPs, ...) "
                        "in span content, error messages, evaluation events and the prompt log before they leave "
                        "the process. On by default; redact=False stores and exports content verbatim (exact "
                        "text for debugging, at the price of secrets in your database and trace backend).")
    redact_patterns: tuple[tuple[str, str], ...] = option((), "LLMWATCH_REDACT_PATTERNS", regex_patterns,
        'Extra redaction patterns as a JSON object {"kind": "regex"} (or a dict argument).')
    store: bool = option(True, "LLMWATCH_STORE", boolean,
                       "Keep every call in the SQL prompt log.")
    store_url: str | None = option(None, "LLMWATCH_STORE_URL", optional_string,
                                 "SQLAlchemy URL of the prompt log (default: SQLite in the user data dir).")
    store_spool_dir: str | None = option(
        None, "LLMWATCH_STORE_SPOOL_DIR", optional_path,
        "Folder where records wait while the database is unreachable (default: <user data dir>/llmwatch/spool/"
        "<hash of the store URL>).")
    store_spool_max_bytes: int = option(
        1 << 30, "LLMWATCH_STORE_SPOOL_MAX_BYTES", byte_size(1024, 1 << 44),
        "Bound on the disk spool (bytes, or 512MB / 1GiB); beyond it the oldest spooled batches are dropped "
        "and counted.")
    store_retention: float | str | None = option(
        "auto", "LLMWATCH_STORE_RETENTION", retention,
        "Delete stored calls older than this: auto (the default) keeps the embedded SQLite log to 30 days, "
        "so it never grows without bound, and deletes nothing from a server database (PostgreSQL: its "
        "operators own retention); or a duration such as 90d, or none to keep everything.")
    store_commit_delay: float = option(
        2.0, "LLMWATCH_STORE_COMMIT_DELAY", commit_delay,
        "Longest a call waits in memory for others to share its prompt-log transaction (1,000 waiting calls "
        "or llmwatch.flush() write at once). A transaction's fixed cost is several times a row's: at one call a "
        "transaction the SQLite log cost ~380 µs of CPU a call, at 20 ~70 µs. 0 commits as calls arrive; a "
        "hard kill (SIGKILL, power loss) loses up to this much of the log, plus flush_interval.")
    store_capture_content: bool = option(True, "LLMWATCH_STORE_CAPTURE_CONTENT", boolean,
                                       "Keep prompts and completions in the prompt log.")
    gpu: bool = option(False, "LLMWATCH_GPU", boolean,
                     "Sample the local GPUs (NVML, pip install 'llmwatch[gpu]') and put each call's GPU "
                     "utilisation and memory delta on its span (for apps serving a model on this host).")
    gpu_sample_interval: float = option(0.1, "LLMWATCH_GPU_SAMPLE_INTERVAL", positive_seconds,
                                      "Seconds between GPU samples when gpu is on.")

    @classmethod
    def options(cls) -> list[dataclasses.Field[Any]]:
        return list(dataclasses.fields(cls))

    @classmethod
    def resolve(cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Config:
        """Build a Config from keyword overrides, then the environment, then defaults."""
        overrides = dict(overrides or {})
        check_known(cls, list(overrides), "", "llmwatch")
        return resolve(cls, [from_arguments(overrides), from_environment(os.environ if environ is None else environ)])
