"""The scorer protocol: what a scorer is given, what it returns.

A scorer sees :class:`Item` objects (the texts of one call, plain strings, nothing else) in
batches and returns one list of :class:`Evaluation` per item. It never touches spans, metrics or
the database: :mod:`llmwatch.scoring.report` turns evaluations into all three, the same way for
the embedded worker and the agent, so a scorer is written once and runs in either place.

    class Shouting:
        name = "shouting"

        def score(self, items):
            return [[Evaluation("shouting", float(i.completion.isupper()), "flagged" if i.completion.isupper()
                                else "ok", direction="output")] for i in items]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

INPUT = "input"  # the prompt (user messages, system instructions)
OUTPUT = "output"  # the completion

FLAGGED = "flagged"  # evaluation label when a scorer raises an alarm (also a stored label prefix)
OK = "ok"
PASS = "pass"


@dataclass
class Item:
    """The texts of one call, as a scorer sees them."""

    record_id: str
    model: str = ""
    prompt: str = ""  # user-authored input (user messages, plain text inputs)
    completion: str = ""  # the model's output text (and tool-call arguments)
    context: list[str] = field(default_factory=list)  # retrieved/tool content (tool messages)
    system: str = ""  # system/developer instructions
    trace_id: str | None = None
    span_id: str | None = None
    response_id: str | None = None
    response_format: Any = None  # request's response_format (for JSON-schema validation)


@dataclass
class Evaluation:
    """One result, reported as a ``gen_ai.evaluation.result`` event, a metric and a stored score.

    ``label`` is low-cardinality (``flagged``/``ok``, ``pass``/``fail``); details go in
    ``explanation``. ``categories`` (toxicity, moderation) feed per-category metrics;
    ``flagged_categories`` the moderation flag counter.
    """

    name: str
    value: float
    label: str
    explanation: str = ""
    direction: str | None = None
    categories: dict[str, float] = field(default_factory=dict)
    flagged_categories: tuple[str, ...] = ()
    detector: str | None = None  # injection: which detector fired
    validator: str | None = None  # validation: which validator
    # embedding: the prompt's unit vector (float32 array); stored as an embedding, not as a score,
    # metric or event (``explanation`` names the model)
    vector: Any = None

    @property
    def flagged(self) -> bool:
        return self.label == FLAGGED or self.label == "fail"


@runtime_checkable
class Scorer(Protocol):
    """``name`` is also the key that marks a call as scored by it in the store."""

    name: str

    def score(self, items: Sequence[Item]) -> list[list[Evaluation]]: ...


class ScorerUnavailable(RuntimeError):
    """A scorer cannot run here (missing extra, no checkpoint offline, ...): the message says what to do."""


def texts_from_messages(system: Any, messages: Any, outputs: Any) -> tuple[str, list[str], str, str]:
    """(prompt, context, completion, system) from semconv-shaped message lists."""
    prompt: list[str] = []
    context: list[str] = []
    sys_text: list[str] = [_part_text(p) for p in (system or ()) if isinstance(p, dict)]
    for msg in messages or ():
        if not isinstance(msg, dict):
            continue
        role = msg.get("role")
        for part in msg.get("parts") or ():
            if not isinstance(part, dict):
                continue
            text = _part_text(part)
            if not text:
                continue
            if role == "tool" or part.get("type") == "tool_call_response":
                context.append(text)
            elif role in ("system", "developer"):
                sys_text.append(text)
            elif role == "user":
                prompt.append(text)
    completion: list[str] = []
    for msg in outputs or ():
        if isinstance(msg, dict):
            completion.extend(t for t in (_part_text(p) for p in msg.get("parts") or () if isinstance(p, dict)) if t)
    return "\n".join(prompt), context, "\n".join(completion), "\n".join(t for t in sys_text if t)


def _part_text(part: dict[str, Any]) -> str:
    kind = part.get("type")
    if kind in ("text", "refusal", None):
        value = part.get("content")
        return value if isinstance(value, str) else ""
    if kind == "tool_call_response":
        value = part.get("response")
        return value if isinstance(value, str) else ("" if value is None else str(value))
    if kind == "tool_call":
        value = part.get("arguments")
        return value if isinstance(value, str) else ("" if value is None else _json(value))
    return ""


def _json(value: Any) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def item_from_record(record: Any) -> Item:
    """An :class:`Item` from a normalised :class:`~llmwatch.record.CallRecord` (or a stored call)."""
    prompt, context, completion, system = texts_from_messages(
        getattr(record, "system_instructions", None), getattr(record, "input_messages", None),
        getattr(record, "output_messages", None))
    raw = getattr(record, "raw_request", None)
    fmt = raw.get("response_format") if isinstance(raw, dict) else None
    if fmt is None:
        fmt = (getattr(record, "metadata", None) or {}).get("response_format")
    return Item(record_id=record.record_id, model=getattr(record, "request_model", None) or "",
                prompt=prompt, completion=completion, context=context, system=system,
                trace_id=getattr(record, "trace_id", None), span_id=getattr(record, "span_id", None),
                response_id=getattr(record, "response_id", None), response_format=_plain(fmt))


def _plain(value: Any) -> Any:
    """response_format may be a pydantic class (``parse``); keep only JSON-able dicts."""
    return value if isinstance(value, dict) else None


def describe(scorer: Any) -> tuple[bool, str]:
    """(can it run here, one status line) for /readyz, the demo and ``llmwatch_scorer_available``.

    A scorer may say so itself with ``available()`` and ``status`` (a string, or a ``status()``
    returning a dict with a ``stage`` line); otherwise it is taken to be able to run."""
    name = str(getattr(scorer, "name", type(scorer).__name__))
    available = getattr(scorer, "available", None)
    ok = bool(available()) if callable(available) else True
    status = getattr(scorer, "status", None)
    if callable(status):
        status = status()
    if isinstance(status, dict):
        status = status.get("stage")
    line = str(status) if status else ("ok" if ok else "unavailable")
    if not line.startswith(f"{name}:"):
        line = f"{name}: {line}"
    return ok, line
