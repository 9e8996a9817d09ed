"""What queries return: typed, read-only views of stored calls and their annotations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

from llmwatch.store.rows import content_text


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class StoredCall:
    """One row of the prompt log. Times are Unix epoch seconds (UTC); durations are seconds;
    ``cost_usd`` is None when the price is unknown. See :attr:`started_at` for a datetime."""

    record_id: str
    trace_id: str | None
    span_id: str | None
    parent_span_id: str | None
    start_time: float
    end_time: float
    duration: float
    time_to_first_chunk: float | None
    service_name: str | None
    provider: str
    operation: str
    request_model: str | None
    response_model: str | None
    response_id: str | None
    server_address: str | None
    server_port: int | None
    status: str
    error_type: str | None
    error_message: str | None
    streamed: bool
    chunk_count: int | None
    finish_reasons: list[str] | None
    input_tokens: int | None
    output_tokens: int | None
    cached_input_tokens: int | None
    reasoning_tokens: int | None
    total_tokens: int | None
    tokens_estimated: bool
    cost_usd: float | None
    cost_estimated: bool
    request_params: dict[str, Any] | None
    system_instructions: list[dict[str, Any]] | None
    input_messages: list[dict[str, Any]] | None
    output_messages: list[dict[str, Any]] | None
    embedding_dimensions: int | None
    prompt_hash: str | None
    prompt_template: str | None
    prompt_template_version: str | None
    session_id: str | None
    conversation_id: str | None
    user_id: str | None
    tags: list[str] | None
    metadata: dict[str, Any] | None
    id: int = field(default=0, compare=False)  # database row id: cursor pagination and `tail`

    @classmethod
    def from_row(cls, row: Any) -> StoredCall:
        m = row._mapping
        return cls(**{f.name: m[f.name] for f in fields(cls) if f.name in m})

    @property
    def started_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.start_time, dt.timezone.utc)

    @property
    def model(self) -> str | None:
        return self.response_model or self.request_model

    @property
    def prompt_text(self) -> str:
        return content_text(self.system_instructions, self.input_messages) or ""

    @property
    def output_text(self) -> str:
        return content_text(self.output_messages) or ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict with the column names; times as ISO 8601 UTC strings."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "id"}
        out["start_time"], out["end_time"] = _iso(self.start_time), _iso(self.end_time)
        return out


@dataclass(frozen=True)
class Annotation:
    """A flag, a feedback entry or a score attached to a call."""

    kind: str  # "flag" | "feedback" | "score"
    record_id: str
    created_at: float
    label: str | None = None  # flag label, score name
    value: float | None = None  # feedback score, score value
    note: str | None = None  # flag note, feedback comment, score label
    author: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["created_at"] = _iso(self.created_at)
        return out


@dataclass(frozen=True)
class CallDetail:
    """``get()``: one call in full, its annotations, and the other calls of its trace."""

    call: StoredCall
    annotations: list[Annotation]
    trace: list[StoredCall]

    def to_json(self) -> dict[str, Any]:
        out = self.call.to_json()
        out["annotations"] = [a.to_json() for a in self.annotations]
        out["trace"] = [{"record_id": c.record_id, "span_id": c.span_id, "parent_span_id": c.parent_span_id,
                         "operation": c.operation, "request_model": c.request_model, "status": c.status,
                         "start_time": _iso(c.start_time), "duration": c.duration} for c in self.trace]
        return out


class Page(list[StoredCall]):
    """A list of :class:`StoredCall` with ``next_cursor`` (None on the last page)."""

    next_cursor: str | None = None
