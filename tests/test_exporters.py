"""Ready-made configs: Prometheus (promtool), Alertmanager (amtool, incl. routing) and the
OpenTelemetry Collector. No collector binary can run here (ENVIRONMENT.md: the only PyPI build
lacks the otlp receiver), so the collector config is checked structurally."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.config import AlertConfig  # noqa: E402

EXP = ROOT / "exporters"
AM = EXP / "alertmanager" / "alertmanager.yml"
PROM = EXP / "prometheus" / "prometheus.yml"
COLLECTOR = EXP / "otel-collector" / "collector.yaml"


def _tool(name: str):
    return pytest.mark.skipif(shutil.which(name) is None, reason=f"{name} not installed (apt: prometheus / prometheus-alertmanager)")


@_tool("promtool")
def test_prometheus_config_passes_promtool_including_the_alert_rules():
    out = subprocess.run(["promtool", "check", "config", str(PROM)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "llmwatch.rules.yml" in out.stdout + out.stderr


def test_prometheus_scrape_jobs_are_watched_by_the_target_down_alert():
    selector = re.search(r'job=~"(.*)"', AlertConfig().target_selector).group(1)
    jobs = [j["job_name"] for j in yaml.safe_load(PROM.read_text())["scrape_configs"]]
    assert {"llmwatch-app", "llmwatch-agent"} <= set(jobs)
    for job in jobs:
        assert re.fullmatch(selector, job), f"{job} would not be covered by LLMWatchTargetDown"


@_tool("amtool")
def test_alertmanager_config_passes_amtool():
    out = subprocess.run(["amtool", "check-config", str(AM)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 templates" in out.stdout


@pytest.mark.parametrize(("labels", "receivers"), [
    ({"severity": "critical", "team": "llm-platform"}, "oncall-webhook,pagerduty-llm-platform"),
    ({"severity": "critical", "team": "gpu-infra"}, "oncall-webhook,pagerduty-gpu-infra"),
    ({"severity": "warning", "team": "llm-platform"}, "oncall-webhook,slack-llm-platform"),
    ({"severity": "warning", "team": "gpu-infra"}, "oncall-webhook,slack-gpu-infra"),
    ({"severity": "info", "team": "llm-platform"}, "oncall-webhook,email-llm-platform"),
])
@_tool("amtool")
def test_alertmanager_routes_by_severity_and_team(labels, receivers):
    args = [f"{k}={v}" for k, v in labels.items()]
    out = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={AM}", "alertname=X", *args],
                         capture_output=True, text=True, cwd=AM.parent)
    assert out.stdout.strip() == receivers, out.stdout + out.stderr


def test_alertmanager_criticals_inhibit_warnings_of_the_same_target():
    rules = yaml.safe_load(AM.read_text())["inhibit_rules"]
    assert any(r["source_matchers"] == ['severity="critical"'] and set(r["equal"]) >= {"job", "instance"}
               for r in rules)


def test_alertmanager_has_every_receiver_kind_the_issue_names():
    kinds = {k for r in yaml.safe_load(AM.read_text())["receivers"] for k in r if k.endswith("_configs")}
    assert kinds >= {"pagerduty_configs", "slack_configs", "email_configs", "webhook_configs"}


# --- OpenTelemetry Collector (structural) -------------------------------------------------------
# Component types of the otelcol-contrib distribution this file may use.
KNOWN = {
    "receivers": {"otlp", "prometheus"},
    "processors": {"batch", "memory_limiter", "attributes", "resource", "filter", "transform"},
    "exporters": {"prometheus", "prometheusremotewrite", "otlp", "otlphttp", "debug", "file"},
    "extensions": {"health_check", "pprof", "zpages"},
}


def _collector() -> dict:
    return yaml.safe_load(COLLECTOR.read_text())


def test_collector_components_are_known_types_and_all_are_used():
    cfg = _collector()
    used: dict[str, set[str]] = {"receivers": set(), "processors": set(), "exporters": set()}
    for name, pipe in cfg["service"]["pipelines"].items():
        assert name.split("/")[0] in {"traces", "metrics", "logs"}
        for kind in used:
            for component in pipe.get(kind, []):
                assert component in cfg[kind], f"pipeline {name} uses undefined {kind[:-1]} {component}"
                used[kind].add(component)
    for kind, defined in used.items():
        assert set(cfg[kind]) == defined, f"{kind} defined but unused: {set(cfg[kind]) - defined}"
        for component in cfg[kind]:
            assert component.split("/")[0] in KNOWN[kind], component
    for ext in cfg["service"].get("extensions", []):
        assert ext in cfg["extensions"] and ext.split("/")[0] in KNOWN["extensions"]


def test_collector_takes_otlp_in_and_ships_metrics_traces_and_logs():
    cfg = _collector()
    pipes = cfg["service"]["pipelines"]
    assert set(pipes) == {"traces", "metrics", "logs"}
    assert all(p["receivers"] == ["otlp"] for p in pipes.values())
    assert {"grpc", "http"} <= set(cfg["receivers"]["otlp"]["protocols"])
    assert {"prometheus", "prometheusremotewrite"} <= set(pipes["metrics"]["exporters"])
    assert {"otlp/tempo", "otlp/jaeger"} <= set(pipes["traces"]["exporters"])
    for p in pipes.values():
        assert p["processors"][0] == "memory_limiter" and p["processors"][-1] == "batch"


def test_collector_keeps_the_prometheus_names_the_dashboards_use():
    # add_metric_suffixes is what turns gen_ai.client.operation.duration (unit s) into
    # gen_ai_client_operation_duration_seconds, the name in llmwatch/names.py.
    exporters = _collector()["exporters"]
    assert exporters["prometheus"]["add_metric_suffixes"] is True
    assert exporters["prometheusremotewrite"]["add_metric_suffixes"] is True


def test_collector_endpoints_come_from_the_environment():
    text = COLLECTOR.read_text()
    for var in re.findall(r"\$\{([^}]*)\}", text):
        assert var.startswith("env:"), var
