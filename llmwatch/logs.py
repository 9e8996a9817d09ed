"""Query the prompt log from Python: the calls ``llmwatch`` stored, their stats and annotations.

Every function takes ``url=`` (default: ``LLMWATCH_STORE_URL``, else the per-user SQLite file).

    from llmwatch import logs

    for call in logs.query(since="1d", model="gpt-4o", text="refund", min_duration=2, sort="-duration"):
        print(call.started_at, call.duration, call.output_text[:80])
    logs.count(since="1h", status="error")
    logs.aggregate(since="1d", by="model")          # count, error rate, p50/p95/p99, tokens, cost
    logs.flag(call.record_id, label="weak-prompt", note="two questions in one")
    logs.feedback(call.record_id, score=-1)
    logs.similar(call.record_id, limit=5)           # prompts that mean the same, in any language
    logs.like("refund for a damaged item")          # the same for a free text
    logs.clusters(since="7d", status="error")       # calls grouped by meaning: size, errors, cost, flags
"""

from __future__ import annotations

from llmwatch.store.analysis import aggregate, compare
from llmwatch.store.annotate import add_embeddings, add_scores, feedback, flag
from llmwatch.store.clusters import Cluster, ClusterReport, clusters
from llmwatch.store.export import export
from llmwatch.store.query import Filters, QueryError, count, get, query
from llmwatch.store.records import Annotation, CallDetail, Page, StoredCall
from llmwatch.store.similar import Match, Matches, like, similar

__all__ = ["query", "count", "aggregate", "get", "flag", "feedback", "compare", "export", "add_scores",
           "add_embeddings", "similar", "like", "clusters",
           "Filters", "QueryError", "StoredCall", "CallDetail", "Annotation", "Page", "Match", "Matches", "Cluster",
           "ClusterReport"]
