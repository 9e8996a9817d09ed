"""PII and secret detection and redaction: one redactor for spans, events and the prompt log.

Each match is replaced by ``[REDACTED:<kind>]``; a replacement never matches again, so redaction
is idempotent. Secrets: ``api_key`` (``sk-…``, ``ghp_…``, ``xox?-…``), ``aws_access_key``
(``AKIA…``/``ASIA…``), ``aws_secret_key`` (``aws_secret_access_key = …``), ``jwt``. Contact and
network: ``email``, ``phone``, ``jp_phone``, ``ip`` (IPv4 with valid octets, IPv6). Financial and
national identifiers, each validated before it is masked (see :data:`KINDS`): ``credit_card``
(Luhn), ``iban`` (country length + mod 97), ``jp_my_number``, ``us_ssn``, ``uk_nino``, ``es_dni``,
``br_cpf``, ``cn_resident_id``, ``kr_rrn``. Plus user patterns (``redact_patterns``:
``{"kind": "regex"}``).

    >>> Redactor().text("mail bob@example.com, key sk-abcdefghijklmnopqrstuv")[0]
    'mail [REDACTED:email], key [REDACTED:api_key]'
    >>> Redactor().text("IBAN DE89 3704 0044 0532 0130 00, order 123456789012")[0]
    'IBAN [REDACTED:iban], order 123456789012'

Precision over recall for identifiers: a value that fails its checksum (or date, or numbering
plan) is not masked as that kind, and the text is offered to the rules after it instead. Where a
checksum alone is too weak to tell an identifier from any other number of that length, the kind
also needs a context keyword right before the value: ``jp_my_number`` always (one check digit: 1
in 10 random 12-digit numbers pass), ``br_cpf`` and ``us_ssn`` when written as bare digits.

``init()`` builds one :class:`Redactor` (inside :class:`llmwatch.scoring.redaction.Redaction`) and
hands it to the span content path (before capping, so a secret cut at the cap cannot leak half of
itself), to the record pipeline before any sink sees a record, to the store and to evaluation
explanations, so every place content leaves the process applies identical rules. The checks
behind the identifier kinds live in :mod:`llmwatch.scoring.identifiers`.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Callable, Sequence
from typing import Any

from llmwatch.scoring.base import FLAGGED, INPUT, OK, OUTPUT, Evaluation, Item
from llmwatch.scoring.identifiers import (
    Check,
    card_spans,
    cn_id_spans,
    cpf_spans,
    dni_spans,
    iban_spans,
    ip_spans,
    jp_phone_spans,
    my_number_spans,
    nino_spans,
    phone_spans,
    rrn_spans,
    ssn_spans,
    whole,
)

_PLACEHOLDER = re.compile(r"\[REDACTED:[a-z0-9_]+\]")


_KW_GAP = r"[^\d\n]{0,20}?"  # keyword, then up to 20 characters that are neither digits nor a line break

# (kind, pattern, check). Order matters: the alternation tries them left to right at each
# position, so the specific shapes come before the generic number shapes they contain. A match
# its check rejects is offered to the rules after it.
_BUILTIN: tuple[tuple[str, str, Check | None], ...] = (
    ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}", None),
    ("api_key", r"sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{20,}|\bgh[pousr]_[A-Za-z0-9]{30,}"
                r"|\bxox[abposr]-[A-Za-z0-9-]{10,}", None),
    ("aws_access_key", r"(?:AKIA|ASIA)[0-9A-Z]{16}", None),
    ("aws_secret_key", r"(?i:aws_?secret(?:_?access)?_?key)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+=]{40,}", None),
    ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", None),
    ("iban", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,}", iban_spans),
    ("cn_resident_id", r"(?<![\w-])[1-8]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"
                       r"[\dXx](?![\w-])", cn_id_spans),
    ("kr_rrn", r"(?<![\w-])\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])-[1-8]\d{6}(?![\w-])", rrn_spans),
    ("jp_my_number", r"(?:マイナンバー|個人番号|(?i:\bmy[ _-]?number))" + _KW_GAP
                     + r"(?<!\d)\d{4}[ -]?\d{4}[ -]?\d{4}(?![\w-])", my_number_spans),
    ("br_cpf", r"(?:(?i:\bCPF)" + _KW_GAP + r")?(?<![\w.-])(?:\d{3}\.\d{3}\.\d{3}-\d{2}|\d{11})(?![\w.-])", cpf_spans),
    ("us_ssn", r"(?:(?i:\bSSN|\bsocial security(?: number| no\.?)?)" + _KW_GAP
               + r")?(?<![\w.-])\d{3}[ -]?\d{2}[ -]?\d{4}(?![\w.-])", ssn_spans),
    ("es_dni", r"(?<![\w.-])(?:[XYZ]-?\d{7}|\d{8}|\d{2}\.\d{3}\.\d{3})-?[A-Z](?![\w-])", dni_spans),
    ("uk_nino", r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", nino_spans),
    # The whole run of digits with single separators: a card next to other numbers ("card
    # 4111 1111 1111 1111 0") fails Luhn as a whole, so card_spans looks for it inside the run.
    ("credit_card", r"(?<!\d)\d(?:[ -]?\d){12,}(?!\d)", card_spans),
    ("ip", r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])|(?<![:\w])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![:\w])",
     ip_spans),
    ("jp_phone", r"(?<![\w+])(?:(?:\+81[ -]?(?:\(0\)[ -]?)?|0)(?:[25-9]0[ -]?\d{4}[ -]?\d{4}|120[ -]?\d{3}[ -]?\d{3}"
                 r"|800[ -]?\d{3}[ -]?\d{4}|[1-9]\d{0,3}[ -]\d{1,4}[ -]\d{4})|\+81[ -]?[1-9]\d{8}"
                 r"|\(0\d{1,4}\)[ -]?\d{1,4}[ -]?\d{4}|0\d{1,4}\(\d{1,4}\)\d{4})(?![\w-])", jp_phone_spans),
    # Not a piece of a longer dotted/dashed number (a version, a CPF look-alike, an ISBN) or of
    # a code ("INV-2024-000123").
    ("phone", r"(?<![\w+])(?<!\w[.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}"
              r"(?!\w|[.-]\d)", phone_spans),
)

# A cheap test per built-in kind that every match of it passes: a text that fails it is scanned
# without that rule. Most texts hold no IBAN-, ID- or card-shaped run, so the alternation they
# are scanned with stays short. Measured on 432-character texts against the earlier eight-rule
# scan: 2.4x faster on prose without digits, 0.6x on text dense with numbers and dates.
# ``run`` is the longest run of digits in the text; a gate is a literal search or a run length.
_DIGIT_RUN = re.compile(r"\d+")
_DOTTED = re.compile(r"\d\.\d{3}\.\d{3}")
Gate = Callable[[str, int], bool]


def _has(pattern: str) -> Gate:
    search = re.compile(pattern).search
    return lambda text, run: search(text) is not None


_GATES: dict[str, Gate] = {
    "jwt": _has(r"eyJ"), "api_key": _has(r"sk-|gh[pousr]_|xox"), "aws_access_key": _has(r"AKIA|ASIA"),
    "aws_secret_key": _has(r"(?i:secret)"), "email": _has(r"@"), "iban": _has(r"[A-Z]{2}\d{2}"),
    "cn_resident_id": lambda text, run: run >= 17, "kr_rrn": lambda text, run: run >= 6,
    "jp_my_number": _has(r"マイナンバー|個人番号|(?i:number)"),
    "br_cpf": lambda text, run: run >= 11 or _DOTTED.search(text) is not None,
    "us_ssn": lambda text, run: run >= 3, "es_dni": lambda text, run: run >= 7 or _DOTTED.search(text) is not None,
    "uk_nino": _has(r"[A-Z]{2} ?\d{2}"), "credit_card": lambda text, run: run >= 1,
    "ip": _has(r"\d\.\d{1,3}\.|[0-9A-Fa-f]:[0-9A-Fa-f]"), "jp_phone": _has(r"\+81|0\d"),
    "phone": lambda text, run: run >= 3,
}


# Every match of a built-in rule holds a digit, an "@", a secret's literal prefix, "secret", or (an
# IPv6 address written in letters alone) hex:hex. A text with none of them cannot match, so it
# skips the gates and the scan: most strings in a call's messages (roles, part types, prose
# without numbers) are such texts. The test is split into what C does fastest: one character-class
# search, substring tests for the literal prefixes, a regex only where its first letters occur, and
# ``casefold()`` (a superset of the regex engine's case-insensitive match) for "secret". One
# alternation of all of them cost ~14 µs on 400 characters of prose; this ~4 µs.
_DIGIT_OR_AT = re.compile(r"[\d@]").search
_GITHUB = re.compile(r"gh[pousr]_").search
_SLACK = re.compile(r"xox[abposr]-").search
_HEX_COLON = re.compile(r"[0-9A-Fa-f]:[0-9A-Fa-f]").search


def _candidate(text: str) -> bool:
    """Whether any built-in rule could match ``text`` (False: none can)."""
    if _DIGIT_OR_AT(text) is not None or "eyJ" in text or "sk-" in text or "AKIA" in text or "ASIA" in text:
        return True
    if ("gh" in text and _GITHUB(text) is not None) or ("xox" in text and _SLACK(text) is not None):
        return True
    if ":" in text and _HEX_COLON(text) is not None:
        return True
    return "secret" in text.casefold()


# Redacted forms of short strings are remembered (system prompts, few-shot examples and tool
# schemas recur in nearly every call): a hit is a dict lookup plus the kinds found, instead of the
# pre-filter, the gates and the scan. Bounded; emptied when full.
_MEMO_MAX_CHARS = 2048
_MEMO_MAX_ENTRIES = 2048

#: Built-in kinds, in the order they are tried.
KINDS: tuple[str, ...] = tuple(k for k, _, _ in _BUILTIN)


class Redactor:
    """Finds and masks PII and secrets. Thread-safe: compiled regexes, and a cache of the rule
    subsets in use (two threads racing on it at worst compile one twice)."""

    def __init__(self, patterns: Sequence[tuple[str, str]] = (), builtin: bool = True) -> None:
        rules: list[tuple[str, str, Check | None]] = [(k, p, None) for k, p in patterns]
        rules += list(_BUILTIN) if builtin else []
        self.kinds: tuple[str, ...] = tuple(k for k, _, _ in rules)
        self._checks = [c for _, _, c in rules]
        self._patterns = [p for _, p, _ in rules]
        # The rules a match of rule i takes off its leftovers: itself, and for a card run the phones.
        phone = {i for i, k in enumerate(self.kinds) if k == "phone"}
        self._claims = [frozenset({i} | (phone if k == "credit_card" else set())) for i, k in enumerate(self.kinds)]
        # One pass over the text: a group per rule (user patterns first: they may be more specific),
        # compiled per set of rules left out.
        self._res: dict[frozenset[int], re.Pattern[str] | None] = {}
        self._gates = [(i, _GATES[k]) for i, k in enumerate(self.kinds) if i >= len(patterns)]
        # User patterns can match anything: only the built-ins alone allow the pre-filter.
        self._candidate = _candidate if builtin and not patterns else None
        self._memo: dict[str, tuple[str, tuple[tuple[str, int], ...]]] = {}
        self._without(frozenset())  # compile the full alternation now, not on the first call

    def _without(self, skip: frozenset[int]) -> re.Pattern[str] | None:
        """The alternation of every rule not in ``skip`` (gated out, or already rejected the text)."""
        pattern = self._res.get(skip, False)
        if pattern is False:
            alts = [f"(?P<g{i}>{p})" for i, p in enumerate(self._patterns) if i not in skip]
            pattern = re.compile("|".join(alts)) if alts else None
            if len(self._res) >= 512:  # bounded: the sets seen in practice are few
                self._res.clear()
            self._res[skip] = pattern
        return pattern  # type: ignore[return-value]

    def text(self, text: str) -> tuple[str, collections.Counter[str]]:
        """``text`` with every match replaced, and the count per kind."""
        counts: collections.Counter[str] = collections.Counter()
        return self._text(text, counts), counts

    def _text(self, text: str, counts: collections.Counter[str]) -> str:
        """:meth:`text`, counting into ``counts``."""
        if not text:
            return text
        memo = self._memo
        hit = memo.get(text)
        if hit is not None:
            for kind, n in hit[1]:
                counts[kind] += n
            return hit[0]
        candidate = self._candidate
        found: tuple[tuple[str, int], ...] = ()
        if candidate is not None and not candidate(text):
            out = text
        else:
            run = max(map(len, _DIGIT_RUN.findall(text)), default=0)
            skip = frozenset(i for i, gate in self._gates if not gate(text, run))
            mine: collections.Counter[str] = collections.Counter()
            out = self._scan(text, 0, len(text), skip, mine, len(text))[0]
            found = tuple(mine.items())
            for kind, n in found:
                counts[kind] += n
        if len(text) <= _MEMO_MAX_CHARS:
            if len(memo) >= _MEMO_MAX_ENTRIES:
                memo.clear()
            memo[text] = (out, found)
        return out

    def _scan(self, text: str, pos: int, end: int, skip: frozenset[int], counts: collections.Counter[str],
              limit: int) -> tuple[str, int]:
        """Redact matches of the rules not in ``skip`` that start in ``text[pos:end]`` and end by
        ``limit``; returns the redacted text and where it stops (past ``end`` when a match ran on).

        The scan runs over the whole text, not a slice, so look-arounds keep their context: in
        "DE53 0000…" no phone starts at "53", and "00000 10000000Z" (a digit run that is no card)
        still yields the DNI whose letter lies past the run."""
        pattern = self._without(skip) if pos < end else None
        if pattern is None:
            return text[pos:end], end
        out, at = [], pos
        while at < end:
            m = pattern.search(text, at, limit)
            if m is None or m.start() >= end:
                break
            i = int(m.lastgroup[1:])  # type: ignore[index]
            found, check = m.group(), self._checks[i]
            if check is None:
                spans = [] if _PLACEHOLDER.fullmatch(found) else whole(found)
            else:
                spans = check(found)
            # What the rule did not mask goes to the other rules: an IBAN look-alike may hold a key.
            # A long digit run that holds no card is not a phone number either (no pieces of it are).
            rest, piece = skip | self._claims[i], m.start()
            out.append(text[at:piece])
            for a, b in spans:
                out += [self._scan(text, piece, m.start() + a, rest, counts, m.start() + a)[0],
                        f"[REDACTED:{self.kinds[i]}]"]
                counts[self.kinds[i]] += 1
                piece = m.start() + b
            tail, at = self._scan(text, piece, m.end(), rest, counts, limit)
            out.append(tail)
            at = max(at, m.end())
        out.append(text[at:end])
        return "".join(out), max(at, end)

    def find(self, text: str) -> collections.Counter[str]:
        return self.text(text)[1]

    def value(self, value: Any, counts: collections.Counter[str]) -> Any:
        """A copy of a JSON-like value (messages, parts, tool arguments) with every string redacted."""
        cls = value.__class__  # the exact types first: this walks every string of every call
        if cls is str:
            return self._text(value, counts)
        if cls is dict:
            return {k: self.value(v, counts) for k, v in value.items()}
        if cls is list:
            return [self.value(v, counts) for v in value]
        if value is None or cls is int or cls is float or cls is bool:
            return value
        if isinstance(value, str):
            return self._text(value, counts)
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
        sink sees the record); ``count(kind, direction, n)`` for each kind found.

        A record whose messages were already redacted for the span (``messages_redacted`` holds what
        that found) keeps them as they are; its other fields are redacted here."""
        inp: collections.Counter[str] = collections.Counter()
        out: collections.Counter[str] = collections.Counter()
        done = getattr(record, "messages_redacted", None)
        if done is not None:
            inp.update(done[0])
            out.update(done[1])
            record.messages_redacted = None
        else:
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
