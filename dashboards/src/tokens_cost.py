"""Tokens & cost: the Datadog OpenAI view (tokens, tokens/request, latency, errors) plus cost detail."""

from __future__ import annotations

from .promql import (
    CALL, COST, DUR, ERR, EST, ESTIMATED, MODEL_LABEL, PROVIDER, RANGE, TOK, TOKEN_TYPE, UNKNOWN, labels, legend,
    quantile, rate,
)
from .spec import DashboardSpec, PanelSpec, Query, Row

BY = labels(PROVIDER, MODEL_LABEL)
LEG = legend(PROVIDER, MODEL_LABEL)
SEL = CALL  # cost, unknown-price and estimated-token counters carry provider and model too
EST_SEL = SEL

DASHBOARD = DashboardSpec(
    uid="llmwatch-tokens-cost",
    title="llmwatch / Tokens & cost",
    description="Token usage and spend per model: totals, tokens per request, latency, errors, estimated vs reported tokens, unknown-price calls.",
    tags=("llmwatch", "genai", "cost"),
    rows=(
        Row("Totals over the selected range", (
            PanelSpec("Total tokens", "How many tokens did we use in the selected time range?", "stat",
                      (Query(f"sum(increase({TOK}_sum{{{CALL}}}{RANGE}))", instant=True),), "short", 6, 4),
            PanelSpec("Total cost", "How much did the selected range cost?", "stat",
                      (Query(f"sum(increase({COST}{{{SEL}}}{RANGE}))", instant=True),), "currencyUSD", 6, 4),
            PanelSpec("Requests", "How many LLM calls were made in the selected range?", "stat",
                      (Query(f"sum(increase({DUR}_count{{{CALL}}}{RANGE}))", instant=True),), "short", 6, 4),
            PanelSpec("Unknown-price calls", "How many calls have no known price (their cost is missing above)?", "stat",
                      (Query(f"sum(increase({UNKNOWN}{{{SEL}}}{RANGE})) or vector(0)", instant=True),), "short", 6, 4),
        )),
        Row("Usage", (
            PanelSpec("Tokens/s by model and type", "How fast is each model consuming input and output tokens?", "timeseries",
                      (Query(f"sum by ({BY}, {TOKEN_TYPE}) ({rate(TOK + '_sum', CALL)})", f"{LEG} {legend(TOKEN_TYPE)}"),)),
            PanelSpec("Average tokens per request", "Are prompts or answers getting longer?", "timeseries",
                      (Query(f"sum by ({BY}, {TOKEN_TYPE}) ({rate(TOK + '_sum', CALL)}) / "
                             f"sum by ({BY}, {TOKEN_TYPE}) ({rate(TOK + '_count', CALL)})",
                             f"{LEG} {legend(TOKEN_TYPE)}"),)),
            PanelSpec("Latency p95 by model", "Which model is slowest?", "timeseries",
                      (Query(quantile(0.95, DUR, BY), LEG),), "s"),
            PanelSpec("Error rate by model", "Which model fails most often?", "timeseries",
                      (Query(f'sum by ({BY}) ({rate(DUR + "_count", CALL, ERR)}) / sum by ({BY}) ({rate(DUR + "_count", CALL)})', LEG),),
                      "percentunit"),
        )),
        Row("Cost", (
            PanelSpec("Cost per model (selected range)", "Which models cost the most in the selected range?", "bargauge",
                      (Query(f"sort_desc(sum by ({BY}) (increase({COST}{{{SEL}}}{RANGE})))", LEG, instant=True),),
                      "currencyUSD"),
            PanelSpec("Cost per hour by model", "How is spend per model changing over time?", "timeseries",
                      (Query(f"sum by ({BY}) ({rate(COST, SEL)}) * 3600", LEG),), "currencyUSD"),
            PanelSpec("Cost from estimated tokens", "How much of the cost rests on locally estimated (not provider-reported) tokens?",
                      "timeseries",
                      (Query(f"sum by ({ESTIMATED}) ({rate(COST, SEL)}) * 3600", f"estimated={legend(ESTIMATED)}"),),
                      "currencyUSD"),
            PanelSpec("Estimated vs reported tokens/s", "How many tokens does llmwatch have to estimate because the provider reported no usage?",
                      "timeseries",
                      (Query(f"sum by ({TOKEN_TYPE}) ({rate(TOK + '_sum', CALL)})", f"reported {legend(TOKEN_TYPE)}"),
                       Query(f"sum by ({TOKEN_TYPE}) ({rate(EST, EST_SEL)})", f"estimated {legend(TOKEN_TYPE)}"))),
            PanelSpec("Unknown-price calls by model", "Which models are missing from the price table?", "table",
                      (Query(f"sum by ({BY}) (increase({UNKNOWN}{{{SEL}}}{RANGE})) > 0", instant=True, fmt="table"),), "short", 24),
        )),
    ),
)
