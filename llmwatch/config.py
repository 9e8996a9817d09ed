"""Configuration: one frozen object; each option names its environment variable.

Precedence: keyword argument to :func:`llmwatch.init` > environment variable > default. A bad
value fails at ``init()`` with :class:`ConfigError`, naming the option, where the value came from
and what is accepted.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """An llmwatch option has a value it cannot accept."""


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise ValueError("true/false (also 1/0, yes/no, on/off)")


def _int_range(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(v: Any) -> int:
        if isinstance(v, bool):
            raise ValueError(f"an integer from {lo} to {hi}")
        try:
            n = int(v.strip()) if isinstance(v, str) else int(v)
            if isinstance(v, float) and v != n:
                raise ValueError
        except (TypeError, ValueError):
            raise ValueError(f"an integer from {lo} to {hi}") from None
        if not lo <= n <= hi:
            raise ValueError(f"an integer from {lo} to {hi}")
        return n

    return parse


def _opt_port(v: Any) -> int | None:
    if v is None or (isinstance(v, str) and v.strip().lower() in ("", "none", "off")):
        return None
    try:
        return _int_range(0, 65535)(v)
    except ValueError:
        raise ValueError("a TCP port from 0 to 65535 (0 picks a free port), or empty/none to disable") from None


def _pos_float(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError("a positive number of seconds") from None
    if not f > 0 or f != f:
        raise ValueError("a positive number of seconds")
    return f


def _str(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("a non-empty string")
    return v.strip()


def _opt_str(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise ValueError("a string")
    return v.strip() or None


def _ratio(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError("a number from 0.0 to 1.0") from None
    if not 0.0 <= f <= 1.0:
        raise ValueError("a number from 0.0 to 1.0")
    return f


def _scorer_names(v: Any) -> tuple[str, ...]:
    from llmwatch.scoring import SCORERS

    accepted = f"a comma-separated list of {', '.join(SCORERS)} (or empty for none)"
    items = v.split(",") if isinstance(v, str) else v
    try:
        names = tuple(dict.fromkeys(str(x).strip().lower() for x in items if str(x).strip()))
    except TypeError:
        raise ValueError(accepted) from None
    if any(x not in SCORERS for x in names):
        raise ValueError(accepted)
    return names


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(v: Any) -> str:
        if isinstance(v, str) and v.strip().lower() in choices:
            return v.strip().lower()
        raise ValueError(", ".join(choices))

    return parse


def _device(v: Any) -> str:
    import re

    if isinstance(v, str) and re.fullmatch(r"auto|cpu|cuda(:\d+)?", v.strip().lower()):
        return v.strip().lower()
    raise ValueError("auto, cpu, cuda or cuda:N")


def _patterns(v: Any) -> tuple[tuple[str, str], ...]:
    from llmwatch.scoring.pii import parse_patterns

    return parse_patterns(v)


def _opt(name: str, default: Any, env: str | tuple[str, ...] | None, parse: Callable[[Any], Any], doc: str) -> Any:
    envs = (env,) if isinstance(env, str) else (env or ())
    return field(default=default, metadata={"env": envs, "parse": parse, "doc": doc})


@dataclass(frozen=True)
class Config:
    """Every llmwatch option. See README "Configuration" (generated from this class)."""

    service_name: str = _opt("service_name", "llm-app", ("LLMWATCH_SERVICE_NAME", "OTEL_SERVICE_NAME"), _str,
                             "service.name on spans and records.")
    capture_content: bool = _opt(
        "capture_content", False,
        ("LLMWATCH_CAPTURE_CONTENT", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"), _bool,
        "Put prompts and completions on exported spans (gen_ai.input.messages, ...). Off by default.")
    content_max_length: int = _opt("content_max_length", 16384, "LLMWATCH_CONTENT_MAX_LENGTH",
                                   _int_range(64, 10_000_000),
                                   "Cap, in characters, on each content attribute on spans.")
    prometheus: bool = _opt("prometheus", True, "LLMWATCH_PROMETHEUS", _bool,
                            "Record native Prometheus metrics with prometheus_client.")
    prometheus_port: int | None = _opt("prometheus_port", None, "LLMWATCH_PROMETHEUS_PORT", _opt_port,
                                       "Start a /metrics HTTP server on this port (none: don't).")
    prometheus_host: str = _opt("prometheus_host", "127.0.0.1", "LLMWATCH_PROMETHEUS_HOST", _str,
                                "Address the /metrics server binds (0.0.0.0 in containers).")
    queue_size: int = _opt("queue_size", 10_000, "LLMWATCH_QUEUE_SIZE", _int_range(1, 10_000_000),
                           "Bound on call records waiting for the sinks; beyond it records are dropped and counted.")
    batch_size: int = _opt("batch_size", 500, "LLMWATCH_BATCH_SIZE", _int_range(1, 100_000),
                           "Records handed to the sinks per batch.")
    flush_interval: float = _opt("flush_interval", 0.2, "LLMWATCH_FLUSH_INTERVAL", _pos_float,
                                 "Seconds the record worker waits between drains of the queue.")
    stream_include_usage: bool = _opt("stream_include_usage", False, "LLMWATCH_STREAM_INCLUDE_USAGE", _bool,
                                      "Inject stream_options.include_usage=true into streaming chat calls "
                                      "that did not set it (changes the stream the app sees: one extra chunk).")
    estimate_tokens: bool = _opt("estimate_tokens", True, "LLMWATCH_ESTIMATE_TOKENS", _bool,
                                 "Estimate tokens with tiktoken (off the caller's thread) when the provider "
                                 "reports no usage; estimates are flagged and counted separately.")
    price_file: str | None = _opt("price_file", None, "LLMWATCH_PRICE_FILE", _opt_str,
                                  "JSON price table whose entries override the bundled one.")
    provider_name: str | None = _opt("provider_name", None, "LLMWATCH_PROVIDER_NAME", _opt_str,
                                     "Override gen_ai.provider.name (default: openai, or azure.ai.openai "
                                     "for AzureOpenAI clients).")
    scorers: tuple[str, ...] = _opt(
        "scorers", (), "LLMWATCH_SCORERS", _scorer_names,
        "Quality & safety scorers to run in-process, off the caller's thread: toxicity, moderation, injection, "
        "pii, validation (comma-separated; empty: none; the agent can score instead).")
    score_sample_rate: float = _opt("score_sample_rate", 1.0, "LLMWATCH_SCORE_SAMPLE_RATE", _ratio,
                                    "Share of calls the embedded scorers score (by record id, the same calls for "
                                    "every scorer).")
    score_queue_size: int = _opt("score_queue_size", 1000, "LLMWATCH_SCORE_QUEUE_SIZE", _int_range(1, 1_000_000),
                                 "Bound on calls waiting for each scorer; beyond it they are dropped and counted.")
    score_batch_size: int = _opt("score_batch_size", 16, "LLMWATCH_SCORE_BATCH_SIZE", _int_range(1, 4096),
                                 "Calls per scorer batch (texts per Detoxify forward pass).")
    score_timeout: float = _opt("score_timeout", 30.0, "LLMWATCH_SCORE_TIMEOUT", _pos_float,
                                "Seconds one scorer batch may take before it is abandoned and counted.")
    toxicity_model: str = _opt("toxicity_model", "original", "LLMWATCH_TOXICITY_MODEL",
                               _choice("original", "unbiased", "multilingual"), "Detoxify model.")
    toxicity_checkpoint: str | None = _opt(
        "toxicity_checkpoint", None, "LLMWATCH_TOXICITY_CHECKPOINT", _opt_str,
        "Local Detoxify checkpoint (.ckpt, or a folder with one and its Hugging Face config/tokenizer files) "
        "for offline installs.")
    toxicity_device: str = _opt("toxicity_device", "auto", "LLMWATCH_TOXICITY_DEVICE", _device,
                                "Torch device for Detoxify: auto (CUDA when available), cpu, cuda, cuda:N.")
    moderation_model: str = _opt("moderation_model", "omni-moderation-latest", "LLMWATCH_MODERATION_MODEL", _str,
                                 "OpenAI moderation model used by the moderation scorer.")
    moderation_base_url: str | None = _opt("moderation_base_url", None, "LLMWATCH_MODERATION_BASE_URL", _opt_str,
                                           "Base URL for moderation requests (default: OPENAI_BASE_URL).")
    injection_threshold: float = _opt("injection_threshold", 0.5, "LLMWATCH_INJECTION_THRESHOLD", _ratio,
                                      "Prompt-injection score at which a call is flagged.")
    redact: bool = _opt("redact", False, "LLMWATCH_REDACT", _bool,
                        "Mask PII and secrets (emails, phones, cards, API keys, AWS keys, JWTs, IPs) in span "
                        "content, evaluation events and the prompt log before they leave the process.")
    redact_patterns: tuple[tuple[str, str], ...] = _opt(
        "redact_patterns", (), "LLMWATCH_REDACT_PATTERNS", _patterns,
        'Extra redaction patterns as a JSON object {"kind": "regex"} (or a dict argument).')
    store: bool = _opt("store", True, "LLMWATCH_STORE", _bool,
                       "Keep every call in the SQL prompt log.")
    store_url: str | None = _opt("store_url", None, "LLMWATCH_STORE_URL", _opt_str,
                                 "SQLAlchemy URL of the prompt log (default: SQLite in the user data dir).")
    store_capture_content: bool = _opt("store_capture_content", True, "LLMWATCH_STORE_CAPTURE_CONTENT", _bool,
                                       "Keep prompts and completions in the prompt log.")
    gpu: bool = _opt("gpu", False, "LLMWATCH_GPU", _bool,
                     "Sample the local GPUs (NVML, pip install 'llmwatch[gpu]') and put each call's GPU "
                     "utilisation and memory delta on its span (for apps serving a model on this host).")
    gpu_sample_interval: float = _opt("gpu_sample_interval", 0.1, "LLMWATCH_GPU_SAMPLE_INTERVAL", _pos_float,
                                      "Seconds between GPU samples when gpu is on.")

    @classmethod
    def options(cls) -> list[dataclasses.Field]:
        return list(dataclasses.fields(cls))

    @classmethod
    def resolve(cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> "Config":
        """Build a Config from keyword overrides, then the environment, then defaults."""
        overrides = dict(overrides or {})
        environ = os.environ if environ is None else environ
        known = {f.name for f in cls.options()}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(
                f"llmwatch: unknown option(s) {', '.join(unknown)}; accepted options: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {}
        for f in cls.options():
            parse = f.metadata["parse"]
            if f.name in overrides and overrides[f.name] is not None:
                raw, source = overrides[f.name], f"argument {f.name}="
            else:
                raw, source = None, None
                for env in f.metadata["env"]:
                    if env in environ and environ[env] != "":
                        raw, source = environ[env], f"environment variable {env}"
                        break
                if source is None:
                    values[f.name] = f.default
                    continue
            try:
                values[f.name] = parse(raw)
            except ValueError as exc:
                raise ConfigError(
                    f"llmwatch: invalid value {raw!r} for option {f.name!r} (from {source}); accepted: {exc}"
                ) from None
        return cls(**values)
