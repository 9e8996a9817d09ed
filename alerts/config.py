"""Everything an operator may tune about llmwatch's alerts, in one frozen object.

Thresholds do not live inside the alert expressions: each one is a recording rule
``llmwatch:threshold:<name>`` in its own file (``rules/thresholds.rules.yml``; in Helm,
``alerts.thresholds.<name>``). Alerts compare against ``scalar(llmwatch:threshold:<name>)``, so
changing a threshold never means editing an alert. Windows, ``for`` durations, the SLO bucket and
the routing labels are generation-time settings (``python -m alerts.generate --out DIR --set key=value``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from llmwatch import names

DEFAULT_THRESHOLDS: dict[str, float] = {
    # share of GenAI calls that failed (error_type set), over the error window
    "error_ratio": 0.05,
    # latency SLO: this share of calls must finish within latency_slo_le seconds
    "latency_slo_objective": 0.99,
    # p95 time to first chunk of streaming calls, seconds
    "ttfc_p95_seconds": 2.0,
    # projected spend (last hour's rate x 24h), US dollars per day
    "cost_usd_per_day": 100.0,
    # projected tokens (reported + estimated, last hour's rate x 24h) per day
    "tokens_per_day": 50_000_000.0,
    # share of scored outputs whose toxicity score is above toxicity_le
    "toxic_output_ratio": 0.05,
    # moderation flags per GenAI call
    "moderation_flag_ratio": 0.02,
    # prompt-injection detections tolerated per 5 minutes (0: alert on the first)
    "injection_detections_per_5m": 0.0,
    # used / total GPU memory
    "gpu_memory_ratio": 0.95,
    # records dropped (SDK queue or store) tolerated per 5 minutes
    "dropped_records_per_5m": 0.0,
    # prompt-log spool size above which a still-growing spool alerts, bytes
    "spool_bytes": 100 * 1024 * 1024,
}


@dataclass(frozen=True)
class AlertConfig:
    """Generation-time settings. ``thresholds`` become the ``llmwatch:threshold:*`` rules."""

    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    # window of the error-ratio recording rule (short in the end-to-end test)
    error_window: str = "5m"
    # latency SLO bucket: must be one of names.DURATION_BUCKETS
    latency_slo_le: float = 5.12
    # toxicity bucket above which a score counts as toxic: one of names.SCORE_BUCKETS
    toxicity_le: float = 0.8
    # ``for`` per alert name; alerts not listed use their built-in default
    for_overrides: dict[str, str] = field(default_factory=dict)
    team: str = "llm-platform"
    gpu_team: str = "gpu-infra"
    # which scrape targets LLMWatchTargetDown watches
    target_selector: str = 'job=~".*llmwatch.*"'
    runbook_base_url: str = "https://github.com/llmwatch/llmwatch/blob/main/docs/runbooks/"

    def __post_init__(self) -> None:
        unknown = set(self.thresholds) - set(DEFAULT_THRESHOLDS)
        if unknown:
            raise ValueError(f"unknown thresholds {sorted(unknown)}; accepted: {sorted(DEFAULT_THRESHOLDS)}")
        if self.latency_slo_le not in names.DURATION_BUCKETS:
            raise ValueError(f"latency_slo_le must be a bucket boundary: {names.DURATION_BUCKETS}")
        if self.toxicity_le not in names.SCORE_BUCKETS:
            raise ValueError(f"toxicity_le must be a bucket boundary: {names.SCORE_BUCKETS}")

    def with_settings(self, settings: dict[str, Any]) -> "AlertConfig":
        """A copy with ``thresholds.X``/``for.AlertName`` and plain fields replaced."""
        thresholds = dict(self.thresholds)
        fors = dict(self.for_overrides)
        plain: dict[str, Any] = {}
        for key, value in settings.items():
            if key.startswith("thresholds."):
                thresholds[key.split(".", 1)[1]] = float(value)
            elif key.startswith("for."):
                fors[key.split(".", 1)[1]] = str(value)
            elif key in ("latency_slo_le", "toxicity_le"):
                plain[key] = float(value)
            elif key in ("error_window", "team", "gpu_team", "target_selector", "runbook_base_url"):
                plain[key] = str(value)
            else:
                raise ValueError(f"unknown setting {key!r}")
        return replace(self, thresholds=thresholds, for_overrides=fors, **plain)
