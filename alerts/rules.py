"""llmwatch's recording rules and alerts, built from the names module and an ``AlertConfig``.

Every metric comes from ``llmwatch.names`` (``spec.prom_name``), so a rename there changes the
rules here and the drift test notices. Each alert carries ``severity``, ``team``, a summary, a
description and a ``runbook_url`` pointing at ``docs/runbooks/<AlertName>.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmwatch import names as n

from .config import AlertConfig

CALL_LABELS = "job, gen_ai_provider_name, gen_ai_request_model"
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# (severity, long window, short window, burn factor): the SRE workbook's multi-window table
BURN_RATES = (
    ("critical", "1h", "5m", 14.4),
    ("critical", "6h", "30m", 6.0),
    ("warning", "1d", "2h", 3.0),
    ("warning", "3d", "6h", 1.0),
)


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
        f"({metric} unless {metric} offset {window} and on (job, instance) (up offset {window}))"
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
            "expr": f'sum by ({CALL_LABELS}) (rate({dur}_count{{error_type!=""}}[{w}]))',
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
                f'1 - sum by (job) (rate({dur}_bucket{{le="{le}"}}[{window}]))'
                f" / sum by (job) (rate({dur}_count[{window}]))"
            ),
        })
    rules.append({
        "record": "llmwatch:gen_ai_time_to_first_chunk_seconds:p95_rate10m",
        "expr": f"histogram_quantile(0.95, sum by ({CALL_LABELS}, le) (rate({ttfc}_bucket[10m])))",
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
            "{{ $labels.gen_ai_request_model }} calls from {{ $labels.job }} are failing",
            "{{ $value | humanizePercentage }} of {{ $labels.gen_ai_provider_name }} "
            "{{ $labels.gen_ai_request_model }} calls from {{ $labels.job }} failed over the last "
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
            f"{{{{ $labels.job }}}} is burning its GenAI latency error budget "
            + ("fast" if severity == "critical" else "slowly"),
            f"More GenAI calls from {{{{ $labels.job }}}} take longer than {cfg.latency_slo_le}s than "
            "the latency SLO (llmwatch:threshold:latency_slo_objective) allows: at this burn rate "
            "the 30-day error budget is gone in "
            + ("hours." if severity == "critical" else "days."),
        ))
    out += [
        Alert(
            "LLMWatchTimeToFirstChunkHigh",
            f"llmwatch:gen_ai_time_to_first_chunk_seconds:p95_rate10m > {_th('ttfc_p95_seconds')}",
            "10m", "warning",
            "Streaming {{ $labels.gen_ai_request_model }} responses start slowly",
            "p95 time to first chunk of {{ $labels.gen_ai_request_model }} streams from "
            "{{ $labels.job }} is {{ $value | humanizeDuration }} (threshold "
            "llmwatch:threshold:ttfc_p95_seconds).",
        ),
        Alert(
            "LLMWatchCostBudgetBurn",
            f"sum by (job) (rate({n.COST.prom_name}[1h])) * 86400 > {_th('cost_usd_per_day')}",
            "15m", "warning",
            "{{ $labels.job }} is on course to overspend its daily LLM budget",
            "At the last hour's rate {{ $labels.job }} spends ${{ $value | printf \"%.2f\" }} a day "
            "on LLM calls (budget llmwatch:threshold:cost_usd_per_day).",
        ),
        Alert(
            "LLMWatchTokenBudgetBurn",
            f"sum by (job) (\n  rate({n.TOKEN_USAGE.prom_name}_sum[1h])\n  or\n"
            f"  rate({n.ESTIMATED_TOKENS.prom_name}[1h])\n) * 86400 > {_th('tokens_per_day')}",
            "15m", "warning",
            "{{ $labels.job }} is on course to exceed its daily token budget",
            "At the last hour's rate {{ $labels.job }} uses {{ $value | humanize }} tokens a day "
            "(reported + estimated; budget llmwatch:threshold:tokens_per_day).",
        ),
        Alert(
            "LLMWatchUnknownPriceCalls",
            f"sum by ({CALL_LABELS}) ({_new_or_increase(n.UNKNOWN_PRICE_CALLS.prom_name, '15m')}) > 0",
            "0m", "info",
            "Calls to {{ $labels.gen_ai_request_model }} have no known price",
            "{{ $labels.job }} called {{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }}, "
            "which is not in the price table: its cost is unknown, not $0, and cost dashboards "
            "under-report. Add the model to the price table.",
        ),
        Alert(
            "LLMWatchToxicitySpike",
            f'1 - (\n  sum by (job, gen_ai_request_model, llmwatch_category) '
            f'(rate({tox}_bucket{{llmwatch_direction="output", le="{tox_le}"}}[10m]))\n'
            f'  / sum by (job, gen_ai_request_model, llmwatch_category) '
            f'(rate({tox}_count{{llmwatch_direction="output"}}[10m]))\n) > {_th("toxic_output_ratio")}',
            "5m", "warning",
            "Toxic {{ $labels.gen_ai_request_model }} outputs are spiking",
            f"{{{{ $value | humanizePercentage }}}} of {{{{ $labels.gen_ai_request_model }}}} outputs in "
            f"{{{{ $labels.job }}}} score above {cfg.toxicity_le} for {{{{ $labels.llmwatch_category }}}} "
            "(threshold llmwatch:threshold:toxic_output_ratio).",
        ),
        Alert(
            "LLMWatchModerationFlagRateHigh",
            f"sum by (job, gen_ai_request_model) (rate({n.MODERATION_FLAGS.prom_name}[10m]))\n"
            f"/ sum by (job, gen_ai_request_model) (rate({dur}_count[10m]))\n"
            f"> {_th('moderation_flag_ratio')}",
            "10m", "warning",
            "Many {{ $labels.gen_ai_request_model }} calls are flagged by moderation",
            "{{ $labels.job }} gets {{ $value | printf \"%.2f\" }} moderation flags per "
            "{{ $labels.gen_ai_request_model }} call (threshold llmwatch:threshold:moderation_flag_ratio).",
        ),
        Alert(
            "LLMWatchPromptInjectionDetected",
            f"sum by (job, gen_ai_request_model, llmwatch_detector) "
            f"({_new_or_increase(n.INJECTION_DETECTIONS.prom_name, '5m')})\n"
            f"> {_th('injection_detections_per_5m')}",
            "0m", "warning",
            "Prompt injection attempts against {{ $labels.job }}",
            "The {{ $labels.llmwatch_detector }} detector flagged {{ $value | humanize }} prompts to "
            "{{ $labels.gen_ai_request_model }} in {{ $labels.job }} in the last 5 minutes. Check the "
            "prompt log for the flagged calls.",
        ),
        Alert(
            "LLMWatchGPUMemoryNearLimit",
            f"{n.GPU_MEMORY_USAGE.prom_name} / {n.GPU_MEMORY_LIMIT.prom_name} > {_th('gpu_memory_ratio')}",
            "10m", "warning",
            "GPU {{ $labels.hw_id }} on {{ $labels.instance }} is almost out of memory",
            "{{ $labels.hw_name }} {{ $labels.hw_id }} on {{ $labels.instance }} uses "
            "{{ $value | humanizePercentage }} of its memory (threshold llmwatch:threshold:gpu_memory_ratio).",
            gpu=True,
        ),
        Alert(
            "LLMWatchGPUThermalThrottling",
            f'max by (job, instance, hw_id, hw_name) ({n.GPU_THROTTLE_ACTIVE.prom_name}'
            f'{{llmwatch_gpu_throttle_reason=~"hw_thermal|sw_thermal"}}) == 1',
            "5m", "warning",
            "GPU {{ $labels.hw_id }} on {{ $labels.instance }} is thermally throttled",
            "{{ $labels.hw_name }} {{ $labels.hw_id }} on {{ $labels.instance }} has been slowing its "
            "clocks for heat for 5 minutes: inference is slower than it should be.",
            gpu=True,
        ),
        Alert(
            "LLMWatchGPULost",
            f"max_over_time({n.GPU_MEMORY_LIMIT.prom_name}[1h]) unless {n.GPU_MEMORY_LIMIT.prom_name}\n"
            f"and on (job, instance) up == 1\n"
            f"unless on (job, instance) {n.GPU_AVAILABLE.prom_name} == 0",
            "1m", "critical",
            "GPU {{ $labels.hw_id }} disappeared from {{ $labels.instance }}",
            "The llmwatch agent on {{ $labels.instance }} still runs and NVML works, but "
            "{{ $labels.hw_name }} {{ $labels.hw_id }} it reported during the last hour is gone "
            "(fell off the bus, Xid error, driver reset).",
            gpu=True,
        ),
        Alert(
            "LLMWatchNVMLUnavailable",
            f"{n.GPU_AVAILABLE.prom_name} == 0",
            "10m", "warning",
            "The llmwatch agent on {{ $labels.instance }} cannot read its GPUs",
            "NVML is unavailable on {{ $labels.instance }} (library missing or driver error): no GPU "
            "metrics are collected there.",
            gpu=True,
        ),
        Alert(
            "LLMWatchDroppingRecords",
            "sum by (job, instance, llmwatch_reason) (\n"
            f"  {_new_or_increase(n.RECORDS_DROPPED.prom_name, '5m')}\n  or\n"
            f"  {_new_or_increase(n.STORE_RECORDS_DROPPED.prom_name, '5m')}\n"
            f") > {_th('dropped_records_per_5m')}",
            "0m", "warning",
            "llmwatch in {{ $labels.job }} is dropping call records ({{ $labels.llmwatch_reason }})",
            "{{ $labels.instance }} dropped {{ $value | humanize }} call records in the last 5 minutes "
            "because of {{ $labels.llmwatch_reason }}: spans, metrics or prompt-log rows are missing.",
        ),
        Alert(
            "LLMWatchSpoolGrowing",
            f"{n.STORE_SPOOL_SIZE.prom_name} > {_th('spool_bytes')}\n"
            f"and deriv({n.STORE_SPOOL_SIZE.prom_name}[15m]) > 0",
            "15m", "warning",
            "The prompt-log spool of {{ $labels.instance }} keeps growing",
            "{{ $labels.instance }} has {{ $value | humanize1024 }}B of call records waiting in its "
            "disk spool and it is still growing: the prompt-log database is not taking writes.",
        ),
        Alert(
            "LLMWatchTargetDown",
            f"up{{{cfg.target_selector}}} == 0",
            "5m", "critical",
            "Prometheus cannot scrape {{ $labels.job }} at {{ $labels.instance }}",
            "The llmwatch target {{ $labels.instance }} of job {{ $labels.job }} has been down for 5 "
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
