"""PII and secret detection and redaction: one redactor for spans, events and the prompt log.

Each match is replaced by ``[REDACTED:<kind>]``; a replacement never matches again, so redaction
is idempotent. Kinds: ``email``, ``phone``, ``credit_card`` (Luhn-checked), ``api_key``
(``sk-…``, ``ghp_…``, ``xox?-…``), ``aws_access_key`` (``AKIA…``/``ASIA…``), ``aws_secret_key``
(``aws_secret_access_key = …``), ``jwt``, ``ip`` (IPv4 with valid octets, IPv6), plus user patterns
(``redact_patterns``: ``{"kind": "regex"}``).

    >>> Redactor().text("mail bob@example.com, key sk-abcdefghijklmnopqrstuv")[0]
    'mail [REDACTED:email], key [REDACTED:api_key]'

The same :class:`Redactor` object is installed on the span content path (before capping, so a
secret cut at the cap cannot leak half of itself), on records before any sink sees them, and on
evaluation explanations, so every place content leaves the process applies identical rules.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re
from typing import Any, Callable, Mapping, Sequence

from llmwatch.scoring.base import FLAGGED, INPUT, OK, OUTPUT, Evaluation, Item

# Order matters: the alternation tries them left to right at each position, so the specific
# secret shapes come before the generic number shapes they contain.
_BUILTIN: tuple[tuple[str, str], ...] = (
    ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
    ("api_key", r"sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{20,}|\bgh[pousr]_[A-Za-z0-9]{30,}"
                r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("aws_access_key", r"(?:AKIA|ASIA)[0-9A-Z]{16}"),
    ("aws_secret_key", r"(?i:aws_?secret(?:_?access)?_?key)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+=]{40,}"),
    ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    # The whole run of digits with single separators: a card next to other numbers ("card
    # 4111 1111 1111 1111 0") fails Luhn as a whole, so _card_spans looks for it inside the run.
    ("credit_card", r"(?<!\d)\d(?:[ -]?\d){12,}(?!\d)"),
    ("ip", r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])|(?<![:\w])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![:\w])"),
    ("phone", r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}(?!\w)"),
)
_PLACEHOLDER = re.compile(r"\[REDACTED:[a-z0-9_]+\]")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_GROUP = re.compile(r"\d+")


def _is_card(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _card_spans(run: str) -> list[tuple[int, int]]:
    """Spans of ``run`` (digits with single separators) that are card numbers: the whole run, or
    else the longest leftmost sequences of whole digit groups that pass the length and Luhn check."""
    if _is_card(run):
        return [(0, len(run))]
    groups = [m.span() for m in _GROUP.finditer(run)]
    spans, i = [], 0
    while i < len(groups):
        for j in range(len(groups) - 1, i - 1, -1):  # longest first
            if _is_card(run[groups[i][0]:groups[j][1]]):
                spans.append((groups[i][0], groups[j][1]))
                i = j
                break
        i += 1
    return spans


def _valid(kind: str, text: str) -> bool:
    if kind == "ip" and "." in text:
        return all(int(o) <= 255 for o in text.split("."))
    if kind == "phone":
        return 9 <= sum(c.isdigit() for c in text) <= 15
    return True


def _mask_cards(run: str, counts: collections.Counter[str]) -> str:
    out, at = [], 0
    for a, b in _card_spans(run):
        out += [run[at:a], "[REDACTED:credit_card]"]
        counts["credit_card"] += 1
        at = b
    return "".join(out) + run[at:]


def parse_patterns(value: Any) -> tuple[tuple[str, str], ...]:
    """``redact_patterns`` option: a mapping or a JSON object ``{"kind": "regex"}``; regexes must compile."""
    if value is None or value == "" or value == ():
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError('a JSON object of {"kind": "regex"}, e.g. {"employee_id": "EMP-\\\\d{6}"}') from None
    if isinstance(value, Mapping):
        value = tuple(value.items())
    out = []
    for item in value:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise ValueError('a JSON object of {"kind": "regex"}, e.g. {"employee_id": "EMP-\\\\d{6}"}')
        kind, pattern = item
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", kind):
            raise ValueError(f"pattern names of lower-case letters, digits and _ (got {kind!r})")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"valid regular expressions ({kind!r}: {exc})") from None
        out.append((kind, pattern))
    return tuple(out)


class Redactor:
    """Finds and masks PII and secrets. Thread-safe (compiled regexes only)."""

    def __init__(self, patterns: Sequence[tuple[str, str]] = (), builtin: bool = True) -> None:
        rules = list(patterns) + (list(_BUILTIN) if builtin else [])
        self.kinds: tuple[str, ...] = tuple(k for k, _ in rules)
        # One pass over the text: a group per rule (user patterns first: they may be more specific).
        self._groups = [f"g{i}" for i in range(len(rules))]
        self._re = re.compile("|".join(f"(?P<g{i}>{p})" for i, (_, p) in enumerate(rules)))

    def text(self, text: str) -> tuple[str, collections.Counter[str]]:
        """``text`` with every match replaced, and the count per kind."""
        counts: collections.Counter[str] = collections.Counter()
        if not text:
            return text, counts

        def sub(m: re.Match[str]) -> str:
            kind = self.kinds[int(m.lastgroup[1:])]  # type: ignore[index]
            found = m.group()
            if kind == "credit_card":
                return _mask_cards(found, counts)
            if not _valid(kind, found) or _PLACEHOLDER.fullmatch(found):
                return found
            counts[kind] += 1
            return f"[REDACTED:{kind}]"

        return self._re.sub(sub, text), counts

    def find(self, text: str) -> collections.Counter[str]:
        return self.text(text)[1]

    def value(self, value: Any, counts: collections.Counter[str]) -> Any:
        """A copy of a JSON-like value (messages, parts, tool arguments) with every string redacted."""
        if isinstance(value, str):
            out, c = self.text(value)
            counts.update(c)
            return out
        if isinstance(value, list):
            return [self.value(v, counts) for v in value]
        if isinstance(value, tuple):
            return tuple(self.value(v, counts) for v in value)
        if isinstance(value, dict):
            return {k: self.value(v, counts) for k, v in value.items()}
        return value

    def messages(self, messages: Any) -> Any:
        """Span-path helper: redacted copy of semconv messages (counted on the record path instead)."""
        if not messages:
            return messages
        return self.value(messages, collections.Counter())

    def record(self, record: Any, count: Callable[[str, str, int], None] | None = None) -> None:
        """Redact a :class:`~llmwatch.record.CallRecord` in place (the pipeline runs this before any
        sink sees the record); ``count(kind, direction, n)`` for each kind found."""
        inp: collections.Counter[str] = collections.Counter()
        out: collections.Counter[str] = collections.Counter()
        record.system_instructions = self.value(record.system_instructions, inp)
        record.input_messages = self.value(record.input_messages, inp)
        record.output_messages = self.value(record.output_messages, out)
        if record.stream_text:
            record.stream_text = self.value(record.stream_text, out)
        if record.request_params:
            record.request_params = self.value(record.request_params, inp)
        if record.error_message:
            record.error_message = self.value(record.error_message, inp)
        if record.metadata:
            record.metadata = self.value(record.metadata, out)
        record.metadata["redacted"] = True
        if count is not None:
            for counter, direction in ((inp, INPUT), (out, OUTPUT)):
                for kind, n in counter.items():
                    count(kind, direction, n)


def store_redactor(redactor: Redactor) -> Callable[[Any], Any]:
    """For :func:`llmwatch.store.redaction.register_redactor`: records that reach the store some other
    way than the SDK pipeline (which already redacted them, in place) are redacted on a copy."""

    def redact(record: Any) -> Any:
        if record.metadata.get("redacted"):
            return record
        copy = dataclasses.replace(record, metadata=dict(record.metadata))
        redactor.record(copy)
        return copy

    redact.redactor = redactor  # type: ignore[attr-defined]
    return redact


class PiiScorer:
    """Detection only, for stored logs (agent / back-fill): how much PII a call holds, by kind."""

    name = "pii"

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor or Redactor()

    def score(self, items: Sequence[Item]) -> list[list[Evaluation]]:
        results = []
        for item in items:
            evals = []
            for direction, text in ((INPUT, "\n".join([item.system, item.prompt, *item.context])),
                                    (OUTPUT, item.completion)):
                found = self.redactor.find(text)
                n = sum(found.values())
                evals.append(Evaluation("pii", float(n), FLAGGED if n else OK,
                                        ", ".join(f"{k}={v}" for k, v in sorted(found.items())), direction))
            results.append(evals)
        return results
