"""Stage 0 text preparation: normalisation, de-obfuscation and decode-and-rescan.

Everything here is pure Python on the standard library and costs well under a millisecond for a
prompt-sized text. :func:`normalize` undoes the cheap tricks that defeat pattern matching (and
confuse an embedding model): compatibility forms (full-width letters, ligatures), invisible
characters (zero-width, bidi overrides, Unicode "tag" characters used for ASCII smuggling),
confusable letters from other scripts inside Latin words (Cyrillic ``о`` in ``ignоre``), leetspeak
inside words (``1gn0re``) and letter-spaced words (``i g n o r e``). :func:`decoded_variants`
finds text hidden in base64 / hex / percent-encoding / Unicode tags, and returns rot13 and reversed
readings, so the rules (and the learned stage) can rescan what the model would read.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass, field

_ZERO_WIDTH = ("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
               "\u2060\u2061\u2062\u2063\u2064\ufeff")
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE_RE = re.compile("[" + _ZERO_WIDTH + _BIDI + "]")
_TAGS_RE = re.compile("[\U000E0000-\U000E007F]+")
_VARIATION_RE = re.compile("[\ufe00-\ufe0f\U000E0100-\U000E01EF]")

# Letters from Cyrillic / Greek (and a few symbols) that render like Latin ones. Only applied inside
# words that also contain Latin letters, so Russian or Greek text is left alone.
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h",
    "ո": "n", "ս": "u", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X", "Ζ": "Z",
    "ı": "i", "ł": "l", "ß": "ss",
})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "|": "l"})
_WORD_RE = re.compile(r"[^\W_]+(?:[@$|][^\W_]+)*|[@$|]", re.UNICODE)
_LATIN_RE = re.compile(r"[A-Za-z]")
_NONLATIN_LETTER_RE = re.compile(r"[\u0370-\u03ff\u0400-\u052f\u0530-\u058f\u0131\u0142\u0261\u04bb]")
_LEET_WORD_RE = re.compile(r"(?<![\w@$|])(?=[\w@$|]*[A-Za-z])(?=[\w@$|]*[013457@$|])[A-Za-z0-9@$|]{3,}(?![\w@$|])")
_SPACED_RE = re.compile(r"(?<!\S)(?:[^\W\d_][ .\-_*·]){3,}[^\W\d_](?!\S)")
_SPACES_RE = re.compile(r"[ \t\u00a0\u3000]+")

_B64_RE = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{20,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX_RE = re.compile(r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{2}(?:[ :](?=[0-9a-fA-F]{2}))?){12,}(?![0-9A-Za-z])")
_PCT_RE = re.compile(r"(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9._~+-]){6,}")
_ROT13_HINT = re.compile(r"rot-?13|caesar|c[ée]sar|凯撒|シーザー|카이사르", re.IGNORECASE)
_REVERSE_HINT = re.compile(r"backwards?|reversed?|in reverse|al rev[ée]s|[àa] l'envers|r[üu]ckw[äa]rts|umgekehrt|"
                           r"de tr[áa]s para frente|invertid|逆から|逆さ|倒过来|倒著|倒着|反过来|거꾸로|뒤집",
                           re.IGNORECASE)


@dataclass
class Normalized:
    text: str  # fully normalised: what the rules and the model read
    raw: str = ""  # after NFKC and invisible-character stripping only: where encoded blobs are looked for
    obfuscation: list[str] = field(default_factory=list)  # tricks undone: invisible, tags, confusables, leet, spaced
    hidden: str = ""  # ASCII smuggled in Unicode tag characters


def _deconfuse_word(m: re.Match[str]) -> str:
    word = m.group()
    if _LATIN_RE.search(word) and _NONLATIN_LETTER_RE.search(word):
        return word.translate(_CONFUSABLES)
    return word


def normalize(text: str) -> Normalized:
    """NFKC, invisible/bidi/tag characters stripped (tags decoded), confusables mapped, leet and spacing undone."""
    tricks: list[str] = []
    hidden = ""
    tags = _TAGS_RE.findall(text)
    if tags:
        tricks.append("unicode_tags")
        hidden = "".join(chr(ord(c) - 0xE0000) for run in tags for c in run if 0x20 <= ord(c) - 0xE0000 < 0x7F)
        text = _TAGS_RE.sub("", text)
    if _INVISIBLE_RE.search(text):
        tricks.append("invisible")
        text = _INVISIBLE_RE.sub("", text)
    text = _VARIATION_RE.sub("", text)
    nfkc = unicodedata.normalize("NFKC", text)
    if nfkc != text and any(unicodedata.category(c) == "Lu" or c.isascii() for c in nfkc):
        if sum(1 for a, b in zip(nfkc, text) if a != b) > 3:
            tricks.append("compatibility_forms")
    text = raw = nfkc
    if _NONLATIN_LETTER_RE.search(text):
        mapped = _WORD_RE.sub(_deconfuse_word, text)
        if mapped != text:
            tricks.append("confusables")
            text = mapped
    if any(c in text for c in "013457@$|"):
        mapped = _LEET_WORD_RE.sub(lambda m: m.group() if _keep_digits(m) else m.group().translate(_LEET), text)
        if mapped != text:
            tricks.append("leetspeak")
            text = mapped
    spaced = _SPACED_RE.sub(lambda m: re.sub(r"[ .\-_*·]", "", m.group()), text)
    if spaced != text:
        tricks.append("spaced_letters")
        text = spaced
    text = _SPACES_RE.sub(" ", text)
    return Normalized(text, raw, tricks, hidden)


def _keep_digits(m: re.Match[str]) -> bool:
    word = m.group()
    if word.isdigit() or _is_identifier_like(word):
        return True
    nxt = m.string[m.end():m.end() + 1]
    prev = m.string[m.start() - 1:m.start()] if m.start() else ""
    return "@" in word and nxt == "." or nxt in "@" and nxt != "" or prev in (".", "/", ":", "#", "-")


def _is_identifier_like(word: str) -> bool:
    """Version strings, hashes, model names (gpt4o, utf8, mp3, 2fa) keep their digits."""
    if any(c in "@$|" for c in word):
        return False
    digits = sum(c.isdigit() for c in word)
    letters = len(word) - digits
    return digits >= letters or bool(re.fullmatch(r"[A-Za-z]+\d+[A-Za-z]?|\d+[A-Za-z]{1,3}", word))


def _printable_ratio(s: str) -> float:
    return sum(c.isprintable() or c.isspace() for c in s) / max(1, len(s))


def _wordy(s: str) -> bool:
    """Decoded bytes that read like text (letters and spaces), not binary noise or another hash."""
    if len(s) < 6 or _printable_ratio(s) < 0.95:
        return False
    letters = sum(c.isalpha() for c in s)
    return letters / len(s) > 0.5 and (" " in s or not s.isascii())


def decoded_variants(text: str, max_variants: int = 4) -> list[tuple[str, str]]:
    """``(kind, text)`` for each hidden payload: base64, hex, percent-encoding (decoded when it reads like text)."""
    out: list[tuple[str, str]] = []
    for m in _B64_RE.finditer(text):
        blob = m.group()
        if blob.isdigit() or blob.isalpha() and (blob.islower() or blob.isupper()):
            continue  # an identifier or a word, not base64
        try:
            raw = base64.b64decode(blob.replace("-", "+").replace("_", "/") + "=" * (-len(blob) % 4), validate=False)
        except (binascii.Error, ValueError):
            continue
        try:
            decoded = raw.decode("utf-8")  # strict: random bytes are rarely valid UTF-8
        except UnicodeDecodeError:
            continue
        if _wordy(decoded):
            out.append(("base64", decoded))
    for m in _HEX_RE.finditer(text):
        try:
            decoded = bytes.fromhex(re.sub(r"[ :]", "", m.group())).decode("utf-8")
        except ValueError:  # UnicodeDecodeError included
            continue
        if _wordy(decoded):
            out.append(("hex", decoded))
    if text.count("%") >= 3:
        for m in _PCT_RE.finditer(text):
            if m.group().count("%") >= 3:
                decoded = urllib.parse.unquote_plus(m.group())
                if decoded != m.group() and _wordy(decoded):
                    out.append(("percent", decoded))
    return out[:max_variants]


def reread_variants(text: str, hinted_only: bool) -> list[tuple[str, str]]:
    """rot13 and reversed readings; with ``hinted_only`` only when the text asks for them."""
    out: list[tuple[str, str]] = []
    if not hinted_only and len(text) > 1000:  # unhinted rereads are for short texts (stage 0 stays cheap)
        hinted_only = True
    if not hinted_only or _ROT13_HINT.search(text):
        if any("a" <= c.lower() <= "z" for c in text[:2000]):
            out.append(("rot13", codecs.encode(text, "rot13")))
    if not hinted_only or _REVERSE_HINT.search(text):
        out.append(("reversed", text[::-1]))
    return out
