"""The call record: one plain object per finished LLM call, handed to sinks off the caller's thread.

The caller's thread only stamps a finished call and puts it on the bounded
:class:`~llmwatch.pipeline.RecordPipeline`; the pipeline's worker completes the call and builds
its :class:`CallRecord` (timestamps, ids, usage, references to the request and response), then
does everything expensive — content normalisation, token estimation, redaction — before the
sinks (SQL writes happen on the store's own writer thread).

Sinks (the SQL prompt-log store, scorers, test collectors) implement :class:`Sink`.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

STATUS_OK = "ok"
STATUS_ERROR = "error"


def new_record_id() -> str:
    """A new record id: a time-ordered UUID (version 7, RFC 9562) as 32 hex digits.

    The first 12 digits are the Unix time in milliseconds, so new rows land at the end of every
    index keyed by record id instead of dirtying pages all over it: what keeps ingest into a log
    that already holds millions of calls near its rate into an empty one (bench/store_ingest.py).
    The last 62 bits are random. Because the leading digits are the clock, the short id that
    ``llmwatch logs`` prints is the **last** 8 digits (:func:`short_id`); a unique prefix (the short
    id of a uuid4-era call) is still accepted.
    """
    ms = time.time_ns() // 1_000_000
    rand = _random_bits(74)  # 12 bits rand_a, 62 bits rand_b
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | rand & _RAND_B
    return f"{value:032x}"


_RAND_B = (1 << 62) - 1
# A generator of our own, seeded from os.urandom, reseeded in a forked child (siblings must not
# repeat each other's ids) and untouched by an app's random.seed(): os.urandom per record is a
# system call that hands the GIL back and forth on the record worker (measured ~10% of its samples).
_rng = random.Random()
_random_bits = _rng.getrandbits
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_rng.seed)
SHORT_ID_DIGITS = 8


def short_id(record_id: str) -> str:
    """What ``llmwatch logs`` prints for a call: the random last 8 hex digits of its record id."""
    return record_id[-SHORT_ID_DIGITS:]


@dataclass(slots=True)
class CallRecord:
    """One finished call. Times are Unix epoch seconds (float); durations are seconds.

    ``input_messages``/``output_messages`` hold the semconv-shaped content (lists of
    ``{"role", "parts": [...]}`` dicts) once the pipeline has normalised it; until then the raw
    request/response objects sit in ``raw_request``/``raw_response`` and are dropped after use.
    """

    operation: str
    provider: str
    request_model: str | None
    start_time: float
    end_time: float = 0.0
    record_id: str = ""  # assigned by the pipeline (new_record_id()) before any sink sees the record
    trace_id: str | None = None  # 32 hex chars
    span_id: str | None = None  # 16 hex chars
    parent_span_id: str | None = None
    response_model: str | None = None
    response_id: str | None = None
    server_address: str | None = None
    server_port: int | None = None
    status: str = STATUS_OK
    error_type: str | None = None
    error_message: str | None = None
    streamed: bool = False
    time_to_first_chunk: float | None = None
    chunk_count: int | None = None
    finish_reasons: list[str] | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    tokens_estimated: bool = False
    cost_usd: float | None = None  # None = unknown price (never 0 for "unknown")
    cost_estimated: bool = False
    request_params: dict[str, Any] = field(default_factory=dict)
    system_instructions: list[dict[str, Any]] | None = None
    input_messages: list[dict[str, Any]] | None = None
    output_messages: list[dict[str, Any]] | None = None
    embedding_dimensions: int | None = None
    service_name: str | None = None
    # Request context (filled from llmwatch.context(...); None outside one)
    session_id: str | None = None
    conversation_id: str | None = None
    user_id: str | None = None
    prompt_template: str | None = None
    prompt_template_version: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    # Transient: references captured on the hot path, normalised and cleared by the pipeline.
    raw_request: Any = None
    raw_response: Any = None
    # Output text accumulated from a stream (used for content and token estimation).
    stream_text: str | None = None
    # Transient: perf_counter() stamps of each stream chunk (time per output chunk, off-thread).
    chunk_times: list[float] | None = None
    # Transient: set when the call's messages were normalised and redacted once for the span and
    # handed to the record; what was masked, (input kinds, output kinds), still to be counted.
    messages_redacted: tuple[Any, Any] | None = None

    @property
    def duration(self) -> float:
        return max(0.0, self.end_time - self.start_time)

    @property
    def total_tokens(self) -> int | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of the public fields (transient references excluded)."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            if name in _TRANSIENT:
                continue
            out[name] = getattr(self, name)
        out["duration"] = self.duration
        return out


_TRANSIENT = frozenset({"raw_request", "raw_response", "chunk_times", "messages_redacted"})


@runtime_checkable
class Sink(Protocol):
    """Receives batches of finished, normalised records on the pipeline's worker thread.

    ``write`` may raise; the pipeline counts the failure (``llmwatch_records_dropped_total{reason=
    "sink_error"}``) unless the sink takes responsibility itself (the SQL store spools to disk).
    """

    def write(self, records: Sequence[CallRecord]) -> None: ...

    def close(self) -> None: ...
