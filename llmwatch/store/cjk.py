"""Full-text search for scripts written without spaces: Chinese, Japanese and Korean.

A word index that splits on spaces sees ``返金をお願いします`` as one token, so ``返金`` never
matches. Like Lucene's CJK analyzer (and PGroonga's default), llmwatch indexes every run of CJK
characters as its **unigrams and bigrams** (``返 金 を … 返金 金を をお …``) in a second column,
``search_grams``, next to the stemmed word index that serves space-separated languages:

* a CJK search term needs all of its bigrams (a one-character term: its unigram) in that index,
  which narrows the rows with an index lookup on SQLite (FTS5, ``ascii`` tokenizer) and
  PostgreSQL (GIN over ``string_to_array(search_grams, ' ')``) alike, whatever the server's locale;
* the candidates are then checked for the exact term as a substring of the stored text, so a
  match is a real occurrence, never two bigrams that happen to appear apart.

Two-character words (``返金``, ``退款``, ``환불``) are one bigram: indexed, unlike a trigram
index's three-character minimum. Korean words carry particles (``환불을``), which the bigrams see
through. Not covered: Thai, Lao, Khmer, Burmese (no spaces either, not CJK: matched only as whole
space-separated tokens), and full-/half-width folding (``ｶﾀｶﾅ`` does not match ``カタカナ``).
"""

from __future__ import annotations

import re

# Han (incl. extension A, compatibility, supplementary planes), the iteration marks 々〆〇,
# Hiragana, Katakana (without the ・ and ゠ punctuation), the prolonged sound mark, half-width
# Katakana, Hangul syllables and jamo.
_CJK_CLASS = ("\u3005-\u3007\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
              "\uf900-\ufaff\uff66-\uff9f\uac00-\ud7af\u1100-\u11ff\u3131-\u318e\U00020000-\U0003134f")
_RUN = re.compile(f"[{_CJK_CLASS}]+")
_ANY = re.compile(f"[{_CJK_CLASS}]")


def has_cjk(text: str) -> bool:
    return _ANY.search(text) is not None


def grams(text: str | None) -> str | None:
    """The ``search_grams`` value for a row's search text: its distinct CJK unigrams and bigrams,
    space-separated (None when the text has no CJK character)."""
    if not text or _ANY.search(text) is None:
        return None
    out: dict[str, None] = {}
    for run in _RUN.findall(text):
        for i, ch in enumerate(run):
            out[ch] = None
            if i + 1 < len(run):
                out[run[i:i + 2]] = None
    return " ".join(out)


def term_grams(term: str) -> list[str]:
    """What a search term needs in the gram index: each CJK run's bigrams (a one-character run:
    the character). Empty for a term without CJK characters."""
    need: dict[str, None] = {}
    for run in _RUN.findall(term):
        if len(run) == 1:
            need[run] = None
        for i in range(len(run) - 1):
            need[run[i:i + 2]] = None
    return list(need)


def like_pattern(term: str) -> str:
    """``%term%`` for ``LIKE ... ESCAPE '\\'``, with ``%``, ``_`` and ``\\`` taken literally."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
