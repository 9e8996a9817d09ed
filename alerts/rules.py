"""llmwatch's recording rules and alerts, built from the names module and an ``AlertConfig``.

Every metric comes from ``llmwatch.names`` (``spec.prom_name``) and every label from
``alerts.promql`` (derived from ``llmwatch.names``), in expressions and annotations alike, so a
rename there changes the rules here and the drift test notices. Each alert carries ``severity``, ``team``, a summary, a
description and a ``runbook_url`` pointing at ``docs/runbooks/<AlertName>.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmwatch import names as n

from .config import AlertConfig
from .promql import (
    CATEGORY, DETECTOR, DIRECTION, ERROR_TYPE, HW_ID, HW_NAME, INSTANCE, JOB, LE, MODEL, PROVIDER, REASON,
    THROTTLE_REASON, labels,
)

CALL_LABELS = labels(JOB, PROVIDER, MODEL)
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# (severity, long window, short window, burn factor): the SRE workbook's multi-window table
BURN_RATES = (
    ("critical", "1h", "5m", 14.4),
    ("critical", "6h", "30m", 6.0),
    ("warning", "1d", "2h", 3.0),
    ("warning", "3d", "6h", 1.0),
)


def show(label: str) -> str:
    """An annotation placeholder for one of the alert's labels: ``{{ $labels.<label> }}``."""
    return "{{ $labels." + label + " }}"


def _th(name: str) -> str:
    return f"scalar(llmwatch:threshold:{name})"


def _error_ratio_rule(cfg: AlertConfig) -> str:
    return f"llmwatch:gen_ai_error_ratio:rate{cfg.error_window}"


def _slo_rule(window: str) -> str:
    return f"llmwatch:gen_ai_latency_slo_bad_ratio:rate{window}"


def _new_or_increase(metric: str, window: str) -> str:
    """``increase()`` that also counts a series born inside the window (its first sample is
    already > 0, so plain ``increase`` would see 1 -> 1 and miss the event). A series counts as
    born when it is absent ``window`` ago although its target was already scraped then."""
    return (
        f"({metric} unless {metric} offset {window} and on ({labels(JOB, INSTANCE)}) (up offset {window}))"
        f" or increase({metric}[{window}])"
    )


def recording_rules(cfg: AlertConfig) -> list[dict[str, Any]]:
    dur = n.OPERATION_DURATION.prom_name
    ttfc = n.TIME_TO_FIRST_CHUNK.prom_name
    w = cfg.error_window
    rules: list[dict[str, Any]] = [
        {"record": f"llmwatch:gen_ai_calls:rate{w}", "expr": f"sum by ({CALL_LABELS}) (rate({dur}_count[{w}]))"},
        {
            "record": f"llmwatch:gen_ai_errors:rate{w}",
            "expr": f'sum by ({CALL_LABELS}) (rate({dur}_count{{{ERROR_TYPE}!=""}}[{w}]))',
        },
        {
            "record": _error_ratio_rule(cfg),
            "expr": f"llmwatch:gen_ai_errors:rate{w} / llmwatch:gen_ai_calls:rate{w}",
        },
    ]
    le = repr(float(cfg.latency_slo_le))
    for window in SLO_WINDOWS:
        rules.append({
            "record": _slo_rule(window),
            "expr": (
                f'1 - sum by ({labels(JOB)}) (rate({dur}_bucket{{{LE}="{le}"}}[{window}]))'
                f" / sum by ({labels(JOB)}) (rate({dur}_count[{window}]))"
            ),
        })
    rules.append({
        "record": "llmwatch:gen_ai_time_to_first_chunk_seconds:p95_rate10m",
        "expr": f"histogram_quantile(0.95, sum by ({CALL_LABELS}, {LE}) (rate({ttfc}_bucket[10m])))",
    })
    return rules


