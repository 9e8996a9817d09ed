"""The alert rules: generated, promtool-clean, unit-tested per alert, and held to the names module."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts import generate  # noqa: E402
from alerts.config import DEFAULT_THRESHOLDS, AlertConfig  # noqa: E402
from alerts.promql import metric_names  # noqa: E402
from llmwatch import names  # noqa: E402

RULES = ROOT / "alerts" / "rules"
TESTS = sorted((ROOT / "alerts" / "tests").glob("*.test.yml"))
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (apt: prometheus)")


def _rules() -> list[dict]:
    doc = yaml.safe_load((RULES / generate.RULES_FILE).read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def _alerts() -> list[dict]:
    return [r for r in _rules() if "alert" in r]


def test_committed_rule_files_match_the_generator():
    for name, text in generate.render().items():
        assert (RULES / name).read_text() == text, f"alerts/rules/{name} is stale: run python -m alerts.generate"


@needs_promtool
def test_promtool_check_rules_is_clean():
    out = subprocess.run(["promtool", "check", "rules", *map(str, sorted(RULES.glob("*.yml")))],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@needs_promtool
def test_promtool_unit_tests_pass():
    out = subprocess.run(["promtool", "test", "rules", *map(str, TESTS)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_alert_has_a_firing_and_a_silent_promtool_case():
    firing: set[str] = set()
    silent: set[str] = set()
    for path in TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                expected = {a["exp_labels"].get("alertname", check["alertname"]) for a in check.get("exp_alerts") or []}
                firing |= expected
                # a case is "silent" for an alert when it expects nothing, or only other series
                # than some of its inputs would produce (the cases mix a noisy and a calm input)
                if not check.get("exp_alerts") or len(case["input_series"]) > len(check["exp_alerts"]):
                    silent.add(check["alertname"])
    alerts = {a["alert"] for a in _alerts()}
    assert alerts - firing == set(), "alerts with no promtool case where they fire"
    assert alerts - silent == set(), "alerts with no promtool case where they stay silent"


def test_every_alert_has_severity_team_summary_description_and_a_runbook_in_the_repo():
    for alert in _alerts():
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}, alert["alert"]
        assert alert["labels"]["team"], alert["alert"]
        ann = alert["annotations"]
        assert ann["summary"] and ann["description"], alert["alert"]
        assert ann["runbook_url"].endswith(f"docs/runbooks/{alert['alert']}.md")
        runbook = ROOT / "docs" / "runbooks" / f"{alert['alert']}.md"
        assert runbook.is_file(), f"missing runbook {runbook}"
        assert "## Diagnosis" in runbook.read_text() and "## Mitigation" in runbook.read_text()


def test_every_metric_a_rule_reads_is_declared_in_the_names_module():
    known = set(names.by_prom_name()) | {"up"}
    recorded = {r["record"] for r in _rules() if "record" in r}
    thresholds = {f"llmwatch:threshold:{k}" for k in DEFAULT_THRESHOLDS}
    for rule in _rules():
        for metric in metric_names(rule["expr"]):
            assert metric in known | recorded | thresholds, (
                f"{rule.get('alert') or rule.get('record')} reads {metric}, which names.py does not declare")


def test_the_issue_asks_for_these_alerts():
    alerts = {a["alert"] for a in _alerts()}
    assert {
        "LLMWatchErrorRateHigh", "LLMWatchLatencySLOBurnFast", "LLMWatchLatencySLOBurnSlow",
        "LLMWatchTimeToFirstChunkHigh", "LLMWatchCostBudgetBurn", "LLMWatchTokenBudgetBurn",
        "LLMWatchUnknownPriceCalls", "LLMWatchToxicitySpike", "LLMWatchModerationFlagRateHigh",
        "LLMWatchPromptInjectionDetected", "LLMWatchGPUMemoryNearLimit", "LLMWatchGPUThermalThrottling",
        "LLMWatchGPULost", "LLMWatchNVMLUnavailable", "LLMWatchDroppingRecords", "LLMWatchSpoolGrowing",
        "LLMWatchTargetDown",
    } <= alerts


def test_changing_a_threshold_changes_only_the_thresholds_file():
    default = generate.render()
    tuned = generate.render(AlertConfig().with_settings({"thresholds.error_ratio": "0.2"}))
    assert tuned[generate.RULES_FILE] == default[generate.RULES_FILE]
    assert "vector(0.2)" in tuned[generate.THRESHOLDS_FILE]


def test_alerts_take_their_thresholds_from_recording_rules():
    for alert in _alerts():
        assert "vector(" not in alert["expr"], alert["alert"]
    used = {m for a in _alerts() for m in metric_names(a["expr"]) if m.startswith("llmwatch:threshold:")}
    assert used == {f"llmwatch:threshold:{k}" for k in DEFAULT_THRESHOLDS}, "a threshold no alert uses"


def test_unknown_settings_are_refused_with_the_accepted_names():
    with pytest.raises(ValueError, match="error_ratio"):
        AlertConfig(thresholds={"eror_ratio": 1.0})
    with pytest.raises(ValueError, match="bucket boundary"):
        AlertConfig(latency_slo_le=3.0)
