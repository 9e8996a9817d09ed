"""Toxicity with Detoxify (``original``, ``unbiased``, ``multilingual``), loaded once, lazily, on
the scoring thread, batched, on CPU or CUDA.

Where the weights come from, first found wins:

1. ``toxicity_checkpoint``: a Detoxify ``.ckpt`` file, or a folder holding one, with the Hugging
   Face config and tokenizer files next to it;
2. the llmwatch data folder, where ``llmwatch models fetch detoxify <model>`` installs them
   (:mod:`llmwatch.scoring.models`).

With neither, the scorer does not download anything: :attr:`ToxicityScorer.status` says
``toxicity: no weights (run `llmwatch models fetch detoxify original`)``, it is logged once, and
the scoring lane turns itself off with that message.

Detoxify itself only loads offline when the checkpoint's ``config.arch.args.model_type`` names a
local folder (its loader calls ``from_pretrained(model_type)`` even when given a config path), so
this module rewrites that field in an in-memory copy of the checkpoint to point at the local
folder; the file is never modified.

Needs the ``toxicity`` extra (``pip install 'llmwatch[toxicity]'``); the core SDK never imports torch.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmwatch.scoring.base import FLAGGED, INPUT, OK, OUTPUT, Evaluation, Item, ScorerUnavailable

logger = logging.getLogger("llmwatch")

MODELS = ("original", "unbiased", "multilingual")
THRESHOLD = 0.5
_HF_FILES = ("config.json",)


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; anything else is passed to torch."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _checkpoint_file(path: Path) -> Path:
    if path.is_dir():
        found = sorted(path.glob("*.ckpt")) + sorted(path.glob("*.pt"))
        if not found:
            raise ScorerUnavailable(f"toxicity_checkpoint {str(path)!r} is a folder with no *.ckpt file in it")
        return found[0]
    if not path.exists():
        raise ScorerUnavailable(f"toxicity_checkpoint {str(path)!r} does not exist")
    return path


def load_offline(checkpoint: str | os.PathLike[str], device: str = "cpu",
                 hf_folder: str | os.PathLike[str] | None = None) -> Any:
    """A real ``detoxify.Detoxify`` from a local checkpoint, with no network access.

    The HF config/tokenizer folder is ``hf_folder``, else the checkpoint's own folder if it holds a
    ``config.json``, else the checkpoint's ``model_type`` if that already is a local folder.
    """
    import torch
    from detoxify import Detoxify

    ckpt = _checkpoint_file(Path(checkpoint))
    loaded = torch.load(ckpt, map_location="cpu", weights_only=False)
    try:
        args = loaded["config"]["arch"]["args"]
    except (KeyError, TypeError):
        raise ScorerUnavailable(f"{ckpt} is not a Detoxify checkpoint (no config.arch.args)") from None
    folder = Path(hf_folder) if hf_folder else None
    if folder is None and all((ckpt.parent / f).exists() for f in _HF_FILES):
        folder = ckpt.parent
    if folder is None and Path(str(args.get("model_type", ""))).is_dir():
        folder = Path(args["model_type"])
    if folder is None:
        raise ScorerUnavailable(
            f"{ckpt}: offline loading needs the Hugging Face config and tokenizer of "
            f"{args.get('model_type')!r} next to the checkpoint (config.json, vocab/tokenizer files)")
    args["model_type"] = str(folder)
    buf = io.BytesIO()
    torch.save(loaded, buf)
    buf.seek(0)
    del loaded
    return Detoxify(checkpoint=buf, device=device, huggingface_config_path=str(folder))


_logged: set[str] = set()
_logged_lock = threading.Lock()


def _log_once(message: str) -> None:
    with _logged_lock:
        if message in _logged:
            return
        _logged.add(message)
    logger.warning("llmwatch: %s", message)


class ToxicityScorer:
    """Scores prompt and completion of each call, per Detoxify category.

    ``status`` says what it will load, or why it cannot run; ``available()`` is True when it can:

        >>> ToxicityScorer(models_dir="/nowhere").status    # doctest: +SKIP
        'toxicity: no weights (run `llmwatch models fetch detoxify original`)'
    """

    name = "toxicity"

    def __init__(self, model: str = "original", checkpoint: str | None = None, device: str = "auto",
                 batch_size: int = 16, threshold: float = THRESHOLD, max_chars: int = 4000,
                 models_dir: str | os.PathLike[str] | None = None) -> None:
        if model not in MODELS:
            raise ValueError(f"toxicity model {model!r}: expected one of {', '.join(MODELS)}")
        self.model_type = model
        self.checkpoint = checkpoint
        self.device = device
        self.batch_size = batch_size
        self.threshold = threshold
        self.max_chars = max_chars
        self.weights, self.status = self._locate(models_dir)
        if self.weights is None:
            _log_once(self.status)
        self._model: Any = None
        self._lock = threading.Lock()

    def _locate(self, models_dir: str | os.PathLike[str] | None) -> tuple[Path | None, str]:
        """(the checkpoint to load, the status line); an explicit checkpoint wins over the data folder."""
        if importlib.util.find_spec("detoxify") is None:
            return None, "toxicity: needs pip install 'llmwatch[toxicity]'"
        if self.checkpoint:
            if not Path(self.checkpoint).exists():
                return None, f"toxicity: toxicity_checkpoint {self.checkpoint!r} does not exist"
            return Path(self.checkpoint), f"toxicity: checkpoint {self.checkpoint}"
        from llmwatch.scoring.models import installed_detoxify

        found = installed_detoxify(self.model_type, models_dir)
        if found is None:
            return None, f"toxicity: no weights (run `llmwatch models fetch detoxify {self.model_type}`)"
        return found, f"toxicity: {self.model_type} weights in {found.parent}"

    def available(self) -> bool:
        """True when weights were found (whether they load is known once the first batch loads them)."""
        return self.weights is not None

    def load(self) -> Any:
        """Load once (first batch, on the scoring thread)."""
        with self._lock:
            if self._model is None:
                if self.weights is None:
                    raise ScorerUnavailable(self.status)
                self._model = load_offline(self.weights, resolve_device(self.device))
            return self._model

    def predict(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Per-text category scores, in batches of ``batch_size``."""
        model = self.load()
        out: list[dict[str, float]] = []
        for i in range(0, len(texts), self.batch_size):
            chunk = [t[: self.max_chars] for t in texts[i:i + self.batch_size]]
            res = model.predict(chunk)
            for j in range(len(chunk)):
                out.append({cat: float(vals[j] if isinstance(vals, list) else vals) for cat, vals in res.items()})
        return out

    def score(self, items: Sequence[Item]) -> list[list[Evaluation]]:
        jobs: list[tuple[int, str, str]] = []
        for n, item in enumerate(items):
            for direction, text in ((INPUT, item.prompt), (OUTPUT, item.completion)):
                if text.strip():
                    jobs.append((n, direction, text))
        preds = self.predict([t for _, _, t in jobs]) if jobs else []
        results: list[list[Evaluation]] = [[] for _ in items]
        for (n, direction, _), cats in zip(jobs, preds):
            top = max(cats, key=lambda c: cats[c]) if cats else "toxicity"
            value = cats.get(top, 0.0)
            label = FLAGGED if value >= self.threshold else OK
            results[n].append(Evaluation("toxicity", value, label, f"{direction}: {top} {value:.3f}", direction,
                                         categories=cats))
        for evals in results:
            if not evals:  # nothing to score still marks the call as scored
                evals.append(Evaluation("toxicity", 0.0, OK, "no text", None))
        return results
