"""OpenAI Moderation through the ``openai`` client (any base URL: OpenAI, a proxy, the simulator).

The scorer's own requests are made with llmwatch's suppression flag set, so the instrumentation
does not observe them as the application's calls (no span, no metrics, no prompt-log row).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from llmwatch.scoring.base import FLAGGED, INPUT, OK, OUTPUT, Evaluation, Item, ScorerUnavailable


class ModerationScorer:
    name = "moderation"

    def __init__(self, model: str = "omni-moderation-latest", base_url: str | None = None,
                 api_key: str | None = None, client: Any = None, timeout: float = 30.0,
                 max_chars: int = 8000) -> None:
        self.model = model
        self.base_url = base_url
        self.api_key = api_key
        self.timeout = timeout
        self.max_chars = max_chars
        self._client = client

    def client(self) -> Any:
        if self._client is None:
            try:
                import openai
            except ImportError:
                raise ScorerUnavailable("the moderation scorer needs the openai package") from None
            self._client = openai.OpenAI(base_url=self.base_url or os.environ.get("OPENAI_BASE_URL"),
                                         api_key=self.api_key or os.environ.get("OPENAI_API_KEY") or "unset",
                                         timeout=self.timeout, max_retries=1)
        return self._client

    def moderate(self, texts: list[str]) -> list[Any]:
        from llmwatch.instrumentation.state import suppressed

        token = suppressed.set(True)
        try:
            return list(self.client().moderations.create(model=self.model, input=texts).results)
        finally:
            suppressed.reset(token)

    def score(self, items: Sequence[Item]) -> list[list[Evaluation]]:
        jobs = [(n, d, t[: self.max_chars]) for n, item in enumerate(items)
                for d, t in ((INPUT, item.prompt), (OUTPUT, item.completion)) if t.strip()]
        results: list[list[Evaluation]] = [[] for _ in items]
        found = self.moderate([t for _, _, t in jobs]) if jobs else []
        for (n, direction, _), res in zip(jobs, found):
            scores = {k: float(v) for k, v in _as_dict(res.category_scores).items() if v is not None}
            flagged = tuple(sorted(k for k, v in _as_dict(res.categories).items() if v))
            value = max(scores.values(), default=0.0)
            explanation = f"{direction}: " + (", ".join(flagged) if flagged else "nothing flagged")
            results[n].append(Evaluation("moderation", value, FLAGGED if res.flagged else OK, explanation, direction,
                                         categories=scores, flagged_categories=flagged))
        for evals in results:
            if not evals:
                evals.append(Evaluation("moderation", 0.0, OK, "no text", None))
        return results


def _as_dict(obj: Any) -> dict[str, Any]:
    # The SDK's models use Python names (self_harm); the wire names (self-harm) are the aliases.
    dump = getattr(obj, "model_dump", None)
    return dump(by_alias=True) if dump is not None else dict(obj or {})
