"""PromQL building blocks shared by the dashboards.

Every metric name comes from ``llmwatch.names`` and every label name from ``alerts.promql`` (which
derives them from ``llmwatch.names``), so a rename there reaches every panel.
"""

from __future__ import annotations

from alerts.promql import (  # noqa: F401  (re-exported for the dashboard modules)
    CATEGORY, COMPONENT, DETECTOR, DIRECTION, ENVIRONMENT, ERROR_TYPE, ESTIMATED, HW_ID, HW_NAME,
    HW_TYPE, INSTANCE, JOB, LE, MODEL as MODEL_LABEL, PROCESS_EXECUTABLE_NAME, PROCESS_PID, PROVIDER,
    REASON, REDACTION_KIND, THROTTLE_REASON, TOKEN_TYPE, VALIDATOR, labels, legend,
)
from llmwatch import names as n

RATE = "[$__rate_interval]"
RANGE = "[$__range]"

TARGET = f'{JOB}=~"$job", {ENVIRONMENT}=~"$environment"'
CALL = TARGET + f', {PROVIDER}=~"$provider", {MODEL_LABEL}=~"$model"'
# quality metrics carry the request model but no provider
MODEL = TARGET + f', {MODEL_LABEL}=~"$model"'
GPU = TARGET + f', {HW_ID}=~"$gpu"'
ERR = f'{ERROR_TYPE}!=""'  # failed calls

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
    return f"histogram_quantile({q}, sum by ({LE}, {by}) ({rate(hist + '_bucket', selector, extra)}))"
