"""Prompt-injection detection over user input and retrieved/tool context.

The built-in :class:`RuleDetector` (``detector="heuristic"``) looks for six kinds of signal:

* ``instruction_override`` — "ignore all previous instructions", "from now on you will…"
* ``roleplay_jailbreak`` — DAN / developer mode / "pretend you have no restrictions"
* ``prompt_exfiltration`` — "print your system prompt", "repeat the text above"
* ``delimiter_smuggling`` — fake chat markup (``<|im_start|>system``, ``[INST]``, ``### System:``)
* ``encoded_payload`` — base64/hex blobs that decode to any of the above, invisible characters
* ``indirect_injection`` — instructions addressed to the model inside retrieved documents or tool
  results ("AI assistant: instead, reply with…", "send the conversation to…")

Each signal has a weight; a text's score is ``1 - prod(1 - w)`` over the signals found (signals
in retrieved context weigh more: the user did not write them). A call is flagged at ``threshold``.
Detectors are pluggable: anything with ``name`` and ``detect(text, source) -> (score, signals)``
(e.g. a fine-tuned classifier) can replace or join the rules:

    InjectionScorer(detectors=[RuleDetector(), MyClassifier()])
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Protocol, Sequence

from llmwatch.scoring.base import FLAGGED, INPUT, OK, Evaluation, Item

USER = "user"
CONTEXT = "context"

_F = re.IGNORECASE | re.DOTALL
_NOUN = r"(?:instructions?|prompts?|rules|directions|directives|guidelines|guidance|commands?|context|constraints)"
_SIGNALS: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    ("instruction_override", 0.8, re.compile(
        r"\b(?:ignore|disregard|forget|skip|bypass|override|overwrite)\b[\w\s,'-]{0,30}?\b(?:previous|prior|above|"
        r"earlier|preceding|former|original|system|initial|all|any|your|these|those|the)\b[\w\s-]{0,20}?" + _NOUN
        + r"|\bnew (?:system )?instructions?\s*[:-]|\bfrom now on,? (?:you|your)\b[\w\s]{0,15}\b(?:will|must|are|shall|"
        r"only|respond|answer|reply)|\bdo not (?:follow|obey) (?:your|the|any) (?:previous |original )?" + _NOUN
        + r"|\byour (?:new|real|true) (?:task|goal|purpose|instructions?) (?:is|are)\b"
        r"|\b(?:ignore|disregard|forget)\b (?:everything|all|anything) (?:you were|you've been|you have been|you got)"
        r" (?:told|instructed|given)\b|\b" + _NOUN + r"\b[\w\s]{0,20}?\bno longer appl(?:y|ies)\b", _F)),
    ("roleplay_jailbreak", 0.7, re.compile(
        r"\bdo anything now\b|\bjailbroken\b"
        r"|\b(?:pretend|imagine|act as if|roleplay as|role-play as|act as|you are now)\b[\w\s,'-]{0,60}?"
        r"\b(?:no|without|free (?:of|from)|not bound by|ignores?)\b[\w\s-]{0,20}?\b(?:rules|restrictions|filters?|"
        r"limits|limitations|guidelines|policies|censorship|ethics|morals)\b"
        r"|\b(?:act as|you are|pretend to be|respond as|roleplay as)\b[\w\s-]{0,10}?\b(?:an? )?(?:unfiltered|uncensored|"
        r"unrestricted|amoral|evil)\b"
        r"|\byou are no longer\b[\w\s-]{0,20}?\b(?:bound|restricted|an ai|chatgpt|an assistant|limited)\b"
        r"|\bstay in character\b|\b(?:in|enable|enter|activate)\b[\w\s]{0,10}\b(?:god|jailbreak|evil|dan) mode\b"
        r"|\byou are going to pretend\b", _F)),
    # Weak alone (DAN also names HVAC setups, developer mode is an Android setting): need company.
    ("roleplay_jailbreak", 0.35, re.compile(
        r"\bDAN\b|\bdeveloper mode\b|\bjailbreak\b|\b(?:unfiltered|uncensored|unrestricted)\b", _F)),
    ("roleplay_jailbreak", 0.35, re.compile(
        r"\b(?:generate|answer|respond|reply|say|produce)\b[\w\s]{0,20}?\bwithout (?:any )?(?:restrictions|"
        r"filters|censorship|limits|refusing)\b", _F)),
    ("prompt_exfiltration", 0.75, re.compile(
        r"\b(?:reveal|show|print|output|repeat|recite|display|leak|dump|disclose|tell me|give me|write out|spell out|"
        r"what (?:is|are|was|were))\b[\w\s]{0,15}?\b(?:your|the)\b[\w\s]{0,12}?\b(?:system|initial|original|hidden|"
        r"secret|developer|pre-?)\s*(?:prompt|instructions?|message|rules)\b"
        r"|\b(?:repeat|print|output|copy)\b[\w\s]{0,20}?\b(?:everything|all|the (?:text|words|content))\b[\w\s]{0,10}?"
        r"\b(?:above|before this|so far|preceding)\b"
        r"|\bwhat (?:were|are) you (?:told|instructed|programmed)\b", _F)),
    ("delimiter_smuggling", 0.6, re.compile(
        r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\|>|<</?SYS>>"
        r"|(?:^|\n)\s*#{2,}\s*(?:system|instruction|new instructions?)\b|</?(?:system|sys|instructions?)>"
        r"|\bEND OF (?:USER )?(?:INPUT|PROMPT|DOCUMENT|CONTEXT)\b|```\s*system\b", re.IGNORECASE)),
    # A bare [INST] or a "System:" line also appears in questions about chat formats and in logs.
    ("delimiter_smuggling", 0.4, re.compile(r"\[/?INST\]|(?:^|\n)\s*(?:system|assistant)\s*:\s*\S", re.IGNORECASE)),
    ("indirect_injection", 0.8, re.compile(
        r"\b(?:ai|assistant|language model|llm|chatbot|gpt|claude|model)\b[\s,:]{0,3}(?:please |you must |you should )?"
        r"(?:ignore|disregard|do not (?:tell|mention|reveal)|instead|must now|should now)\b"
        r"|\b(?:when|if) (?:you|an ai|the ai|the assistant|the model) (?:read|reads|summari[sz]es?|process|processes|"
        r"see|sees)\b[\w\s,]{0,40}?\b(?:must|should|will|instead|then)\b"
        r"|\binstead,? (?:tell|say|reply|respond|answer|output|write)\b[\w\s]{0,20}?\b(?:the user|that|with)\b"
        r"|\b(?:send|forward|post|upload|exfiltrate|email)\b (?:(?:all|the|this|every|any|their|the user's) )*"
        r"(?:conversation|chat history|credentials|passwords?|api keys?|secrets?|personal data|user data|data)\b"
        r"[\w\s']{0,15}?\bto\b", _F)),
)
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\u202a-\u202e\ufeff]|[\U000E0000-\U000E007F]")
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){16,}\b")
_ENCODED_ASK = re.compile(r"\b(?:decode|base64|rot13|hex)\b[\w\s,]{0,30}?\b(?:follow|execute|run|obey|do what|"
                          r"carry out)\b", _F)
_CONTEXT_BOOST = 0.1  # instructions in retrieved content are worse: the user did not write them


class Detector(Protocol):
    name: str

    def detect(self, text: str, source: str) -> tuple[float, list[str]]: ...


def _combine(weights: Sequence[float]) -> float:
    remaining = 1.0
    for w in weights:
        remaining *= 1.0 - min(max(w, 0.0), 1.0)
    return round(1.0 - remaining, 6)


class RuleDetector:
    """Weighted regular-expression signals (fast, explainable; see the module docstring)."""

    name = "heuristic"

    def detect(self, text: str, source: str = USER) -> tuple[float, list[str]]:
        if not text:
            return 0.0, []
        found: dict[str, float] = {}
        self._scan(text, source, found, depth=0)
        return _combine(list(found.values())), sorted(found)

    def _scan(self, text: str, source: str, found: dict[str, float], depth: int) -> None:
        boost = _CONTEXT_BOOST if source == CONTEXT else 0.0
        for name, weight, pattern in _SIGNALS:
            if name == "indirect_injection" and source != CONTEXT:
                continue
            if pattern.search(text):  # several patterns of one signal add up; strong ones weigh more in context
                found[name] = _combine([found.get(name, 0.0), weight + (boost if weight >= 0.5 else 0.0)])
        if _INVISIBLE.search(text):
            found["encoded_payload"] = max(found.get("encoded_payload", 0.0), 0.6)
        if _ENCODED_ASK.search(text):
            found["encoded_payload"] = max(found.get("encoded_payload", 0.0), 0.55)
        if depth == 0:
            for decoded in _decoded_blobs(text):
                inner: dict[str, float] = {}
                self._scan(decoded, source, inner, depth=1)
                if inner:  # an instruction hidden in an encoding is a strong signal on its own
                    found["encoded_payload"] = max(found.get("encoded_payload", 0.0), 0.85)


def _decoded_blobs(text: str) -> list[str]:
    out = []
    for m in _B64.finditer(text):
        blob = m.group()
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=False)
        except (binascii.Error, ValueError):
            continue
        decoded = raw.decode("utf-8", "ignore")
        if decoded and sum(c.isprintable() or c.isspace() for c in decoded) / len(decoded) > 0.9:
            out.append(decoded)
    for m in _HEX.finditer(text):
        try:
            decoded = bytes.fromhex(m.group()).decode("utf-8", "ignore")
        except ValueError:
            continue
        if decoded:
            out.append(decoded)
    return out


class InjectionScorer:
    """Scores user input and retrieved/tool context of each call; flags at ``threshold``."""

    name = "injection"

    def __init__(self, detectors: Sequence[Detector] | None = None, threshold: float = 0.5) -> None:
        self.detectors = list(detectors) if detectors is not None else [RuleDetector()]
        self.threshold = threshold

    def detect(self, prompt: str, context: Sequence[str] = ()) -> tuple[float, list[str], str]:
        """(score, signals as ``source:signal``, detector names that flagged, comma-joined)."""
        best = 0.0
        signals: list[str] = []
        fired: list[str] = []
        for det in self.detectors:
            score_d = 0.0
            for source, texts in ((USER, [prompt]), (CONTEXT, list(context))):
                for text in texts:
                    s, sig = det.detect(text, source)
                    score_d = max(score_d, s)
                    signals.extend(f"{source}:{x}" for x in sig if f"{source}:{x}" not in signals)
            if score_d >= self.threshold:
                fired.append(det.name)
            best = max(best, score_d)
        return best, signals, ",".join(fired)

    def score(self, items: Sequence[Item]) -> list[list[Evaluation]]:
        out = []
        for item in items:
            value, signals, fired = self.detect(item.prompt, item.context)
            out.append([Evaluation("injection", value, FLAGGED if fired else OK, ", ".join(signals), INPUT,
                                   detector=fired or None)])
        return out
