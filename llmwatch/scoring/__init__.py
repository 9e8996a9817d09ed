"""Quality and safety scoring: toxicity, moderation, prompt injection, PII, output validation; prompt embeddings.

Scorers run off the caller's thread: embedded (:mod:`llmwatch.scoring.worker`, started by
``llmwatch.init(scorers=[...])``) or in the monitoring agent (:mod:`llmwatch.scoring.agent`,
pulling unscored calls from the prompt log). Results become metrics, ``gen_ai.evaluation.result``
events and rows in the store's scores table (:mod:`llmwatch.scoring.report`).
"""

from __future__ import annotations

from typing import Any

from llmwatch.names import SCORER_NAMES as SCORERS
from llmwatch.scoring.base import Evaluation, Item, Scorer, ScorerUnavailable

__all__ = ["SCORERS", "Evaluation", "Item", "Scorer", "ScorerUnavailable", "build_scorer", "build_scorers"]


def build_scorer(name: str, config: Any) -> Scorer:
    """The scorer ``name`` configured from a :class:`llmwatch.config.Config` (or any object with its fields)."""
    if name == "toxicity":
        from llmwatch.scoring.toxicity import ToxicityScorer

        return ToxicityScorer(getattr(config, "toxicity_model", "original"),
                              getattr(config, "toxicity_checkpoint", None),
                              getattr(config, "toxicity_device", "auto"), getattr(config, "score_batch_size", 16))
    if name == "moderation":
        from llmwatch.scoring.moderation import ModerationScorer

        return ModerationScorer(getattr(config, "moderation_model", "omni-moderation-latest"),
                                getattr(config, "moderation_base_url", None),
                                timeout=getattr(config, "score_timeout", 30.0))
    if name == "injection":
        from llmwatch.scoring.injection import InjectionScorer

        return InjectionScorer(threshold=getattr(config, "injection_threshold", 0.5))
    if name == "pii":
        from llmwatch.scoring.pii import PiiScorer, Redactor

        return PiiScorer(Redactor(getattr(config, "redact_patterns", ())))
    if name == "validation":
        from llmwatch.scoring.validation import ValidationScorer

        return ValidationScorer()
    if name == "embedding":
        from llmwatch.scoring.embedding import EmbeddingScorer

        return EmbeddingScorer()
    raise ValueError(f"unknown scorer {name!r}: expected one of {', '.join(SCORERS)}")


def build_scorers(names: Any, config: Any) -> list[Scorer]:
    return [build_scorer(name, config) for name in names]
