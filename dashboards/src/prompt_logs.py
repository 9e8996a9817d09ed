"""Prompt logs: the SQL prompt-log store (llmwatch/store/models.py) through a PostgreSQL datasource.

Times are Unix epoch seconds (double precision). ``$__unixEpochFilter(start_time)`` is Grafana's
macro for "inside the dashboard's time range"; trace ids link to the tracing datasource.
"""

from __future__ import annotations

from .spec import DashboardSpec, PanelSpec, Query, Row

COLUMNS = (
    "to_timestamp(start_time) AS time, trace_id, provider, operation, request_model, status, error_type, "
    "round(duration::numeric, 3) AS duration_s, input_tokens, output_tokens, cost_usd, record_id"
)
WHERE = (
    "$__unixEpochFilter(start_time) AND provider ~ '${provider:regex}' "
    "AND coalesce(request_model, '') ~ '${model:regex}' AND coalesce(service_name, '') ~ '${job:regex}'"
)

DASHBOARD = DashboardSpec(
    uid="llmwatch-prompt-logs",
    title="llmwatch / Prompt logs",
    description="The prompt log: latest, slowest and flagged calls from the llmwatch store, each linked to its trace.",
    tags=("llmwatch", "genai", "logs"),
    datasource="postgres",
    rows=(
        Row("Calls", (
            PanelSpec("Latest calls", "What did the service just send to which model, and what did it cost?", "table",
                      (Query(f"SELECT {COLUMNS}\nFROM llmwatch_calls\nWHERE {WHERE}\nORDER BY start_time DESC\nLIMIT 100",
                             fmt="table"),), "short", 24, 10, sql=True, links_trace_id=True),
            PanelSpec("Slowest calls", "Which calls took longest, so I can open their traces?", "table",
                      (Query(f"SELECT {COLUMNS}, time_to_first_chunk\nFROM llmwatch_calls\nWHERE {WHERE}\n"
                             "ORDER BY duration DESC\nLIMIT 50", fmt="table"),), "short", 24, 10, sql=True, links_trace_id=True),
            PanelSpec("Flagged calls", "Which calls failed, were flagged by a person or a scorer, or got bad feedback?", "table",
                      (Query(
                          f"SELECT {COLUMNS},\n"
                          "  (SELECT string_agg(f.label, ', ') FROM llmwatch_flags f WHERE f.record_id = c.record_id) AS flags,\n"
                          "  (SELECT string_agg(s.name || '=' || round(s.value::numeric, 2), ', ') FROM llmwatch_scores s\n"
                          "     WHERE s.record_id = c.record_id AND s.value >= 0.5) AS high_scores,\n"
                          "  (SELECT min(fb.score) FROM llmwatch_feedback fb WHERE fb.record_id = c.record_id) AS worst_feedback\n"
                          f"FROM llmwatch_calls c\nWHERE {WHERE}\n"
                          "  AND (c.status <> 'ok' OR c.error_type IS NOT NULL\n"
                          "       OR EXISTS (SELECT 1 FROM llmwatch_flags f WHERE f.record_id = c.record_id)\n"
                          "       OR EXISTS (SELECT 1 FROM llmwatch_scores s WHERE s.record_id = c.record_id AND s.value >= 0.5)\n"
                          "       OR EXISTS (SELECT 1 FROM llmwatch_feedback fb WHERE fb.record_id = c.record_id AND fb.score < 0.5))\n"
                          "ORDER BY c.start_time DESC\nLIMIT 100", fmt="table"),), "short", 24, 10, sql=True, links_trace_id=True),
        )),
    ),
)
