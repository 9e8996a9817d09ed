"""PromQL building blocks shared by the dashboards: every metric name comes from llmwatch.names."""

from __future__ import annotations

from llmwatch import names as n

RATE = "[$__rate_interval]"
RANGE = "[$__range]"

TARGET = 'job=~"$job", environment=~"$environment"'
CALL = TARGET + ', gen_ai_provider_name=~"$provider", gen_ai_request_model=~"$model"'
# quality metrics carry the request model but no provider
MODEL = TARGET + ', gen_ai_request_model=~"$model"'
GPU = TARGET + ', hw_id=~"$gpu"'

DUR = n.OPERATION_DURATION.prom_name
TTFC = n.TIME_TO_FIRST_CHUNK.prom_name
TPOC = n.TIME_PER_OUTPUT_CHUNK.prom_name
TOK = n.TOKEN_USAGE.prom_name
COST = n.COST.prom_name
UNKNOWN = n.UNKNOWN_PRICE_CALLS.prom_name
EST = n.ESTIMATED_TOKENS.prom_name


def sel(metric: str, selector: str, extra: str = "") -> str:
    inner = selector + (", " + extra if extra else "")
    return f"{metric}{{{inner}}}"


def rate(metric: str, selector: str, extra: str = "", window: str = RATE) -> str:
    return f"rate({sel(metric, selector, extra)}{window})"


def quantile(q: float, hist: str, by: str, selector: str = CALL, extra: str = "") -> str:
    return f"histogram_quantile({q}, sum by (le, {by}) ({rate(hist + '_bucket', selector, extra)}))"
ERR = 'error_type!=""'
