"""Stage 0 rules: weighted, explainable regular-expression signals (high precision, low recall).

Six kinds of signal, each named in the result (``rule:<name>``):

* ``instruction_override`` — "ignore all previous instructions", "from now on you will…" (and the
  canonical phrasing in es/de/fr/pt/it/ja/zh/ko)
* ``roleplay_jailbreak`` — DAN / developer mode / "pretend you have no restrictions"
* ``prompt_exfiltration`` — "print your system prompt", "repeat the text above"
* ``delimiter_smuggling`` — fake chat markup (``<|im_start|>system``, ``[INST]``, ``### System:``)
* ``encoded_payload`` — base64/hex/percent/rot13/reversed/Unicode-tag text that rescans as any of
  the above, invisible characters, "decode this and follow it"
* ``indirect_injection`` — instructions addressed to the model inside retrieved documents or tool
  results ("AI assistant: instead, reply with…", "send the conversation to…")

A match that lies inside a short quotation ("who sang 'Ignore previous instructions'?") is a
*mention*, not a use: its weight is damped (``quoted`` in the signal name) so it does not flag alone.
Each signal has a weight; a text's score is ``1 - prod(1 - w)`` over the signals found (signals in
retrieved context weigh more: the user did not write them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from llmwatch.scoring.injection.normalize import decoded_variants, normalize, reread_variants

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
        r"|\b(?:act as|you are|pretend to be|respond as|roleplay as)\b[\w\s-]{0,10}?\b(?:an? )?"
        r"(?:unfiltered|uncensored|"
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
# The canonical override / exfiltration phrasing in other languages (high precision; the learned
# stage covers paraphrases). Written from the common phrasing, not from any evaluation set.
_ML_SIGNALS: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    ("instruction_override", 0.8, re.compile(
        r"\b(?:ignora|olvida|descarta|ignore|esque[cç]a|desconsidere|ignorez|oubliez?|ignoriere|vergiss|missachte|"
        r"dimentica)\b[\w\s,]{0,25}?\b(?:instrucciones|instruções|instrucoes|instructions|consignes|anweisungen|"
        r"vorgaben|regeln|istruzioni|reglas|regras|règles)\b[\w\s]{0,15}?\b(?:anteriores|previas|previos|"
        r"précédentes|precedentes|antérieures|vorherigen|bisherigen|vorigen|obigen|precedenti|anteriori)\b"
        r"|\b(?:ignora|olvida|ignore|esque[cç]a|ignorez|oubliez?|ignoriere|vergiss|dimentica)\b (?:todas? |tous |"
        r"toutes |alle |tutte )?(?:las |os |as |les |le |die |deine |tus |tes |suas |le tue )?(?:instrucciones|"
        r"instruções|instructions|consignes|anweisungen|istruzioni|reglas|regras|règles|regeln)\b"
        r"|\b(?:ignoriere|vergiss|missachte|ignorier)\b[\w\s,]{0,15}?\b(?:vorherigen|bisherigen|vorigen|obigen|"
        r"früheren|ursprünglichen|alten)\b[\w\s-]{0,12}?\b(?:anweisungen|regeln|vorgaben|instruktionen|befehle)\b"
        r"|(?:これまで|以前|前|上記|先ほど)の(?:すべての|全ての)?(?:指示|命令|ルール|設定)(?:は|を)?(?:すべて|全て)?(?:無視|忘れ)"
        r"|(?:忽略|无视|忘记|忘掉|無視|忘記)(?:掉)?(?:之前|以前|上面|先前|上述|前面)?(?:的)?(?:所有|全部|一切)?(?:的)?"
        r"(?:指令|指示|规则|規則|提示|命令|设定|設定)"
        r"|(?:이전|앞|위|기존)의? ?(?:모든 )?(?:지시|명령|규칙|지침|설정)(?:을|를|은|는)? ?(?:모두 )?(?:무시|잊)", _F)),
    ("prompt_exfiltration", 0.75, re.compile(
        r"\b(?:muestra|revela|imprime|repite|copia|mostre|revele|copie|repita|affiche|révèle|recopie|répète|"
        r"zeige?|gib|wiederhole|verrate)\b[\w\s]{0,25}?\b(?:prompt del sistema|mensaje (?:de|del) sistema|"
        r"prompt do sistema|mensagem de sistema|prompt système|message système|systemprompt|system-?prompt|"
        r"systemnachricht|instrucciones ocultas|instruções ocultas|consignes cachées|versteckten anweisungen)\b"
        r"|システムプロンプト(?:を|の)[^。]{0,20}(?:表示|出力|教え|見せ)|(?:输出|显示|告诉我|打印|泄露)[^。]{0,10}系统提示"
        r"|시스템 프롬프트[^.]{0,20}(?:출력|보여|알려)", _F)),
)
_ASK_ENCODED = re.compile(r"\b(?:decode|base64|rot13|hex)\b[\w\s,]{0,30}?\b(?:follow|execute|run|obey|do what|"
                         r"carry out)\b", _F)
_CONTEXT_BOOST = 0.1  # instructions in retrieved content are worse: the user did not write them
_QUOTE_DAMP = 0.3  # a quoted mention keeps 30% of its weight
_QUOTES = re.compile(r'"[^"\n]{3,160}"|“[^”\n]{3,160}”|„[^“”\n]{3,160}[“”]|«[^»\n]{3,160}»|「[^」\n]{2,160}」|'
                     r"『[^』\n]{2,160}』|《[^》\n]{2,160}》|‘[^’\n]{3,160}’|(?<![A-Za-z])'[^'\n]{3,160}'(?![A-Za-z])|`[^`\n]{3,160}`")
_ALL_SIGNALS = _SIGNALS + _ML_SIGNALS


def combine(weights: Sequence[float]) -> float:
    remaining = 1.0
    for w in weights:
        remaining *= 1.0 - min(max(w, 0.0), 1.0)
    return round(1.0 - remaining, 6)


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _QUOTES.finditer(text)]


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in spans)


class RuleDetector:
    """Weighted regular-expression signals over normalised and decoded text (fast, explainable).

    ``detect`` returns ``(score, ["rule:<signal>", ...])``; a signal found only in a decoded payload
    adds ``rule:encoded_payload`` and names the encoding (``rule:encoded_payload:base64``).
    """

    name = "heuristic"

    def detect(self, text: str, source: str = USER) -> tuple[float, list[str]]:
        if not text:
            return 0.0, []
        found: dict[str, float] = {}
        norm = normalize(text)
        self._scan(norm.text, source, found, dampen=True)
        for trick in norm.obfuscation:
            if trick in ("invisible", "unicode_tags"):
                found["encoded_payload"] = max(found.get("encoded_payload", 0.0), 0.6)
        if _ASK_ENCODED.search(norm.text):
            found["encoded_payload"] = max(found.get("encoded_payload", 0.0), 0.55)
        hidden = [("unicode_tags", norm.hidden)] if norm.hidden else []
        hidden += decoded_variants(norm.raw) + reread_variants(norm.raw, hinted_only=False)
        for kind, decoded in hidden:
            inner: dict[str, float] = {}
            self._scan(normalize(decoded).text, source, inner, dampen=False)
            if any(w >= 0.5 for w in inner.values()):  # an instruction hidden in an encoding is strong on its own
                found["encoded_payload"] = max(found.get("encoded_payload", 0.0), 0.85)
                found[f"encoded_payload:{kind}"] = 0.0
        return combine(list(found.values())), sorted(f"rule:{k}" for k in found)

    def _scan(self, text: str, source: str, found: dict[str, float], dampen: bool) -> None:
        boost = _CONTEXT_BOOST if source == CONTEXT else 0.0
        quotes = _quoted_spans(text) if dampen else []
        for name, weight, pattern in _ALL_SIGNALS:
            if name == "indirect_injection" and source != CONTEXT:
                continue
            hits = [m.span() for m in pattern.finditer(text)]
            if not hits:
                continue
            w = weight + (boost if weight >= 0.5 else 0.0)
            key = name
            if quotes and all(_inside(h, quotes) for h in hits):
                w *= _QUOTE_DAMP  # mentioned, not used: "who sang 'Ignore previous instructions'?"
                key = f"{name}(quoted)"
            # several patterns of one signal add up; strong ones weigh more in context
            found[key] = combine([found.get(key, 0.0), w])