def threshold_rules(cfg: AlertConfig) -> list[dict[str, Any]]:
    return [
        {"record": f"llmwatch:threshold:{k}", "expr": f"vector({_num(v)})"}
        for k, v in sorted(cfg.thresholds.items())
    ]


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str
    gpu: bool = False


def alerts(cfg: AlertConfig) -> list[Alert]:
    dur = n.OPERATION_DURATION.prom_name
    tox = n.TOXICITY_SCORE.prom_name
    tox_le = repr(float(cfg.toxicity_le))
    budget = "(1 - scalar(llmwatch:threshold:latency_slo_objective))"
    out = [
        Alert(
            "LLMWatchErrorRateHigh",
            f"{_error_ratio_rule(cfg)} > {_th('error_ratio')}",
            "5m", "warning",
            f"{show(MODEL)} calls from {show(JOB)} are failing",
            f"{{{{ $value | humanizePercentage }}}} of {show(PROVIDER)} "
            f"{show(MODEL)} calls from {show(JOB)} failed over the last "
            f"{cfg.error_window} (threshold llmwatch:threshold:error_ratio).",
        ),
    ]
    for severity, speed, pairs in (
        ("critical", "Fast", [b for b in BURN_RATES if b[0] == "critical"]),
        ("warning", "Slow", [b for b in BURN_RATES if b[0] == "warning"]),
    ):
        expr = "\nor\n".join(
            f"(\n  {_slo_rule(long)} > ({factor} * {budget})\n"
            f"  and\n  {_slo_rule(short)} > ({factor} * {budget})\n)"
            for _, long, short, factor in pairs
        )
        out.append(Alert(
            f"LLMWatchLatencySLOBurn{speed}", expr, "2m" if severity == "critical" else "15m", severity,
            f"{show(JOB)} is burning its GenAI latency error budget "
            + ("fast" if severity == "critical" else "slowly"),
            f"More GenAI calls from {show(JOB)} take longer than {cfg.latency_slo_le}s than "
            "the latency SLO (llmwatch:threshold:latency_slo_objective) allows: at this burn rate "
            "the 30-day error budget is gone in "
            + ("hours." if severity == "critical" else "days."),
        ))
    out += [
        Alert(
            "LLMWatchTimeToFirstChunkHigh",
            f"llmwatch:gen_ai_time_to_first_chunk_seconds:p95_rate10m > {_th('ttfc_p95_seconds')}",
            "10m", "warning",
            f"Streaming {show(MODEL)} responses start slowly",
            f"p95 time to first chunk of {show(MODEL)} streams from "
            f"{show(JOB)} is {{{{ $value | humanizeDuration }}}} (threshold "
            "llmwatch:threshold:ttfc_p95_seconds).",
        ),
        Alert(
            "LLMWatchCostBudgetBurn",
            f"sum by ({labels(JOB)}) (rate({n.COST.prom_name}[1h])) * 86400 > {_th('cost_usd_per_day')}",
            "15m", "warning",
            f"{show(JOB)} is on course to overspend its daily LLM budget",
            f"At the last hour's rate {show(JOB)} spends ${{{{ $value | printf \"%.2f\" }}}} a day "
            "on LLM calls (budget llmwatch:threshold:cost_usd_per_day).",
        ),
        Alert(
            "LLMWatchTokenBudgetBurn",
            f"sum by ({labels(JOB)}) (\n  rate({n.TOKEN_USAGE.prom_name}_sum[1h])\n  or\n"
            f"  rate({n.ESTIMATED_TOKENS.prom_name}[1h])\n) * 86400 > {_th('tokens_per_day')}",
            "15m", "warning",
            f"{show(JOB)} is on course to exceed its daily token budget",
            f"At the last hour's rate {show(JOB)} uses {{{{ $value | humanize }}}} tokens a day "
            "(reported + estimated; budget llmwatch:threshold:tokens_per_day).",
        ),
        Alert(
            "LLMWatchUnknownPriceCalls",
            f"sum by ({CALL_LABELS}) ({_new_or_increase(n.UNKNOWN_PRICE_CALLS.prom_name, '15m')}) > 0",
            "0m", "info",
            f"Calls to {show(MODEL)} have no known price",
            f"{show(JOB)} called {show(PROVIDER)} {show(MODEL)}, "
            "which is not in the price table: its cost is unknown, not $0, and cost dashboards "
            "under-report. Add the model to the price table.",
        ),
        Alert(
            "LLMWatchToxicitySpike",
            f'1 - (\n  sum by ({labels(JOB, MODEL, CATEGORY)}) '
            f'(rate({tox}_bucket{{{DIRECTION}="output", {LE}="{tox_le}"}}[10m]))\n'
            f'  / sum by ({labels(JOB, MODEL, CATEGORY)}) '
            f'(rate({tox}_count{{{DIRECTION}="output"}}[10m]))\n) > {_th("toxic_output_ratio")}',
            "5m", "warning",
            f"Toxic {show(MODEL)} outputs are spiking",
            f"{{{{ $value | humanizePercentage }}}} of {show(MODEL)} outputs in "
            f"{show(JOB)} score above {cfg.toxicity_le} for {show(CATEGORY)} "
            "(threshold llmwatch:threshold:toxic_output_ratio).",
        ),
        Alert(
            "LLMWatchModerationFlagRateHigh",
            f"sum by ({labels(JOB, MODEL)}) (rate({n.MODERATION_FLAGS.prom_name}[10m]))\n"
            f"/ sum by ({labels(JOB, MODEL)}) (rate({dur}_count[10m]))\n"
            f"> {_th('moderation_flag_ratio')}",
            "10m", "warning",
            f"Many {show(MODEL)} calls are flagged by moderation",
            f"{show(JOB)} gets {{{{ $value | printf \"%.2f\" }}}} moderation flags per "
            f"{show(MODEL)} call (threshold llmwatch:threshold:moderation_flag_ratio).",
        ),
        Alert(
            "LLMWatchPromptInjectionDetected",
            f"sum by ({labels(JOB, MODEL, DETECTOR)}) "
            f"({_new_or_increase(n.INJECTION_DETECTIONS.prom_name, '5m')})\n"
            f"> {_th('injection_detections_per_5m')}",
            "0m", "warning",
            f"Prompt injection attempts against {show(JOB)}",
            f"The {show(DETECTOR)} detector flagged {{{{ $value | humanize }}}} prompts to "
            f"{show(MODEL)} in {show(JOB)} in the last 5 minutes. Check the "
            "prompt log for the flagged calls.",
        ),
        Alert(
            "LLMWatchGPUMemoryNearLimit",
            f"{n.GPU_MEMORY_USAGE.prom_name} / {n.GPU_MEMORY_LIMIT.prom_name} > {_th('gpu_memory_ratio')}",
            "10m", "warning",
            f"GPU {show(HW_ID)} on {show(INSTANCE)} is almost out of memory",
            f"{show(HW_NAME)} {show(HW_ID)} on {show(INSTANCE)} uses "
            "{{ $value | humanizePercentage }} of its memory (threshold llmwatch:threshold:gpu_memory_ratio).",
            gpu=True,
        ),
        Alert(
            "LLMWatchGPUThermalThrottling",
            f'max by ({labels(JOB, INSTANCE, HW_ID, HW_NAME)}) ({n.GPU_THROTTLE_ACTIVE.prom_name}'
            f'{{{THROTTLE_REASON}=~"hw_thermal|sw_thermal"}}) == 1',
            "5m", "warning",
            f"GPU {show(HW_ID)} on {show(INSTANCE)} is thermally throttled",
            f"{show(HW_NAME)} {show(HW_ID)} on {show(INSTANCE)} has been slowing its "
            "clocks for heat for 5 minutes: inference is slower than it should be.",
            gpu=True,
        ),
        Alert(
            "LLMWatchGPULost",
            f"max_over_time({n.GPU_MEMORY_LIMIT.prom_name}[1h]) unless {n.GPU_MEMORY_LIMIT.prom_name}\n"
            f"and on ({labels(JOB, INSTANCE)}) up == 1\n"
            f"unless on ({labels(JOB, INSTANCE)}) {n.GPU_AVAILABLE.prom_name} == 0",
            "1m", "critical",
            f"GPU {show(HW_ID)} disappeared from {show(INSTANCE)}",
            f"The llmwatch agent on {show(INSTANCE)} still runs and NVML works, but "
            f"{show(HW_NAME)} {show(HW_ID)} it reported during the last hour is gone "
            "(fell off the bus, Xid error, driver reset).",
            gpu=True,
        ),
        Alert(
            "LLMWatchNVMLUnavailable",
            f"{n.GPU_AVAILABLE.prom_name} == 0",
            "10m", "warning",
            f"The llmwatch agent on {show(INSTANCE)} cannot read its GPUs",
            f"NVML is unavailable on {show(INSTANCE)} (library missing or driver error): no GPU "
            "metrics are collected there.",
            gpu=True,
        ),
        Alert(
            "LLMWatchDroppingRecords",
            f"sum by ({labels(JOB, INSTANCE, REASON)}) (\n"
            f"  {_new_or_increase(n.RECORDS_DROPPED.prom_name, '5m')}\n  or\n"
            f"  {_new_or_increase(n.STORE_RECORDS_DROPPED.prom_name, '5m')}\n"
            f") > {_th('dropped_records_per_5m')}",
            "0m", "warning",
            f"llmwatch in {show(JOB)} is dropping call records ({show(REASON)})",
            f"{show(INSTANCE)} dropped {{{{ $value | humanize }}}} call records in the last 5 minutes "
            f"because of {show(REASON)}: spans, metrics or prompt-log rows are missing.",
        ),
        Alert(
            "LLMWatchSpoolGrowing",
            f"{n.STORE_SPOOL_SIZE.prom_name} > {_th('spool_bytes')}\n"
            f"and deriv({n.STORE_SPOOL_SIZE.prom_name}[15m]) > 0",
            "15m", "warning",
            f"The prompt-log spool of {show(INSTANCE)} keeps growing",
            f"{show(INSTANCE)} has {{{{ $value | humanize1024 }}}}B of call records waiting in its "
            "disk spool and it is still growing: the prompt-log database is not taking writes.",
        ),
        Alert(
            "LLMWatchTargetDown",
            f"up{{{cfg.target_selector}}} == 0",
            "5m", "critical",
            f"Prometheus cannot scrape {show(JOB)} at {show(INSTANCE)}",
            f"The llmwatch target {show(INSTANCE)} of job {show(JOB)} has been down for 5 "
            "minutes: its LLM metrics, and the alerts built on them, are blind.",
        ),
    ]
    return out


def alert_rule(cfg: AlertConfig, a: Alert) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": a.name, "expr": a.expr}
    for_ = cfg.for_overrides.get(a.name, a.for_)
    if for_ not in ("0", "0s", "0m"):
        rule["for"] = for_
    rule["labels"] = {"severity": a.severity, "team": cfg.gpu_team if a.gpu else cfg.team}
    rule["annotations"] = {
        "summary": a.summary,
        "description": a.description,
        "runbook_url": f"{cfg.runbook_base_url}{a.name}.md",
    }
    return rule


def rule_groups(cfg: AlertConfig) -> dict[str, Any]:
    return {"groups": [
        {"name": "llmwatch.recording", "rules": recording_rules(cfg)},
        {"name": "llmwatch.alerts", "rules": [alert_rule(cfg, a) for a in alerts(cfg)]},
    ]}


def threshold_groups(cfg: AlertConfig) -> dict[str, Any]:
    return {"groups": [{"name": "llmwatch.thresholds", "rules": threshold_rules(cfg)}]}
