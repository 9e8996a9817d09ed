"""Overview: is the LLM traffic healthy right now — volume, errors, latency, tokens, spend."""

from __future__ import annotations

from .promql import (
    CALL, COST, DUR, ERR, ERROR_TYPE, MODEL_LABEL, PROVIDER, TOK, TOKEN_TYPE, TTFC, labels, legend, quantile, rate,
)
from .spec import DashboardSpec, PanelSpec, Query, Row

BY = labels(PROVIDER, MODEL_LABEL)
LEG = legend(PROVIDER, MODEL_LABEL)
COST_SEL = CALL  # the cost counter carries provider and model too (no operation, no error type)

DASHBOARD = DashboardSpec(
    uid="llmwatch-overview",
    title="llmwatch / Overview",
    description="LLM calls at a glance: requests, errors, latency, time to first chunk, tokens and cost by model and provider.",
    tags=("llmwatch", "genai"),
    rows=(
        Row("Now", (
            PanelSpec("Requests/s", "How many LLM calls per second is the service making?", "stat",
                      (Query(f"sum({rate(DUR + '_count', CALL)})"),), "reqps", 6, 4),
            PanelSpec("Error rate", "What share of LLM calls is failing?", "stat",
                      (Query(f'sum({rate(DUR + "_count", CALL, ERR)}) / sum({rate(DUR + "_count", CALL)})'),),
                      "percentunit", 6, 4),
            PanelSpec("p95 duration", "How long do 95% of calls take at most?", "stat",
                      (Query(f"histogram_quantile(0.95, sum by (le) ({rate(DUR + '_bucket', CALL)}))"),), "s", 6, 4),
            PanelSpec("Cost per hour", "At the current rate, how many dollars an hour are we spending?", "stat",
                      (Query(f"sum({rate(COST, COST_SEL)}) * 3600"),), "currencyUSD", 6, 4),
        )),
        Row("Traffic and errors", (
            PanelSpec("Requests/s by model", "Which models and providers carry the traffic?", "timeseries",
                      (Query(f"sum by ({BY}) ({rate(DUR + '_count', CALL)})", LEG),), "reqps"),
            PanelSpec("Error rate by model", "Which model or provider is failing, and since when?", "timeseries",
                      (Query(f'sum by ({BY}) ({rate(DUR + "_count", CALL, ERR)}) / sum by ({BY}) ({rate(DUR + "_count", CALL)})', LEG),),
                      "percentunit"),
            PanelSpec("Errors/s by error type", "What kind of failures are they (rate limits, timeouts, 5xx)?", "timeseries",
                      (Query(f'sum by ({ERROR_TYPE}, {MODEL_LABEL}) ({rate(DUR + "_count", CALL, ERR)})',
                             legend(ERROR_TYPE, MODEL_LABEL)),), "reqps", 24),
        )),
        Row("Latency", (
            PanelSpec("Duration p50 / p95 / p99 by model", "How long do calls take, typically and in the tail?", "timeseries",
                      tuple(Query(quantile(q, DUR, BY), f"p{int(q * 100)} {LEG}") for q in (0.5, 0.95, 0.99)), "s"),
            PanelSpec("Time to first chunk p50 / p95 / p99 by model",
                      "How long do users of streaming calls wait before text starts to appear?", "timeseries",
                      tuple(Query(quantile(q, TTFC, BY), f"p{int(q * 100)} {LEG}") for q in (0.5, 0.95, 0.99)), "s"),
        )),
        Row("Tokens and cost", (
            PanelSpec("Tokens/s by model and type", "How many input and output tokens per second does each model consume?",
                      "timeseries",
                      (Query(f"sum by ({BY}, {TOKEN_TYPE}) ({rate(TOK + '_sum', CALL)})",
                             f"{LEG} {legend(TOKEN_TYPE)}"),), "short"),
            PanelSpec("Cost per hour by model", "Which model does the money go to, in dollars per hour?", "timeseries",
                      (Query(f"sum by ({BY}) ({rate(COST, COST_SEL)}) * 3600", LEG),), "currencyUSD"),
        )),
    ),
)
